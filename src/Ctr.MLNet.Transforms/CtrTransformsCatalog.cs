using System.Collections.Immutable;

namespace Ctr.MLNet.Transforms;

/// <summary>Feature transforms for CTR models: <c>mlContext.Ctr().Transforms.Xxx(...)</c>.</summary>
public static partial class CtrTransformsCatalog
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

    /// <summary>
    /// Maps a categorical column (text, keys or numbers; scalar or variable-length vector) to hash buckets:
    /// 0 padding, 1 OOV, buckets 2 … N + 1 with bucket = 2 + murmur3_32(utf8(token), seed) mod N.
    /// </summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="outputColumnName">Name of the key column to produce.</param>
    /// <param name="inputColumnName">Column to read; defaults to <paramref name="outputColumnName"/>.</param>
    /// <param name="numBuckets">Number of buckets N (any value from 1), or null to size from the data (see <see cref="HashBucketingEstimator.AutoBucketCount"/>).</param>
    /// <param name="seed">Seed of the hash.</param>
    /// <param name="minCount">Minimum count for a token to be hashed; rarer tokens map to OOV.</param>
    /// <param name="foldCase">Lower-case tokens before counting and hashing.</param>
    public static HashBucketingEstimator HashToBuckets(this CtrCatalog.TransformsCatalog catalog, string outputColumnName, string? inputColumnName = null,
        int? numBuckets = null, uint seed = HashBucketingEstimator.Defaults.Seed, long minCount = HashBucketingEstimator.Defaults.MinCount,
        bool foldCase = HashBucketingEstimator.Defaults.FoldCase) =>
        new(catalog.Environment, new HashBucketingEstimator.ColumnOptions(outputColumnName, inputColumnName)
        {
            NumBuckets = numBuckets,
            Seed = seed,
            MinCount = minCount,
            FoldCase = foldCase,
        });

    /// <summary>Hashes several columns, possibly sharing hash spaces (see <see cref="HashBucketingEstimator.ColumnOptions.Vocabulary"/>).</summary>
    /// <param name="catalog">The transforms catalog.</param>
    /// <param name="columns">The columns to hash.</param>
    public static HashBucketingEstimator HashToBuckets(this CtrCatalog.TransformsCatalog catalog, params HashBucketingEstimator.ColumnOptions[] columns) =>
        new(catalog.Environment, columns);
}
