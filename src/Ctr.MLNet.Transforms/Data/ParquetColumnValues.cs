using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Parquet;
using Parquet.Data;
using Parquet.Meta;
using Parquet.Schema;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// One column of one row group, decoded: one slot per element (a scalar column has one element per row), with
/// whether it is null and its value in the array of its physical kind. What the values mean is the cursor's business.
/// </summary>
internal sealed class ParquetColumnValues
{
    private readonly ParquetTextChunks _copies = new(); // strings read by Parquet.Net, copied out of its pooled buffers
    private char[] _scratch = [];
    private readonly Buffers _buffers = new();
    private int _valueCount;
    private int _elements;
    private double[]? _numbers;

    /// <summary>Arrays kept from row group to row group; the value arrays above are these or null.</summary>
    internal sealed class Buffers
    {
        public long[] Longs = [];
        public double[] Doubles = [];
        public float[] Singles = [];
        public ReadOnlyMemory<char>[] Texts = [];
        public int[] TextIndices = [];
        public ReadOnlyMemory<char>[] Dictionary = [];
        public bool[] Booleans = [];
        public byte[] Utf8 = [];
        public Utf8Range[] Utf8Ranges = [];
    }

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

    /// <summary>Whether some element of <see cref="Present"/> is false.</summary>
    public bool HasNulls { get; private set; }

    /// <summary>String columns, empty where null; the characters are this object's own, valid after the row group is gone.</summary>
    public ReadOnlyMemory<char>[]? Texts { get; private set; }

    /// <summary>String columns read from dictionary pages: each element's index into <see cref="Dictionary"/> (instead of <see cref="Texts"/>).</summary>
    public int[]? TextIndices { get; private set; }

    /// <summary>The strings <see cref="TextIndices"/> point to, each decoded once per column chunk.</summary>
    public ReadOnlyMemory<char>[]? Dictionary { get; private set; }

    /// <summary>String columns read from plain pages only: each element's bytes in <see cref="Utf8"/> (instead of <see cref="Texts"/>), widened by the getters.</summary>
    public Utf8Range[]? Utf8Ranges { get; private set; }

    /// <summary>The column's pages that <see cref="Utf8Ranges"/> point into.</summary>
    public byte[]? Utf8 { get; private set; }

    /// <summary>Whether the column holds strings (<see cref="Texts"/>, <see cref="TextIndices"/> or <see cref="Utf8Ranges"/>).</summary>
    public bool IsText => Texts is not null || TextIndices is not null || Utf8Ranges is not null;

    /// <summary>
    /// The string of element <paramref name="e"/>, which must be present, of a column that <see cref="IsText"/>. A string
    /// kept as UTF-8 is widened into a buffer that the next call reuses: for checks, not to hand out.
    /// </summary>
    public ReadOnlyMemory<char> TextAt(int e)
    {
        if (Texts is ReadOnlyMemory<char>[] texts)
            return texts[e];
        if (TextIndices is int[] indices)
            return Dictionary![indices[e]];
        Utf8Range range = Utf8Ranges![e];
        int length = range.LengthIn(Utf8!);
        _scratch = Ensure(_scratch, length); // UTF-8 never takes fewer bytes than UTF-16 chars
        int written = System.Text.Encoding.UTF8.GetChars(Utf8.AsSpan(range.Start, length), _scratch);
        return new ReadOnlyMemory<char>(_scratch, 0, written);
    }

    public long[]? Integers { get; private set; }

    /// <summary>
    /// Floating-point columns as doubles; a column of floats is widened on the first call for its row group (the
    /// values spelled or checked as doubles are the same as before, a float widened exactly).
    /// </summary>
    public double[]? Numbers
    {
        get => _numbers ?? (Singles is float[] singles ? _numbers = WidenSingles(singles) : null);
        private set => _numbers = value;
    }

    /// <summary>A column of floats (Parquet FLOAT, decoded by this library), as they are: lists of weights read without a double in between.</summary>
    public float[]? Singles { get; private set; }

    public bool[]? Booleans { get; private set; }

    /// <summary>A partition key's value, the same on every row (null for Hive's default partition).</summary>
    public static ParquetColumnValues Constant(int rows, string? value)
    {
        var values = new ParquetColumnValues(rows, rows) { Texts = new ReadOnlyMemory<char>[rows] };
        ReadOnlyMemory<char> memory = value is null ? default : value.AsMemory();
        Array.Fill(values.Texts, memory);
        Array.Fill(values.Present, value is not null);
        values.HasNulls = value is null && rows > 0;
        return values;
    }

