using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Benchmarks.Ceiling;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>accuracy</c>: the library's default network, the network + FastTree hybrid, ML.NET LightGBM and the parts of the
/// hybrid, over several seeds, on planted data (with the oracle and, where given, the well-specified ceiling) and on the
/// criteo sample; test AUC and log loss as mean ± sd, and each model's captured lift.
/// </summary>
public static class AccuracyBenchmark
{
    private const double ValidFraction = 0.1;
    private const double TestFraction = 0.2;
    private const int CriteoTrainRows = 8_000;
    private const int CriteoTestRows = 2_000;
    private const int CriteoFileRows = 10_000;

    /// <summary>One model's test metrics for one seed.</summary>
    private sealed record Score(double Auc, double LogLoss, double FitSeconds);

    /// <summary>Which rows the table has, in order.</summary>
    private static readonly string[] RowOrder =
    [
        "Hybrid: network + FastTree, blended (`train --trees`)",
        "Network alone (library default)",
        "FastTree alone (the hybrid's trees: no history)",
        "ML.NET LightGBM (one-hot ids + history bag)",
        "Well-specified model (ceiling)",
        "Oracle (planted probabilities)",
        "Networks averaged, no trees (the hybrid's K networks)",
    ];

    public static void Run(Args args, Report report)
    {
        int[] sizes = args.Ints("rows", [200_000, 1_000_000]);
        int[] seeds = args.Ints("seeds", [1, 2, 3]);
        bool criteo = !args.Flag("no-criteo");
        string criteoPath = args.String("criteo", Path.GetFullPath(Path.Combine(Report.RepositoryRoot(), "..", "shared", "data", "criteo-10k", "criteo_10k.csv")));
        string[] models = args.String("models", "hybrid,lightgbm,ceiling").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string? networkConfig = args.OptionalString("network-config");
        int lightGbmThreads = args.Int("lightgbm-threads", 1);
        int? criteoMinFreq = args.OptionalInt("criteo-min-freq");
        int idMinCount = args.Int("id-min-count", 2);
        int[] criteoRows = args.Ints("criteo-rows", [0]);
        int pleBins = args.Int("ple-bins", 0);
        foreach (int r in criteoRows)
        {
            if (r is < 0 or > 0 and <= CriteoTestRows + 100)
                throw new ArgumentException($"--criteo-rows must be 0 (the whole file) or more than {CriteoTestRows + 100:N0} (the last {CriteoTestRows:N0} test), got {r}.");
        }
        var trees = new HybridCtrTrainer.Options();
        trees = trees with
        {
            NumberOfTrees = args.Int("trees", trees.NumberOfTrees),
            NumberOfLeaves = args.Int("leaves", trees.NumberOfLeaves),
            MaxOneHotSize = args.Int("max-onehot", trees.MaxOneHotSize),
            NumberOfNetworks = args.Int("networks", trees.NumberOfNetworks),
            TreeLearningRate = args.Double("tree-lr", trees.TreeLearningRate),
            MinimumExampleCountPerLeaf = args.Int("min-leaf", trees.MinimumExampleCountPerLeaf),
            TreeLeafEmbeddingDim = args.Int("tree-leaf-dim", trees.TreeLeafEmbeddingDim),
            TargetEncoding = !args.Flag("no-target-encoding"),
        };
        args.CheckAllUsed();
        foreach (string m in models)
        {
            if (m is not ("hybrid" or "lightgbm" or "ceiling"))
                throw new ArgumentException($"Unknown model '{m}'; known: hybrid, lightgbm, ceiling.");
        }

        Func<TorchCtrTrainer.Options, TorchCtrTrainer.Options> network = networkConfig is null ? o => o : TorchConfigs.Get(networkConfig).Apply;
        report.Paragraph(
            $"Seeds {string.Join(", ", seeds)}: on planted data the seed picks the world and the draw (so each seed is another data set) and the trainers' seeds; on criteo the data is fixed and the seed is the trainers'. " +
            "Every figure is the mean ± sample sd over the seeds. " +
            "Network: `new TorchCtrTrainer.Options()` (the library's defaults" + (networkConfig is null ? "" : $", then the benchmark setting `{networkConfig}`") + ") with the data set's label, numeric columns and embedding widths. " +
            $"Hybrid: `HybridCtrTrainer` with its defaults ({trees.NumberOfTrees} FastTree trees of {trees.NumberOfLeaves} leaves, learning rate {trees.TreeLearningRate}, " +
            $"vocabularies up to {trees.MaxOneHotSize} entries one-hot with categorical splits, larger ones and sequences left to the network) and that network; the blend's three weights are fitted on the validation rows. " +
            "The network-alone and FastTree-alone rows are the hybrid's own two parts scored on the test rows (the network is trained with exactly the options and data it would get alone: the trees' columns are not among its inputs); " +
            "log loss is n/a for the raw tree margin. " +
            $"LightGBM: as in `models` (one-hot ids with categorical splits, the history as a bag of ids, 31 leaves, lr 0.05, up to 1000 trees, early stopping 30 rounds, {lightGbmThreads} thread(s)). " +
            "Captured lift = (AUC − 0.5) / (ceiling AUC − 0.5), the ceiling being the well-specified model of the same seed.");

        if (criteo)
        {
            var periods = criteoRows.Select(r => (Rows: r, Result: Criteo(report, criteoPath, seeds, models, network, trees, lightGbmThreads, criteoMinFreq, r, pleBins))).ToArray();
            if (periods.Length > 1)
                report.Table(Periods(periods));
        }
        foreach (int rows in sizes.Where(r => r > 0))
            Planted(report, rows, seeds, models, network, trees, lightGbmThreads, idMinCount, pleBins);
    }

