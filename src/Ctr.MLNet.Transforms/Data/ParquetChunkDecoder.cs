using System;
using System.Buffers;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Parquet.Meta;
using Parquet.Schema;
using Encoding = Parquet.Meta.Encoding;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Decodes one column chunk of the layouts warehouses write (plain or dictionary pages, v1 or v2, uncompressed, Snappy
/// or Gzip; 32/64-bit integers, floats, doubles and UTF-8 strings) straight from the file into reused buffers.
/// Parquet.Net gives every string its own char array and copies each page through a growing stream; here the page is
/// decompressed into one buffer and dictionary strings land side by side in shared chunks, once per chunk. A chunk of
/// plain strings only is decompressed into the column's own bytes and left as UTF-8, each value a range of them, for
/// the getters to widen (<see cref="TextsAsUtf8"/>).
/// Anything else throws <see cref="NotSupportedException"/> and the column chunk is read by Parquet.Net instead.
/// </summary>
internal sealed class ParquetChunkDecoder
{
    private byte[] _chunk = [];
    private byte[] _page = [];
    private int[] _indices = [];
    // Levels are needed only until the column's layout is known: one pair of arrays serves every column. A byte each:
    // a quarter of the memory of ints, and 32 of them compared in one vector when the layout is worked out.
    private byte[] _definitions = [];
    private byte[] _repetitions = [];
    private long[] _dictionaryLongs = [];
    private double[] _dictionaryDoubles = [];
    private float[] _dictionarySingles = [];
    private ReadOnlyMemory<char>[] _dictionaryTexts = [];
    private int _dictionaryCount = -1;
    private readonly PageWriter _pageWriter = new();
    private readonly ParquetTextChunks _text = new(); // dictionary strings, and plain ones spelled out after a dictionary
    private Parquet.Meta.Type _type;
    private ParquetColumnValues.Buffers _target = new();
    private bool _textsSpelled; // the chunk's strings go to the target's Texts, not as dictionary indices
    private int _utf8Used; // bytes of the target's Utf8 that hold the chunk's pages of plain strings so far
    private long _chunkUncompressed; // the chunk's uncompressed size: room enough for all its pages' bytes

    /// <summary>
    /// Whether the last chunk's strings are dictionary indices (the target's <c>TextIndices</c> into its
    /// <c>Dictionary</c>): every data page of the chunk was dictionary-encoded, so each string is decoded once.
    /// </summary>
    public bool TextsAsIndices { get; private set; }

    /// <summary>
    /// Whether the last chunk's strings are left as UTF-8 (the target's <c>Utf8Ranges</c> into its <c>Utf8</c>): every
    /// data page of the chunk was plain and there was no dictionary.
    /// </summary>
    public bool TextsAsUtf8 { get; private set; }

    /// <summary>The definition levels of the last chunk (its <see cref="Entries"/> first), when its column has them.</summary>
    public ReadOnlySpan<byte> Definitions => _definitions.AsSpan(0, Entries);

    /// <summary>The repetition levels of the last chunk (its <see cref="Entries"/> first), when its column has them.</summary>
    public ReadOnlySpan<byte> Repetitions => _repetitions.AsSpan(0, Entries);

    /// <summary>Entries (levels) of the last chunk: one per row for a scalar column, one per element or empty list for a list.</summary>
    public int Entries { get; private set; }

    /// <summary>How many values (non-null entries) the last chunk held, in order, at the start of the array of <see cref="Kind"/>.</summary>
    public int Count { get; private set; }

    public DenseKind Kind { get; private set; }

    public enum DenseKind
    {
        Longs,
        Doubles,
        Singles, // kept as floats: most are weights, read as floats (widened to doubles only where asked, see ParquetColumnValues.Numbers)
        Texts,
    }

    /// <summary>Whether the chunk's codec and physical type are ones this decoder reads (its page encodings are checked as read).</summary>
    public static bool CanDecode(ColumnMetaData meta, DataField field)
    {
        if (meta.Codec is not (CompressionCodec.UNCOMPRESSED or CompressionCodec.SNAPPY or CompressionCodec.GZIP))
            return false;
        System.Type clr = field.ClrType;
        return meta.Type switch
        {
            Parquet.Meta.Type.INT32 => clr == typeof(int),
            Parquet.Meta.Type.INT64 => clr == typeof(long),
            Parquet.Meta.Type.FLOAT => clr == typeof(float),
            Parquet.Meta.Type.DOUBLE => clr == typeof(double),
            Parquet.Meta.Type.BYTE_ARRAY => clr == typeof(string) || clr == typeof(ReadOnlyMemory<char>),
            _ => false,
        };
    }

    /// <summary>
    /// Reads the chunk described by <paramref name="meta"/> from <paramref name="file"/> and decodes all its pages into
    /// <paramref name="target"/>: the levels, and the values side by side at the start of the array of <see cref="Kind"/>.
    /// </summary>
    // This and the other loops run per page or row group (AggressiveOptimization): too few calls for tiering to reach
    // them soon, they ran as tier-0 and OSR code and were compiled up to five times. The getters, run per row, are
    // better left to tiering (optimized at once they were slower).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Decode(Stream file, ColumnMetaData meta, DataField field, ParquetColumnValues.Buffers target)
    {
        _type = meta.Type;
        Kind = _type switch
        {
            Parquet.Meta.Type.INT32 or Parquet.Meta.Type.INT64 => DenseKind.Longs,
            Parquet.Meta.Type.FLOAT => DenseKind.Singles,
            Parquet.Meta.Type.DOUBLE => DenseKind.Doubles,
            _ => DenseKind.Texts,
        };
        long start = meta.DictionaryPageOffset is long dictionary && dictionary > 0 && dictionary < meta.DataPageOffset ? dictionary : meta.DataPageOffset;
        int length = checked((int)meta.TotalCompressedSize);
        if (start < 0 || length < 0 || start + length > file.Length)
            throw new FormatException($"the column chunk at byte {start:N0} ({length:N0} bytes) lies outside the file ({file.Length:N0} bytes)");
        _chunk = Ensure(_chunk, length);
        file.Seek(start, SeekOrigin.Begin);
        file.ReadExactly(_chunk, 0, length);

        int total = checked((int)meta.NumValues);
        Entries = total;
        Count = 0;
        _dictionaryCount = -1;
        _target = target;
        _textsSpelled = false;
        TextsAsIndices = false;
        TextsAsUtf8 = false;
        _utf8Used = 0;
        _chunkUncompressed = meta.TotalUncompressedSize;
        _dictionaryTexts = target.Dictionary;
        int maxDefinition = field.MaxDefinitionLevel, maxRepetition = field.MaxRepetitionLevel;
        if (maxDefinition > byte.MaxValue || maxRepetition > byte.MaxValue)
            throw new NotSupportedException("levels above 255"); // nesting that deep: Parquet.Net reads it
        Span<byte> definitions = maxDefinition > 0 ? (_definitions = Ensure(_definitions, total)) : default;
        Span<byte> repetitions = maxRepetition > 0 ? (_repetitions = Ensure(_repetitions, total)) : default;
        Span<long> longs = Kind == DenseKind.Longs ? (target.Longs = Ensure(target.Longs, total)) : default;
        Span<double> doubles = Kind == DenseKind.Doubles ? (target.Doubles = Ensure(target.Doubles, total)) : default;
        Span<float> singles = Kind == DenseKind.Singles ? (target.Singles = Ensure(target.Singles, total)) : default;
        Span<ReadOnlyMemory<char>> texts = default; // strings: see TextValues

        ReadOnlySpan<byte> chunk = _chunk.AsSpan(0, length);
        int position = 0, entries = 0;
        while (entries < total)
        {
            if (position >= chunk.Length)
                throw new FormatException($"the column chunk ends after {entries:N0} of its {total:N0} values");
            PageHeader header = ReadPageHeader(chunk, ref position);
            if (header.CompressedSize < 0 || header.UncompressedSize < 0 || header.CompressedSize > chunk.Length - position)
                throw new FormatException($"a page of {header.CompressedSize:N0} bytes at byte {position:N0} runs past the column chunk ({chunk.Length:N0} bytes)");
            ReadOnlyMemory<byte> body = _chunk.AsMemory(position, header.CompressedSize);
            position += header.CompressedSize;
            switch (header.Type)
            {
                case PageType.DICTIONARY_PAGE:
                    if (header.Encoding is not (Encoding.PLAIN or Encoding.PLAIN_DICTIONARY))
                        throw new NotSupportedException($"dictionary page encoding {header.Encoding}");
                    if (TextsAsUtf8)
                        throw new NotSupportedException("a dictionary page after plain pages"); // an odd layout: Parquet.Net reads it or names the fault
                    ReadDictionary(Decompress(meta.Codec, body, header.UncompressedSize), header.Values);
                    break;
                case PageType.DATA_PAGE:
                {
                    int n = CheckPageValues(header.Values, entries, total);
                    bool keep = KeepsUtf8(header.Encoding);
                    int kept = 0;
                    ReadOnlySpan<byte> page = keep ? Keep(meta.Codec, body, header.UncompressedSize, out kept) : Decompress(meta.Codec, body, header.UncompressedSize);
                    int at = 0;
                    if (maxRepetition > 0)
                        at += ReadLevelsV1(page[at..], maxRepetition, repetitions.Slice(entries, n), header.RepetitionEncoding);
                    if (maxDefinition > 0)
                        at += ReadLevelsV1(page[at..], maxDefinition, definitions.Slice(entries, n), header.DefinitionEncoding);
                    int values = maxDefinition > 0 ? definitions.Slice(entries, n).Count((byte)maxDefinition) : n;
                    ReadValues(page[at..], header.Encoding, values, longs, doubles, singles, texts, keep ? kept + at : -1);
                    entries += n;
                    break;
                }
                case PageType.DATA_PAGE_V2:
                {
                    int n = CheckPageValues(header.Values, entries, total);
                    int levels = header.RepetitionLength + header.DefinitionLength;
                    if (header.RepetitionLength < 0 || header.DefinitionLength < 0 || levels > body.Length)
                        throw new FormatException("the page's level lengths run past the page");
                    if (maxRepetition > 0)
                        ReadLevels(body.Span[..header.RepetitionLength], maxRepetition, repetitions.Slice(entries, n));
                    if (maxDefinition > 0)
                        ReadLevels(body.Span.Slice(header.RepetitionLength, header.DefinitionLength), maxDefinition, definitions.Slice(entries, n));
                    int values = maxDefinition > 0 ? definitions.Slice(entries, n).Count((byte)maxDefinition) : n;
                    CompressionCodec codec = header.IsCompressed ? meta.Codec : CompressionCodec.UNCOMPRESSED;
                    bool keep = KeepsUtf8(header.Encoding);
                    int kept = 0;
                    ReadOnlySpan<byte> data = keep ? Keep(codec, body[levels..], header.UncompressedSize - levels, out kept)
                        : Decompress(codec, body[levels..], header.UncompressedSize - levels);
                    ReadValues(data, header.Encoding, values, longs, doubles, singles, texts, keep ? kept : -1);
                    entries += n;
                    break;
                }
                default:
                    break; // index pages and pages of later versions carry no values
            }
        }
    }

    private static int CheckPageValues(int values, int entries, int total)
    {
        if (values < 0 || values > total - entries)
            throw new FormatException($"a page holds {values:N0} values where the column chunk has {total - entries:N0} left");
        return values;
    }

    /// <summary>Whether a data page's strings stay UTF-8: plain strings in a chunk that has had no dictionary and none spelled out.</summary>
    private bool KeepsUtf8(Encoding encoding) =>
        Kind == DenseKind.Texts && encoding == Encoding.PLAIN && _dictionaryCount < 0 && !_textsSpelled;

    /// <summary>A page of plain strings, decompressed (or copied) after the chunk's earlier pages into the target's own bytes, which the row group keeps.</summary>
    private ReadOnlySpan<byte> Keep(CompressionCodec codec, ReadOnlyMemory<byte> body, int uncompressed, out int start)
    {
        int length = codec == CompressionCodec.UNCOMPRESSED ? body.Length : uncompressed;
        start = _utf8Used;
        int needed = checked(start + length);
        if (_target.Utf8.Length < needed)
        {
            // Sized for the whole chunk at once where its footer allows: pages after the first are then not copied again.
            var grown = new byte[Math.Max(needed + needed / 8, (int)Math.Min(_chunkUncompressed, Array.MaxLength))];
            _target.Utf8.AsSpan(0, start).CopyTo(grown);
            _target.Utf8 = grown;
        }
        Memory<byte> page = _target.Utf8.AsMemory(start, length);
        if (codec == CompressionCodec.UNCOMPRESSED)
            body.CopyTo(page);
        else
            DecompressInto(codec, body, page);
        _utf8Used = needed;
        return page.Span;
    }

    private ReadOnlySpan<byte> Decompress(CompressionCodec codec, ReadOnlyMemory<byte> body, int uncompressed)
    {
        if (codec == CompressionCodec.UNCOMPRESSED)
            return body.Span;
        _page = Ensure(_page, uncompressed);
        Memory<byte> page = _page.AsMemory(0, uncompressed);
        DecompressInto(codec, body, page);
        return page.Span;
    }

    private void DecompressInto(CompressionCodec codec, ReadOnlyMemory<byte> body, Memory<byte> page)
    {
        int written;
        if (codec == CompressionCodec.SNAPPY)
        {
            // Through a buffer writer, Snappier decompresses straight into the page; into a span it decompresses into
            // a pooled array, copies that out and clears it (a tenth of its time, and that array's memory besides).
            _pageWriter.Reset(page);
            Snappier.Snappy.Decompress(new ReadOnlySequence<byte>(body), _pageWriter);
            written = _pageWriter.Written;
        }
        else
        {
            using var input = new MemoryStream(body.ToArray(), writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            written = 0;
            int read;
            while (written < page.Length && (read = gzip.Read(page.Span[written..])) > 0)
                written += read;
        }
        if (written != page.Length)
            throw new FormatException($"a page decompressed to {written:N0} bytes, its header says {page.Length:N0}");
    }

    /// <summary>The page being decompressed, as Snappier's output: all of it, offered at once.</summary>
    private sealed class PageWriter : IBufferWriter<byte>
    {
        private Memory<byte> _page;

        public int Written { get; private set; }

        public void Reset(Memory<byte> page) => (_page, Written) = (page, 0);

        public void Advance(int count) => Written = checked(Written + count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _page[Written..];

        public Span<byte> GetSpan(int sizeHint = 0) => _page.Span[Written..];
    }

    private static int ReadLevelsV1(ReadOnlySpan<byte> page, int maxLevel, Span<byte> levels, Encoding encoding)
    {
        if (encoding != Encoding.RLE)
            throw new NotSupportedException($"level encoding {encoding}");
        if (page.Length < 4)
            throw new FormatException("the page ends before its levels");
        int length = BinaryPrimitives.ReadInt32LittleEndian(page);
        if (length < 0 || length > page.Length - 4)
            throw new FormatException($"levels of {length:N0} bytes run past the page");
        ReadLevels(page.Slice(4, length), maxLevel, levels);
        return 4 + length;
    }

    private static void ReadLevels(ReadOnlySpan<byte> data, int maxLevel, Span<byte> levels)
    {
        int bitWidth = 32 - int.LeadingZeroCount(maxLevel);
        int read = DecodeHybrid(data, bitWidth, levels);
        if (read != levels.Length)
            throw new FormatException($"the page has {read:N0} levels for {levels.Length:N0} values");
        if (maxLevel == (1 << bitWidth) - 1)
            return; // no level of this width can exceed it
        int above = levels.IndexOfAnyExceptInRange((byte)0, (byte)maxLevel);
        if (above >= 0)
            throw new FormatException($"level {levels[above]} is above the column's maximum {maxLevel}");
    }

    private void ReadDictionary(ReadOnlySpan<byte> page, int count)
    {
        if (count < 0)
            throw new FormatException($"the dictionary page says it has {count} values");
        switch (Kind)
        {
            case DenseKind.Longs:
                _dictionaryLongs = Ensure(_dictionaryLongs, count);
                ReadPlain(page, count, _dictionaryLongs, null, null, null);
                break;
            case DenseKind.Doubles:
                _dictionaryDoubles = Ensure(_dictionaryDoubles, count);
                ReadPlain(page, count, null, _dictionaryDoubles, null, null);
                break;
            case DenseKind.Singles:
                _dictionarySingles = Ensure(_dictionarySingles, count);
                ReadPlain(page, count, null, null, _dictionarySingles, null);
                break;
            default:
                _dictionaryTexts = Ensure(_dictionaryTexts, count);
                ReadPlain(page, count, null, null, null, _dictionaryTexts);
                _target.Dictionary = _dictionaryTexts;
                break;
        }
        _dictionaryCount = count;
    }

    // utf8Start: where data starts in the target's Utf8 when its strings stay UTF-8, else -1.
    private void ReadValues(ReadOnlySpan<byte> data, Encoding encoding, int count, Span<long> longs, Span<double> doubles, Span<float> singles, Span<ReadOnlyMemory<char>> texts, int utf8Start)
    {
        int at = Count;
        if (count > Entries - at)
            throw new FormatException("the column chunk has more values than entries");
        switch (encoding)
        {
            case Encoding.PLAIN when utf8Start >= 0:
                if (!TextsAsUtf8)
                {
                    _target.Utf8Ranges = Ensure(_target.Utf8Ranges, Entries);
                    TextsAsUtf8 = true;
                }
                ReadPlainRanges(data, count, _target.Utf8Ranges.AsSpan(at, count), utf8Start);
                break;
            case Encoding.PLAIN:
                if (Kind == DenseKind.Texts)
                    texts = TextValues();
                ReadPlain(data, count, Kind == DenseKind.Longs ? longs[at..] : default, Kind == DenseKind.Doubles ? doubles[at..] : default,
                    Kind == DenseKind.Singles ? singles[at..] : default, Kind == DenseKind.Texts ? texts[at..] : default);
                break;
            case Encoding.PLAIN_DICTIONARY or Encoding.RLE_DICTIONARY:
                if (_dictionaryCount < 0)
                    throw new NotSupportedException("a dictionary-encoded page before any dictionary page"); // an odd layout: Parquet.Net reads it or names the fault
                if (count > 0 && data.IsEmpty)
                    throw new FormatException("the page ends before its dictionary indices");
                // Strings stay indices into the dictionary until a plain page (a writer's fallback) needs them spelled.
                bool asIndices = Kind == DenseKind.Texts && !_textsSpelled;
                if (asIndices)
                    _target.TextIndices = Ensure(_target.TextIndices, Entries);
                else
                    _indices = Ensure(_indices, count);
                Span<int> indices = asIndices ? _target.TextIndices.AsSpan(at, count) : _indices.AsSpan(0, count);
                if (count > 0 && DecodeHybrid(data[1..], data[0], indices) != count)
                    throw new FormatException($"the page has fewer dictionary indices than its {count:N0} values");
                foreach (int index in indices)
                {
                    if ((uint)index >= (uint)_dictionaryCount)
                        throw new FormatException($"dictionary index {index} is beyond the dictionary's {_dictionaryCount:N0} values");
                }
                if (asIndices)
                {
                    TextsAsIndices = true;
                    break;
                }
                switch (Kind)
                {
                    case DenseKind.Longs:
                        Gather(_dictionaryLongs, indices, longs.Slice(at, count));
                        break;
                    case DenseKind.Doubles:
                        Gather(_dictionaryDoubles, indices, doubles.Slice(at, count));
                        break;
                    case DenseKind.Singles:
                        Gather(_dictionarySingles, indices, singles.Slice(at, count));
                        break;
                    default:
                        Gather(_dictionaryTexts, indices, TextValues().Slice(at, count));
                        break;
                }
                break;
            default:
                throw new NotSupportedException($"value encoding {encoding}");
        }
        Count += count;
    }

    /// <summary>The target's Texts, for a chunk whose strings are spelled out: the indices read so far looked up first.</summary>
    private Span<ReadOnlyMemory<char>> TextValues()
    {
        if (!_textsSpelled)
        {
            _target.Texts = Ensure(_target.Texts, Entries);
            if (TextsAsIndices)
                Gather(_dictionaryTexts, _target.TextIndices.AsSpan(0, Count), _target.Texts);
            TextsAsIndices = false;
            _textsSpelled = true;
        }
        return _target.Texts;
    }

    private static void Gather<T>(T[] dictionary, ReadOnlySpan<int> indices, Span<T> values)
    {
        for (int i = 0; i < indices.Length; i++)
            values[i] = dictionary[indices[i]];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadPlain(ReadOnlySpan<byte> data, int count, Span<long> longs, Span<double> doubles, Span<float> singles, Span<ReadOnlyMemory<char>> texts)
    {
        int width = _type switch
        {
            Parquet.Meta.Type.INT32 or Parquet.Meta.Type.FLOAT => 4,
            Parquet.Meta.Type.INT64 or Parquet.Meta.Type.DOUBLE => 8,
            _ => 0,
        };
        if (width > 0 && (long)count * width > data.Length)
            throw new FormatException($"the page holds {data.Length:N0} bytes for {count:N0} values of {width} bytes");
        switch (_type)
        {
            case Parquet.Meta.Type.INT32:
            {
                ReadOnlySpan<int> source = MemoryMarshal.Cast<byte, int>(data)[..count];
                for (int i = 0; i < count; i++)
                    longs[i] = BitConverter.IsLittleEndian ? source[i] : BinaryPrimitives.ReverseEndianness(source[i]);
                break;
            }
            case Parquet.Meta.Type.INT64:
            {
                ReadOnlySpan<long> source = MemoryMarshal.Cast<byte, long>(data)[..count];
                for (int i = 0; i < count; i++)
                    longs[i] = BitConverter.IsLittleEndian ? source[i] : BinaryPrimitives.ReverseEndianness(source[i]);
                break;
            }
            case Parquet.Meta.Type.FLOAT when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, float>(data)[..count].CopyTo(singles);
                break;
            case Parquet.Meta.Type.FLOAT:
                for (int i = 0; i < count; i++)
                    singles[i] = BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i, 4));
                break;
            case Parquet.Meta.Type.DOUBLE when BitConverter.IsLittleEndian:
                MemoryMarshal.Cast<byte, double>(data)[..count].CopyTo(doubles);
                break;
            case Parquet.Meta.Type.DOUBLE:
                for (int i = 0; i < count; i++)
                    doubles[i] = BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(8 * i, 8));
                break;
            default:
                ReadPlainStrings(data, count, texts);
                break;
        }
    }

    /// <summary>Plain strings (each a 4-byte length, then its UTF-8 bytes) left where they are: where each starts, <paramref name="offset"/> being where <paramref name="data"/> starts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ReadPlainRanges(ReadOnlySpan<byte> data, int count, Span<Utf8Range> ranges, int offset)
    {
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            if (data.Length - at < 4)
                throw new FormatException($"the page ends at string {i + 1:N0} of {count:N0}");
            int length = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
            if (length < 0 || length > data.Length - at - 4)
                throw new FormatException($"string {i + 1:N0} of {length:N0} bytes runs past the page");
            ranges[i] = new Utf8Range(offset + at + 4);
            at += 4 + length;
        }
    }

    /// <summary>
    /// Plain strings (each a 4-byte length, then its UTF-8 bytes) into the current chunk of text. The strings of a
    /// page lie side by side, so a run of them is widened in one vectorized call when it is ASCII, length prefixes and
    /// all (4 chars to spare per string), and each string is a slice of it; a run with other bytes is decoded string
    /// by string.
    /// </summary>
    private void ReadPlainStrings(ReadOnlySpan<byte> data, int count, Span<ReadOnlyMemory<char>> texts)
    {
        int at = 0, i = 0;
        while (i < count)
        {
            // The run: strings from i on whose bytes, from the first length prefix, fit in the chunk's room.
            Span<char> room = _text.Room(64);
            int runStart = at, first = i;
            while (i < count)
            {
                if (data.Length - at < 4)
                    throw new FormatException($"the page ends at string {i + 1:N0} of {count:N0}");
                int length = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
                if (length < 0 || length > data.Length - at - 4)
                    throw new FormatException($"string {i + 1:N0} of {length:N0} bytes runs past the page");
                if (at + 4 + length - runStart > room.Length)
                    break;
                i++;
                at += 4 + length;
            }
            int runLength = at - runStart;
            if (i == first)
            {
                // One string longer than the chunk's room: on its own, in a chunk of its own if need be.
                int length = BinaryPrimitives.ReadInt32LittleEndian(data[at..]);
                texts[i++] = _text.Widen(data, at + 4, length);
                at += 4 + length;
                continue;
            }
            bool ascii = System.Text.Ascii.ToUtf16(data.Slice(runStart, runLength), room, out _) == System.Buffers.OperationStatus.Done;
            ReadOnlyMemory<char> run = ascii ? _text.Take(runLength) : default;
            // Each string a slice of the run; not ASCII: string by string from the run's start, each after the last in the chunk.
            for (int k = first, from = runStart; k < i; k++)
            {
                int length = BinaryPrimitives.ReadInt32LittleEndian(data[from..]);
                texts[k] = ascii ? run.Slice(from + 4 - runStart, length) : _text.Widen(data, from + 4, length);
                from += 4 + length;
            }
        }
    }

    /// <summary>The same on arrays, for callers that cannot pass spans (the tests, through reflection: Parquet.Net writes no bit-packed runs).</summary>
    internal static int DecodeHybrid(byte[] data, int bitWidth, int[] values) => DecodeHybrid(data.AsSpan(), bitWidth, values.AsSpan());

    /// <summary>The same into bytes (levels), for the tests.</summary>
    internal static int DecodeHybrid(byte[] data, int bitWidth, byte[] values) => DecodeHybrid(data.AsSpan(), bitWidth, values.AsSpan());

    /// <summary>
    /// Parquet's RLE / bit-packed hybrid: fills <paramref name="values"/> as far as the data goes; returns how many.
    /// Levels decode into bytes (a width of 8 bits at most), dictionary indices into ints.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int DecodeHybrid<T>(ReadOnlySpan<byte> data, int bitWidth, Span<T> values)
        where T : unmanaged, IBinaryInteger<T>
    {
        if (bitWidth is < 0 or > 32 || bitWidth > 8 * Unsafe.SizeOf<T>())
            throw new FormatException($"bit width {bitWidth} is not between 0 and {Math.Min(32, 8 * Unsafe.SizeOf<T>())}");
        int at = 0, n = 0;
        int byteWidth = (bitWidth + 7) / 8;
        ulong mask = bitWidth == 32 ? uint.MaxValue : (1UL << bitWidth) - 1;
        uint byteMask = byteWidth == 4 ? uint.MaxValue : (1u << (8 * byteWidth)) - 1;
        ref byte origin = ref MemoryMarshal.GetReference(data);
        while (n < values.Length && at < data.Length)
        {
            // Runs of one value each, as Parquet.Net writes dictionary indices: a header of 2, then the value's bytes,
            // read as one word (5 bytes left at least) without the general case's branches.
            while (data.Length - at >= 5 && Unsafe.Add(ref origin, at) == 2 && n < values.Length)
            {
                values[n++] = T.CreateTruncating(BinaryPrimitives.ReadUInt32LittleEndian(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref origin, at + 1), 4)) & byteMask);
                at += 1 + byteWidth;
            }
            if (n >= values.Length || at >= data.Length)
                break;
            uint header = data[at] < 0x80 ? data[at++] : ReadVarint(data, ref at);
            if ((header & 1) == 0)
            {
                int run = checked((int)(header >> 1));
                if (byteWidth > data.Length - at)
                    throw new FormatException("a run of levels or indices ends early");
                int value = 0;
                for (int b = 0; b < byteWidth; b++)
                    value |= data[at + b] << (8 * b);
                at += byteWidth;
                T item = T.CreateTruncating(value);
                int take = Math.Min(run, values.Length - n);
                if (take == 1)
                    values[n] = item; // Parquet.Net writes every value as a run, most of one
                else if (take <= Vector256<T>.Count && values.Length - n >= Vector256<T>.Count)
                    Vector256.Create(item).CopyTo(values[n..]); // short runs (a list's levels): one store, the rest overwritten by the next run
                else
                    values.Slice(n, take).Fill(item);
                n += take;
            }
            else
            {
                int groups = checked((int)(header >> 1));
                int bytes = checked(groups * bitWidth);
                int count = Math.Min(checked(groups * 8), values.Length - n);
                // The last group may be cut short of its padding.
                ReadOnlySpan<byte> packed = data.Slice(at, Math.Min(bytes, data.Length - at));
                if ((long)count * bitWidth > 8L * packed.Length)
                    throw new FormatException("bit-packed levels or indices end early");
                // Each value from one little-endian word read at its first byte (a width of 32 bits shifted by up to 7
                // fits in 64); the last few values, whose word would run past the data, byte by byte.
                int i = 0;
                if (bitWidth <= 8)
                {
                    // Levels and small dictionaries: a group of 8 values in one word.
                    for (int start = 0; i + 8 <= count && packed.Length - start >= sizeof(ulong); i += 8, start += bitWidth)
                    {
                        ulong word = BinaryPrimitives.ReadUInt64LittleEndian(packed[start..]);
                        Span<T> group = values.Slice(n + i, 8);
                        group[0] = T.CreateTruncating(word & mask);
                        group[1] = T.CreateTruncating((word >> bitWidth) & mask);
                        group[2] = T.CreateTruncating((word >> (2 * bitWidth)) & mask);
                        group[3] = T.CreateTruncating((word >> (3 * bitWidth)) & mask);
                        group[4] = T.CreateTruncating((word >> (4 * bitWidth)) & mask);
                        group[5] = T.CreateTruncating((word >> (5 * bitWidth)) & mask);
                        group[6] = T.CreateTruncating((word >> (6 * bitWidth)) & mask);
                        group[7] = T.CreateTruncating((word >> (7 * bitWidth)) & mask);
                    }
                }
                long bit = (long)i * bitWidth;
                for (; i < count; i++, bit += bitWidth)
                {
                    int first = (int)(bit >> 3);
                    if (packed.Length - first < sizeof(ulong))
                        break;
                    values[n + i] = T.CreateTruncating((BinaryPrimitives.ReadUInt64LittleEndian(packed[first..]) >> (int)(bit & 7)) & mask);
                }
                for (; i < count; i++, bit += bitWidth)
                {
                    int first = (int)(bit >> 3);
                    ulong word = 0;
                    for (int b = 0; b < sizeof(ulong) && first + b < packed.Length; b++)
                        word |= (ulong)packed[first + b] << (8 * b);
                    values[n + i] = T.CreateTruncating((word >> (int)(bit & 7)) & mask);
                }
                at += packed.Length;
                n += count;
            }
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint ReadVarint(ReadOnlySpan<byte> data, ref int at)
    {
        uint value = 0;
        for (int shift = 0; shift < 35; shift += 7)
        {
            byte b = data[at++];
            value |= (uint)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw new FormatException("a variable-length integer is too long");
    }

    private static ulong ReadVarint64(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            byte b = data[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw new FormatException("a variable-length integer is too long");
    }

    private static int ReadI32(ReadOnlySpan<byte> data, ref int at)
    {
        uint zigzag = ReadVarint(data, ref at);
        return (int)(zigzag >> 1) ^ -(int)(zigzag & 1);
    }

    // Room to spare: row groups differ a little in size, and a large array left behind waits for a full collection.
    internal static T[] Ensure<T>(T[] array, int length) => array.Length >= length ? array : new T[length + length / 8];

    /// <summary>The fields of a Thrift page header that decoding needs.</summary>
    private struct PageHeader
    {
        public PageType Type;
        public int UncompressedSize;
        public int CompressedSize;
        public int Values;
        public Encoding Encoding;
        public Encoding DefinitionEncoding;
        public Encoding RepetitionEncoding;
        public int DefinitionLength;
        public int RepetitionLength;
        public bool IsCompressed;
    }

    // Thrift compact protocol, enough to read a PageHeader and skip what it does not need.
    private const int ThriftTrue = 1, ThriftFalse = 2, ThriftByte = 3, ThriftI16 = 4, ThriftI32 = 5, ThriftI64 = 6, ThriftDouble = 7,
        ThriftBinary = 8, ThriftList = 9, ThriftSet = 10, ThriftMap = 11, ThriftStruct = 12;

    private static PageHeader ReadPageHeader(ReadOnlySpan<byte> data, ref int at)
    {
        var header = new PageHeader { IsCompressed = true, Type = (PageType)(-1) };
        int field = 0;
        while (NextField(data, ref at, ref field, out int type))
        {
            switch (field, type)
            {
                case (1, ThriftI32):
                    header.Type = (PageType)ReadI32(data, ref at);
                    break;
                case (2, ThriftI32):
                    header.UncompressedSize = ReadI32(data, ref at);
                    break;
                case (3, ThriftI32):
                    header.CompressedSize = ReadI32(data, ref at);
                    break;
                case (5 or 7 or 8, ThriftStruct):
                    ReadSubHeader(data, ref at, field, ref header);
                    break;
                default:
                    Skip(data, ref at, type);
                    break;
            }
        }
        if (!Enum.IsDefined(header.Type))
            throw new FormatException("a page header has no known page type");
        return header;
    }

    /// <summary>DataPageHeader (5), DictionaryPageHeader (7) or DataPageHeaderV2 (8).</summary>
    private static void ReadSubHeader(ReadOnlySpan<byte> data, ref int at, int kind, ref PageHeader header)
    {
        int field = 0;
        while (NextField(data, ref at, ref field, out int type))
        {
            if (type == ThriftI32)
            {
                int value = ReadI32(data, ref at);
                switch (kind, field)
                {
                    case (_, 1):
                        header.Values = value;
                        break;
                    case (5 or 7, 2) or (8, 4):
                        header.Encoding = (Encoding)value;
                        break;
                    case (5, 3):
                        header.DefinitionEncoding = (Encoding)value;
                        break;
                    case (5, 4):
                        header.RepetitionEncoding = (Encoding)value;
                        break;
                    case (8, 5):
                        header.DefinitionLength = value;
                        break;
                    case (8, 6):
                        header.RepetitionLength = value;
                        break;
                }
            }
            else if (kind == 8 && field == 7 && type is ThriftTrue or ThriftFalse)
            {
                header.IsCompressed = type == ThriftTrue;
            }
            else
            {
                Skip(data, ref at, type);
            }
        }
    }

    /// <summary>Reads a field header; false at the end of the struct.</summary>
    private static bool NextField(ReadOnlySpan<byte> data, ref int at, ref int field, out int type)
    {
        byte b = data[at++];
        type = b & 0x0F;
        if (type == 0)
            return false;
        int delta = b >> 4;
        field = delta != 0 ? field + delta : (short)ReadI32(data, ref at);
        return true;
    }

    private static void Skip(ReadOnlySpan<byte> data, ref int at, int type, int depth = 0)
    {
        if (depth > 32)
            throw new FormatException("a page header nests too deep");
        switch (type)
        {
            case ThriftTrue or ThriftFalse:
                break;
            case ThriftByte:
                at++;
                break;
            case ThriftI16 or ThriftI32 or ThriftI64:
                ReadVarint64(data, ref at);
                break;
            case ThriftDouble:
                at += 8;
                break;
            case ThriftBinary:
            {
                int length = checked((int)ReadVarint(data, ref at));
                at += length;
                break;
            }
            case ThriftList or ThriftSet:
            {
                byte b = data[at++];
                int size = b >> 4;
                if (size == 15)
                    size = checked((int)ReadVarint(data, ref at));
                int element = b & 0x0F;
                for (int i = 0; i < size; i++)
                    SkipElement(data, ref at, element, depth);
                break;
            }
            case ThriftMap:
            {
                int size = checked((int)ReadVarint(data, ref at));
                if (size == 0)
                    break;
                byte kinds = data[at++];
                for (int i = 0; i < size; i++)
                {
                    SkipElement(data, ref at, kinds >> 4, depth);
                    SkipElement(data, ref at, kinds & 0x0F, depth);
                }
                break;
            }
            case ThriftStruct:
            {
                int field = 0;
                while (NextField(data, ref at, ref field, out int inner))
                    Skip(data, ref at, inner, depth + 1);
                break;
            }
            default:
                throw new FormatException($"a page header has a field of unknown Thrift type {type}");
        }
        if (at > data.Length)
            throw new FormatException("a page header runs past the column chunk");
    }

    // Inside lists and maps a Boolean takes one byte.
    private static void SkipElement(ReadOnlySpan<byte> data, ref int at, int type, int depth)
    {
        if (type is ThriftTrue or ThriftFalse)
            at++;
        else
            Skip(data, ref at, type, depth + 1);
    }
}
