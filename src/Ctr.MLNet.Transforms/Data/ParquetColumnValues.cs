using System;
using Parquet;
using Parquet.Data;
using Parquet.Schema;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// One column of one row group, decoded: one slot per element (a scalar column has one element per row), with
/// whether it is null and its value in the array of its physical kind. What the values mean is the cursor's business.
/// </summary>
internal sealed class ParquetColumnValues
{
    // Text is copied into chunks below the large object heap's threshold: a row group's text costs young-generation
    // allocations only, and the memory handed out stays valid for as long as a consumer keeps it.
    private const int TextChunkLength = 32 * 1024;

    private char[] _chunk = [];
    private int _chunkUsed;

    private ParquetColumnValues(int rows, int elements)
    {
        Rows = rows;
        Present = new bool[elements];
    }

    public int Rows { get; private set; }

    /// <summary>List columns: the elements of row r are [Offsets[r], Offsets[r + 1]); null for scalar columns.</summary>
    public int[]? Offsets { get; private set; }

    /// <summary>False for a null element (or a null row of a scalar column); longer than the elements when reused.</summary>
    public bool[] Present { get; private set; }

    /// <summary>String columns; the characters are this object's own, valid after the row group is gone.</summary>
    public ReadOnlyMemory<char>[]? Texts { get; private set; }

    public long[]? Integers { get; private set; }

    public double[]? Numbers { get; private set; }

    public bool[]? Booleans { get; private set; }

    /// <summary>A partition key's value, the same on every row (null for Hive's default partition).</summary>
    public static ParquetColumnValues Constant(int rows, string? value)
    {
        var values = new ParquetColumnValues(rows, rows) { Texts = new ReadOnlyMemory<char>[rows] };
        ReadOnlyMemory<char> memory = (value ?? "").AsMemory();
        Array.Fill(values.Texts, memory);
        Array.Fill(values.Present, value is not null);
        return values;
    }

    /// <summary>Reads and decodes <paramref name="field"/> of <paramref name="group"/>, into <paramref name="reuse"/>'s
    /// arrays when given (the previous row group's values of the same column, no longer read).</summary>
    public static ParquetColumnValues Read(ParquetRowGroupReader group, DataField field, bool isList, ParquetColumnValues? reuse = null)
    {
        int rows = checked((int)group.RowCount);
        using RawColumnData raw = group.ReadRawColumnDataBaseAsync(field).GetAwaiter().GetResult();
        ReadOnlySpan<int> definitions = field.MaxDefinitionLevel > 0 ? raw.DefinitionLevels : default;
        ReadOnlySpan<int> repetitions = isList ? raw.RepetitionLevels : default;
        int entries = isList ? repetitions.Length : rows;
        // An element exists (null or not) from this definition level on; it has a value at the maximum.
        int present = field.MaxDefinitionLevel;
        int exists = isList ? present - (field.IsNullable ? 1 : 0) : 0;

        int elements = 0;
        int[]? offsets = null;
        if (isList)
        {
            offsets = reuse?.Offsets is int[] previous && previous.Length >= rows + 1 ? previous : new int[rows + 1];
            int row = -1;
            for (int i = 0; i < entries; i++)
            {
                if (repetitions[i] == 0)
                {
                    row++;
                    if (row >= rows)
                        throw new FormatException($"the column has more rows than its row group ({rows:N0})");
                    offsets[row] = elements;
                }
                if (definitions[i] >= exists)
                    elements++;
            }
            if (row != rows - 1)
                throw new FormatException($"the column has {row + 1:N0} rows, its row group {rows:N0}");
            offsets[rows] = elements;
        }
        else
        {
            elements = rows;
        }

        ParquetColumnValues values = reuse ?? new ParquetColumnValues(rows, elements);
        values.Rows = rows;
        values.Offsets = offsets;
        values.Present = Ensure(values.Present, elements);
        // A column may change its physical type from file to file: only the array of this chunk's kind is kept.
        (ReadOnlyMemory<char>[]? oldTexts, long[]? oldIntegers, double[]? oldNumbers, bool[]? oldBooleans) = (values.Texts, values.Integers, values.Numbers, values.Booleans);
        (values.Texts, values.Integers, values.Numbers, values.Booleans) = (null, null, null, null);
        // Which entries hold a value, in element order: the dense values are handed out in that order.
        int e = 0;
        bool[] presence = values.Present;
        for (int i = 0; i < entries; i++)
        {
            int level = definitions.IsEmpty ? present : definitions[i];
            if (level < exists)
                continue;
            presence[e++] = level == present;
        }
        switch (raw)
        {
            case RawColumnData<ReadOnlyMemory<char>> texts:
                values.Texts = values.CopyTexts(texts.Values, presence, elements, oldTexts);
                break;
            case RawColumnData<bool> booleans:
                values.Booleans = Spread(booleans.Values, presence, elements, oldBooleans, static v => v);
                break;
            case RawColumnData<float> floats:
                values.Numbers = Spread(floats.Values, presence, elements, oldNumbers, static v => (double)v);
                break;
            case RawColumnData<double> doubles:
                values.Numbers = Spread(doubles.Values, presence, elements, oldNumbers, static v => v);
                break;
            case RawColumnData<decimal> decimals:
                values.Numbers = Spread(decimals.Values, presence, elements, oldNumbers, static v => (double)v);
                break;
            case RawColumnData<long> longs:
                values.Integers = Spread(longs.Values, presence, elements, oldIntegers, static v => v);
                break;
            case RawColumnData<int> ints:
                values.Integers = Spread(ints.Values, presence, elements, oldIntegers, static v => (long)v);
                break;
            case RawColumnData<short> shorts:
                values.Integers = Spread(shorts.Values, presence, elements, oldIntegers, static v => (long)v);
                break;
            case RawColumnData<sbyte> sbytes:
                values.Integers = Spread(sbytes.Values, presence, elements, oldIntegers, static v => (long)v);
                break;
            case RawColumnData<byte> bytes:
                values.Integers = Spread(bytes.Values, presence, elements, oldIntegers, static v => (long)v);
                break;
            case RawColumnData<ushort> ushorts:
                values.Integers = Spread(ushorts.Values, presence, elements, oldIntegers, static v => (long)v);
                break;
            case RawColumnData<uint> uints:
                values.Integers = Spread(uints.Values, presence, elements, oldIntegers, static v => (long)v);
                break;
            default:
                throw new FormatException($"values of type {field.ClrType.Name} cannot be read");
        }
        return values;
    }