    private static void Planted(Report report, int rows, int[] seeds, string[] models, Func<TorchCtrTrainer.Options, TorchCtrTrainer.Options> network,
        HybridCtrTrainer.Options trees, int lightGbmThreads, int idMinCount, int pleBins)
    {
        report.Heading($"Planted data, {Format.Count(rows)} training rows");
        var results = new Dictionary<string, List<Score>>();
        var ceilings = new List<double>();
        foreach (int seed in seeds)
        {
            var clock = Stopwatch.StartNew();
            PlantedSplit split = PlantedSplit.Draw(seed, rows, (int)Math.Round(rows * TestFraction), ValidFraction);
            var ml = new MLContext(seed: seed);
            IDataView train = ml.Data.LoadFromEnumerable(split.Train), valid = ml.Data.LoadFromEnumerable(split.Valid), test = ml.Data.LoadFromEnumerable(split.Test);
            float[] labels = [.. split.Test.Select(r => r.Label ? 1f : 0f)];
            float[] truth = [.. split.Test.Select(r => r.TrueProbability)];
            Add(results, RowOrder[5], new Score(BinaryMetrics.Auc(labels, truth), BinaryMetrics.LogLoss(labels, truth), double.NaN));
            Console.Error.WriteLine($"planted {rows} seed {seed}: drawn in {clock.Elapsed.TotalSeconds:0.0} s");

            if (models.Contains("hybrid"))
            {
                ITransformer features = Pipelines.Features(ml, idMinCount).Fit(train);
                string[] numeric = Pipelines.NumericColumns;
                if (pleBins > 0)
                {
                    features = new TransformerChain<ITransformer>(features, PiecewiseLinear.Fit(ml, features.Transform(train), numeric, pleBins));
                    numeric = [.. numeric, PiecewiseLinear.ColumnName];
                }
                TorchCtrTrainer.Options options = network(new TorchCtrTrainer.Options { LabelColumnName = "Label", NumericColumnNames = numeric, Seed = seed });
                Hybrid(ml, results, features, options, trees, train, valid, test, labels);
            }
            if (models.Contains("lightgbm"))
            {
                ModelResult l = ModelRuns.LightGbm(ml, "ML.NET LightGBM", Pipelines.LightGbmFeatures(ml), ModelRuns.LightGbmOptions(lightGbmThreads, seed), train, valid, test, labels, split.Train.Count);
                Add(results, RowOrder[3], new Score(l.Auc, l.LogLoss, l.FitSeconds));
            }
            if (models.Contains("ceiling"))
            {
                TorchThreads.Set(1);
                CeilingResult c = WellSpecifiedModel.FitAndScore(split.Train, split.Valid, split.Test, seed);
                Add(results, RowOrder[4], new Score(BinaryMetrics.Auc(labels, c.Probabilities), BinaryMetrics.LogLoss(labels, c.Probabilities), c.FitSeconds));
                ceilings.Add(BinaryMetrics.Auc(labels, c.Probabilities));
            }
            report.Partial(Render(results, ceilings));
        }
        report.Table(Render(results, ceilings));
    }

