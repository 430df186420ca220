using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Trainers.LightGbm;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>trainer</c>: our TorchCtrTrainer (default DnnCtrModel) and ML.NET's LightGBM on the same planted rows, with
/// the oracle beside them. <c>--sweep</c> trains several settings of ours on the same data instead.
/// </summary>
public static class TrainerBenchmark
{
    private const double ValidFraction = 0.1;
    private const double TestFraction = 0.2;

    public static void Run(Args args, Report report)
    {
        int[] sizes = args.Ints("rows", [200_000, 1_000_000]);
        int? epochs = args.OptionalString("epochs") is null ? null : args.Int("epochs", 10);
        int[] threads = args.Ints("threads", [1]);
        string? sweep = args.OptionalString("configs");
        bool isSweep = args.Flag("sweep") || sweep is not null;
        string configName = args.String("config", TorchConfigs.DefaultName);
        bool lightGbm = !args.Flag("no-lightgbm");
        bool torch = !args.Flag("no-torch");
        string[] lightGbmVariants = args.String("lightgbm", "default").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string v in lightGbmVariants)
        {
            if (!LightGbmVariants.Contains(v))
                throw new ArgumentException($"Unknown LightGBM variant '{v}'; known: {string.Join(", ", LightGbmVariants)}.");
        }
        int lightGbmThreads = args.Int("lightgbm-threads", 1);
        int seed = args.Int("seed", 1);
        args.CheckAllUsed();

        TorchConfig[] configs = isSweep
            ? sweep is null ? [.. TorchConfigs.All] : [.. sweep.Split(',').Select(TorchConfigs.Get)]
            : [TorchConfigs.Get(configName)];
        report.Paragraph(
            $"Data: `PlantedWorld.Create({seed}).DrawRows(rows × 1.2)` of day 0, split in time order like the sample's `generate`: the first `rows` are training rows " +
            $"(of which the last {ValidFraction:P0} are the validation rows for early stopping, for both models), the last `rows × {TestFraction}` are the test rows. " +
            "Oracle = the planted true probabilities on the test rows. AUC and log loss (natural log) from `Ctr.MLNet.Torch.BinaryMetrics` on the test rows.\n\n" +
            "Ours: `ParseSequence` (history + dwell weights) → `MapToVocabulary` (user, item shared with the history, brand, category, device case-folded, hour; " +
            "user/item MinCount 2 unless said) → `Normalize` (price log1p, age) → `TorchCtr` (DnnCtrModel; early stopping on validation AUC, patience 2, best weights kept). " +
            $"LightGBM: ML.NET `OneHotEncoding` (Indicator) of the raw user, item, brand, category, device, hour; raw price and age (NaN = missing); the history as a bag of item ids " +
            $"(`TokenizeIntoWords` + `OneHotEncoding` Bag) → `LightGbm` (UseCategoricalSplit, 31 leaves, learning rate 0.05, up to 1000 trees, early stopping 30 rounds on validation log loss, {lightGbmThreads} threads).\n\n" +
            "Fit time = the trainer's `Fit` (the feature pipelines are fitted before it, untimed; reading and featurizing the rows inside `Fit` is included, and for ours so is validating each epoch). " +
            "Training rows/s = training rows × epochs run / fit time (LightGBM: rows / fit time); " +
            "step rows/s = the trainer's own median per-epoch rate (batches built from cached arrays, forward, backward, optimizer step). " +
            "Scoring rows/s = test rows / time to read the `Probability` column of the whole pipeline (features + model, batched `Transform`). Peak RSS = peak during that fit.");

