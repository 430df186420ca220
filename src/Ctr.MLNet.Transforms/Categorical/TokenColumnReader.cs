using System;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms.Categorical;

/// <summary>
/// Reads the raw tokens of one categorical column, row by row, without allocating per row:
/// text as is, keys through their key values (or their zero-based index when they have none), numbers in
/// invariant round-trip form. A missing value (empty text, key 0, NaN) reads as an empty token.
/// </summary>
internal abstract class TokenColumnReader
{
    /// <summary>Text, key or numeric items, scalar or vector.</summary>
    public static bool IsSupported(DataViewType type) => IsSupportedItem(type is VectorDataViewType v ? v.ItemType : type);

    public static bool IsSupportedItem(DataViewType itemType) =>
        itemType is TextDataViewType or KeyDataViewType || (itemType is NumberDataViewType && itemType.RawType != typeof(bool));

    public const string SupportedTypes = "Text, Key or numeric scalar, or a vector of them";

    public static TokenColumnReader Create(DataViewRow row, DataViewSchema.Column column)
    {
        DataViewType itemType = column.Type is VectorDataViewType vector ? vector.ItemType : column.Type;
        bool isVector = column.Type is VectorDataViewType;
        if (itemType is TextDataViewType)
            return Make<ReadOnlyMemory<char>>(row, column, isVector, static (in ReadOnlyMemory<char> v, char[] _) => v.Span);
        if (itemType is KeyDataViewType key)
            return CreateForKey(row, column, isVector, key);
        return itemType.RawType switch
        {
            Type t when t == typeof(float) => Make(row, column, isVector, static (in float v, char[] b) => float.IsNaN(v) ? default : Formatted(v, b)),
            Type t when t == typeof(double) => Make(row, column, isVector, static (in double v, char[] b) => double.IsNaN(v) ? default : Formatted(v, b)),
            Type t when t == typeof(sbyte) => Make(row, column, isVector, static (in sbyte v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(byte) => Make(row, column, isVector, static (in byte v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(short) => Make(row, column, isVector, static (in short v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(ushort) => Make(row, column, isVector, static (in ushort v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(int) => Make(row, column, isVector, static (in int v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(uint) => Make(row, column, isVector, static (in uint v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(long) => Make(row, column, isVector, static (in long v, char[] b) => Formatted(v, b)),
            Type t when t == typeof(ulong) => Make(row, column, isVector, static (in ulong v, char[] b) => Formatted(v, b)),
            _ => Unsupported(column),
        };
    }

    /// <summary>Loads the current row's value(s).</summary>
    public abstract void Fetch();

    /// <summary>Number of tokens in the current row (1 for a scalar column).</summary>
    public abstract int Count { get; }

    /// <summary>The raw token at <paramref name="index"/>; valid until the next call.</summary>
    public abstract ReadOnlySpan<char> this[int index] { get; }

    private delegate ReadOnlySpan<char> Formatter<T>(in T value, char[] buffer);

    // .NET's default number format is the shortest round-trip form, so 3f and 3.0 both read "3".
    private static ReadOnlySpan<char> Formatted<T>(T value, char[] buffer) where T : ISpanFormattable
    {
        value.TryFormat(buffer, out int written, default, CultureInfo.InvariantCulture);
        return buffer.AsSpan(0, written);
    }

    private static TokenColumnReader Unsupported(DataViewSchema.Column column)
    {
        CtrThrow.SchemaMismatch(column.Name, SupportedTypes, column.Type.ToString());
        return null!;
    }

    private static TokenColumnReader CreateForKey(DataViewRow row, DataViewSchema.Column column, bool isVector, KeyDataViewType key)
    {
        ReadOnlyMemory<char>[]? keyValues = null;
        if (column.HasKeyValues())
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            column.GetKeyValues(ref values);
            keyValues = values.DenseValues().ToArray();
        }
        // Key value k (k > 0) stands for item k - 1; 0 is missing.
        ReadOnlySpan<char> Token(ulong k, char[] b) =>
            k == 0 ? default : keyValues is not null && k <= (ulong)keyValues.Length ? keyValues[k - 1].Span : Formatted(k - 1, b);
        return key.RawType switch
        {
            Type t when t == typeof(uint) => Make(row, column, isVector, (in uint v, char[] b) => Token(v, b)),
            Type t when t == typeof(ulong) => Make(row, column, isVector, (in ulong v, char[] b) => Token(v, b)),
            Type t when t == typeof(ushort) => Make(row, column, isVector, (in ushort v, char[] b) => Token(v, b)),
            Type t when t == typeof(byte) => Make(row, column, isVector, (in byte v, char[] b) => Token(v, b)),
            _ => Unsupported(column),
        };
    }

    private static TokenColumnReader Make<T>(DataViewRow row, DataViewSchema.Column column, bool isVector, Formatter<T> format) =>
        isVector ? new VectorReader<T>(row.GetGetter<VBuffer<T>>(column), format) : new ScalarReader<T>(row.GetGetter<T>(column), format);

    private sealed class ScalarReader<T>(ValueGetter<T> getter, Formatter<T> format) : TokenColumnReader
    {
        private readonly char[] _buffer = new char[64];
        private T _value = default!;

        public override void Fetch() => getter(ref _value);

        public override int Count => 1;

        public override ReadOnlySpan<char> this[int index] => format(in _value, _buffer);
    }

    private sealed class VectorReader<T>(ValueGetter<VBuffer<T>> getter, Formatter<T> format) : TokenColumnReader
    {
        private readonly char[] _buffer = new char[64];
        private VBuffer<T> _value;
        private T[] _dense = [];

        public override void Fetch()
        {
            getter(ref _value);
            if (!_value.IsDense)
            {
                // Implicit entries of a sparse vector are default values, i.e. missing tokens.
                if (_dense.Length < _value.Length)
                    _dense = new T[_value.Length];
                _value.CopyTo(_dense);
            }
        }

        public override int Count => _value.Length;

        public override ReadOnlySpan<char> this[int index] =>
            _value.IsDense ? format(in _value.GetValues()[index], _buffer) : format(in _dense[index], _buffer);
    }
}
