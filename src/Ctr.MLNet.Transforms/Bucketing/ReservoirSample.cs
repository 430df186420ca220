using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

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

    /// <summary>A sample of <paramref name="seen"/> values that holds <paramref name="values"/> (read from a file or merged).</summary>
    internal ReservoirSample(int capacity, int seed, long seen, IEnumerable<double> values)
        : this(capacity, seed)
    {
        _values.AddRange(values);
        _seen = seen;
    }

    /// <summary>The most values held.</summary>
    public int Capacity => _capacity;

    /// <summary>The values held, in no particular order.</summary>
    public IReadOnlyList<double> Values => _values;

    /// <summary>
    /// A uniform sample of the union of the samples' streams, as if one sample had seen them all: when all the
    /// values seen fit the capacity it holds every one of them (so the boundaries are those of one fit on the
    /// union, exactly); otherwise it draws <c>capacity</c> values without replacement from the union by its weights —
    /// the number from each part follows the multivariate hypergeometric law of the parts' sizes (seen, not held),
    /// and that many are taken uniformly from the part's sample. Seeded by <paramref name="seed"/>, so a merge in the
    /// same order gives the same sample.
    /// </summary>
    public static ReservoirSample Merge(IReadOnlyList<ReservoirSample> parts, int capacity, int seed)
    {
        long total = 0;
        foreach (ReservoirSample part in parts)
            total += part._seen;
        if (total <= capacity)
            return new ReservoirSample(capacity, seed, total, parts.SelectMany(p => p._values));
        var random = new Random(seed);
        long[] remaining = [.. parts.Select(p => p._seen)];
        var taken = new int[parts.Count];
        long left = total;
        for (int draw = 0; draw < capacity; draw++)
        {
            long pick = random.NextInt64(left);
            int part = 0;
            while (pick >= remaining[part])
                pick -= remaining[part++];
            remaining[part]--;
            taken[part]++;
            left--;
        }
        var values = new List<double>(capacity);
        for (int p = 0; p < parts.Count; p++)
        {
            // Every part's sample holds min(capacity, seen) ≥ taken values: a partial shuffle picks them uniformly.
            double[] pool = [.. parts[p]._values];
            for (int i = 0; i < taken[p]; i++)
            {
                int j = i + random.Next(pool.Length - i);
                (pool[i], pool[j]) = (pool[j], pool[i]);
                values.Add(pool[i]);
            }
        }
        return new ReservoirSample(capacity, seed, total, values);
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
