using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>scoring</c>: batched <c>Transform</c> rows/s on the planted test split (features + model, features only, model
/// only on cached features) and single-row latency through <c>PredictionEngine</c> (features + model) and through the
/// network's row mapper alone (model only), after a warm-up.
/// </summary>
public static class ScoringBenchmark
{
    public static void Run(Args args, Report report)
    {
        int trainRows = args.Int("train-rows", 200_000);
        int testRows = args.Int("rows", 100_000);
        int repeats = args.Int("repeats", 5);
        int calls = args.Int("calls", 20_000);
        int warmup = args.Int("warmup", 2_000);
        int threads = args.Int("threads", 1);
        int seed = args.Int("seed", 1);
        string[] sections = args.String("sections", "batched,single,breakdown,compute").Split(',');
        args.CheckAllUsed();

        PlantedSplit split = PlantedSplit.Draw(seed, trainRows, testRows, validFraction: 0);
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(split.Train);
        IDataView test = ml.Data.LoadFromEnumerable(split.Test);
        ITransformer features = Pipelines.Features(ml).Fit(train);
        var options = new TorchCtrTrainer.Options { NumericColumnNames = Pipelines.NumericColumns, Epochs = 1, Patience = null, Threads = threads, Seed = seed };
        using TorchCtrTransformer model = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train));
        var pipeline = new TransformerChain<ITransformer>(features, model);
        IDataView testFeatures = ml.Data.Cache(features.Transform(test));
        Consume(testFeatures, [.. model.Layout.InputColumns]); // fills the cache
        report.Paragraph(
            $"Default model (`DnnCtrModel`, library defaults) trained one epoch on {trainRows:N0} planted rows; scored on {testRows:N0} later rows of the same day (the test split), " +
            $"{TorchThreads.Current} torch thread(s), scoring batch {options.ScoringBatchSize}. Batched: the time to read `Probability` (or, for features only, every column the network reads) " +
            $"over all test rows; median of {repeats} runs. **Features + model** = the fitted feature pipeline then `TorchCtrTransformer.Transform` on the raw rows; " +
            "**features only** = the feature pipeline alone, the network's input columns read; **model only** = `TorchCtrTransformer.Transform` on the featurized rows cached in memory " +
            "(`ml.Data.Cache`), i.e. reading the keys, building the batch tensors and the forward pass. " +
            $"Single row: {warmup:N0} warm-up calls, then {calls:N0} timed calls cycling over the test rows, each timed on its own; {repeats} such runs, median of each statistic. " +
            "**Features + model** = `PredictionEngine<PlantedInput, Scored>.Predict` on the whole pipeline; **model only** = the network's row mapper " +
            "(`GetRowToRowMapper` on the cached featurized rows, what `PredictionEngine` calls for the network) scoring the cursor's next row.");

        if (sections.Contains("batched"))
            Batched(report, repeats, test, testFeatures, features, model, pipeline);
        if (sections.Contains("single"))
            Single(report, repeats, calls, warmup, ml, split, model, testFeatures, pipeline);
        if (sections.Contains("breakdown"))
            Breakdown(report, repeats, testRows, model, testFeatures);
        if (sections.Contains("compute"))
            Compute(report, repeats, testRows, model, testFeatures);
    }

    private static void Batched(Report report, int repeats, IDataView test, IDataView testFeatures, ITransformer features, TorchCtrTransformer model, ITransformer pipeline)
    {
        var batched = new Table("Batched `Transform`", "Rows/s (median)", "Every run", "Target");
        Measurement both = Measure.Repeat("features + model", repeats, () => ReadProbability(pipeline.Transform(test)), out long n1);
        batched.Add("Features + model", Format.Rate(both.RowsPerSecond(n1)), both.AllRowsPerSecond(n1), "");
        report.Partial(batched);
        Measurement featuresOnly = Measure.Repeat("features only", repeats, () => Consume(features.Transform(test), [.. model.Layout.InputColumns]), out long n2);
        batched.Add("Features only", Format.Rate(featuresOnly.RowsPerSecond(n2)), featuresOnly.AllRowsPerSecond(n2), "");
        report.Partial(batched);
        Measurement modelOnly = Measure.Repeat("model only", repeats, () => ReadProbability(model.Transform(testFeatures)), out long n3);
        double modelRate = modelOnly.RowsPerSecond(n3);
        batched.Add("Model only (cached features)", Format.Rate(modelRate), modelOnly.AllRowsPerSecond(n3), $"≥ 100k: {(modelRate >= 100_000 ? "met" : "missed")}");
        report.Table(batched);
    }

    private static void Single(Report report, int repeats, int calls, int warmup, MLContext ml, PlantedSplit split, TorchCtrTransformer model, IDataView testFeatures, ITransformer pipeline)
    {
        var single = new Table("Single row", "p50 (ms)", "p90 (ms)", "p99 (ms)", "Mean (ms)", "Calls/s (1 / mean)", "Every run's p50 / p99 (ms)", "Target");
        var engine = ml.Model.CreatePredictionEngine<PlantedInput, Scored>(pipeline);
        Latency engineLatency = Repeat(repeats, () => EngineLatencies(engine, split.Test, warmup, calls));
        single.Add([ "`PredictionEngine`, features + model", .. engineLatency.Cells(), $"p50 < 0.5 ms: {(engineLatency.P50 < 0.5 ? "met" : "missed")}" ]);
        report.Partial(single);
        Latency mapperLatency = Repeat(repeats, () => MapperLatencies(model, testFeatures, warmup, calls));
        single.Add([ "Row mapper, model only", .. mapperLatency.Cells(), $"p50 < 0.5 ms: {(mapperLatency.P50 < 0.5 ? "met" : "missed")}" ]);
        report.Table(single);
    }

    private static void Breakdown(Report report, int repeats, int testRows, TorchCtrTransformer model, IDataView testFeatures)
    {
        report.Paragraph("Stopwatch breakdown of the model part on the cached featurized rows (the steps of `BatchScoringDataView` and of the row mapper, done by hand): " +
            "each pass adds one step to the previous one — read the keys into a `FeatureBlock` (`FeatureReader`), then build the batch tensors (`BatchBuilder.Build`), " +
            $"then the forward pass and copying the logits out (`TorchCtrTransformer.Score`, which builds the tensors itself). Median of {repeats} passes; the step's cost is the difference.");
        var breakdown = new Table("Batch rows", "Pass", "µs per row (median)", "Rows/s", "Every run (s)");
        foreach (int batch in new[] { model.ScoringBatchSize, 1 })
        {
            int rowsPerPass = batch == 1 ? Math.Min(testRows, 20_000) : testRows;
            foreach (ScorePass pass in Enum.GetValues<ScorePass>())
            {
                Measurement m = Measure.Repeat($"batch {batch}: {pass}", repeats, () => ScoreByHand(model, testFeatures, batch, rowsPerPass, pass), out long done);
                breakdown.Add(batch.ToString(CultureInfo.InvariantCulture), pass switch
                {
                    ScorePass.Read => "read keys",
                    ScorePass.ReadBuild => "read + build tensors",
                    _ => "read + build + forward + copy out",
                }, (m.MedianSeconds / done * 1e6).ToString("0.00", CultureInfo.InvariantCulture), Format.Rate(m.RowsPerSecond(done)), m.AllSeconds());
                report.Partial(breakdown);
            }
        }
        report.Table(breakdown);
    }

    private static void Compute(Report report, int repeats, int testRows, TorchCtrTransformer model, IDataView testFeatures)
    {
        // How far the forward pass is from the arithmetic it must do: the MLP's matrix products alone (same shapes,
        // random inputs, no embeddings, batch norm or dropout), and the whole model part at other batch sizes.
        int inputWidth;
        using (var embedding = new FeatureEmbedding(new CtrModelContext(model.Layout, model.ModelOptions)))
            inputWidth = embedding.TotalDim + model.Layout.NumericWidth;
        var compute = new Table("Batch rows", "What", "µs per row (median)", "Rows/s", "Every run (s)");
        foreach (int batch in new[] { 1024, 2048, 8192 })
        {
            Measurement gemm = Measure.Repeat($"gemm {batch}", repeats, () => MatrixProducts(inputWidth, model.ModelOptions.HiddenUnits, batch, testRows), out long gemmRows);
            compute.Add(batch.ToString(CultureInfo.InvariantCulture), $"MLP matrix products only ({inputWidth} → {string.Join(" → ", model.ModelOptions.HiddenUnits)} → 1, `linear` + in-place ReLU)",
                (gemm.MedianSeconds / gemmRows * 1e6).ToString("0.00", CultureInfo.InvariantCulture), Format.Rate(gemm.RowsPerSecond(gemmRows)), gemm.AllSeconds());
            Measurement whole = Measure.Repeat($"model part {batch}", repeats, () => ScoreByHand(model, testFeatures, batch, testRows, ScorePass.ReadBuildForward), out long wholeRows);
            compute.Add(batch.ToString(CultureInfo.InvariantCulture), "model part: read + build + forward + copy out",
                (whole.MedianSeconds / wholeRows * 1e6).ToString("0.00", CultureInfo.InvariantCulture), Format.Rate(whole.RowsPerSecond(wholeRows)), whole.AllSeconds());
            report.Partial(compute);
        }
        report.Table(compute);
    }

    /// <summary>The MLP's matrix products on random inputs, <paramref name="rows"/> rows in batches of <paramref name="batch"/>.</summary>
    private static long MatrixProducts(int inputs, IReadOnlyList<int> hidden, int batch, int rows)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var noGrad = TorchSharp.torch.no_grad();
        var weights = new List<(TorchSharp.torch.Tensor W, TorchSharp.torch.Tensor B)>();
        long width = inputs;
        foreach (long units in hidden.Select(h => (long)h).Append(1L))
        {
            weights.Add((TorchSharp.torch.randn(units, width), TorchSharp.torch.randn(units)));
            width = units;
        }
        TorchSharp.torch.Tensor x = TorchSharp.torch.randn(batch, inputs);
        long done = 0;
        while (done < rows)
        {
            using (TorchSharp.torch.NewDisposeScope())
            {
                TorchSharp.torch.Tensor h = x;
                for (int i = 0; i < weights.Count; i++)
                {
                    h = TorchSharp.torch.nn.functional.linear(h, weights[i].W, weights[i].B);
                    if (i < weights.Count - 1)
                        h.relu_();
                }
                h.data<float>()[0].ToString();
            }
            done += batch;
        }
        return done;
    }

    private enum ScorePass
    {
        Read,
        ReadBuild,
        ReadBuildForward,
    }

    /// <summary>The model part of scoring done by hand, up to <paramref name="pass"/>, over the first <paramref name="limit"/> rows.</summary>
    private static long ScoreByHand(TorchCtrTransformer model, IDataView features, int batch, int limit, ScorePass pass)
    {
        Ctr.MLNet.Torch.FeatureLayout layout = model.Layout;
        using DataViewRowCursor cursor = features.GetRowCursor(Ctr.MLNet.Torch.Data.FeatureReader.Columns(features.Schema, layout, labelColumn: null));
        var reader = new Ctr.MLNet.Torch.Data.FeatureReader(cursor, layout, labelColumn: null);
        var block = new Ctr.MLNet.Torch.Data.FeatureBlock(layout, batch);
        var builder = new Ctr.MLNet.Torch.Data.BatchBuilder(layout);
        int[] rows = [.. Enumerable.Range(0, batch)];
        var logits = new float[batch];
        long done = 0;
        bool more = true;
        while (more && done < limit)
        {
            block.Clear();
            while (block.Count < batch && (more = cursor.MoveNext()))
                reader.Append(block);
            if (block.Count == 0)
                break;
            if (pass == ScorePass.ReadBuild)
            {
                using (TorchSharp.torch.NewDisposeScope())
                    builder.Build(block, rows.AsSpan(0, block.Count), withLabels: false);
            }
            else if (pass == ScorePass.ReadBuildForward)
            {
                model.Score(block, builder, rows.AsSpan(0, block.Count), logits);
            }
            done += block.Count;
        }
        return done;
    }

    /// <summary>The output columns <c>PredictionEngine</c> fills.</summary>
    public sealed class Scored
    {
        public float Score { get; set; }

        public float Probability { get; set; }

        public bool PredictedLabel { get; set; }
    }

    private sealed record Latency(double P50, double P90, double P99, double Mean, List<(double P50, double P99)> Runs)
    {
        public string[] Cells() =>
        [
            Ms(P50), Ms(P90), Ms(P99), Ms(Mean), Format.Rate(1000 / Mean),
            string.Join("; ", Runs.Select(r => $"{Ms(r.P50)} / {Ms(r.P99)}")),
        ];

        private static string Ms(double ms) => ms.ToString("0.000", CultureInfo.InvariantCulture);
    }

    private static Latency Repeat(int repeats, Func<double[]> run)
    {
        var runs = new List<double[]>();
        for (int i = 0; i < repeats; i++)
        {
            Memory.CollectAll();
            double[] sorted = run();
            Array.Sort(sorted);
            runs.Add(sorted);
            Console.Error.WriteLine($"  p50 {Percentile(sorted, 0.5):0.000} ms, p99 {Percentile(sorted, 0.99):0.000} ms");
        }
        return new Latency(Stats.Median(runs.Select(r => Percentile(r, 0.5))), Stats.Median(runs.Select(r => Percentile(r, 0.9))),
            Stats.Median(runs.Select(r => Percentile(r, 0.99))), Stats.Median(runs.Select(r => r.Average())),
            [.. runs.Select(r => (Percentile(r, 0.5), Percentile(r, 0.99)))]);
    }

    private static double Percentile(double[] sorted, double q) => sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

    private static double[] EngineLatencies(PredictionEngine<PlantedInput, Scored> engine, List<PlantedInput> rows, int warmup, int calls)
    {
        var output = new Scored();
        for (int i = 0; i < warmup; i++)
            engine.Predict(rows[i % rows.Count], ref output);
        var times = new double[calls];
        double toMs = 1000.0 / Stopwatch.Frequency;
        for (int i = 0; i < calls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            engine.Predict(rows[(warmup + i) % rows.Count], ref output);
            times[i] = (Stopwatch.GetTimestamp() - start) * toMs;
        }
        return times;
    }

    private static double[] MapperLatencies(TorchCtrTransformer model, IDataView features, int warmup, int calls)
    {
        IRowToRowMapper mapper = ((ITransformer)model).GetRowToRowMapper(features.Schema);
        DataViewSchema.Column probability = mapper.OutputSchema["Probability"];
        DataViewSchema.Column[] inputs = [.. mapper.GetDependencies([probability])];
        var times = new double[calls];
        double toMs = 1000.0 / Stopwatch.Frequency;
        DataViewRowCursor cursor = features.GetRowCursor(inputs);
        DataViewRow row = mapper.GetRow(cursor, [probability]);
        ValueGetter<float> getter = row.GetGetter<float>(probability);
        float value = 0;
        try
        {
            for (int i = -warmup; i < calls; i++)
            {
                long start = Stopwatch.GetTimestamp();
                if (!cursor.MoveNext())
                {
                    row.Dispose();
                    cursor.Dispose();
                    cursor = features.GetRowCursor(inputs);
                    row = mapper.GetRow(cursor, [probability]);
                    getter = row.GetGetter<float>(probability);
                    cursor.MoveNext();
                    start = Stopwatch.GetTimestamp();
                }
                getter(ref value);
                if (i >= 0)
                    times[i] = (Stopwatch.GetTimestamp() - start) * toMs;
            }
        }
        finally
        {
            row.Dispose();
            cursor.Dispose();
        }
        return times;
    }

    private static long ReadProbability(IDataView scored)
    {
        DataViewSchema.Column column = scored.Schema["Probability"];
        using DataViewRowCursor cursor = scored.GetRowCursor([column]);
        ValueGetter<float> getter = cursor.GetGetter<float>(column);
        float value = 0;
        long rows = 0;
        double sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            sum += value;
            rows++;
        }
        if (double.IsNaN(sum))
            throw new InvalidOperationException("NaN probability.");
        return rows;
    }

    /// <summary>Reads every value of <paramref name="names"/> (keys, key vectors, floats, float vectors).</summary>
    private static long Consume(IDataView data, IReadOnlyList<string> names)
    {
        DataViewSchema.Column[] columns = [.. names.Select(n => data.Schema[n])];
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        var actions = new List<Action>();
        foreach (DataViewSchema.Column column in columns)
        {
            DataViewType type = column.Type;
            if (type is VectorDataViewType { ItemType: KeyDataViewType })
            {
                var getter = cursor.GetGetter<VBuffer<uint>>(column);
                VBuffer<uint> buffer = default;
                actions.Add(() => getter(ref buffer));
            }
            else if (type is VectorDataViewType)
            {
                var getter = cursor.GetGetter<VBuffer<float>>(column);
                VBuffer<float> buffer = default;
                actions.Add(() => getter(ref buffer));
            }
            else if (type is KeyDataViewType)
            {
                var getter = cursor.GetGetter<uint>(column);
                uint value = 0;
                actions.Add(() => getter(ref value));
            }
            else
            {
                var getter = cursor.GetGetter<float>(column);
                float value = 0;
                actions.Add(() => getter(ref value));
            }
        }
        long rows = 0;
        while (cursor.MoveNext())
        {
            foreach (Action action in actions)
                action();
            rows++;
        }
        return rows;
    }
}
