using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>models</c>: the library's model zoo (DnnCtrModel, DeepFmModel, DcnV2Model, TargetAttentionModel) with the
/// library's default training options, beside ML.NET's LightGBM (and the oracle on planted data), on the criteo 10k
/// sample and on planted data at several sizes, in one run.
/// </summary>
public static class ModelsBenchmark
{
    private const double ValidFraction = 0.1;
    private const double TestFraction = 0.2;
    private const int CriteoTrainRows = 8_000;
    private const int DeepFmWidth = 16;

    /// <summary>A network of the zoo as a row of the table.</summary>
    private sealed record ZooModel(string Label, Type Type);

    private static readonly ZooModel[] Zoo =
    [
        new("Default (DnnCtrModel)", typeof(DnnCtrModel)),
        new("DeepFM (DeepFmModel)", typeof(DeepFmModel)),
        new("DCN-v2 (DcnV2Model)", typeof(DcnV2Model)),
        new("Target attention (TargetAttentionModel)", typeof(TargetAttentionModel)),
    ];

    /// <summary>The shared criteo sample next to the repository (read from there, never copied: non-commercial licence).</summary>
    private static string DefaultCriteoPath => Path.GetFullPath(Path.Combine(Report.RepositoryRoot(), "..", "shared", "data", "criteo-10k", "criteo_10k.csv"));

    public static void Run(Args args, Report report)
    {
        int[] sizes = args.Ints("rows", [200_000, 1_000_000]);
        bool criteo = !args.Flag("no-criteo");
        string criteoPath = args.String("criteo", DefaultCriteoPath);
        bool lightGbm = !args.Flag("no-lightgbm");
        int lightGbmThreads = args.Int("lightgbm-threads", 2);
        int seed = args.Int("seed", 1);
        args.CheckAllUsed();

        report.Paragraph(
            "Every network is trained with the library's default training options (`TorchConfigs.Base` with the library's optimizer, i.e. `new TorchCtrTrainer.Options()`: " +
            "Adagrad lr 1e-2, batch 1024, up to 10 epochs, early stopping on validation AUC with patience 2, best weights kept, embedding width 16, MLP 256-128-64 with batch norm, " +
            $"dropout 0.1, 1 torch thread) and seed {seed}; only `ModelType` differs, and DeepFM gets one embedding width ({DeepFmWidth}) for every field because its factorization " +
            "machine takes dot products between field embeddings. The zoo models use their own defaults (DCN-v2: 3 full-rank cross layers beside the MLP; target attention: attention MLP 64). " +
            $"LightGBM: ML.NET `LightGbm` with UseCategoricalSplit on one-hot (Indicator) categorical slots, 31 leaves, learning rate 0.05, up to 1000 trees, early stopping after 30 rounds " +
            $"on the validation log loss, seed {seed}, {lightGbmThreads} thread(s). Both use the same validation rows for early stopping. " +
            "AUC and log loss (natural log) from `Ctr.MLNet.Torch.BinaryMetrics` on the test rows. Fit time = the trainer's `Fit` (feature pipelines fitted before it, untimed). " +
            "Epochs run (best) = epochs trained (the epoch whose weights were kept); for LightGBM the trees kept. " +
            "Run-to-run noise: the same setting scored within about 0.005 AUC across processes at 200k rows (benchmarks/README.md), so smaller differences are not a ranking.");

        if (criteo)
            RunCriteo(report, criteoPath, lightGbm, lightGbmThreads, seed);
        foreach (int rows in sizes)
            RunPlanted(report, rows, lightGbm, lightGbmThreads, seed);
    }

    /// <summary>The library's default training options, with the benchmark's seed.</summary>
    private static TorchCtrTrainer.Options LibraryDefaults(int seed) => TorchConfigs.Get("library").Apply(TorchConfigs.Base) with { Seed = seed };

    private static CtrModelOptions Uniform(CtrModelOptions model) => model with { EmbeddingDim = DeepFmWidth, EmbeddingDims = ImmutableDictionary<string, int>.Empty };