    /// <summary>
    /// One row per criteo test period (rolling origin: each period trains on every row before it), so a margin is judged
    /// over several 2,000-row periods rather than one.
    /// </summary>
    private static Table Periods((int Rows, CriteoResult Result)[] periods)
    {
        var table = new Table("Test rows", "Rows before them (train + validation)", "Hybrid (`train` default)", "ML.NET LightGBM", "Hybrid − LightGBM", "its 95% interval (paired bootstrap)", "Networks averaged", "FastTree alone");
        var margins = new List<double>();
        foreach (var (rows, (results, interval)) in periods)
        {
            int end = rows > 0 ? rows : CriteoFileRows, start = end - CriteoTestRows;
            string Auc(int row) => results.TryGetValue(RowOrder[row], out var s) ? MeanSd(s.Select(x => x.Auc)) : "";
            string margin = "";
            if (results.TryGetValue(RowOrder[0], out var h) && results.TryGetValue(RowOrder[3], out var l))
            {
                margins.Add(h.Average(x => x.Auc) - l.Average(x => x.Auc));
                margin = Signed(margins[^1]);
            }
            string range = interval is { } i ? $"{Signed(i.Low)} to {Signed(i.High)}" : "";
            table.Add($"{start + 1:N0}–{end:N0}", start.ToString("N0", CultureInfo.InvariantCulture), Auc(0), Auc(3), margin, range, Auc(6), Auc(2));
        }
        MarginInterval[] intervals = [.. periods.Select(p => p.Result.Interval).OfType<MarginInterval>()];
        string meanRange = "";
        if (intervals.Length == periods.Length && MarginInterval.Mean(intervals) is { } mean)
            meanRange = $"{Signed(mean.Low)} to {Signed(mean.High)}";
        if (margins.Count > 1)
            table.Add("mean over periods", "", "", "", Signed(margins.Average()), meanRange, "", "");
        return table;
    }

