namespace Ctr.MLNet.Transforms;

/// <summary>How <see cref="NumericNormalizingEstimator"/> scales a column.</summary>
public enum NormalizationMode
{
    /// <summary>
    /// (x − mean) / standard deviation, with the population standard deviation of the fitted values.
    /// A column with zero variance maps every value to 0.
    /// </summary>
    ZScore = 0,

    /// <summary>
    /// (x − min) / (max − min): the fitted values land in [0, 1]. A column whose minimum equals its
    /// maximum maps every value to 0.
    /// </summary>
    MinMax = 1,
}