    /// <summary>Reads and decodes <paramref name="field"/> of <paramref name="group"/>, into <paramref name="reuse"/>'s
    /// arrays when given (the previous row group's values of the same column, no longer read).</summary>
    /// <param name="group">The row group.</param>
    /// <param name="file">The stream the group's reader reads, for the chunks this class decodes itself.</param>
    /// <param name="field">The column's data field (a list's item).</param>
    /// <param name="isList">Whether the field is the item of a list.</param>
    /// <param name="reuse">The previous row group's values of the same column, or null.</param>
    /// <param name="decoder">Decodes the chunks of the common layouts; one per cursor, shared by its columns.</param>
    public static ParquetColumnValues Read(ParquetRowGroupReader group, Stream file, DataField field, bool isList, ParquetColumnValues? reuse, ParquetChunkDecoder decoder)
    {
        int rows = checked((int)group.RowCount);
        ParquetColumnValues values = reuse ?? new ParquetColumnValues(rows, 0);
        if (ChunkOf(group, field) is ColumnMetaData meta && ParquetChunkDecoder.CanDecode(meta, field))
        {
            Buffers buffers = values._buffers;
            bool decoded = true;
            try
            {
                decoder.Decode(file, meta, field, buffers);
            }
            catch (NotSupportedException)
            {
                decoded = false; // an encoding met in a page: Parquet.Net reads the chunk below
            }
            if (decoded)
            {
                int entries = decoder.Entries;
                int elements = values.Layout(rows, field, isList, field.MaxDefinitionLevel > 0 ? decoder.Definitions : default,
                    isList ? decoder.Repetitions : default, entries);
                if (decoder.Count != values._valueCount)
                    throw new FormatException($"the column chunk has {decoder.Count:N0} values for {values._valueCount:N0} non-null entries");
                switch (decoder.Kind)
                {
                    case ParquetChunkDecoder.DenseKind.Longs:
                        values.Integers = SpreadInPlace(buffers.Longs, values.Present, elements, decoder.Count);
                        break;
                    case ParquetChunkDecoder.DenseKind.Doubles:
                        values.Numbers = SpreadInPlace(buffers.Doubles, values.Present, elements, decoder.Count);
                        break;
                    case ParquetChunkDecoder.DenseKind.Singles:
                        values.Singles = SpreadInPlace(buffers.Singles, values.Present, elements, decoder.Count);
                        break;
                    default:
                        if (decoder.TextsAsIndices)
                            (values.TextIndices, values.Dictionary) = (SpreadInPlace(buffers.TextIndices, values.Present, elements, decoder.Count), buffers.Dictionary);
                        else if (decoder.TextsAsUtf8)
                            (values.Utf8Ranges, values.Utf8) = (SpreadInPlace(buffers.Utf8Ranges, values.Present, elements, decoder.Count), buffers.Utf8);
                        else
                            values.Texts = SpreadInPlace(buffers.Texts, values.Present, elements, decoder.Count);
                        break;
                }
                return values;
            }
        }
        return values.ReadWithParquetNet(group, field, isList, rows);
    }

    /// <summary>
    /// Moves the values from the start of <paramref name="values"/> to the slots of the present elements, from the end
    /// back, and clears the slots of the others (so a null string is an empty one, and a null dictionary index 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static T[] SpreadInPlace<T>(T[] values, bool[] present, int elements, int count)
    {
        int d = count;
        // Once d > e, slots 0..e hold their own values: every null slot has been passed.
        for (int e = elements - 1; e >= 0 && d <= e; e--)
            values[e] = present[e] ? values[--d] : default!;
        return values;
    }

    private static ColumnMetaData? ChunkOf(ParquetRowGroupReader group, DataField field)
    {
        FieldPath path = field.Path;
        foreach (ColumnChunk chunk in group.RowGroup.Columns)
        {
            List<string>? names = chunk.MetaData?.PathInSchema;
            if (names is null || names.Count != path.Length)
                continue;
            bool same = true;
            for (int i = 0; i < names.Count && same; i++)
                same = names[i] == path[i];
            if (same)
                return chunk.MetaData;
        }
        return null;
    }

    /// <summary>
    /// Sets <see cref="Rows"/>, <see cref="Offsets"/> and <see cref="Present"/> from the levels (bytes from this
    /// library's decoder, ints from Parquet.Net), and forgets the value arrays (their buffers stay for reuse: a column
    /// may change its physical type from file to file).
    /// </summary>
    /// <returns>The number of elements.</returns>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Layout<T>(int rows, DataField field, bool isList, ReadOnlySpan<T> definitions, ReadOnlySpan<T> repetitions, int entries)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (!isList && entries != rows)
            throw new FormatException($"the column has {entries:N0} values, its row group {rows:N0} rows");
        // An element exists (null or not) from this definition level on; it has a value at the maximum.
        int present = field.MaxDefinitionLevel;
        int exists = isList ? present - (field.IsNullable ? 1 : 0) : 0;