    private static CriteoResult Criteo(Report report, string path, int[] seeds, string[] models, Func<TorchCtrTrainer.Options, TorchCtrTrainer.Options> network,
        HybridCtrTrainer.Options trees, int lightGbmThreads, int? minFreq, int rowLimit, int pleBins)
    {
        // A row limit moves the test period earlier (its last CriteoTestRows rows): a split to choose settings on, apart from the real test rows.
        int trainRows = rowLimit > 0 ? rowLimit - CriteoTestRows : CriteoTrainRows;
        report.Heading(rowLimit > 0 ? $"Criteo 10k sample, time-ordered split of its first {rowLimit:N0} rows" : "Criteo 10k sample, time-ordered split");
        if (!File.Exists(path))
            throw new ArgumentException($"The criteo sample is not at '{path}'; pass --criteo PATH or --no-criteo.");
        report.Paragraph($"The first {trainRows - trainRows / 10:N0} rows train, the next {trainRows / 10:N0} validate, the last {CriteoTestRows:N0} test; the spec is inferred on the first {trainRows:N0} rows (as in `models`)." +
            (rowLimit > 0 ? $" Only the first {rowLimit:N0} rows of the file are read (`--criteo-rows`): a split to choose settings on, whose test period ends before the full runs' test rows." : ""));
        var results = new Dictionary<string, List<Score>>();
        int validRows = trainRows / 10, fitRows = trainRows - validRows;
        var hybridProbabilities = new List<float[]>();
        float[] lightGbmProbabilities = [];
        float[] testLabels = [];
        FeatureSpec spec = FeatureSpecInference.FromCsv(path, sampleRows: trainRows);
        if (minFreq is int m)
            spec = spec with { Features = [.. spec.Features.Select(f => f.MinFreq >= 2 ? f with { MinFreq = m } : f)] };
        foreach (int seed in seeds)
        {
            var ml = new MLContext(seed: seed);
            IDataView all = spec.LoadCsv(ml, path);
            if (rowLimit > 0)
                all = ml.Data.TakeRows(all, rowLimit);
            IDataView train = ml.Data.TakeRows(all, fitRows);
            IDataView valid = ml.Data.SkipRows(ml.Data.TakeRows(all, trainRows), fitRows);
            IDataView test = ml.Data.SkipRows(all, trainRows);
            float[] labels = ModelRuns.ReadLabels(test, spec.Label);
            if (models.Contains("hybrid"))
            {
                ITransformer features = spec.BuildPipeline(ml).Fit(train);
                string[] numeric = [.. spec.NumericColumnNames];
                if (pleBins > 0)
                {
                    features = new TransformerChain<ITransformer>(features, PiecewiseLinear.Fit(ml, features.Transform(train), numeric, pleBins));
                    numeric = [.. numeric, PiecewiseLinear.ColumnName];
                }
                TorchCtrTrainer.Options options = network(new TorchCtrTrainer.Options
                {
                    LabelColumnName = spec.Label,
                    NumericColumnNames = numeric,
                    Seed = seed,
                });
                options = options with { Model = options.Model with { EmbeddingDims = options.Model.EmbeddingDims.SetItems(spec.EmbeddingDims) } };
                hybridProbabilities.Add(Hybrid(ml, results, features, options, trees, train, valid, test, labels));
            }
            if (models.Contains("lightgbm"))
            {
                ModelResult l = ModelsBenchmark.CriteoLightGbm(ml, path, fitRows, trainRows, labels, lightGbmThreads, seed, rowLimit);
                Add(results, RowOrder[3], new Score(l.Auc, l.LogLoss, l.FitSeconds));
                lightGbmProbabilities = l.Probabilities;
            }
            testLabels = labels;
            report.Partial(Render(results, []));
        }
        report.Table(Render(results, []));
        if (hybridProbabilities.Count == 0 || lightGbmProbabilities.Length == 0)
            return new CriteoResult(results, null);
        // A seed per period: periods' resamples must be independent to be averaged (MarginInterval.Mean).
        MarginInterval interval = MarginInterval.Bootstrap(testLabels, hybridProbabilities, lightGbmProbabilities, seed: rowLimit);
        report.Paragraph($"How precisely {CriteoTestRows:N0} test rows measure the hybrid's margin over LightGBM (paired bootstrap: {MarginInterval.Resamples:N0} " +
            $"resamples of the test rows, each scored for every seed's hybrid and for LightGBM): margin {Signed(interval.Margin)}, sd {interval.Sd:0.0000}, " +
            $"95% interval {Signed(interval.Low)} to {Signed(interval.High)}.");
        return new CriteoResult(results, interval);
    }

    private sealed record CriteoResult(Dictionary<string, List<Score>> Results, MarginInterval? Interval);

