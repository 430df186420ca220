using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms.Categorical;

namespace Ctr.MLNet.Transforms;

/// <summary>What decides a vocabulary's content; columns sharing a vocabulary must agree on all of it.</summary>
internal sealed record VocabularySettings(long MinCount, int? MaxSize, bool FoldCase, ImmutableArray<string> OutlierTokens)
{
    public TokenNormalizer CreateNormalizer() => new(FoldCase, OutlierTokens);

    public bool Equals(VocabularySettings? other) =>
        other is not null && MinCount == other.MinCount && MaxSize == other.MaxSize && FoldCase == other.FoldCase
        && OutlierTokens.SequenceEqual(other.OutlierTokens);

    public override int GetHashCode() => (MinCount, MaxSize, FoldCase, OutlierTokens.Length).GetHashCode();

    // Binary format
    //   long: min count
    //   int: max size, -1 for none
    //   byte: fold case
    //   int: number of outlier tokens, then each as a string
    public void Write(BinaryWriter writer)
    {
        writer.Write(MinCount);
        writer.Write(MaxSize ?? -1);
        writer.Write(FoldCase);
        writer.Write(OutlierTokens.Length);
        foreach (string token in OutlierTokens)
            writer.Write(token);
    }

    public static VocabularySettings Read(BinaryReader reader)
    {
        long minCount = reader.ReadInt64();
        int maxSize = reader.ReadInt32();
        bool foldCase = reader.ReadBoolean();
        int outlierCount = Vocabulary.ReadCount(reader, "outlier tokens");
        var outliers = ImmutableArray.CreateBuilder<string>(outlierCount);
        for (int i = 0; i < outlierCount; i++)
            outliers.Add(reader.ReadString());
        return new VocabularySettings(minCount, maxSize < 0 ? null : maxSize, foldCase, outliers.MoveToImmutable());
    }
}
