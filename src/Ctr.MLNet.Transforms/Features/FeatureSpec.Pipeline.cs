using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text.Json.Serialization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Transforms;

public sealed partial record FeatureSpec
{
    /// <summary>
    /// Builds the estimator chain of the spec. Every transform works <b>in place</b> (output column = input column),
    /// so the raw columns are hidden and a trainer finds the key columns by their annotations:
    /// <list type="number">
    /// <item><description>list features: one <c>ParseSequence</c> (separator <see cref="ListSeparator"/>, <c>maxlen</c>),
    /// each <c>weight_col</c> parsed in place into a float vector and paired with its list;</description></item>
    /// <item><description>crossed features (<c>cross</c>): one <c>CrossFeatures</c> joining the raw values of their parts;</description></item>
    /// <item><description>categorical features: one <c>MapToVocabulary</c> for those with a vocabulary and one
    /// <c>HashToBuckets</c> for those with <c>hash_buckets</c>; a feature with <c>share_vocab</c> joins its target's
    /// vocabulary (one index space, one embedding table) under the target's settings;</description></item>
    /// <item><description>numeric features: one <c>Normalize</c> (norm, log1p, clip, fill) for those without
    /// <c>buckets</c> and one <c>BucketizeByQuantile</c> for those with it.</description></item>
    /// </list>
    /// The label and every column the spec does not name pass through unchanged.
    /// </summary>
    /// <remarks>
    /// <b>Streaming.</b> <c>Fit</c> makes one pass over the data per estimator that learns, and no other: at most
    /// four (vocabulary counts, hash-bucket counts when some hashed feature has <c>min_freq</c> above 1 or
    /// <c>hash_buckets</c> 0, normalization statistics, quantile samples); sequence parsing learns nothing. Each pass
    /// reads rows through a cursor and keeps only statistics — term counts, count/mean/variance/min/max, and a
    /// bounded sample of at most 100,000 values per bucketized column — never the rows, so a file loaded with
    /// <see cref="LoadCsv(MLContext, string, bool, BadRowPolicy)"/> (which reads lazily) is fitted without being held in memory.
    /// The vocabulary's and the hash counts' memory grows with the number of distinct values, not of rows.
    /// </remarks>
    /// <param name="mlContext">The context to create the estimators in.</param>
    /// <exception cref="System.ArgumentOutOfRangeException">The spec is invalid (see <see cref="Validate"/>).</exception>
    public IEstimator<ITransformer> BuildPipeline(MLContext mlContext)
    {
        EstimatorChain<ITransformer> chain = new();
        foreach (IEstimator<ITransformer> estimator in BuildEstimators(mlContext))
            chain = chain.Append(estimator);
        return chain;
    }

