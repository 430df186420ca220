using System;
using System.IO;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Streaming statistics of one numeric column, as <see cref="NumericNormalizingTransformer"/> fitted them:
/// count, mean, sum of squared deviations (M2), minimum and maximum of the finite values, and the number of
/// missing values. With log1p enabled they describe the values after log1p.
/// </summary>
/// <remarks>
/// Values are reduced in blocks of <c>1,024</c> by the corrected two-pass formula, and blocks, fits and refits are
/// merged with Chan, Golub and LeVeque's parallel update, carrying the mean in double-double precision so that
/// the difference of two close means keeps its digits. Statistics fitted on A and then merged with B therefore
/// equal those fitted on A ∪ B up to double rounding (the tests require 1e-9 relative and see under 1e-12 on data with a spread 1e-8 of its mean),
/// whatever the order or the split, even for values far from 0 with a tiny spread.
/// <para>
/// A column with no finite value has <see cref="Count"/> 0, <see cref="Mean"/> and <see cref="Variance"/>
/// 0, and NaN <see cref="Minimum"/> and <see cref="Maximum"/>. Finite values beyond about ±1e154 overflow
/// <see cref="SumOfSquaredDeviations"/> to +∞ (a z-score then maps every value to 0).
/// </para>
/// </remarks>
public sealed record NumericStatistics
{
    internal static readonly NumericStatistics Empty = new(0, 0, 0, 0, 0, double.NaN, double.NaN);

    // The mean is MeanHigh + _meanLow, with |_meanLow| ≤ ulp(MeanHigh) / 2.
    private readonly double _meanLow;

    internal NumericStatistics(long count, long missingCount, double meanHigh, double meanLow, double sumOfSquaredDeviations, double minimum, double maximum)
    {
        Count = count;
        MissingCount = missingCount;
        (Mean, _meanLow) = count == 0 ? (0, 0) : Renormalize(meanHigh, meanLow);
        SumOfSquaredDeviations = count == 0 ? 0 : sumOfSquaredDeviations;
        Minimum = count == 0 ? double.NaN : minimum;
        Maximum = count == 0 ? double.NaN : maximum;
    }

    /// <summary>Number of finite values.</summary>
    public long Count { get; }

    /// <summary>Number of missing values: NaN, +∞ and −∞.</summary>
    public long MissingCount { get; }

    /// <summary>Mean of the finite values; 0 when there are none.</summary>
    public double Mean { get; }

    /// <summary>Σ (x − mean)² over the finite values (the M2 of Chan's update).</summary>
    public double SumOfSquaredDeviations { get; }

    /// <summary>Population variance, <see cref="SumOfSquaredDeviations"/> / <see cref="Count"/>; 0 when there are no values.</summary>
    public double Variance => Count == 0 ? 0 : SumOfSquaredDeviations / Count;

    /// <summary>Population standard deviation, √<see cref="Variance"/>.</summary>
    public double StandardDeviation => Math.Sqrt(Variance);

    /// <summary>Smallest finite value; NaN when there are none.</summary>
    public double Minimum { get; }

    /// <summary>Largest finite value; NaN when there are none.</summary>
    public double Maximum { get; }

    /// <summary>
    /// The statistics of both samples together (Chan, Golub and LeVeque's parallel update):
    /// n = n₁ + n₂, δ = mean₂ − mean₁, mean = mean₁ + δ·n₂/n, M2 = M2₁ + M2₂ + δ²·n₁·n₂/n.
    /// </summary>
    /// <param name="other">Statistics of the other sample.</param>
    public NumericStatistics Merge(NumericStatistics other)
    {
        ArgumentNullException.ThrowIfNull(other);
        long missing = MissingCount + other.MissingCount;
        if (other.Count == 0)
            return new NumericStatistics(Count, missing, Mean, _meanLow, SumOfSquaredDeviations, Minimum, Maximum);
        if (Count == 0)
            return new NumericStatistics(other.Count, missing, other.Mean, other._meanLow, other.SumOfSquaredDeviations, other.Minimum, other.Maximum);
        long count = Count + other.Count;
        // δ from the double-double means: exact difference of the high parts, then the low parts.
        (double high, double low) = TwoSum(other.Mean, -Mean);
        double delta = high + (low + (other._meanLow - _meanLow));
        (double meanHigh, double meanLow) = TwoSum(Mean, delta * ((double)other.Count / count));
        double m2 = SumOfSquaredDeviations + other.SumOfSquaredDeviations + delta * delta * ((double)Count * other.Count / count);
        return new NumericStatistics(count, missing, meanHigh, meanLow + _meanLow, m2, Math.Min(Minimum, other.Minimum), Math.Max(Maximum, other.Maximum));
    }