    private static void RunPlanted(Report report, int rows, bool lightGbm, int lightGbmThreads, int seed)
    {
        report.Heading($"Planted data, {Format.Count(rows)} training rows");
        var clock = Stopwatch.StartNew();
        PlantedSplit split = PlantedSplit.Draw(seed, rows, (int)Math.Round(rows * TestFraction), ValidFraction);
        var ml = new MLContext(seed: seed);
        IDataView train = ml.Data.LoadFromEnumerable(split.Train);
        IDataView valid = ml.Data.LoadFromEnumerable(split.Valid);
        IDataView test = ml.Data.LoadFromEnumerable(split.Test);
        float[] labels = [.. split.Test.Select(r => r.Label ? 1f : 0f)];
        float[] truth = [.. split.Test.Select(r => r.TrueProbability)];
        report.Paragraph(
            $"Data: `PlantedWorld.Create({seed}).DrawRows(rows × 1.2)` of day 0 split in time order (as in `trainer`): {split.Train.Count:N0} train + {split.Valid.Count:N0} validation " +
            $"(the last {ValidFraction:P0} of the training rows) + {split.Test.Count:N0} test rows, drawn in {clock.Elapsed.TotalSeconds:0.0} s; test CTR {labels.Average():0.0000}. " +
            "Ours: `Pipelines.Features` (history + dwell weights parsed, user/item MinCount 2 with the item vocabulary shared by the history, brand, category, device, hour; price log1p and age z-scored), " +
            "every table 16 wide. LightGBM: `Pipelines.LightGbmFeatures` (one-hot ids, raw price and age, the history as a bag of item ids). " +
            "Oracle: the planted true click probabilities of the test rows.");

        var comparison = new Comparison(BinaryMetrics.Auc(labels, truth), BinaryMetrics.LogLoss(labels, truth), "Oracle (planted true probabilities)", "");
        var featureClock = Stopwatch.StartNew();
        ITransformer features = Pipelines.Features(ml).Fit(train);
        Console.Error.WriteLine($"feature pipeline fitted in {featureClock.Elapsed.TotalSeconds:0.0} s");
        foreach (ZooModel zoo in Zoo)
        {
            TorchCtrTrainer.Options options = LibraryDefaults(seed) with { NumericColumnNames = Pipelines.NumericColumns, ModelType = zoo.Type };
            string note = "";
            if (zoo.Type == typeof(DeepFmModel))
            {
                options = options with { Model = Uniform(options.Model) };
                note = $"uniform embedding width {DeepFmWidth} (DeepFM needs equal widths)";
            }
            ModelResult result = ModelRuns.Torch(ml, zoo.Label, features, options, train, valid, test, labels, split.Train.Count,
                model => note = model.Model is TargetAttentionModel attention ? Attends(attention) : note);
            comparison.Add(result, note);
            report.Partial(comparison.Render());
        }
        if (lightGbm)
        {
            comparison.SetLightGbm(ModelRuns.LightGbm(ml, "ML.NET LightGBM", Pipelines.LightGbmFeatures(ml), ModelRuns.LightGbmOptions(lightGbmThreads, seed),
                train, valid, test, labels, split.Train.Count), $"{lightGbmThreads} threads");
            report.Partial(comparison.Render());
        }
        report.Table(comparison.Render());
        report.Table(comparison.Epochs());
        report.Paragraph(comparison.Verdict($"Planted data, {Format.Count(rows)} training rows",
            rows == 1_000_000 ? "issue target (at 1M planted rows the best of our models beats LightGBM's AUC)" : null));
        report.Paragraph($"Size done in {clock.Elapsed.TotalMinutes:0.0} min.");
    }

