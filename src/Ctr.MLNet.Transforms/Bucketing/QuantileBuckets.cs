using System;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>One column's fitted buckets: left-closed intervals between strictly increasing finite boundaries.</summary>
internal sealed class QuantileBuckets
{
    /// <summary>Id of the first bucket; 0 is padding and 1 (<see cref="Vocabulary.OovIndex"/>) is a missing value.</summary>
    public const uint FirstBucketId = Vocabulary.OovIndex + 1;

    public QuantileBuckets(int numBuckets, ImmutableArray<double> boundaries)
    {
        NumBuckets = numBuckets;
        Boundaries = boundaries;
    }

    /// <summary>The number of buckets asked for.</summary>
    public int NumBuckets { get; }

    public ImmutableArray<double> Boundaries { get; }

    /// <summary>Rows an embedding table needs: padding, OOV and one per bucket.</summary>
    public int Size => Boundaries.Length + 1 + (int)FirstBucketId;

    /// <summary>1 for NaN and ±∞, else 2 + the number of boundaries at or below <paramref name="value"/>.</summary>
    public uint IdOf(double value)
    {
        if (!double.IsFinite(value))
            return Vocabulary.OovIndex;
        int low = 0, high = Boundaries.Length;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (Boundaries[middle] <= value)
                low = middle + 1;
            else
                high = middle;
        }
        return FirstBucketId + (uint)low;
    }

    /// <summary>Text of bucket <paramref name="bucket"/> (0-based), e.g. "[1.5,3)".</summary>
    public string Describe(int bucket)
    {
        string low = bucket == 0 ? "(-inf" : "[" + Boundaries[bucket - 1].ToString("R", CultureInfo.InvariantCulture);
        string high = bucket == Boundaries.Length ? "+inf)" : Boundaries[bucket].ToString("R", CultureInfo.InvariantCulture) + ")";
        return low + "," + high;
    }

    // Binary format
    //   int: number of buckets asked for
    //   int: number of boundaries, then each as a double, strictly increasing and finite
    public void Write(BinaryWriter writer)
    {
        writer.Write(NumBuckets);
        writer.Write(Boundaries.Length);
        foreach (double boundary in Boundaries)
            writer.Write(boundary);
    }

    public static QuantileBuckets Read(BinaryReader reader, string columnName)
    {
        int numBuckets = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (numBuckets is < 2 or > QuantileBucketingEstimator.MaxNumBuckets || count < 0 || count >= numBuckets)
            CtrThrow.Format($"Column '{columnName}' in the model file has {count} boundaries for {numBuckets} buckets; the file is corrupt.");
        var boundaries = ImmutableArray.CreateBuilder<double>(count);
        for (int i = 0; i < count; i++)
        {
            double boundary = reader.ReadDouble();
            if (!double.IsFinite(boundary) || i > 0 && !(boundary > boundaries[i - 1]))
                CtrThrow.Format($"Boundary {i} of column '{columnName}' in the model file is {boundary.ToString("R", CultureInfo.InvariantCulture)}, not finite and above the previous one; the file is corrupt.");
            boundaries.Add(boundary);
        }
        return new QuantileBuckets(numBuckets, boundaries.MoveToImmutable());
    }
}
