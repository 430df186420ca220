using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// A uniform sample of at most <c>capacity</c> finite values of a stream (Vitter's Algorithm R with a seeded
/// generator), and the quantile boundaries computed exactly on it.
/// </summary>
internal sealed class ReservoirSample
{
    private readonly int _capacity;
    private readonly Random _random;
    private readonly List<double> _values = [];
    private long _seen;

    public ReservoirSample(int capacity, int seed)
    {
        _capacity = capacity;
        _random = new Random(seed);
    }

    /// <summary>Finite values seen so far.</summary>
    public long Seen => _seen;

    /// <summary>Values held (at most the capacity).</summary>
    public int Count => _values.Count;

    /// <summary>Offers a value; NaN and ±∞ are ignored (they are missing, not part of the distribution).</summary>
    public void Add(double value)
    {
        if (!double.IsFinite(value))
            return;
        _seen++;
        if (_values.Count < _capacity)
        {
            _values.Add(value);
            return;
        }
        // Keep the n-th value with probability capacity / n, replacing a uniformly chosen slot.
        long slot = _random.NextInt64(_seen);
        if (slot < _capacity)
            _values[(int)slot] = value;
    }

    /// <summary>
    /// Boundaries b₁ &lt; … &lt; bₘ (m ≤ <paramref name="numBuckets"/> − 1) of left-closed buckets
    /// (−∞, b₁), [b₁, b₂), …, [bₘ, +∞). With the sample sorted as s₀ ≤ … ≤ sₙ₋₁, the candidate for the
    /// k/N quantile is s[⌈(n − 1)·k / N⌉] (a sample value, numpy's "higher" method); candidates equal to
    /// the sample minimum (nothing would fall below them) and repeated candidates are dropped, so every
    /// bucket holds at least one sample value.
    /// </summary>
    public ImmutableArray<double> Boundaries(int numBuckets)
    {
        if (_values.Count == 0)
            return [];
        double[] sorted = [.. _values];
        Array.Sort(sorted);
        long last = sorted.Length - 1;
        var boundaries = ImmutableArray.CreateBuilder<double>();
        for (long k = 1; k < numBuckets; k++)
        {
            double candidate = sorted[(last * k + numBuckets - 1) / numBuckets];
            if (candidate > sorted[0] && (boundaries.Count == 0 || candidate > boundaries[^1]))
                boundaries.Add(candidate);
        }
        return boundaries.ToImmutable();
    }
}