    private static void RunCriteo(Report report, string path, bool lightGbm, int lightGbmThreads, int seed)
    {
        report.Heading("Criteo 10k sample, time-ordered split");
        if (!File.Exists(path))
            throw new ArgumentException($"The criteo sample is not at '{path}'; pass --criteo PATH or --no-criteo.");
        var clock = Stopwatch.StartNew();
        int validRows = (int)Math.Round(CriteoTrainRows * ValidFraction), fitRows = CriteoTrainRows - validRows;
        FeatureSpec spec = FeatureSpecInference.FromCsv(path, sampleRows: CriteoTrainRows);
        var ml = new MLContext(seed: seed);
        IDataView all = spec.LoadCsv(ml, path);
        IDataView train = ml.Data.TakeRows(all, fitRows);
        IDataView valid = ml.Data.SkipRows(ml.Data.TakeRows(all, CriteoTrainRows), fitRows);
        IDataView test = ml.Data.SkipRows(all, CriteoTrainRows);
        float[] labels = ModelRuns.ReadLabels(test, spec.Label);

        FeatureColumnSpec[] numeric = [.. spec.Features.Where(f => f.IsNumeric)], categorical = [.. spec.Features.Where(f => f.IsCategorical)];
        int[] widths = [.. spec.EmbeddingDims.Values];
        report.Paragraph(
            $"Data: `{Path.GetFileName(path)}` from `../shared/data/criteo-10k` (CC BY-NC-SA 4.0, read in place), rows in time order: the first {fitRows:N0} rows train, " +
            $"the next {validRows:N0} (the last {ValidFraction:P0} of the first {CriteoTrainRows:N0}) are the validation rows for early stopping, the last {labels.Length:N0} are the test rows " +
            $"(test CTR {labels.Average():0.0000}). " +
            $"Ours: the spec inferred by `FeatureSpecInference.FromCsv` on the first {CriteoTrainRows:N0} rows and its `BuildPipeline`, fitted on the training rows: " +
            $"{numeric.Length} numeric ({string.Join(", ", numeric.Select(f => f.Name + (f.Log1p ? " log1p" : "")))}; z-scored, missing → mean), " +
            $"{categorical.Length} categorical ({string.Join(", ", categorical.Select(f => f.Name))}; {categorical.Count(f => f.MinFreq > 1)} with min_freq 2), " +
            $"embedding widths from the spec ({(widths.Length == 0 ? "none" : $"{widths.Min()}–{widths.Max()}")}) except for DeepFM. " +
            "LightGBM: ML.NET `OneHotEncoding` (Indicator) of C1..C26 with UseCategoricalSplit and the raw I1..I13 (empty = NaN = missing), fitted on the training rows. " +
            "No oracle: real data has no true probabilities.");

        var comparison = new Comparison(double.NaN, double.NaN, "Oracle", "n/a: real data, no true probabilities");
        ITransformer features = spec.BuildPipeline(ml).Fit(train);
        bool hasHistory = spec.Features.Any(f => f.IsList && f.ShareVocab is string owner && spec.Features.Any(g => g.Name == owner && !g.IsList));
        foreach (ZooModel zoo in Zoo)
        {
            if (zoo.Type == typeof(TargetAttentionModel) && !hasHistory)
            {
                // TargetAttentionModel without a sequence sharing a scalar field's vocabulary is DnnCtrModel (its documented
                // fallback): training it would repeat the default row under another name.
                comparison.NotApplicable(zoo.Label, "n/a: no history column", "no sequence shares a candidate's vocabulary; the model would fall back to DnnCtrModel");
                report.Partial(comparison.Render());
                continue;
            }
            TorchCtrTrainer.Options options = LibraryDefaults(seed) with
            {
                LabelColumnName = spec.Label,
                NumericColumnNames = spec.NumericColumnNames,
                ModelType = zoo.Type,
            };
            string note = "per-field widths from the spec";
            options = options with { Model = options.Model with { EmbeddingDims = spec.EmbeddingDims.ToImmutableDictionary() } };
            if (zoo.Type == typeof(DeepFmModel))
            {
                options = options with { Model = Uniform(options.Model) };
                note = $"uniform embedding width {DeepFmWidth} (DeepFM needs equal widths)";
            }
            comparison.Add(ModelRuns.Torch(ml, zoo.Label, features, options, train, valid, test, labels, fitRows), note);
            report.Partial(comparison.Render());
        }
        if (lightGbm)
        {
            comparison.SetLightGbm(CriteoLightGbm(ml, path, fitRows, CriteoTrainRows, labels, lightGbmThreads, seed), $"{lightGbmThreads} threads");
            report.Partial(comparison.Render());
        }
        report.Table(comparison.Render());
        report.Table(comparison.Epochs());
        report.Paragraph(comparison.Verdict("Criteo 10k", null));
        report.Paragraph($"Criteo done in {clock.Elapsed.TotalMinutes:0.0} min.");
    }

