namespace Ctr.MLNet.Transforms;

public static partial class CtrTransformsCatalog
{
    /// <summary>
    /// Normalizes a numeric column to a finite Single: z-score or min-max with fitted statistics, missing values
    /// (NaN, ±∞) filled with the mean, optional log1p and clipping (see <see cref="NumericNormalizingEstimator"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the Single column to produce.</param>
    /// <param name="inputColumnName">Scalar Single or Double column to read; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="mode">Z-score (default) or min-max.</param>
    /// <param name="log1p">Apply sign(x)·log1p(|x|) first, for heavy-tailed values.</param>
    /// <param name="clipTo">Clip outputs to [−c, c] (z-score) or [−c, 1 + c] (min-max); null for no clipping.</param>
    /// <param name="missingValue">Replacement for missing values; the default is <see cref="MissingValueFill.Mean"/>.</param>
    public static NumericNormalizingEstimator Normalize(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        NormalizationMode mode = NumericNormalizingEstimator.Defaults.Mode, bool log1p = NumericNormalizingEstimator.Defaults.Log1p, double? clipTo = null,
        MissingValueFill missingValue = default) =>
        new(catalog.Environment, new NumericNormalizingEstimator.ColumnOptions(outputColumnName, inputColumnName) { Mode = mode, Log1p = log1p, ClipTo = clipTo, MissingValue = missingValue });

    /// <summary>Normalizes several columns, each with its own options (e.g. a constant <see cref="MissingValueFill"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The columns to normalize.</param>
    public static NumericNormalizingEstimator Normalize(this CtrCatalog.TransformsCatalog catalog, params NumericNormalizingEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);

    /// <summary>
    /// Discretises a numeric column into at most <paramref name="numBuckets"/> buckets between data quantiles, as key
    /// ids for an embedding: 0 padding, 1 missing (NaN, ±∞), buckets from 2 (see <see cref="QuantileBucketingEstimator"/>).
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the key column to produce.</param>
    /// <param name="inputColumnName">Scalar Single or Double column to read; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="numBuckets">Largest number of buckets (2 or more); fewer remain when quantiles coincide.</param>
    /// <param name="maxSamples">Size of the uniform sample the quantiles are computed on.</param>
    public static QuantileBucketingEstimator BucketizeByQuantile(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        int numBuckets = QuantileBucketingEstimator.Defaults.NumBuckets, int maxSamples = QuantileBucketingEstimator.Defaults.MaxSamples) =>
        new(catalog.Environment, new QuantileBucketingEstimator.ColumnOptions(outputColumnName, inputColumnName) { NumBuckets = numBuckets, MaxSamples = maxSamples });

    /// <summary>Discretises several columns, each with its own options.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The columns to discretise.</param>
    public static QuantileBucketingEstimator BucketizeByQuantile(this CtrCatalog.TransformsCatalog catalog, params QuantileBucketingEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);
}