    /// <summary>a + b = sum + error exactly (Knuth's TwoSum).</summary>
    internal static (double Sum, double Error) TwoSum(double a, double b)
    {
        double sum = a + b;
        double bVirtual = sum - a;
        double aVirtual = sum - bVirtual;
        return (sum, (a - aVirtual) + (b - bVirtual));
    }

    private static (double High, double Low) Renormalize(double high, double low)
    {
        (double sum, double error) = TwoSum(high, low);
        return double.IsFinite(sum) ? (sum, error) : (sum, 0);
    }

    // Binary format
    //   long: count of finite values
    //   long: count of missing values
    //   double: mean, then double: the low part of the mean in double-double precision
    //   double: M2, the sum of squared deviations
    //   double: minimum, then double: maximum (NaN when the count is 0)
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Count);
        writer.Write(MissingCount);
        writer.Write(Mean);
        writer.Write(_meanLow);
        writer.Write(SumOfSquaredDeviations);
        writer.Write(Minimum);
        writer.Write(Maximum);
    }

    internal static NumericStatistics Read(BinaryReader reader, string columnName)
    {
        long count = reader.ReadInt64();
        long missing = reader.ReadInt64();
        double mean = reader.ReadDouble();
        double meanLow = reader.ReadDouble();
        double m2 = reader.ReadDouble();
        double min = reader.ReadDouble();
        double max = reader.ReadDouble();
        // Overflow can make M2 +∞ (and, near the double range, the mean NaN); a negative M2 or count, or a
        // minimum above the maximum, cannot come out of the accumulator.
        if (count < 0 || missing < 0 || m2 < 0 || count > 0 && !(min <= max))
            CtrThrow.Format($"The statistics of column '{columnName}' in the model file are inconsistent (count {count}, missing {missing}, M2 {m2}, min {min}, max {max}); the file is corrupt.");
        return new NumericStatistics(count, missing, mean, meanLow, m2, min, max);
    }
}

/// <summary>
/// Buffers finite values in blocks, reduces each block by the corrected two-pass formula and merges it into
/// the running statistics with <see cref="NumericStatistics.Merge"/>.
/// </summary>
internal sealed class NumericStatisticsAccumulator
{
    private const int BlockSize = 1024;

    private readonly double[] _block = new double[BlockSize];
    private int _blockCount;
    private long _missing;
    private NumericStatistics _total = NumericStatistics.Empty;

    /// <summary>Adds a value; NaN and ±∞ count as missing.</summary>
    public void Add(double value)
    {
        if (!double.IsFinite(value))
        {
            _missing++;
            return;
        }
        _block[_blockCount++] = value;
        if (_blockCount == BlockSize)
            Flush();
    }

    public NumericStatistics ToStatistics()
    {
        Flush();
        return _total.Merge(new NumericStatistics(0, _missing, 0, 0, 0, double.NaN, double.NaN));
    }

    private void Flush()
    {
        if (_blockCount == 0)
            return;
        ReadOnlySpan<double> values = _block.AsSpan(0, _blockCount);
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (double value in values)
        {
            sum += value;
            min = Math.Min(min, value);
            max = Math.Max(max, value);
        }
        double mean = sum / values.Length;
        if (!double.IsFinite(mean))
            mean = min / 2 + max / 2;
        // Corrected two-pass: Σd² − (Σd)²/n removes the first-order effect of the rounded mean, and Σd/n
        // is the low part of the mean.
        double deviations = 0, squares = 0;
        foreach (double value in values)
        {
            double deviation = value - mean;
            deviations += deviation;
            squares += deviation * deviation;
        }
        double m2 = double.IsPositiveInfinity(squares) ? squares : Math.Max(0, squares - deviations * deviations / values.Length);
        _total = _total.Merge(new NumericStatistics(values.Length, 0, mean, deviations / values.Length, m2, min, max));
        _blockCount = 0;
    }
}