    /// <summary>LightGBM on the criteo sample: the first <paramref name="fitRows"/> rows train, up to <paramref name="trainRows"/> validate, the rest test.</summary>
    public static ModelResult CriteoLightGbm(MLContext ml, string path, int fitRows, int trainRows, float[] labels, int threads, int seed, int rowLimit = 0)
    {
        IDataView raw = LoadCriteoRaw(ml, path);
        if (rowLimit > 0)
            raw = ml.Data.TakeRows(raw, rowLimit);
        IDataView rawTrain = ml.Data.TakeRows(raw, fitRows);
        IDataView rawValid = ml.Data.SkipRows(ml.Data.TakeRows(raw, trainRows), fitRows);
        IDataView rawTest = ml.Data.SkipRows(raw, trainRows);
        float[] rawLabels = ModelRuns.ReadLabels(rawTest, "Label");
        if (!rawLabels.AsSpan().SequenceEqual(labels))
            throw new InvalidOperationException("The LightGBM loader's test labels differ from the spec loader's.");
        return ModelRuns.LightGbm(ml, "ML.NET LightGBM", CriteoLightGbmFeatures(ml), ModelRuns.LightGbmOptions(threads, seed), rawTrain, rawValid, rawTest, labels, fitRows);
    }

    private static string[] CriteoNumeric => [.. Enumerable.Range(1, 13).Select(i => $"I{i}")];

    private static string[] CriteoCategorical => [.. Enumerable.Range(1, 26).Select(i => $"C{i}")];

