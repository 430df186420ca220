namespace Ctr.MLNet.Transforms;

public static partial class CtrTransformsCatalog
{
    /// <summary>
    /// Splits a delimited list (or takes a text vector) into a text vector, keeping the first
    /// <paramref name="maxLength"/> elements, optionally paired with one weight per element.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the text vector to produce.</param>
    /// <param name="inputColumnName">Column to read; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="weightColumnName">Column with one weight per element; its parsed vector is named <c>{outputColumnName}Weights</c>.</param>
    /// <param name="separator">Element separator.</param>
    /// <param name="maxLength">Keep at most this many elements (the first, latest ones); null for all.</param>
    public static SequenceParsingEstimator ParseSequence(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        string? weightColumnName = null, char separator = SequenceParsingEstimator.Defaults.Separator, int? maxLength = null) =>
        new(catalog.Environment, new SequenceParsingEstimator.ColumnOptions(outputColumnName, inputColumnName)
        {
            WeightColumnName = weightColumnName,
            Separator = separator,
            MaxLength = maxLength,
        });

    /// <summary>Parses several sequence columns.</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The columns to parse.</param>
    public static SequenceParsingEstimator ParseSequence(this CtrCatalog.TransformsCatalog catalog, params SequenceParsingEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);
}
