using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Ctr.MLNet.Transforms;

/// <summary>Where a plain string's UTF-8 bytes lie in its column's page bytes; (0, 0) for a null.</summary>
internal readonly record struct Utf8Range(int Start, int Length);

/// <summary>
/// Widens UTF-8 strings (or spells numbers) to chars side by side in chunks below the large object heap's threshold,
/// as a getter hands them out. A full chunk is left to the consumers, never reused, so the memory handed out stays valid for as long
/// as a consumer keeps it.
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

    /// <summary>Room for <paramref name="length"/> chars at the end of the current chunk; <see cref="Take"/> hands out what was written there.</summary>
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

    /// <summary>The string of <paramref name="range"/> in <paramref name="bytes"/>.</summary>
    public ReadOnlyMemory<char> Widen(byte[] bytes, Utf8Range range)
    {
        Room(range.Length, Spare);
        return Next(bytes, range);
    }

    /// <summary>The strings of <paramref name="ranges"/> in <paramref name="bytes"/> into <paramref name="target"/>.</summary>
    public void Widen(byte[] bytes, ReadOnlySpan<Utf8Range> ranges, Span<ReadOnlyMemory<char>> target)
    {
        int total = 0;
        foreach (Utf8Range range in ranges)
            total += range.Length;
        Room(total, Spare);
        for (int i = 0; i < ranges.Length; i++)
            target[i] = Next(bytes, ranges[i]);
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

    /// <summary>The string of <paramref name="range"/>, after the last in the chunk, which has room for it and <see cref="Spare"/> more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlyMemory<char> Next(byte[] bytes, Utf8Range range)
    {
        int length = range.Length, start = range.Start;
        if ((uint)(length - 1) < (uint)Vector128<byte>.Count && bytes.Length - start >= Vector128<byte>.Count)
        {
            var vector = Vector128.Create(bytes.AsSpan(start, Vector128<byte>.Count));
            if ((vector.ExtractMostSignificantBits() & ((1u << length) - 1)) == 0)
            {
                // Ids are short and ASCII: one load widened to 16 chars, of which the string's are kept (the rest is
                // overwritten by the next string), costs a fraction of a call to the decoder.
                (Vector128<ushort> lower, Vector128<ushort> upper) = Vector128.Widen(vector);
                Span<ushort> chars = MemoryMarshal.Cast<char, ushort>(_chars.AsSpan(_used, Spare));
                lower.CopyTo(chars);
                upper.CopyTo(chars[Vector128<ushort>.Count..]);
                var text = new ReadOnlyMemory<char>(_chars, _used, length);
                _used += length;
                return text;
            }
        }
        return length == 0 ? default : Decode(bytes, range);
    }

    /// <summary>A string longer than a vector, or not ASCII.</summary>
    private ReadOnlyMemory<char> Decode(byte[] bytes, Utf8Range range)
    {
        ReadOnlySpan<byte> utf8 = bytes.AsSpan(range.Start, range.Length);
        Span<char> target = _chars.AsSpan(_used);
        if (System.Text.Ascii.ToUtf16(utf8, target, out int written) != System.Buffers.OperationStatus.Done)
            written = System.Text.Encoding.UTF8.GetChars(utf8, target);
        var text = new ReadOnlyMemory<char>(_chars, _used, written);
        _used += written;
        return text;
    }
}
