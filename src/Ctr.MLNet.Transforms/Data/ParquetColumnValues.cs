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
    private ParquetColumnValues(int rows, int elements)
    {
        Rows = rows;
        Present = new bool[elements];
    }

    public int Rows { get; }

    /// <summary>List columns: the elements of row r are [Offsets[r], Offsets[r + 1]); null for scalar columns.</summary>
    public int[]? Offsets { get; private set; }

    /// <summary>False for a null element (or a null row of a scalar column).</summary>
    public bool[] Present { get; }

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

    /// <summary>Reads and decodes <paramref name="field"/> of <paramref name="group"/>.</summary>
    public static ParquetColumnValues Read(ParquetRowGroupReader group, DataField field, bool isList)
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
            offsets = new int[rows + 1];
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

        var values = new ParquetColumnValues(rows, elements) { Offsets = offsets };
        // Which entries hold a value, in element order: the dense values are handed out in that order.
        int e = 0;
        for (int i = 0; i < entries; i++)
        {
            int level = definitions.IsEmpty ? present : definitions[i];
            if (level < exists)
                continue;
            values.Present[e++] = level == present;
        }
        switch (raw)
        {
            case RawColumnData<ReadOnlyMemory<char>> texts:
                values.Texts = CopyTexts(texts.Values, values.Present);
                break;
            case RawColumnData<bool> booleans:
                values.Booleans = Spread(booleans.Values, values.Present);
                break;
            case RawColumnData<float> floats:
                values.Numbers = Spread(floats.Values, values.Present, static v => (double)v);
                break;
            case RawColumnData<double> doubles:
                values.Numbers = Spread(doubles.Values, values.Present);
                break;
            case RawColumnData<long> longs:
                values.Integers = Spread(longs.Values, values.Present);
                break;
            case RawColumnData<int> ints:
                values.Integers = Spread(ints.Values, values.Present, static v => (long)v);
                break;
            case RawColumnData<short> shorts:
                values.Integers = Spread(shorts.Values, values.Present, static v => (long)v);
                break;
            case RawColumnData<sbyte> sbytes:
                values.Integers = Spread(sbytes.Values, values.Present, static v => (long)v);
                break;
            case RawColumnData<byte> bytes:
                values.Integers = Spread(bytes.Values, values.Present, static v => (long)v);
                break;
            case RawColumnData<ushort> ushorts:
                values.Integers = Spread(ushorts.Values, values.Present, static v => (long)v);
                break;
            case RawColumnData<uint> uints:
                values.Integers = Spread(uints.Values, values.Present, static v => (long)v);
                break;
            default:
                throw new FormatException($"values of type {field.ClrType.Name} cannot be read");
        }
        return values;
    }

    /// <summary>Whether <see cref="Read"/> can decode a field of this CLR type.</summary>
    public static bool IsSupported(Type type) =>
        type == typeof(ReadOnlyMemory<char>) || type == typeof(string) || type == typeof(bool) || type == typeof(float) || type == typeof(double)
        || type == typeof(long) || type == typeof(int) || type == typeof(short) || type == typeof(sbyte) || type == typeof(byte)
        || type == typeof(ushort) || type == typeof(uint);

    private static T[] Spread<T>(ReadOnlySpan<T> dense, bool[] present)
    {
        var result = new T[present.Length];
        int d = 0;
        for (int e = 0; e < present.Length; e++)
        {
            if (present[e])
                result[e] = dense[d++];
        }
        return result;
    }

    private static TOut[] Spread<TIn, TOut>(ReadOnlySpan<TIn> dense, bool[] present, Func<TIn, TOut> convert)
    {
        var result = new TOut[present.Length];
        int d = 0;
        for (int e = 0; e < present.Length; e++)
        {
            if (present[e])
                result[e] = convert(dense[d++]);
        }
        return result;
    }

    // The reader's strings live in pooled buffers that the next read reuses; the view hands out memory that stays valid.
    private static ReadOnlyMemory<char>[] CopyTexts(ReadOnlySpan<ReadOnlyMemory<char>> dense, bool[] present)
    {
        int length = 0, count = 0;
        foreach (bool p in present)
        {
            if (p)
                length += dense[count++].Length;
        }
        var chars = new char[length];
        var result = new ReadOnlyMemory<char>[present.Length];
        int d = 0, used = 0;
        for (int e = 0; e < present.Length; e++)
        {
            if (!present[e])
                continue;
            ReadOnlySpan<char> text = dense[d++].Span;
            text.CopyTo(chars.AsSpan(used));
            result[e] = new ReadOnlyMemory<char>(chars, used, text.Length);
            used += text.Length;
        }
        return result;
    }
}