    /// <summary>The estimators of <see cref="BuildPipeline"/>, in order (what <see cref="FeatureStatistics"/> fits piece by piece).</summary>
    internal List<IEstimator<ITransformer>> BuildEstimators(MLContext mlContext)
    {
        System.ArgumentNullException.ThrowIfNull(mlContext);
        Validate();
        CtrCatalog.TransformsCatalog transforms = mlContext.Ctr().Transforms;
        var estimators = new List<IEstimator<ITransformer>>();

        SequenceParsingEstimator.ColumnOptions[] lists = [.. Features.Where(f => f.IsList).Select(f => new SequenceParsingEstimator.ColumnOptions(f.Name)
        {
            WeightColumnName = f.WeightCol,
            OutputWeightColumnName = f.WeightCol,
            Separator = ListSeparator,
            MaxLength = f.MaxLen,
        })];
        if (lists.Length > 0)
            estimators.Add(transforms.ParseSequence(lists));

        // Crosses join the raw values, so they come before the vocabularies map their parts in place.
        FeatureCrossingEstimator.ColumnOptions[] crosses = [.. Features.Where(f => f.Cross is not null).Select(f => new FeatureCrossingEstimator.ColumnOptions(f.Name, [.. f.Cross!]))];
        if (crosses.Length > 0)
            estimators.Add(transforms.CrossFeatures(crosses));

        var vocabularies = new List<VocabularyEstimator.ColumnOptions>();
        var hashed = new List<HashBucketingEstimator.ColumnOptions>();
        foreach (FeatureColumnSpec feature in Features.Where(f => f.IsCategorical))
        {
            FeatureColumnSpec owner = VocabularyOwner(feature);
            if (owner.HashBuckets is int buckets)
            {
                hashed.Add(new HashBucketingEstimator.ColumnOptions(feature.Name)
                {
                    Vocabulary = owner.Name,
                    NumBuckets = buckets == 0 ? null : buckets,
                    MinCount = owner.MinFreq,
                    FoldCase = owner.FoldCase,
                });
            }
            else
            {
                vocabularies.Add(new VocabularyEstimator.ColumnOptions(feature.Name)
                {
                    Vocabulary = owner.Name,
                    MinCount = owner.MinFreq,
                    MaxSize = owner.MaxVocab,
                    FoldCase = owner.FoldCase,
                });
            }
        }
        if (vocabularies.Count > 0)
            estimators.Add(transforms.MapToVocabulary([.. vocabularies]));
        if (hashed.Count > 0)
            estimators.Add(transforms.HashToBuckets([.. hashed]));

        NumericNormalizingEstimator.ColumnOptions[] normalized = [.. Features.Where(f => f.IsNumeric && f.Buckets is null).Select(f => new NumericNormalizingEstimator.ColumnOptions(f.Name)
        {
            Mode = f.Norm == FeatureColumnSpec.MinMax ? NormalizationMode.MinMax : NormalizationMode.ZScore,
            Log1p = f.Log1p,
            ClipTo = f.Clip,
            MissingValue = f.Fill is double fill ? MissingValueFill.Constant(fill) : MissingValueFill.Mean,
        })];
        if (normalized.Length > 0)
            estimators.Add(transforms.Normalize(normalized));
        QuantileBucketingEstimator.ColumnOptions[] bucketized = [.. Features.Where(f => f.IsNumeric && f.Buckets is not null)
            .Select(f => new QuantileBucketingEstimator.ColumnOptions(f.Name) { NumBuckets = f.Buckets!.Value })];
        if (bucketized.Length > 0)
            estimators.Add(transforms.BucketizeByQuantile(bucketized));
        return estimators;
    }

    /// <summary>
    /// The numeric features that end as Single columns (normalized, not bucketized): the trainer's
    /// <c>NumericColumnNames</c>. Bucketized numerics become key columns the trainer embeds like categorical ones.
    /// </summary>
    [JsonIgnore]
    public ImmutableArray<string> NumericColumnNames =>
        Features.IsDefault ? [] : [.. Features.Where(f => f is not null && f.IsNumeric && f.Buckets is null).Select(f => f.Name)];

    /// <summary>
    /// Embedding width per vocabulary name, for the features with <c>emb_dim</c>: the trainer's
    /// <c>EmbeddingDims</c>. A vocabulary is named after its feature, or after the <c>share_vocab</c> target for the
    /// features sharing it (the target's <c>emb_dim</c> first, else that of a feature sharing it).
    /// </summary>
    /// <exception cref="System.ArgumentOutOfRangeException">The spec is invalid (see <see cref="Validate"/>).</exception>
    [JsonIgnore]
    public IReadOnlyDictionary<string, int> EmbeddingDims
    {
        get
        {
            Validate();
            var dims = ImmutableDictionary.CreateBuilder<string, int>();
            // Owners first, so that their width wins over a sharing feature's.
            foreach (FeatureColumnSpec feature in Features.OrderBy(f => f.ShareVocab is null ? 0 : 1))
            {
                if (feature.EmbDim is int dim)
                    dims.TryAdd(VocabularyOwner(feature).Name, dim);
            }
            return dims.ToImmutable();
        }
    }

    /// <summary>The feature whose settings and name a categorical feature's vocabulary takes.</summary>
    private FeatureColumnSpec VocabularyOwner(FeatureColumnSpec feature) =>
        feature.ShareVocab is string target ? Features.First(f => f.Name == target) : feature;
}
