using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms.Categorical;

namespace Ctr.MLNet.Transforms;

/// <summary>What decides a hash space's ids; columns sharing a hash space must agree on all of it.</summary>
/// <param name="NumBuckets">Requested number of buckets, or null to size from the data at fit time.</param>
/// <param name="Seed">Seed of the hash.</param>
/// <param name="MinCount">Minimum count for a token to be hashed; rarer tokens map to OOV.</param>
/// <param name="FoldCase">Lower-case tokens before counting and hashing.</param>
/// <param name="OutlierTokens">Tokens treated as missing.</param>
internal sealed record HashBucketSettings(int? NumBuckets, uint Seed, long MinCount, bool FoldCase, ImmutableArray<string> OutlierTokens)
{
    public TokenNormalizer CreateNormalizer() => new(FoldCase, OutlierTokens);

    /// <summary>Whether tokens must be counted to be filtered: only then are counts kept for refits.</summary>
    public bool FiltersByCount => MinCount > 1;

    public bool Equals(HashBucketSettings? other) =>
        other is not null && NumBuckets == other.NumBuckets && Seed == other.Seed && MinCount == other.MinCount
        && FoldCase == other.FoldCase && OutlierTokens.SequenceEqual(other.OutlierTokens);

    public override int GetHashCode() => (NumBuckets, Seed, MinCount, FoldCase, OutlierTokens.Length).GetHashCode();

    // Binary format
    //   int: requested number of buckets, -1 for automatic sizing
    //   uint: seed
    //   long: min count
    //   byte: fold case
    //   int: number of outlier tokens, then each as a string
    public void Write(BinaryWriter writer)
    {
        writer.Write(NumBuckets ?? -1);
        writer.Write(Seed);
        writer.Write(MinCount);
        writer.Write(FoldCase);
        writer.Write(OutlierTokens.Length);
        foreach (string token in OutlierTokens)
            writer.Write(token);
    }

    public static HashBucketSettings Read(BinaryReader reader)
    {
        int numBuckets = reader.ReadInt32();
        uint seed = reader.ReadUInt32();
        long minCount = reader.ReadInt64();
        bool foldCase = reader.ReadBoolean();
        int outlierCount = Vocabulary.ReadCount(reader, "outlier tokens");
        var outliers = ImmutableArray.CreateBuilder<string>(outlierCount);
        for (int i = 0; i < outlierCount; i++)
            outliers.Add(reader.ReadString());
        if (minCount < 1)
            Internals.CtrThrow.Format($"The model file gives a hash-bucket min count of {minCount}; the file is corrupt.");
        return new HashBucketSettings(numBuckets < 0 ? null : numBuckets, seed, minCount, foldCase, outliers.MoveToImmutable());
    }
}
