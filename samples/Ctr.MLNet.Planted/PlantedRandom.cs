using System;

namespace Ctr.MLNet.Planted;

/// <summary>
/// xoshiro256** seeded through SplitMix64: our own generator, so the same seed gives the same data on every
/// .NET version (<see cref="Random"/>'s seeded sequence is not a documented contract).
/// </summary>
public sealed class PlantedRandom
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator whose whole sequence is fixed by <paramref name="seed"/>.</summary>
    public PlantedRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>A seed for an independent stream, from a world seed and up to three labels (kind, id, day, …).</summary>
    public static ulong Mix(long seed, long a, long b = 0, long c = 0)
    {
        ulong x = (ulong)seed * 0x9E3779B97F4A7C15UL;
        x = Finalize(x ^ (ulong)a * 0xBF58476D1CE4E5B9UL);
        x = Finalize(x ^ (ulong)b * 0x94D049BB133111EBUL);
        return Finalize(x ^ (ulong)c * 0xD6E8FEB86659FD93UL);
    }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, <paramref name="count"/>).</summary>
    public int NextInt(int count) => (int)(((NextUInt64() >> 32) * (ulong)count) >> 32);

    /// <summary>True with probability <paramref name="probability"/>.</summary>
    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Standard normal (Box–Muller, one value per call so the stream stays simple to reason about).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Exponential with mean 1.</summary>
    public double NextExponential() => -Math.Log(1.0 - NextDouble());

    private static ulong SplitMix64(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Finalize(x);
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
