using System.Collections.Immutable;

namespace Ctr.MLNet.Transforms;

/// <summary>Feature transforms for CTR models: <c>mlContext.Ctr().Transforms.Xxx(...)</c>.</summary>
public static class CtrTransformsCatalog
{
    /// <summary>
    /// Maps a categorical column (text, keys or numbers; scalar or variable-length vector) to vocabulary
    /// indices: 0 padding, 1 OOV, terms from 2, most frequent first.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the key column to produce.</param>
    /// <param name="inputColumnName">Column to read; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="minCount">Minimum count for a term to get an index; rarer terms map to OOV.</param>
    /// <param name="maxSize">Largest number of terms, most frequent kept; null for no limit.</param>
    /// <param name="foldCase">Lower-case tokens before counting and lookup.</param>
    public static VocabularyEstimator MapToVocabulary(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        long minCount = VocabularyEstimator.Defaults.MinCount, int? maxSize = null, bool foldCase = VocabularyEstimator.Defaults.FoldCase) =>
        new(catalog.Environment, new VocabularyEstimator.ColumnOptions(outputColumnName, inputColumnName) { MinCount = minCount, MaxSize = maxSize, FoldCase = foldCase });

    /// <summary>Maps several columns, possibly sharing vocabularies (see <see cref="VocabularyEstimator.ColumnOptions.Vocabulary"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The columns to map.</param>
    public static VocabularyEstimator MapToVocabulary(this CtrCatalog.TransformsCatalog catalog, params VocabularyEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);
}
