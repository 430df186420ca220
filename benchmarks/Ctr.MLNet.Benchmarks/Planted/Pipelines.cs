using System.Collections.Generic;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Ctr.MLNet.Benchmarks.Planted;

/// <summary>The feature pipelines of the planted data: ours (for the torch trainer) and ML.NET's (for LightGBM).</summary>
public static class Pipelines
{
    /// <summary>Key columns our pipeline produces (every one is an embedding field of the trainer).</summary>
    public static readonly IReadOnlyList<string> KeyColumns = ["user", "item", "brand", "category", "device", "hour", "hist"];

    /// <summary>Normalized numerics our pipeline produces (the trainer's NumericColumnNames).</summary>
    public static readonly string[] NumericColumns = ["price", "age"];

    /// <summary>Weights of <c>hist</c> (named by ParseSequence after its output, paired through the vocabulary).</summary>
    public const string HistoryWeightsColumn = "histTokensWeights";

    /// <summary>Longest history kept (the planted world's histories are 0–40 long).</summary>
    public const int MaxHistoryLength = 50;

    /// <summary>
    /// The "full spec": the history and its weights parsed ('|', latest 50 kept); user and item (item shared with
    /// the history) with min count 2; brand, category, device (case folded), hour as vocabularies; price
    /// (log1p) and age z-scored with missing values filled with the mean.
    /// </summary>
    public static IEstimator<ITransformer> Features(MLContext ml, long idMinCount = 2)
    {
        CtrCatalog.TransformsCatalog ctr = ml.Ctr().Transforms;
        return ctr.ParseSequence(new SequenceParsingEstimator.ColumnOptions("histTokens", "History") { WeightColumnName = "HistoryWeights", MaxLength = MaxHistoryLength })
            .Append(ctr.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("user", "UserId") { MinCount = idMinCount },
                new VocabularyEstimator.ColumnOptions("item", "ItemId") { Vocabulary = "item", MinCount = idMinCount },
                new VocabularyEstimator.ColumnOptions("hist", "histTokens") { Vocabulary = "item", MinCount = idMinCount },
                new VocabularyEstimator.ColumnOptions("brand", "Brand"),
                new VocabularyEstimator.ColumnOptions("category", "Category"),
                new VocabularyEstimator.ColumnOptions("device", "Device") { FoldCase = true },
                new VocabularyEstimator.ColumnOptions("hour", "Hour")))
            .Append(ctr.Normalize(
                new NumericNormalizingEstimator.ColumnOptions("price", "Price") { Log1p = true },
                new NumericNormalizingEstimator.ColumnOptions("age", "Age")));
    }

    /// <summary>
    /// LightGBM's features from the same raw columns with ML.NET's own transforms: the ids one-hot (Indicator, so
    /// the Features column carries CategoricalSlotRanges and LightGBM splits on them as categoricals), price and age
    /// as they are (NaN = missing), and the history as a bag of item ids.
    /// </summary>
    public static IEstimator<ITransformer> LightGbmFeatures(MLContext ml, bool historyBag = true)
    {
        IEstimator<ITransformer> features = ml.Transforms.Categorical.OneHotEncoding(
            [
                new InputOutputColumnPair("ohUser", "UserId"),
                new InputOutputColumnPair("ohItem", "ItemId"),
                new InputOutputColumnPair("ohBrand", "Brand"),
                new InputOutputColumnPair("ohCategory", "Category"),
                new InputOutputColumnPair("ohDevice", "Device"),
                new InputOutputColumnPair("ohHour", "Hour"),
            ], OneHotEncodingEstimator.OutputKind.Indicator);
        if (!historyBag)
            return features.Append(ml.Transforms.Concatenate("Features", "ohUser", "ohItem", "ohBrand", "ohCategory", "ohDevice", "ohHour", "Price", "Age"));
        return features
            .Append(ml.Transforms.Text.TokenizeIntoWords("histWords", "History", ['|']))
            .Append(ml.Transforms.Categorical.OneHotEncoding("histBag", "histWords", OneHotEncodingEstimator.OutputKind.Bag))
            .Append(ml.Transforms.Concatenate("Features", "ohUser", "ohItem", "ohBrand", "ohCategory", "ohDevice", "ohHour", "Price", "Age", "histBag"));
    }
}
