using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Where a plain string's UTF-8 bytes start in its column's page bytes, just after its 4-byte length, which is read
/// from there (checked when the page was decoded); 0 for a null. Half the memory of a start and a length, written
/// once and read once per string.
/// </summary>
internal readonly record struct Utf8Range(int Start)
{
    /// <summary>The string's length in bytes: the 4 bytes before <see cref="Start"/>; 0 for a null.</summary>
    public int LengthIn(byte[] bytes) => Start == 0 ? 0 : BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(Start - 4, 4));
}

/// <summary>
/// Strings handed out by the Parquet reader: widened from UTF-8 (or spelled from numbers, or copied) side by side in
/// chunks of chars below the large object heap's threshold. A full chunk is left to the consumers, never reused, so the
/// memory handed out stays valid for as long as a consumer keeps it. The one place that turns UTF-8 into chars: the
/// getters widen a row's strings, the chunk decoder a dictionary's.
/// </summary>
/// <remarks>
/// Widened by the getter, a row's strings live only as long as the consumer keeps them: chunks a consumer drops die
/// young, where a whole row group's strings widened up front outlived every collection until the next row group
/// (and made the collector keep a young generation of a hundred megabytes or more, cold in cache).
/// </remarks>
internal sealed class ParquetTextChunks
{
    private const int ChunkLength = 32 * 1024;

    // 16 chars past the strings of a call: room for the widening of a whole vector at the last string's place.
    private const int Spare = 16;

    private char[] _chars = [];
    private int _used;

    /// <summary>
    /// Room for at least <paramref name="length"/> chars at the end of the current chunk (all that is left of it);
    /// <see cref="Take"/> hands out what was written there.
    /// </summary>
    public Span<char> Room(int length)
    {
        Room(length, 0);
        return _chars.AsSpan(_used);
    }

    /// <summary>The first <paramref name="written"/> chars of the last <see cref="Room(int)"/>.</summary>
    public ReadOnlyMemory<char> Take(int written)
    {
        var text = new ReadOnlyMemory<char>(_chars, _used, written);
        _used += written;
        return text;
    }

    /// <summary>A copy of <paramref name="text"/>.</summary>
    public ReadOnlyMemory<char> Copy(ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
            return default;
        text.CopyTo(Room(text.Length));
        return Take(text.Length);
    }

    /// <summary>The string of <paramref name="length"/> UTF-8 bytes at <paramref name="start"/> of <paramref name="bytes"/>.</summary>
    public ReadOnlyMemory<char> Widen(ReadOnlySpan<byte> bytes, int start, int length)
    {
        Room(length, Spare);
        return Next(bytes, start, length);
    }

    /// <summary>The string of <paramref name="range"/> in <paramref name="bytes"/>.</summary>
    public ReadOnlyMemory<char> Widen(byte[] bytes, Utf8Range range) => Widen(bytes, range.Start, range.LengthIn(bytes));

    /// <summary>The strings of <paramref name="ranges"/> in <paramref name="bytes"/> into <paramref name="target"/>.</summary>
    public void Widen(byte[] bytes, ReadOnlySpan<Utf8Range> ranges, Span<ReadOnlyMemory<char>> target)
    {
        int total = 0;
        foreach (Utf8Range range in ranges)
            total += range.LengthIn(bytes);
        Room(total, Spare);
        target = target[..ranges.Length];
        for (int i = 0; i < ranges.Length; i++)
            target[i] = Next(bytes, ranges[i].Start, ranges[i].LengthIn(bytes));
    }

    /// <summary>Room for <paramref name="length"/> chars, and <paramref name="spare"/> more, in the current chunk (UTF-8 never takes fewer bytes than UTF-16 chars).</summary>
    private void Room(int length, int spare)
    {
        if (_chars.Length - _used < length + spare)
        {
            // Only what was written is handed out, so the chunk need not be cleared first.
            _chars = GC.AllocateUninitializedArray<char>(Math.Max(ChunkLength, length + spare));
            _used = 0;
        }
    }

    /// <summary>The string at <paramref name="start"/>, after the last in the chunk, which has room for it and <see cref="Spare"/> more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlyMemory<char> Next(ReadOnlySpan<byte> bytes, int start, int length)
    {
        if ((uint)(length - 1) < (uint)Vector128<byte>.Count && (uint)start <= (uint)(bytes.Length - Vector128<byte>.Count))
        {
            // In bounds: 16 bytes from start (just checked) and 16 chars from _used (the room's spare).
            var vector = Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(bytes), (nuint)(uint)start);
            if ((vector.ExtractMostSignificantBits() & ((1u << length) - 1)) == 0)
            {
                // Ids are short and ASCII: one load widened to 16 chars, of which the string's are kept (the rest is
                // overwritten by the next string), costs a fraction of a call to the decoder.
                (Vector128<ushort> lower, Vector128<ushort> upper) = Vector128.Widen(vector);
                ref ushort target = ref Unsafe.As<char, ushort>(ref MemoryMarshal.GetArrayDataReference(_chars));
                nuint at = (nuint)(uint)_used;
                lower.StoreUnsafe(ref target, at);
                upper.StoreUnsafe(ref target, at + (nuint)Vector128<ushort>.Count);
                var text = new ReadOnlyMemory<char>(_chars, _used, length);
                _used += length;
                return text;
            }
        }
        return length == 0 ? default : Decode(bytes.Slice(start, length));
    }

    /// <summary>A string longer than a vector, or not ASCII, or near the end of its bytes.</summary>
    private ReadOnlyMemory<char> Decode(ReadOnlySpan<byte> utf8)
    {
        Span<char> target = _chars.AsSpan(_used);
        if (System.Text.Ascii.ToUtf16(utf8, target, out int written) != System.Buffers.OperationStatus.Done)
            written = System.Text.Encoding.UTF8.GetChars(utf8, target);
        var text = new ReadOnlyMemory<char>(_chars, _used, written);
        _used += written;
        return text;
    }
}
