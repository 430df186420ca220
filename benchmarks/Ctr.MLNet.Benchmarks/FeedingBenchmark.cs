using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Torch.Data;
using Ctr.MLNet.Torch.Training;
using Microsoft.ML;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>feeding</c>: the trainer's feeding overhead. In one process, round after round and for each torch thread count:
/// the full trainer's epoch rate (<see cref="EpochMetrics.TrainRowsPerSecond"/>: batches gathered from the cached
/// arrays by <c>BatchBuilder</c>, forward, backward, optimizer step), the same model and optimizer stepping on the same
/// batches built once beforehand as tensors (forward, backward, step only), and <c>BatchBuilder.Build</c> alone.
/// </summary>
public static class FeedingBenchmark
{
    public static void Run(Args args, Report report)
    {
        int rows = args.Int("rows", 200_000);
        int[] threads = args.Ints("threads", [1, 2]);
        int rounds = args.Int("rounds", 3);
        int seed = args.Int("seed", 1);
        args.CheckAllUsed();

        PlantedSplit split = PlantedSplit.Draw(seed, rows, testRows: 0, validFraction: 0);
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(split.Train);
        ITransformer features = Pipelines.Features(ml).Fit(train);
        IDataView featurized = ml.Data.Cache(features.Transform(train));
        var options = new TorchCtrTrainer.Options
        {
            NumericColumnNames = Pipelines.NumericColumns,
            Epochs = 1,
            Patience = null,
            Seed = seed,
        };
        FeatureLayout layout = FeatureLayout.FromSchema(featurized.Schema, options.CategoricalColumnNames, options.NumericColumnNames, options.SequenceWeights, options.LabelColumnName);
        TrainingData data = TrainingData.Load(featurized, layout, options.LabelColumnName, long.MaxValue, options.StreamingBlockRows, null, default);
        FeatureBlock block = data.Blocks().Single();
        report.Paragraph(
            $"Default model (`{options.ModelType.Name}`, library default options: {options.Optimizer} lr {options.LearningRate}, batch {options.BatchSize}) on {rows:N0} planted rows " +
            "featurized as in `trainer` (6 scalar fields, the history as a weighted sequence, 2 numerics), cached in memory. For each thread count, each round runs: " +
            "**full** = `TorchCtrTrainer.Fit` for one epoch without validation, its own epoch rate (`EpochMetrics.TrainRowsPerSecond`: shuffle, `BatchBuilder.Build` from the cached arrays, forward, backward, step; reading the data view before the epoch is not in it); " +
            "**tensors only** = the same model type, seed and optimizer stepping on the same epoch's batches built beforehand as tensors (zero_grad, `TrainingStep`, `item`, backward, step in a dispose scope per batch, as the loop does); " +
            "**build only** = `BatchBuilder.Build` of the epoch's batches into tensors, nothing else. Odd rounds run full first, even rounds tensors only first. Ratio = full / tensors only per round (target ≥ 0.85); " +
            $"the medians over {rounds} rounds are shown, every round listed.");

        var full = new Dictionary<int, List<double>>();
        var tensors = new Dictionary<int, List<double>>();
        var build = new Dictionary<int, List<double>>();
        var ratios = new Dictionary<int, List<double>>();
        foreach (int t in threads)
        {
            full[t] = [];
            tensors[t] = [];
            build[t] = [];
            ratios[t] = [];
        }
        for (int round = 1; round <= rounds; round++)
        {
            foreach (int t in threads)
            {
                // Odd rounds run the full trainer first, even rounds the tensors-only loop, so neither always goes first.
                double fullRate = 0, tensorRate = 0;
                for (int step = 0; step < 2; step++)
                {
                    Memory.CollectAll();
                    if ((step == 0) == (round % 2 == 1))
                    {
                        using TorchCtrTransformer model = ml.BinaryClassification.Trainers.TorchCtr(options with { Threads = t }).Fit(featurized);
                        fullRate = model.History[0].TrainRowsPerSecond;
                    }
                    else
                    {
                        tensorRate = TensorsOnly(layout, block, options, t);
                    }
                }
                Memory.CollectAll();
                double buildRate = BuildOnly(layout, block, options, t);
                full[t].Add(fullRate);
                tensors[t].Add(tensorRate);
                build[t].Add(buildRate);
                ratios[t].Add(fullRate / tensorRate);
                Console.Error.WriteLine($"round {round}, {t} thread(s): full {Format.Rate(fullRate)}, tensors only {Format.Rate(tensorRate)}, ratio {fullRate / tensorRate:0.000}, build only {Format.Rate(buildRate)} rows/s");
                report.Partial(Render(threads, full, tensors, build, ratios));
            }
        }
        report.Table(Render(threads, full, tensors, build, ratios));
    }

