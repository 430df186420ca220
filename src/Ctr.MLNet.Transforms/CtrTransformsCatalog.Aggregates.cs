namespace Ctr.MLNet.Transforms;

public static partial class CtrTransformsCatalog
{
    /// <summary>
    /// Aggregates a numeric sequence (delimited numbers like <c>"12.5|3|0.7"</c>, latest first, or a vector of Single)
    /// into a fixed-size vector of five Single, <c>[count, sum, mean, min, max]</c>, over its first
    /// <paramref name="maxLength"/> elements (the latest), with slot names; an empty sequence gives
    /// <c>[0, 0, 0, 0, 0]</c>. Name the output in the trainer's <c>NumericColumnNames</c>.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the five-slot vector to produce.</param>
    /// <param name="inputColumnName">Column to read; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="separator">Element separator of delimited text.</param>
    /// <param name="maxLength">Aggregate at most this many elements (the first, latest ones); null for all.</param>
    public static SequenceAggregatingEstimator AggregateSequence(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        char separator = SequenceAggregatingEstimator.Defaults.Separator, int? maxLength = null) =>
        new(catalog.Environment, new SequenceAggregatingEstimator.ColumnOptions(outputColumnName, inputColumnName)
        {
            Separator = separator,
            MaxLength = maxLength,
        });

    /// <summary>Aggregates several numeric sequence columns.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The columns to aggregate.</param>
    public static SequenceAggregatingEstimator AggregateSequence(this CtrCatalog.TransformsCatalog catalog, params SequenceAggregatingEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);
}
