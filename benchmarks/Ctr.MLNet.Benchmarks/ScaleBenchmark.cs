using System;
using System.Collections.Immutable;
using System.IO;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>scale</c>: trains on a CSV file written by the sample's <c>generate</c>, streamed from disk (MaxCacheBytes set below
/// the data's size), as the sample's <c>train</c> does: spec inferred from the file, feature pipeline fitted on it, then
/// the network. Peak RSS of each step and training rows/s. Run once per file size, each in its own process.
/// </summary>
public static class ScaleBenchmark
{
    public static void Run(Args args, Report report)
    {
        string path = args.OptionalString("train") ?? throw new ArgumentException("--train FILE is required (a train.csv from the sample's generate).");
        int maxCacheMb = args.Int("max-cache-mb", 64);
        int epochs = args.Int("epochs", 1);
        int threads = args.Int("threads", 1);
        int seed = args.Int("seed", 1);
        args.CheckAllUsed();
        if (!File.Exists(path))
            throw new ArgumentException($"--train '{path}' does not exist.");

        var ml = new MLContext(seed: seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FeatureSpec spec = FeatureSpecInference.FromCsv(path);
        IDataView data = spec.LoadCsv(ml, path);
        double inferSeconds = clock.Elapsed.TotalSeconds;
        var table = new Table("Step", "Rows", "Seconds", "Rows/s", "Peak RSS (MB)", "Managed heap after (MB)");
        Run fit = Measure.Once(() => spec.BuildPipeline(ml).Fit(data), out ITransformer features);
        long rows = CountLines(path) - 1;
        report.Paragraph(
            $"Data: `{path}` ({new FileInfo(path).Length / (1 << 20)} MB, {rows:N0} rows), written by the sample's `generate`. Spec inferred from the file " +
            $"({inferSeconds:0.0} s), feature pipeline fitted on it (one pass over the CSV), then `TorchCtrTrainer` (library defaults, {threads} torch thread(s)) for {epochs} epoch(s) " +
            $"without validation and with `MaxCacheBytes` = {maxCacheMb} MB, so the rows are streamed from the CSV through the feature pipeline on every pass " +
            "(the trainer's first pass counts the rows and finds they do not fit, then each epoch reads blocks of `StreamingBlockRows` rows). " +
            "Peak RSS is reset before each step, so each row is that step's own peak; the process's peak is the largest.");
        table.Add("Fit feature pipeline (CSV read + fit)", Format.Count(rows), Format.Seconds(fit.Seconds), Format.Rate(rows / fit.Seconds), Format.Megabytes(fit.PeakRssBytes), Format.Megabytes(fit.ManagedAfterBytes));
        report.Partial(table);

        var options = new TorchCtrTrainer.Options
        {
            LabelColumnName = spec.Label,
            NumericColumnNames = spec.NumericColumnNames,
            Model = new TorchCtrTrainer.Options().Model with { EmbeddingDims = spec.EmbeddingDims.ToImmutableDictionary() },
            Epochs = epochs,
            Patience = null,
            Threads = threads,
            Seed = seed,
            MaxCacheBytes = (long)maxCacheMb << 20,
            Progress = new Progress(),
        };
        Run train = Measure.Once(() => ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(data)), out TorchCtrTransformer model);
        double epochRate = Stats.Median(System.Linq.Enumerable.Select(model.History, h => h.TrainRowsPerSecond));
        table.Add($"Train, streamed ({epochs} epoch(s) + the counting pass)", Format.Count(rows), Format.Seconds(train.Seconds), Format.Rate(rows * (double)epochs / train.Seconds),
            Format.Megabytes(train.PeakRssBytes), Format.Megabytes(train.ManagedAfterBytes));
        table.Add("Training epoch alone (trainer's own rate: CSV read + features + batches + steps)", Format.Count(rows), Format.Seconds(rows / epochRate), Format.Rate(epochRate), "", "");
        model.Dispose();
        report.Table(table);
        long peak = Math.Max(fit.PeakRssBytes, train.PeakRssBytes);
        report.Paragraph($"Process peak RSS: {Format.Megabytes(peak)} MB (target < 2048 MB: {(peak < 2L << 30 ? "met" : "missed")}). Train loss of the epoch(s): " +
            string.Join(", ", System.Linq.Enumerable.Select(model.History, h => h.TrainLoss.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture))) + ".");
    }

    private static long CountLines(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        return lines;
    }

    /// <summary>Prints the trainer's messages and a line every ten seconds to standard error.</summary>
    private sealed class Progress : IProgress<TrainingProgress>
    {
        private DateTime _last = DateTime.MinValue;

        public void Report(TrainingProgress value)
        {
            if (value.Message is null && DateTime.UtcNow - _last < TimeSpan.FromSeconds(10))
                return;
            _last = DateTime.UtcNow;
            Console.Error.WriteLine($"    {value.Phase} epoch {value.Epoch}: {value.RowsDone:N0} rows, {value.RowsPerSecond:0} rows/s {value.Message}");
        }
    }
}
