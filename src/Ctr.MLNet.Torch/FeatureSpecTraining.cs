using System.Collections.Immutable;
using System.Linq;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Torch;

/// <summary>From a <see cref="FeatureSpec"/> to a whole estimator: the spec's transforms and a trainer configured from it.</summary>
/// <example>
/// <code>
/// FeatureSpec spec = FeatureSpec.FromJson(File.ReadAllText("spec.json"));
/// var pipeline = spec.BuildTrainingPipeline(ml, new TorchCtrTrainer.Options { ModelType = typeof(DeepFmModel), ValidationData = spec.LoadCsv(ml, "valid.csv") });
/// TransformerChain&lt;TorchCtrTransformer&gt; model = pipeline.Fit(spec.LoadCsv(ml, "train.csv"));
/// </code>
/// </example>
public static class FeatureSpecTraining
{
    /// <summary>
    /// <paramref name="spec"/>'s transforms (<see cref="FeatureSpec.BuildPipeline"/>) followed by a
    /// <see cref="TorchCtrTrainer"/> with <see cref="TrainerOptions"/>: <c>pipeline.Fit(train)</c> gives the fitted model.
    /// </summary>
    /// <param name="spec">The feature spec.</param>
    /// <param name="mlContext">The context to create the estimators in.</param>
    /// <param name="options">Training settings (network type, epochs, validation, …); null for the defaults.</param>
    public static EstimatorChain<TorchCtrTransformer> BuildTrainingPipeline(this FeatureSpec spec, MLContext mlContext, TorchCtrTrainer.Options? options = null)
    {
        System.ArgumentNullException.ThrowIfNull(spec);
        System.ArgumentNullException.ThrowIfNull(mlContext);
        return spec.BuildPipeline(mlContext).Append(mlContext.BinaryClassification.Trainers.TorchCtr(spec.TrainerOptions(options)));
    }

    /// <summary>
    /// <paramref name="options"/> completed from <paramref name="spec"/>: the label is the spec's; the inputs are found from
    /// the schema (every vocabulary or hash-bucket column, every normalized numeric column: nobody names them by hand);
    /// each vocabulary's embedding width is its <c>emb_dim</c> (an entry already in the options'
    /// <see cref="CtrModelOptions.EmbeddingDims"/> wins); and the network's own constraints hold: a
    /// <see cref="DeepFmModel"/> (whose factorization machine takes dot products between fields) gets one width for every
    /// field, the widest of them.
    /// </summary>
    /// <param name="spec">The feature spec.</param>
    /// <param name="options">Training settings to complete; null for the defaults.</param>
    public static TorchCtrTrainer.Options TrainerOptions(this FeatureSpec spec, TorchCtrTrainer.Options? options = null)
    {
        System.ArgumentNullException.ThrowIfNull(spec);
        options ??= new TorchCtrTrainer.Options();
        ImmutableDictionary<string, int> widths = spec.EmbeddingDims.ToImmutableDictionary().SetItems(options.Model.EmbeddingDims);
        CtrModelOptions model = typeof(DeepFmModel).IsAssignableFrom(options.ModelType) && !widths.IsEmpty
            ? options.Model with { EmbeddingDim = widths.Values.Max(), EmbeddingDims = ImmutableDictionary<string, int>.Empty }
            : options.Model with { EmbeddingDims = widths };
        return options with { LabelColumnName = spec.Label, Model = model };
    }
}
