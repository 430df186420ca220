using System;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// One fitted hash space: <see cref="BucketCount"/> buckets, a seed, and (when
/// <see cref="HashBucketSettings.MinCount"/> &gt; 1) the cumulative count of every token seen so far.
/// A token qualifies when its count reaches the minimum; the qualifying set is a function of the counts,
/// so only the counts are kept. Same index layout as <see cref="Vocabulary"/>: 0 padding, 1 OOV,
/// buckets 2 … <see cref="BucketCount"/> + 1.
/// </summary>
internal sealed class HashBucketSpace : IIndexSpace
{
    private const int FirstBucketIndex = 2;

    private HashBucketSpace(string name, HashBucketSettings settings, int bucketCount, TermCounts counts)
    {
        Name = name;
        Settings = settings;
        BucketCount = bucketCount;
        Counts = counts;
        Normalizer = settings.CreateNormalizer();
    }

    /// <summary>Name of the index space, given to the column annotations.</summary>
    public string Name { get; }

    public HashBucketSettings Settings { get; }

    /// <summary>Number of buckets N, at least 1; frozen at the first fit.</summary>
    public int BucketCount { get; }

    /// <summary>Rows an embedding table needs: buckets plus padding and OOV.</summary>
    public int Size => BucketCount + FirstBucketIndex;

    /// <summary>Cumulative counts; empty when the space does not filter by count.</summary>
    public TermCounts Counts { get; }

    public TokenNormalizer Normalizer { get; }

    /// <summary>Index of a raw value, normalized as at fit time.</summary>
    public int GetBucket(string value)
    {
        Span<char> scratch = stackalloc char[TokenNormalizer.ScratchLength];
        return Normalizer.TryNormalize(value, scratch, out ReadOnlySpan<char> token) ? BucketOfToken(token) : Vocabulary.OovIndex;
    }

    /// <summary>How often the normalized value was seen over all fits; 0 when the space does not count.</summary>
    public long GetCount(string value)
    {
        Span<char> scratch = stackalloc char[TokenNormalizer.ScratchLength];
        return Normalizer.TryNormalize(value, scratch, out ReadOnlySpan<char> token) ? Counts.Get(token) : 0;
    }

    /// <summary>2 + (murmur3_32(utf8(token), seed) mod N), or OOV for a token rarer than the minimum count.</summary>
    int IIndexSpace.IndexOfToken(ReadOnlySpan<char> normalizedToken) => BucketOfToken(normalizedToken);

    public int BucketOfToken(ReadOnlySpan<char> normalizedToken)
    {
        if (Settings.FiltersByCount && Counts.Get(normalizedToken) < Settings.MinCount)
            return Vocabulary.OovIndex;
        return FirstBucketIndex + (int)(MurmurHash3.HashUtf8(normalizedToken, Settings.Seed) % (uint)BucketCount);
    }

    /// <summary>
    /// A space sized by <see cref="HashBucketSettings.NumBuckets"/>, or from the number of distinct qualifying
    /// tokens in <paramref name="counts"/> (see <see cref="HashBucketingEstimator.AutoBucketCount"/>).
    /// </summary>
    public static HashBucketSpace Create(string name, HashBucketSettings settings, TermCounts counts)
    {
        int bucketCount = settings.NumBuckets
            ?? HashBucketingEstimator.AutoBucketCount(counts.Counts.Count(pair => pair.Value >= settings.MinCount));
        return new HashBucketSpace(name, settings, bucketCount, settings.FiltersByCount ? counts : new TermCounts());
    }

    /// <summary>
    /// The space after seeing <paramref name="newCounts"/> too: counts accumulate, the bucket count stays.
    /// Changing N would move almost every token to another bucket, so every embedding row learned so far
    /// would be read for other tokens.
    /// </summary>
    public HashBucketSpace Grow(TermCounts newCounts) =>
        Settings.FiltersByCount ? new HashBucketSpace(Name, Settings, BucketCount, Counts.Merge(newCounts)) : this;

    // Binary format
    //   string: name
    //   settings (see HashBucketSettings.Write)
    //   int: number of buckets N (1 or more)
    //   int: number of counted tokens (0 when min count is 1), then per token: string token, long count (1 or more)
    public void Write(BinaryWriter writer)
    {
        writer.Write(Name);
        Settings.Write(writer);
        writer.Write(BucketCount);
        writer.Write(Counts.Count);
        foreach (var (token, count) in Counts.Counts)
        {
            writer.Write(token);
            writer.Write(count);
        }
    }

    public static HashBucketSpace Read(BinaryReader reader)
    {
        string name = reader.ReadString();
        HashBucketSettings settings = HashBucketSettings.Read(reader);
        int bucketCount = reader.ReadInt32();
        if (bucketCount < 1 || bucketCount > HashBucketingEstimator.MaxNumBuckets)
            CtrThrow.Format($"Hash space '{name}' in the model file has {bucketCount} buckets; the file is corrupt.");
        int tokenCount = Vocabulary.ReadCount(reader, "counted tokens");
        var counts = new TermCounts();
        for (int i = 0; i < tokenCount; i++)
        {
            string token = reader.ReadString();
            long count = reader.ReadInt64();
            if (count < 1)
                CtrThrow.Format($"Hash space '{name}' in the model file gives token '{token}' a count of {count}; the file is corrupt.");
            counts.Add(token, count);
        }
        if (counts.Count != tokenCount)
            CtrThrow.Format($"Hash space '{name}' in the model file lists a token twice; the file is corrupt.");
        return new HashBucketSpace(name, settings, bucketCount, counts);
    }
}