    /// <summary>Whether <see cref="Read"/> can decode a field of this CLR type.</summary>
    public static bool IsSupported(Type type) =>
        type == typeof(ReadOnlyMemory<char>) || type == typeof(string) || type == typeof(bool) || type == typeof(float) || type == typeof(double) || type == typeof(decimal)
        || type == typeof(long) || type == typeof(int) || type == typeof(short) || type == typeof(sbyte) || type == typeof(byte)
        || type == typeof(ushort) || type == typeof(uint);

    private static T[] Ensure<T>(T[]? array, int length) => array is not null && array.Length >= length ? array : new T[length];

    private static TOut[] Spread<TIn, TOut>(ReadOnlySpan<TIn> dense, bool[] present, int elements, TOut[]? reuse, Func<TIn, TOut> convert)
    {
        TOut[] result = Ensure(reuse, elements);
        int d = 0;
        for (int e = 0; e < elements; e++)
        {
            if (present[e])
                result[e] = convert(dense[d++]);
        }
        return result;
    }

    // The reader's strings live in pooled buffers that the next read reuses; the view hands out memory that stays valid.
    private ReadOnlyMemory<char>[] CopyTexts(ReadOnlySpan<ReadOnlyMemory<char>> dense, bool[] present, int elements, ReadOnlyMemory<char>[]? reuse)
    {
        ReadOnlyMemory<char>[] result = Ensure(reuse, elements);
        int d = 0;
        for (int e = 0; e < elements; e++)
        {
            if (!present[e])
            {
                result[e] = default;
                continue;
            }
            ReadOnlySpan<char> text = dense[d++].Span;
            if (_chunk.Length - _chunkUsed < text.Length)
            {
                _chunk = new char[Math.Max(TextChunkLength, text.Length)];
                _chunkUsed = 0;
            }
            text.CopyTo(_chunk.AsSpan(_chunkUsed));
            result[e] = new ReadOnlyMemory<char>(_chunk, _chunkUsed, text.Length);
            _chunkUsed += text.Length;
        }
        return result;
    }
}
