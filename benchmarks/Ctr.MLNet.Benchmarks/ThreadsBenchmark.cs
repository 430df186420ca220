using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using Microsoft.ML;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>threads</c>: training-step throughput of the default model at several batch sizes with 1 and 2 torch threads,
/// to choose the default thread count. Every (batch, threads) pair is run in turn, round after round, so a burst of
/// load from elsewhere hits them alike.
/// </summary>
public static class ThreadsBenchmark
{
    public static void Run(Args args, Report report)
    {
        int rows = args.Int("rows", 200_000);
        int[] batches = args.Ints("batches", [512, 1024, 2048]);
        int[] threads = args.Ints("threads", [1, 2]);
        int rounds = args.Int("rounds", 2);
        int epochs = args.Int("epochs", 2);
        int seed = args.Int("seed", 1);
        args.CheckAllUsed();

        PlantedSplit split = PlantedSplit.Draw(seed, rows, testRows: 0, validFraction: 0);
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(split.Train);
        ITransformer features = Pipelines.Features(ml).Fit(train);
        IDataView featurized = ml.Data.Cache(features.Transform(train));
        var libraryDefaults = new TorchCtrTrainer.Options();
        report.Paragraph(
            $"Default model (`DnnCtrModel` with the library's default `CtrModelOptions`, {libraryDefaults.Optimizer} lr {libraryDefaults.LearningRate}) on {rows:N0} planted training rows featurized as in `trainer` " +
            $"(7 embedding fields, 2 numerics). Each (batch, threads) fit runs {epochs} epochs without validation; the number is the trainer's own per-epoch rate " +
            "(`EpochMetrics.TrainRowsPerSecond`: batches gathered from the in-memory cache, forward, backward, optimizer step; data reading excluded). " +
            $"{rounds} rounds over all pairs, so each pair has {rounds * epochs} epoch measurements; the median and every one are shown. `torch.set_num_threads` through `Options.Threads`.");

        var samples = new Dictionary<(int Batch, int Threads), List<double>>();
        for (int round = 1; round <= rounds; round++)
        {
            foreach (int batch in batches)
            {
                foreach (int t in threads)
                {
                    Console.Error.WriteLine($"round {round}: batch {batch}, {t} thread(s)");
                    var options = new TorchCtrTrainer.Options
                    {
                        NumericColumnNames = Pipelines.NumericColumns,
                        BatchSize = batch,
                        Epochs = epochs,
                        Patience = null,
                        Threads = t,
                        Seed = seed,
                    };
                    using TorchCtrTransformer model = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(featurized);
                    if (TorchThreads.Current != t)
                        throw new InvalidOperationException($"Asked for {t} torch threads, libtorch reports {TorchThreads.Current}.");
                    List<double> list = samples.TryGetValue((batch, t), out var existing) ? existing : samples[(batch, t)] = [];
                    list.AddRange(model.History.Select(h => h.TrainRowsPerSecond));
                    Console.Error.WriteLine("  " + string.Join(", ", model.History.Select(h => Format.Rate(h.TrainRowsPerSecond))));
                }
            }
        }

        var table = new Table(["Batch", .. threads.Select(t => $"{t} thread(s): median rows/s"), .. threads.Select(t => $"{t} thread(s): every epoch"), "Best"]);
        foreach (int batch in batches)
        {
            double[] medians = [.. threads.Select(t => Stats.Median(samples[(batch, t)]))];
            int best = threads[Array.IndexOf(medians, medians.Max())];
            table.Add([batch.ToString(System.Globalization.CultureInfo.InvariantCulture), .. medians.Select(Format.Rate),
                .. threads.Select(t => string.Join(", ", samples[(batch, t)].Select(Format.Rate))), $"{best} thread(s)"]);
        }
        report.Table(table);
    }
}
