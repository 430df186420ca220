using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Day-by-day training: yesterday's fitted pipeline (feature transforms, then a <see cref="TorchCtrTransformer"/>)
/// plus today's data give today's pipeline, with the feature statistics accumulated and the network continued.
/// </summary>
/// <example>
/// <code>
/// ITransformer yesterday = ml.Model.Load("day1.zip", out DataViewSchema schema);
/// var options = new TorchCtrTrainer.Options { Epochs = 3, KeepOptimizerState = true };
/// TransformerChain&lt;ITransformer&gt; today = IncrementalTraining.Continue(ml, yesterday, day2Train, day2Valid, options);
/// ml.Model.Save(today, schema, "day2.zip");
/// </code>
/// </example>
public static class IncrementalTraining
{
    /// <summary>
    /// Refits <paramref name="yesterday"/>'s feature pipeline on <paramref name="todayTrain"/> (see
    /// <see cref="RefitFeatures"/>) and continues its network on the result (see
    /// <see cref="TorchCtrTrainer.FitIncremental"/>), scoring <paramref name="todayValid"/> through the refit pipeline
    /// after every epoch. Returns the new pipeline with yesterday's structure; <paramref name="yesterday"/> is unchanged
    /// and still usable.
    /// </summary>
    /// <param name="mlContext">The context to train in.</param>
    /// <param name="yesterday">
    /// A <see cref="TransformerChain{TLastTransformer}"/> whose last transformer is a <see cref="TorchCtrTransformer"/>
    /// (as <c>ml.Model.Load</c> returns for a saved pipeline), or a bare <see cref="TorchCtrTransformer"/>.
    /// </param>
    /// <param name="todayTrain">Today's raw training data, with the columns yesterday's pipeline reads.</param>
    /// <param name="todayValid">Today's raw validation data, or null.</param>
    /// <param name="options">
    /// Training settings (epochs, optimizer, learning rate, …); null for the defaults. The network's inputs, label,
    /// type and <see cref="CtrModelOptions"/> are yesterday's whatever these say.
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="yesterday"/> does not end with a trained network.</exception>
    public static TransformerChain<ITransformer> Continue(MLContext mlContext, ITransformer yesterday, IDataView todayTrain, IDataView? todayValid = null,
        TorchCtrTrainer.Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(yesterday);
        ArgumentNullException.ThrowIfNull(todayTrain);
        (ITransformer[] stages, TransformerScope[] scopes) = Stages(yesterday);
        if (stages.Length == 0 || stages[^1] is not TorchCtrTransformer network)
            throw new ArgumentException($"Yesterday's pipeline must end with a {nameof(TorchCtrTransformer)}; it ends with {(stages.Length == 0 ? "nothing" : stages[^1].GetType().Name)}.", nameof(yesterday));

        var features = new ITransformer[stages.Length - 1];
        IDataView train = todayTrain;
        for (int i = 0; i < features.Length; i++)
            features[i] = Refit(stages[i], train, out train);
        IDataView? valid = todayValid;
        foreach (ITransformer feature in features)
            valid = valid is null ? null : feature.Transform(valid);

        TorchCtrTransformer today = mlContext.BinaryClassification.Trainers.TorchCtr(options ?? new TorchCtrTrainer.Options()).FitIncremental(network, train, valid);
        return new TransformerChain<ITransformer>([.. features, today], scopes);
    }

    /// <summary>
    /// Refits a fitted feature pipeline on <paramref name="data"/>, stage by stage in order: each
    /// <see cref="IRefittableTransformer"/> (vocabularies, hash buckets, normalizers, quantile buckets) is refit on
    /// <paramref name="data"/> as transformed by the refit stages before it — vocabularies grow with stable indices
    /// and cumulative counts, normalizer statistics merge exactly, quantile boundaries stay — and every other
    /// transformer (sequence parsing, ML.NET's own transforms) is kept as it is. Nested
    /// <see cref="TransformerChain{TLastTransformer}"/>s are refit in place, keeping their scopes. The input is unchanged.
    /// </summary>
    /// <param name="features">The fitted feature pipeline (a chain or a single transformer).</param>
    /// <param name="data">Today's raw data.</param>
    public static ITransformer RefitFeatures(ITransformer features, IDataView data)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(data);
        return Refit(features, data, out _);
    }

    private static ITransformer Refit(ITransformer transformer, IDataView data, out IDataView output)
    {
        switch (transformer)
        {
            case ITransformerChainAccessor:
                (ITransformer[] stages, TransformerScope[] scopes) = Stages(transformer);
                var refit = new ITransformer[stages.Length];
                output = data;
                for (int i = 0; i < stages.Length; i++)
                    refit[i] = Refit(stages[i], output, out output);
                return new TransformerChain<ITransformer>(refit, scopes);
            case IRefittableTransformer refittable:
                ITransformer updated = refittable.Refit(data);
                output = updated.Transform(data);
                return updated;
            default:
                output = transformer.Transform(data);
                return transformer;
        }
    }

    /// <summary>The stages of a chain with their scopes, or the transformer alone (scope: everything).</summary>
    private static (ITransformer[] Stages, TransformerScope[] Scopes) Stages(ITransformer transformer) =>
        transformer is ITransformerChainAccessor chain
            ? ([.. chain.Transformers], [.. chain.Scopes])
            : ([transformer], [TransformerScope.Everything]);

    /// <summary>The network at the end of a pipeline, for callers that hold only the pipeline.</summary>
    internal static TorchCtrTransformer? NetworkOf(ITransformer pipeline) =>
        Stages(pipeline).Stages.LastOrDefault() as TorchCtrTransformer;
}