        // One pass over the levels: rows, elements and which elements hold a value (in element order: the dense values
        // are handed out in that order).
        Present = Ensure(Present, entries);
        bool[] presence = Present;
        int elements = 0, count = 0;
        int[]? offsets = null;
        int width = Vector256<T>.Count;
        var full = Vector256.Create(T.CreateTruncating(present));
        if (isList)
        {
            offsets = Offsets is int[] previous && previous.Length >= rows + 1 ? previous : new int[rows + 1];
            int row = -1;
            var least = Vector256.Create(T.CreateTruncating(exists));
            for (int i = 0; i < entries;)
            {
                // A block of entries (32 levels of a byte) from masks, not a branch per entry: the rows that start in
                // it, which entries are elements (an empty or null list is an entry but no element), and whether every
                // element holds a value, the common case; a block with a null element goes entry by entry.
                if (entries - i >= width)
                {
                    uint starts = Vector256.Equals(Vector256.Create(repetitions.Slice(i, width)), Vector256<T>.Zero).ExtractMostSignificantBits();
                    uint elementMask = uint.MaxValue >> (32 - width), existing = elementMask, holding = elementMask;
                    if (!definitions.IsEmpty)
                    {
                        var levels = Vector256.Create(definitions.Slice(i, width));
                        existing = Vector256.GreaterThanOrEqual(levels, least).ExtractMostSignificantBits();
                        holding = Vector256.Equals(levels, full).ExtractMostSignificantBits();
                    }
                    if (existing == holding && row + BitOperations.PopCount(starts) < rows)
                    {
                        for (; starts != 0; starts &= starts - 1)
                            offsets[++row] = elements + BitOperations.PopCount(existing & ((1u << BitOperations.TrailingZeroCount(starts)) - 1));
                        // Room for a whole block from elements on: elements <= i and i + width <= entries.
                        if (width == Vector256<byte>.Count)
                            Vector256<byte>.One.CopyTo(MemoryMarshal.AsBytes(presence.AsSpan(elements, width)));
                        else
                            MemoryMarshal.AsBytes(presence.AsSpan(elements, width)).Fill(1);
                        int block = BitOperations.PopCount(existing);
                        elements += block;
                        count += block;
                        i += width;
                        continue;
                    }
                }
                for (int end = Math.Min(i + width, entries); i < end; i++)
                {
                    if (repetitions[i] == T.Zero)
                    {
                        row++;
                        if (row >= rows)
                            throw new FormatException($"the column has more rows than its row group ({rows:N0})");
                        offsets[row] = elements;
                    }
                    int level = definitions.IsEmpty ? present : int.CreateTruncating(definitions[i]);
                    if (level >= exists)
                    {
                        bool has = level == present;
                        presence[elements++] = has;
                        count += has ? 1 : 0;
                    }
                }
            }
            if (row != rows - 1)
                throw new FormatException($"the column has {row + 1:N0} rows, its row group {rows:N0}");
            offsets[rows] = elements;
        }
        else
        {
            elements = rows;
            if (definitions.IsEmpty)
            {
                presence.AsSpan(0, rows).Fill(true);
                count = rows;
            }
            else
            {
                int i = 0;
                if (width == Vector256<byte>.Count)
                {
                    // A value where the level is the maximum: 32 rows a compare.
                    Span<byte> flags = MemoryMarshal.AsBytes(presence.AsSpan(0, rows));
                    ReadOnlySpan<byte> levels = MemoryMarshal.AsBytes(definitions);
                    var top = Vector256.Create((byte)present);
                    for (; rows - i >= Vector256<byte>.Count; i += Vector256<byte>.Count)
                    {
                        Vector256<byte> has = Vector256.Equals(Vector256.Create(levels.Slice(i, Vector256<byte>.Count)), top);
                        (has & Vector256<byte>.One).CopyTo(flags[i..]);
                        count += BitOperations.PopCount(has.ExtractMostSignificantBits());
                    }
                }
                for (; i < rows; i++)
                {
                    bool has = int.CreateTruncating(definitions[i]) == present;
                    presence[i] = has;
                    count += has ? 1 : 0;
                }
            }
        }

