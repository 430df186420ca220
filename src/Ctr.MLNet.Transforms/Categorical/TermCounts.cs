using System;
using System.Collections.Generic;

namespace Ctr.MLNet.Transforms.Categorical;

/// <summary>
/// How often each normalized token was seen, over every fit so far. Lookups by span allocate nothing;
/// a string is made only the first time a token is seen.
/// </summary>
internal sealed class TermCounts
{
    private readonly Dictionary<string, long> _counts;
    private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public TermCounts()
        : this(new Dictionary<string, long>(StringComparer.Ordinal))
    {
    }

    private TermCounts(Dictionary<string, long> counts)
    {
        _counts = counts;
        _lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _counts.Count;

    public IReadOnlyDictionary<string, long> Counts => _counts;

    public void Add(ReadOnlySpan<char> token, long count = 1)
    {
        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_lookup, token, out _) += count;
    }

    public long Get(ReadOnlySpan<char> token) => _lookup.TryGetValue(token, out long count) ? count : 0;

    public TermCounts Clone() => new(new Dictionary<string, long>(_counts, StringComparer.Ordinal));

    /// <summary>Adds <paramref name="other"/>'s counts to a copy of these.</summary>
    public TermCounts Merge(TermCounts other)
    {
        TermCounts merged = Clone();
        foreach (var (term, count) in other._counts)
            merged._counts[term] = merged.Get(term) + count;
        return merged;
    }

    /// <summary>Most frequent first; equal counts in ordinal order of the term, so the order never depends on input order.</summary>
    public static int MostFrequentFirst(KeyValuePair<string, long> a, KeyValuePair<string, long> b)
    {
        int byCount = b.Value.CompareTo(a.Value);
        return byCount != 0 ? byCount : string.CompareOrdinal(a.Key, b.Key);
    }
}