    /// <summary>The criteo file for LightGBM: Boolean label, I1..I13 as Single (empty = NaN), C1..C26 as text.</summary>
    private static IDataView LoadCriteoRaw(MLContext ml, string path)
    {
        var columns = new List<TextLoader.Column> { new("Label", DataKind.Boolean, 0) };
        columns.AddRange(CriteoNumeric.Select((name, i) => new TextLoader.Column(name, DataKind.Single, 1 + i)));
        columns.AddRange(CriteoCategorical.Select((name, i) => new TextLoader.Column(name, DataKind.String, 14 + i)));
        return ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = [.. columns],
            Separators = [','],
            HasHeader = true,
            MissingRealsAsNaNs = true,
        }).Load(path);
    }

    /// <summary>C1..C26 one-hot (Indicator, so LightGBM splits on them as categoricals) and the raw I1..I13.</summary>
    private static IEstimator<ITransformer> CriteoLightGbmFeatures(MLContext ml) =>
        ml.Transforms.Categorical.OneHotEncoding([.. CriteoCategorical.Select(c => new InputOutputColumnPair("oh" + c, c))], OneHotEncodingEstimator.OutputKind.Indicator)
            .Append(ml.Transforms.Concatenate("Features", [.. CriteoCategorical.Select(c => "oh" + c), .. CriteoNumeric]));

    private static string Attends(TargetAttentionModel model) =>
        model.AttendedSequences.IsEmpty ? "attends over nothing: fell back to DnnCtrModel" : $"attends over: {string.Join(", ", model.AttendedSequences)}";

    /// <summary>The rows of one dataset's table: our models in run order, then LightGBM, then the oracle.</summary>
    private sealed class Comparison(double oracleAuc, double oracleLogLoss, string oracleName, string oracleMissing)
    {
        private readonly List<(string Name, ModelResult? Result, string? Missing, string Note)> _ours = [];
        private ModelResult? _lightGbm;
        private string _lightGbmNote = "";

        public void Add(ModelResult result, string note) => _ours.Add((result.Name, result, null, note));

        public void NotApplicable(string name, string reason, string note) => _ours.Add((name, null, reason, note));

        public void SetLightGbm(ModelResult result, string note)
        {
            _lightGbm = result;
            _lightGbmNote = note;
        }

        public Table Render()
        {
            var table = new Table("Model", "Test AUC", "Test log loss", "AUC − LightGBM", "Epochs run (best)", "Fit time (s)", "Note");
            foreach (var (name, result, missing, note) in _ours)
            {
                if (result is null)
                    table.Add(name, missing ?? "", "", "", "", "", note);
                else
                    table.Add(name, Format.Metric(result.Auc), Format.Metric(result.LogLoss), Delta(result.Auc), result.Epochs, Format.Seconds(result.FitSeconds), note);
            }
            if (_lightGbm is ModelResult l)
                table.Add(l.Name, Format.Metric(l.Auc), Format.Metric(l.LogLoss), "", l.Epochs, Format.Seconds(l.FitSeconds), _lightGbmNote);
            if (double.IsNaN(oracleAuc))
                table.Add(oracleName, oracleMissing, "", "", "", "", "");
            else
                table.Add(oracleName, Format.Metric(oracleAuc), Format.Metric(oracleLogLoss), Delta(oracleAuc), "", "", "");
            return table;
        }

        public Table Epochs()
        {
            var table = new Table("Model", "Validation AUC per epoch", "Train loss per epoch");
            foreach (var (name, result, _, _) in _ours)
            {
                if (result is not null)
                    table.Add(name, string.Join(" ", result.History.Select(h => Format.Metric(h.ValidAuc))), string.Join(" ", result.History.Select(h => Format.Metric(h.TrainLoss))));
            }
            return table;
        }

        /// <summary>Which model is best, whether it beats LightGBM's AUC, and (<paramref name="target"/>) whether the issue's target is met.</summary>
        public string Verdict(string dataset, string? target)
        {
            ModelResult[] ours = [.. _ours.Where(o => o.Result is not null).Select(o => o.Result!)];
            if (ours.Length == 0)
                return $"**{dataset}**: none of our models ran.";
            ModelResult best = ours.MaxBy(r => r.Auc)!;
            string text = $"**{dataset}**: the best of our models is {best.Name}, test AUC {Format.Metric(best.Auc)} (log loss {Format.Metric(best.LogLoss)}).";
            if (_lightGbm is not ModelResult l)
                return text + " LightGBM was not run, so there is no comparison.";
            double delta = best.Auc - l.Auc;
            bool beats = delta > 0;
            text += beats
                ? $" It beats ML.NET LightGBM's test AUC ({Format.Metric(l.Auc)}) by {Signed(delta)}"
                : $" It does not beat ML.NET LightGBM's test AUC ({Format.Metric(l.Auc)}): {Signed(delta)}, so LightGBM is the best model here";
            text += Math.Abs(delta) < 0.005 ? " (within the ~0.005 run-to-run noise)." : ".";
            int beating = ours.Count(r => r.Auc > l.Auc);
            text += $" {beating} of our {ours.Length} models beat LightGBM's AUC.";
            if (!double.IsNaN(oracleAuc))
                text += $" The oracle's AUC is {Format.Metric(oracleAuc)}, {Format.Metric(oracleAuc - Math.Max(best.Auc, l.Auc))} above the best model.";
            if (target is not null)
                text += $" The {target} is **{(beats ? "met" : "not met")}**.";
            return text;
        }

        private string Delta(double auc) => _lightGbm is ModelResult l ? Signed(auc - l.Auc) : "";

        private static string Signed(double value) => value.ToString("+0.0000;−0.0000", CultureInfo.InvariantCulture);
    }
}