        Rows = rows;
        Offsets = offsets;
        (Texts, TextIndices, Dictionary, Utf8Ranges, Utf8, Integers, Numbers, Singles, Booleans) = (null, null, null, null, null, null, null, null, null);
        _elements = elements;
        _valueCount = count;
        HasNulls = count < elements;
        return elements;
    }

    private ParquetColumnValues ReadWithParquetNet(ParquetRowGroupReader group, DataField field, bool isList, int rows)
    {
        using RawColumnData raw = group.ReadRawColumnDataBaseAsync(field).GetAwaiter().GetResult();
        ReadOnlySpan<int> definitions = field.MaxDefinitionLevel > 0 ? raw.DefinitionLevels : default;
        ReadOnlySpan<int> repetitions = isList ? raw.RepetitionLevels : default;
        int entries = isList ? repetitions.Length : rows;
        int elements = Layout(rows, field, isList, definitions, repetitions, entries);
        bool[] presence = Present;
        ParquetColumnValues values = this;
        Buffers buffers = _buffers;
        switch (raw)
        {
            case RawColumnData<ReadOnlyMemory<char>> texts:
                values.Texts = buffers.Texts = values.CopyTexts(texts.Values, presence, elements, buffers.Texts);
                break;
            case RawColumnData<bool> booleans:
                values.Booleans = buffers.Booleans = Spread(booleans.Values, presence, elements, buffers.Booleans, static v => v);
                break;
            case RawColumnData<float> floats:
                values.Numbers = buffers.Doubles = Spread(floats.Values, presence, elements, buffers.Doubles, static v => (double)v);
                break;
            case RawColumnData<double> doubles:
                values.Numbers = buffers.Doubles = Spread(doubles.Values, presence, elements, buffers.Doubles, static v => v);
                break;
            case RawColumnData<decimal> decimals:
                values.Numbers = buffers.Doubles = Spread(decimals.Values, presence, elements, buffers.Doubles, static v => (double)v);
                break;
            case RawColumnData<long> longs:
                values.Integers = buffers.Longs = Spread(longs.Values, presence, elements, buffers.Longs, static v => v);
                break;
            case RawColumnData<int> ints:
                values.Integers = buffers.Longs = Spread(ints.Values, presence, elements, buffers.Longs, static v => (long)v);
                break;
            case RawColumnData<short> shorts:
                values.Integers = buffers.Longs = Spread(shorts.Values, presence, elements, buffers.Longs, static v => (long)v);
                break;
            case RawColumnData<sbyte> sbytes:
                values.Integers = buffers.Longs = Spread(sbytes.Values, presence, elements, buffers.Longs, static v => (long)v);
                break;
            case RawColumnData<byte> bytes:
                values.Integers = buffers.Longs = Spread(bytes.Values, presence, elements, buffers.Longs, static v => (long)v);
                break;
            case RawColumnData<ushort> ushorts:
                values.Integers = buffers.Longs = Spread(ushorts.Values, presence, elements, buffers.Longs, static v => (long)v);
                break;
            case RawColumnData<uint> uints:
                values.Integers = buffers.Longs = Spread(uints.Values, presence, elements, buffers.Longs, static v => (long)v);
                break;
            default:
                throw new FormatException($"values of type {field.ClrType.Name} cannot be read");
        }
        return values;
    }

    private double[] WidenSingles(float[] singles)
    {
        double[] doubles = _buffers.Doubles = Ensure(_buffers.Doubles, _elements);
        for (int e = 0; e < _elements; e++)
            doubles[e] = singles[e];
        return doubles;
    }

    /// <summary>Whether <see cref="Read"/> can decode a field of this CLR type.</summary>
    public static bool IsSupported(System.Type type) =>
        type == typeof(ReadOnlyMemory<char>) || type == typeof(string) || type == typeof(bool) || type == typeof(float) || type == typeof(double) || type == typeof(decimal)
        || type == typeof(long) || type == typeof(int) || type == typeof(short) || type == typeof(sbyte) || type == typeof(byte)
        || type == typeof(ushort) || type == typeof(uint);

    private static T[] Ensure<T>(T[] array, int length) => ParquetChunkDecoder.Ensure(array, length);

    private static TOut[] Spread<TIn, TOut>(ReadOnlySpan<TIn> dense, bool[] present, int elements, TOut[] reuse, Func<TIn, TOut> convert)
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
    private ReadOnlyMemory<char>[] CopyTexts(ReadOnlySpan<ReadOnlyMemory<char>> dense, bool[] present, int elements, ReadOnlyMemory<char>[] reuse)
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
            result[e] = _copies.Copy(dense[d++].Span);
        }
        return result;
    }
}