    private static Table Render(int[] threads, Dictionary<int, List<double>> full, Dictionary<int, List<double>> tensors, Dictionary<int, List<double>> build, Dictionary<int, List<double>> ratios)
    {
        var table = new Table("Torch threads", "Full trainer rows/s (median)", "Tensors only rows/s (median)", "Full / tensors only (median of rounds)", "Target ≥ 0.85",
            "Build only rows/s (median)", "Build share of a full epoch", "Every round: full / tensors / build");
        foreach (int t in threads.Where(t => full[t].Count > 0))
        {
            double ratio = Stats.Median(ratios[t]);
            double buildShare = Stats.Median(full[t]) / Stats.Median(build[t]);
            table.Add(t.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Rate(Stats.Median(full[t])), Format.Rate(Stats.Median(tensors[t])),
                ratio.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture), ratio >= 0.85 ? "met" : "missed",
                Format.Rate(Stats.Median(build[t])), buildShare.ToString("P1", System.Globalization.CultureInfo.InvariantCulture),
                string.Join("; ", full[t].Select((f, i) => $"{Format.Rate(f)} / {Format.Rate(tensors[t][i])} / {Format.Rate(build[t][i])}")));
        }
        return table;
    }

    /// <summary>The epoch's batch order, as the training loop draws it for epoch 1.</summary>
    private static int[] EpochOrder(int count, int seed)
    {
        int[] order = [.. Enumerable.Range(0, count)];
        new Random(unchecked(seed * 7919 + 1)).Shuffle(order);
        return order;
    }

    /// <summary>Rows/s of the optimizer stepping on batches built as tensors beforehand.</summary>
    private static double TensorsOnly(FeatureLayout layout, FeatureBlock block, TorchCtrTrainer.Options options, int threads)
    {
        set_num_threads(threads);
        manual_seed(options.Seed ?? 1);
        using CtrModel model = TorchCtrTransformer.CreateModel(options.ModelType, new CtrModelContext(layout, options.Model));
        using optim.Optimizer optimizer = TrainingLoop.CreateOptimizer(model.parameters(), options);
        var batches = new List<CtrBatch>();
        var builder = new BatchBuilder(layout);
        int[] order = EpochOrder(block.Count, options.Seed ?? 1);
        int batchSize = options.ResolveBatchSize(block.Count);
        for (int start = 0; start < block.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, block.Count - start);
            if (count < 2)
                continue;
            using (NewDisposeScope())
            {
                // Copies: the builder's tensors may share its reusable staging arrays.
                CtrBatch built = builder.Build(block, order.AsSpan(start, count), withLabels: true);
                batches.Add(new CtrBatch(layout, count, Keep(built.Categorical), [.. built.Sequences.Select(s => new SequenceBatch(Keep(s.Ids)!, Keep(s.Offsets)!, Keep(s.Weights)!, Keep(s.WeightSums)!))],
                    Keep(built.Numeric), Keep(built.Labels)));
            }
        }

        long rows = 0;
        model.train();
        var clock = Stopwatch.StartNew();
        foreach (CtrBatch batch in batches)
        {
            using (NewDisposeScope())
            {
                optimizer.zero_grad();
                Tensor loss = model.TrainingStep(batch);
                float value = loss.item<float>();
                if (!float.IsFinite(value))
                    throw new InvalidOperationException($"Loss {value}.");
                loss.backward();
                optimizer.step();
            }
            rows += batch.Count;
        }
        double rate = rows / clock.Elapsed.TotalSeconds;
        foreach (CtrBatch batch in batches)
            batch.Dispose();
        return rate;
    }

    private static Tensor? Keep(Tensor? tensor) => tensor?.clone().DetachFromDisposeScope();

    /// <summary>Rows/s of <c>BatchBuilder.Build</c> alone over one epoch's batches, tensors created and freed.</summary>
    private static double BuildOnly(FeatureLayout layout, FeatureBlock block, TorchCtrTrainer.Options options, int threads)
    {
        set_num_threads(threads);
        var builder = new BatchBuilder(layout);
        var clock = Stopwatch.StartNew();
        int[] order = EpochOrder(block.Count, options.Seed ?? 1);
        long rows = 0;
        int batchSize = options.ResolveBatchSize(block.Count);
        for (int start = 0; start < block.Count; start += batchSize)
        {
            int count = Math.Min(batchSize, block.Count - start);
            if (count < 2)
                continue;
            using (NewDisposeScope())
                builder.Build(block, order.AsSpan(start, count), withLabels: true);
            rows += count;
        }
        return rows / clock.Elapsed.TotalSeconds;
    }
}