        foreach (int rows in sizes)
        {
            report.Heading($"{Format.Count(rows)} training rows" + (isSweep ? " — sweep of our settings" : ""));
            var clock = Stopwatch.StartNew();
            PlantedSplit split = PlantedSplit.Draw(seed, rows, (int)Math.Round(rows * TestFraction), ValidFraction);
            var ml = new MLContext(seed: 1);
            IDataView train = ml.Data.LoadFromEnumerable(split.Train);
            IDataView valid = ml.Data.LoadFromEnumerable(split.Valid);
            IDataView test = ml.Data.LoadFromEnumerable(split.Test);
            float[] labels = [.. split.Test.Select(r => r.Label ? 1f : 0f)];
            float[] truth = [.. split.Test.Select(r => r.TrueProbability)];
            double oracleAuc = BinaryMetrics.Auc(labels, truth), oracleLogLoss = BinaryMetrics.LogLoss(labels, truth);
            report.Paragraph($"Drew {split.Train.Count:N0} train + {split.Valid.Count:N0} validation + {split.Test.Count:N0} test rows in {clock.Elapsed.TotalSeconds:0.0} s; " +
                $"test CTR {labels.Average():0.0000}, oracle test AUC {oracleAuc:0.0000}.");

            // Ours first, LightGBM last (it is the slow one): the partial table is in the file after each model.
            var results = new List<ModelResult>();
            var lightGbmResults = new List<ModelResult>();
            ModelResult? lightGbmResult = null; // the reference for "AUC − LightGBM": the first variant
            Table Render()
            {
                var table = new Table("Model", "Test AUC", "Test log loss", "AUC − LightGBM", "Epochs run (best)", "Fit time (s)", "Training rows/s", "Step rows/s (median epoch)", "Scoring rows/s", "Peak RSS fit (MB)");
                table.Add("Oracle (planted probabilities)", Format.Metric(oracleAuc), Format.Metric(oracleLogLoss), "", "", "", "", "", "", "");
                foreach (ModelResult r in lightGbmResults.Concat(results))
                {
                    string delta = lightGbmResult is null || ReferenceEquals(r, lightGbmResult) ? "" : (r.Auc - lightGbmResult.Auc).ToString("+0.0000;−0.0000", System.Globalization.CultureInfo.InvariantCulture);
                    table.Add(r.Name, Format.Metric(r.Auc), Format.Metric(r.LogLoss), delta, r.Epochs, Format.Seconds(r.FitSeconds), Format.Rate(r.TrainingRate),
                        double.IsNaN(r.StepRate) ? "" : Format.Rate(r.StepRate), Format.Rate(r.ScoringRate), Format.Megabytes(r.PeakRss));
                }
                return table;
            }

            var histories = new List<(string Name, IReadOnlyList<EpochMetrics> History)>();
            foreach (var group in configs.Where(_ => torch).GroupBy(c => c.IdMinCount))
            {
                var featureClock = Stopwatch.StartNew();
                ITransformer features = Pipelines.Features(ml, group.Key).Fit(train);
                Console.Error.WriteLine($"feature pipeline (id MinCount {group.Key}) fitted in {featureClock.Elapsed.TotalSeconds:0.0} s");
                foreach (TorchConfig config in group)
                {
                    foreach (int t in threads)
                    {
                        ModelResult result = RunOurs(ml, features, config, epochs, t, train, valid, test, labels, split.Train.Count);
                        results.Add(result);
                        histories.Add(($"{config.Name}, {t} thread(s)", result.History));
                        report.Partial(Render());
                    }
                }
            }
            if (lightGbm)
            {
                foreach (string variant in lightGbmVariants)
                {
                    lightGbmResults.Add(RunLightGbm(ml, train, valid, test, labels, lightGbmThreads, split.Train.Count, variant));
                    lightGbmResult ??= lightGbmResults[0];
                    report.Partial(Render());
                }
            }
            Table table = Render();
            report.Table(table);
            if (isSweep)
            {
                var legend = new Table("Setting", "What differs from the library defaults");
                foreach (TorchConfig config in configs)
                    legend.Add(config.Name, config.Description);
                report.Table(legend);
            }
            var epochsTable = new Table("Ours", "Validation AUC per epoch", "Train loss per epoch");
            foreach (var (name, history) in histories)
                epochsTable.Add(name, string.Join(" ", history.Select(h => h.ValidAuc.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))),
                    string.Join(" ", history.Select(h => h.TrainLoss.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))));
            report.Table(epochsTable);
            report.Paragraph($"Size done in {clock.Elapsed.TotalMinutes:0.0} min.");
        }
    }

    /// <summary>
    /// LightGBM settings: <c>default</c> (as described), <c>no-categorical</c> (one-hot slots as plain sparse features),
    /// <c>no-bag</c> (without the history), <c>cat-regularized</c> (categorical smoothing 50, 200 rows per group, L2 50).
    /// </summary>
    private static readonly string[] LightGbmVariants = ["default", "no-categorical", "no-bag", "cat-regularized"];

    private static ModelResult RunOurs(MLContext ml, ITransformer features, TorchConfig config, int? epochs, int threads, IDataView train, IDataView valid, IDataView test,
        float[] labels, int trainRows)
    {
        TorchCtrTrainer.Options options = config.Apply(TorchConfigs.Base with
        {
            NumericColumnNames = Pipelines.NumericColumns,
            Threads = threads,
        });
        if (epochs is int e)
            options = options with { Epochs = e };
        return ModelRuns.Torch(ml, $"Ours: {config.Name}, {threads} torch thread(s)", features, options, train, valid, test, labels, trainRows);
    }

    private static ModelResult RunLightGbm(MLContext ml, IDataView train, IDataView valid, IDataView test, float[] labels, int threads, int trainRows, string variant)
    {
        bool historyBag = variant != "no-bag", categorical = variant != "no-categorical";
        LightGbmBinaryTrainer.Options options = ModelRuns.LightGbmOptions(threads, seed: 1);
        options.UseCategoricalSplit = categorical;
        if (variant == "cat-regularized")
        {
            options.CategoricalSmoothing = 50;
            options.MinimumExampleCountPerGroup = 200;
            options.L2CategoricalRegularization = 50;
        }
        string name = "ML.NET LightGBM" + (variant == "default" ? "" : $" ({variant})");
        return ModelRuns.LightGbm(ml, name, Pipelines.LightGbmFeatures(ml, historyBag), options, train, valid, test, labels, trainRows);
    }
}
