using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using Ctr.MLNet.Transforms.Categorical;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// A fitted vocabulary: term → index, with the cumulative count of every term seen so far.
/// Index <see cref="PaddingIndex"/> (0) is reserved for padding, <see cref="OovIndex"/> (1) for
/// out-of-vocabulary, missing and outlier values; terms take 2, 3, … in the order they qualified.
/// Refitting appends and never renumbers, so the reserved indices and every term's index are stable
/// over growth (an embedding row keeps its meaning).
/// </summary>
public sealed class Vocabulary : IIndexSpace
{
    /// <summary>Index of the padding element of a sequence; never produced for a value.</summary>
    public const int PaddingIndex = 0;

    /// <summary>Index of unknown, rare, missing and outlier values.</summary>
    public const int OovIndex = 1;

    private const int FirstTermIndex = 2;

    private readonly TermTable _table;
    private readonly TermCounts _counts;

    internal Vocabulary(string name, VocabularySettings settings, ImmutableArray<string> terms, TermCounts counts)
    {
        Name = name;
        Settings = settings;
        Terms = terms;
        _counts = counts;
        _table = new TermTable(terms);
        Normalizer = settings.CreateNormalizer();
    }

    /// <summary>Name of the vocabulary; columns that share it share one index space (and one embedding table).</summary>
    public string Name { get; }

    /// <summary>Terms in index order: <c>Terms[i]</c> has index <c>i + 2</c>.</summary>
    public ImmutableArray<string> Terms { get; }

    /// <summary>Rows an embedding table needs: terms plus padding and OOV.</summary>
    public int Size => Terms.Length + FirstTermIndex;

    /// <summary>Minimum cumulative count a term needs to get an index.</summary>
    public long MinCount => Settings.MinCount;

    /// <summary>Largest number of terms (reserved indices excluded), or null for no limit.</summary>
    public int? MaxSize => Settings.MaxSize;

    internal VocabularySettings Settings { get; }

    internal TokenNormalizer Normalizer { get; }

    internal TermCounts Counts => _counts;

    /// <summary>Index of a raw value, normalized as at fit time; <see cref="OovIndex"/> when unknown.</summary>
    public int GetIndex(string value)
    {
        Span<char> scratch = stackalloc char[TokenNormalizer.ScratchLength];
        return Normalizer.TryNormalize(value, scratch, out ReadOnlySpan<char> token) ? IndexOfToken(token) : OovIndex;
    }

    /// <summary>The term at <paramref name="index"/>, or null for the reserved indices.</summary>
    public string? GetTerm(int index) =>
        index >= FirstTermIndex && index < Size ? Terms[index - FirstTermIndex] : null;

    /// <summary>How often the (normalized) term was seen over all fits, whether or not it qualified.</summary>
    public long GetCount(string term)
    {
        Span<char> scratch = stackalloc char[TokenNormalizer.ScratchLength];
        return Normalizer.TryNormalize(term, scratch, out ReadOnlySpan<char> token) ? _counts.Get(token) : 0;
    }

    TokenNormalizer IIndexSpace.Normalizer => Normalizer;

    int IIndexSpace.IndexOfToken(ReadOnlySpan<char> normalizedToken) => IndexOfToken(normalizedToken);

    void IIndexSpace.Write(BinaryWriter writer) => Write(writer);

    internal int IndexOfToken(ReadOnlySpan<char> normalizedToken) =>
        _table.IndexOf(normalizedToken) is int position and >= 0 ? position + FirstTermIndex : OovIndex;

    /// <summary>
    /// The vocabulary after seeing <paramref name="newCounts"/> too: existing terms keep their indices,
    /// terms whose cumulative count now reaches <see cref="MinCount"/> are appended, most frequent first.
    /// </summary>
    internal Vocabulary Grow(TermCounts newCounts)
    {
        TermCounts counts = _counts.Merge(newCounts);
        return new Vocabulary(Name, Settings, Terms.AddRange(NewTerms(counts, this, Settings)), counts);
    }

    internal static Vocabulary Create(string name, VocabularySettings settings, TermCounts counts) =>
        new(name, settings, [.. NewTerms(counts, null, settings)], counts);

    private static List<string> NewTerms(TermCounts counts, Vocabulary? existing, VocabularySettings settings)
    {
        var candidates = new List<KeyValuePair<string, long>>();
        foreach (var pair in counts.Counts)
        {
            if (pair.Value >= settings.MinCount && (existing is null || existing._table.IndexOf(pair.Key) < 0))
                candidates.Add(pair);
        }
        candidates.Sort(TermCounts.MostFrequentFirst);
        int room = settings.MaxSize is int max ? Math.Max(0, max - (existing?.Terms.Length ?? 0)) : int.MaxValue;
        var terms = new List<string>(Math.Min(room, candidates.Count));
        for (int i = 0; i < candidates.Count && terms.Count < room; i++)
            terms.Add(candidates[i].Key);
        return terms;
    }

    // Binary format
    //   string: name
    //   settings (see VocabularySettings.Write)
    //   int: number of terms, then per term in index order: string term, long count
    //   int: number of counted terms without an index, then per term: string term, long count
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Name);
        Settings.Write(writer);
        writer.Write(Terms.Length);
        foreach (string term in Terms)
        {
            writer.Write(term);
            writer.Write(_counts.Get(term));
        }
        writer.Write(_counts.Count - Terms.Length);
        foreach (var (term, count) in _counts.Counts)
        {
            if (_table.IndexOf(term) < 0)
            {
                writer.Write(term);
                writer.Write(count);
            }
        }
    }

    internal static Vocabulary Read(BinaryReader reader)
    {
        string name = reader.ReadString();
        VocabularySettings settings = VocabularySettings.Read(reader);
        var counts = new TermCounts();
        int termCount = ReadCount(reader, "terms");
        var terms = ImmutableArray.CreateBuilder<string>(termCount);
        for (int i = 0; i < termCount; i++)
        {
            string term = reader.ReadString();
            terms.Add(term);
            counts.Add(term, reader.ReadInt64());
        }
        int pending = ReadCount(reader, "counted terms");
        for (int i = 0; i < pending; i++)
            counts.Add(reader.ReadString(), reader.ReadInt64());
        if (counts.Count != termCount + pending)
            Internals.CtrThrow.Format($"Vocabulary '{name}' in the model file lists a term twice; the file is corrupt.");
        return new Vocabulary(name, settings, terms.MoveToImmutable(), counts);
    }

    /// <param name="reader">Positioned at an int count.</param>
    /// <param name="what">What is counted, plural ("terms"), for the error message.</param>
    internal static int ReadCount(BinaryReader reader, string what)
    {
        int count = reader.ReadInt32();
        if (count < 0)
            Internals.CtrThrow.Format($"The model file gives a negative number of {what} ({count}); the file is corrupt.");
        return count;
    }
}
