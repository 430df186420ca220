namespace Ctr.MLNet.Transforms;

public static partial class CtrTransformsCatalog
{
    /// <summary>
    /// Crosses two or more categorical text columns into one text column of joined values; follow it with
    /// <c>MapToVocabulary</c> or <c>HashToBuckets</c> on <paramref name="outputColumnName"/> to give each pair its own id.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the crossed text column.</param>
    /// <param name="inputColumnNames">The text columns to cross, two or more.</param>
    public static FeatureCrossingEstimator CrossFeatures(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, params string[] inputColumnNames) =>
        new(catalog.Environment, new FeatureCrossingEstimator.ColumnOptions(outputColumnName, inputColumnNames));

    /// <summary>Several crosses at once; see <see cref="CrossFeatures(CtrCatalog.TransformsCatalog, string, string[])"/>.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The crosses.</param>
    public static FeatureCrossingEstimator CrossFeatures(this CtrCatalog.TransformsCatalog catalog, params FeatureCrossingEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);
}
