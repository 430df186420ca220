using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.LightGbm;

namespace Ctr.MLNet.Benchmarks;

/// <summary>One trained and scored model of the <c>trainer</c> and <c>models</c> verbs.</summary>
/// <param name="Name">Row label.</param>
/// <param name="Auc">Test AUC.</param>
/// <param name="LogLoss">Test log loss (natural log).</param>
/// <param name="Epochs">"epochs run (best)" for ours, "N trees" for LightGBM.</param>
/// <param name="FitSeconds">The trainer's <c>Fit</c>.</param>
/// <param name="TrainingRate">Training rows × epochs run / fit time (LightGBM: rows / fit time).</param>
/// <param name="StepRate">The trainer's median per-epoch rate; NaN for LightGBM.</param>
/// <param name="ScoringRate">Test rows / time to read the whole pipeline's probabilities.</param>
/// <param name="PeakRss">Peak resident set during the fit.</param>
/// <param name="History">Our trainer's per-epoch metrics; empty for LightGBM.</param>
public sealed record ModelResult(string Name, double Auc, double LogLoss, string Epochs, double FitSeconds, double TrainingRate, double StepRate, double ScoringRate,
    long PeakRss, IReadOnlyList<EpochMetrics> History)
{
    /// <summary>The test rows' probabilities, in row order, where the run kept them (empty otherwise).</summary>
    public float[] Probabilities { get; init; } = [];
}

/// <summary>Fitting and scoring our trainer and ML.NET's LightGBM the same way for every verb that compares them.</summary>
public static class ModelRuns
{
    /// <summary>
    /// Trains our trainer with <paramref name="options"/> on the featurized <paramref name="train"/> (early stopping on
    /// <paramref name="valid"/>), then scores the raw <paramref name="test"/> rows through features + network.
    /// <paramref name="inspect"/>, when given, sees the trained network before it is disposed.
    /// </summary>
    public static ModelResult Torch(MLContext ml, string name, ITransformer features, TorchCtrTrainer.Options options, IDataView train, IDataView valid, IDataView test,
        float[] labels, int trainRows, Action<TorchCtrTransformer>? inspect = null)
    {
        Console.Error.WriteLine($"ours: {name}");
        TorchCtrTrainer trainer = ml.BinaryClassification.Trainers.TorchCtr(options with { Progress = options.Progress ?? new ConsoleProgress() });
        IDataView trainFeatures = features.Transform(train), validFeatures = features.Transform(valid);
        Run fit = Measure.Once(() => trainer.Fit(trainFeatures, validFeatures), out TorchCtrTransformer model);
        EpochMetrics[] history = [.. model.History];
        int epochsRun = history.Length;
        int best = history.OrderByDescending(h => h.ValidAuc).First().Epoch;
        var pipeline = new TransformerChain<ITransformer>(features, model);
        Run score = Measure.Once(() => ReadProbabilities(pipeline.Transform(test)), out float[] probabilities);
        inspect?.Invoke(model);
        model.Dispose();
        return new ModelResult(name, BinaryMetrics.Auc(labels, probabilities), BinaryMetrics.LogLoss(labels, probabilities),
            $"{epochsRun} ({best})", fit.Seconds, (double)trainRows * epochsRun / fit.Seconds, Stats.Median(history.Select(h => h.TrainRowsPerSecond)),
            labels.Length / score.Seconds, fit.PeakRssBytes, history);
    }

    /// <summary>
    /// LightGBM's settings in these benchmarks: categorical splits on the one-hot slots, 31 leaves, learning rate 0.05,
    /// up to 1000 trees, early stopping after 30 rounds on the validation log loss.
    /// </summary>
    public static LightGbmBinaryTrainer.Options LightGbmOptions(int threads, int seed, string labelColumnName = "Label") => new()
    {
        LabelColumnName = labelColumnName,
        FeatureColumnName = "Features",
        UseCategoricalSplit = true,
        NumberOfLeaves = 31,
        LearningRate = 0.05,
        NumberOfIterations = 1000,
        EarlyStoppingRound = 30,
        EvaluationMetric = LightGbmBinaryTrainer.Options.EvaluateMetricType.Logloss,
        NumberOfThreads = threads,
        Seed = seed,
        Silent = true,
    };

    /// <summary>
    /// Fits <paramref name="features"/> (ML.NET's own transforms, producing <c>Features</c>) on <paramref name="train"/>,
    /// trains LightGBM with <paramref name="options"/> (early stopping on <paramref name="valid"/>) and scores <paramref name="test"/>.
    /// </summary>
    public static ModelResult LightGbm(MLContext ml, string name, IEstimator<ITransformer> features, LightGbmBinaryTrainer.Options options, IDataView train, IDataView valid,
        IDataView test, float[] labels, int trainRows)
    {
        Console.Error.WriteLine(name);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ITransformer fitted = features.Fit(train);
        Console.Error.WriteLine($"  one-hot features fitted in {clock.Elapsed.TotalSeconds:0.0} s");
        IDataView trainFeatures = fitted.Transform(train), validFeatures = fitted.Transform(valid);
        LightGbmBinaryTrainer trainer = ml.BinaryClassification.Trainers.LightGbm(options);
        Run fit = Measure.Once(() => trainer.Fit(trainFeatures, validFeatures), out var model);
        int trees = model.Model.SubModel.TrainedTreeEnsemble.Trees.Count;
        var pipeline = new TransformerChain<ITransformer>(fitted, model);
        Run score = Measure.Once(() => ReadProbabilities(pipeline.Transform(test)), out float[] probabilities);
        return new ModelResult(name, BinaryMetrics.Auc(labels, probabilities), BinaryMetrics.LogLoss(labels, probabilities),
            $"{trees} trees", fit.Seconds, trainRows / fit.Seconds, double.NaN, labels.Length / score.Seconds, fit.PeakRssBytes, [])
        {
            Probabilities = probabilities,
        };
    }

    /// <summary>The <c>Probability</c> column of <paramref name="scored"/>, in row order.</summary>
    public static float[] ReadProbabilities(IDataView scored) => ReadSingles(scored, "Probability");

    /// <summary>A Single or Boolean column as 0/1 floats, in row order.</summary>
    public static float[] ReadLabels(IDataView data, string column) =>
        data.Schema[column].Type is BooleanDataViewType
            ? [.. data.GetColumn<bool>(column).Select(b => b ? 1f : 0f)]
            : ReadSingles(data, column);

    private static float[] ReadSingles(IDataView data, string name)
    {
        DataViewSchema.Column column = data.Schema[name];
        using DataViewRowCursor cursor = data.GetRowCursor([column]);
        ValueGetter<float> getter = cursor.GetGetter<float>(column);
        var values = new List<float>();
        float value = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            values.Add(value);
        }
        return [.. values];
    }

    /// <summary>Prints the trainer's end-of-epoch lines to standard error, synchronously.</summary>
    internal sealed class ConsoleProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Phase == TrainingPhase.EpochEnd || value.Message is not null)
                Console.Error.WriteLine($"    {value.Message}");
        }
    }
}
