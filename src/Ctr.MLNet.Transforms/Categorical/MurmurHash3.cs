using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// MurmurHash3, x86_32 variant (Austin Appleby, public domain), the hash behind
/// <see cref="HashBucketingEstimator"/>. Public so that bucket ids can be reproduced outside .NET (a
/// serving system, a Python pipeline): the bucket of a normalized token is
/// <c>2 + Hash(utf8(token), seed) % numBuckets</c>, the same as <c>mmh3.hash(token, seed, signed=False)</c>.
/// </summary>
public static class MurmurHash3
{
    private const uint C1 = 0xCC9E2D51;
    private const uint C2 = 0x1B873593;

    // Tokens up to this many UTF-8 bytes are encoded on the stack; longer ones in a pooled buffer.
    private const int StackBytes = 1024;

    /// <summary>The 32-bit hash of <paramref name="data"/> with <paramref name="seed"/>.</summary>
    /// <param name="data">Bytes to hash.</param>
    /// <param name="seed">Seed; any value.</param>
    public static uint Hash(ReadOnlySpan<byte> data, uint seed)
    {
        uint h = seed;
        int blocks = data.Length / 4;
        for (int i = 0; i < blocks; i++)
        {
            h ^= MixK(BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(i * 4, 4)));
            h = BitOperations.RotateLeft(h, 13);
            h = h * 5 + 0xE6546B64;
        }

        ReadOnlySpan<byte> tail = data[(blocks * 4)..];
        uint k = 0;
        switch (tail.Length)
        {
            case 3:
                k ^= (uint)tail[2] << 16;
                goto case 2;
            case 2:
                k ^= (uint)tail[1] << 8;
                goto case 1;
            case 1:
                k ^= tail[0];
                h ^= MixK(k);
                break;
        }

        h ^= (uint)data.Length;
        return FinalMix(h);
    }

    /// <summary>
    /// The hash of the UTF-8 bytes of <paramref name="text"/>, encoded into a stack or pooled buffer (no
    /// allocation). A lone surrogate is encoded as U+FFFD, as <see cref="Encoding.UTF8"/> does.
    /// </summary>
    /// <param name="text">Text to hash.</param>
    /// <param name="seed">Seed; any value.</param>
    public static uint HashUtf8(ReadOnlySpan<char> text, uint seed)
    {
        int maxBytes = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        Span<byte> buffer = maxBytes <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int length = Encoding.UTF8.GetBytes(text, buffer);
            return Hash(buffer[..length], seed);
        }
        finally
        {
            if (rented is not null)
                ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static uint MixK(uint k)
    {
        k *= C1;
        k = BitOperations.RotateLeft(k, 15);
        return k * C2;
    }

    private static uint FinalMix(uint h)
    {
        h ^= h >> 16;
        h *= 0x85EBCA6B;
        h ^= h >> 13;
        h *= 0xC2B2AE35;
        h ^= h >> 16;
        return h;
    }
}