    /// <summary>Fits the hybrid on the featurized rows and scores the raw test rows: the blend, and each part alone. Returns the blend's probabilities.</summary>
    private static float[] Hybrid(MLContext ml, Dictionary<string, List<Score>> results, ITransformer features, TorchCtrTrainer.Options network, HybridCtrTrainer.Options trees,
        IDataView train, IDataView valid, IDataView test, float[] labels)
    {
        var options = trees with { Network = network with { Progress = new ModelRuns.ConsoleProgress() } };
        HybridCtrTrainer trainer = ml.BinaryClassification.Trainers.TorchCtrWithTrees(options);
        var clock = Stopwatch.StartNew();
        TransformerChain<ITransformer> hybrid = trainer.Fit(features.Transform(train), features.Transform(valid));
        double seconds = clock.Elapsed.TotalSeconds;
        IDataView scored = hybrid.Transform(features.Transform(test));
        float[] probability = [.. scored.GetColumn<float>("Probability")];
        float[] networkLogit = [.. scored.GetColumn<float>(HybridCtrTrainer.NetworkScoreColumnName)];
        float[] networkProbability = [.. networkLogit.Select(TorchCtrTransformer.Sigmoid)];
        Add(results, RowOrder[0], new Score(BinaryMetrics.Auc(labels, probability), BinaryMetrics.LogLoss(labels, probability), seconds));
        Add(results, RowOrder[1], new Score(BinaryMetrics.Auc(labels, networkProbability), BinaryMetrics.LogLoss(labels, networkProbability), double.NaN));
        if (trees.NumberOfTrees > 0)
        {
            float[] treeMargin = [.. scored.GetColumn<float>(HybridCtrTrainer.TreeScoreColumnName)];
            Add(results, RowOrder[2], new Score(BinaryMetrics.Auc(labels, treeMargin), double.NaN, double.NaN));
        }
        if (trees.NumberOfNetworks > 1)
        {
            float[][] logits = [.. Enumerable.Range(1, trees.NumberOfNetworks).Select(k => scored.GetColumn<float>(HybridCtrTrainer.NetworkScoreColumn(k)).ToArray())];
            float[] averaged = [.. Enumerable.Range(0, labels.Length).Select(i => TorchCtrTransformer.Sigmoid(LogitBlend.MeanLogit([.. logits.Select(l => l[i])])))];
            Add(results, RowOrder[6], new Score(BinaryMetrics.Auc(labels, averaged), BinaryMetrics.LogLoss(labels, averaged), double.NaN));
        }
        foreach (ITransformer part in hybrid)
            (part as IDisposable)?.Dispose();
        return probability;
    }

    private static void Add(Dictionary<string, List<Score>> results, string name, Score score)
    {
        if (!results.TryGetValue(name, out List<Score>? list))
            results[name] = list = [];
        list.Add(score);
        Console.Error.WriteLine($"  {name}: AUC {score.Auc:F4}, log loss {score.LogLoss:F4}");
    }

    private static Table Render(Dictionary<string, List<Score>> results, List<double> ceilings)
    {
        var table = new Table("Model", "Test AUC", "Test log loss", "AUC − LightGBM", "Captured lift", "Fit time (s)", "Seeds");
        double? lightGbm = results.TryGetValue(RowOrder[3], out var l) ? l.Average(s => s.Auc) : null;
        double? ceiling = ceilings.Count > 0 ? ceilings.Average() : null;
        foreach (string name in RowOrder)
        {
            if (!results.TryGetValue(name, out List<Score>? scores))
                continue;
            double auc = scores.Average(s => s.Auc);
            table.Add(name, MeanSd(scores.Select(s => s.Auc)), MeanSd(scores.Select(s => s.LogLoss)),
                lightGbm is double g && name != RowOrder[3] ? Signed(auc - g) : "",
                ceiling is double c ? ((auc - 0.5) / (c - 0.5)).ToString("0.000", CultureInfo.InvariantCulture) : "",
                MeanSd(scores.Select(s => s.FitSeconds), "0.0"), scores.Count.ToString(CultureInfo.InvariantCulture));
        }
        return table;
    }

    private static string MeanSd(IEnumerable<double> values, string format = "0.0000")
    {
        double[] v = [.. values];
        if (v.Any(double.IsNaN))
            return "n/a";
        double mean = v.Average();
        double sd = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return v.Length < 2 ? mean.ToString(format, CultureInfo.InvariantCulture) : $"{mean.ToString(format, CultureInfo.InvariantCulture)} ± {sd.ToString(format, CultureInfo.InvariantCulture)}";
    }

    private static string Signed(double value) => value.ToString("+0.0000;−0.0000", CultureInfo.InvariantCulture);
}
