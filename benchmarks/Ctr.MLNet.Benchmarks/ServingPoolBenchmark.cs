using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json.Nodes;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Torch;
using Microsoft.ML;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// The managed forward's history pooling, old against new in one process on the same model and requests: each history
/// pooled table by table with its attributes projected per row (old), or from one fused table per history (new).
/// </summary>
public static class ServingPoolBenchmark
{
    public static void Run(Args args, Report report)
    {
        string modelPath = args.String("model", "/tmp/ctr-serve-bench/model.zip");
        string dataPath = args.String("data", "/tmp/ctr-serve-bench/data/test.csv");
        int calls = args.Int("calls", 2000);
        int repeats = args.Int("repeats", 7);
        int[] sizes = args.Ints("sizes", [100, 1]);
        args.CheckAllUsed();

        TorchThreads.Set(1); // as serve sets it
        using ServedInputs served = ServedInputs.Load(modelPath, dataPath);
        var (model, chain, settings, rows) = served;
        PreparedCtrScorer fused = PreparedCtrScorer.TryCreate(chain, model.Schema)
            ?? throw new InvalidOperationException($"'{modelPath}' is not a chain the prepared scorer knows.");
        TorchCtrTransformer[] networks = [.. ServingStagesBenchmark.Flatten(chain).OfType<TorchCtrTransformer>()];
        if (!networks.All(n => n.ManagedForScoring is { FusesHistories: true }))
            throw new InvalidOperationException($"'{modelPath}': not every network is scored in managed code with fused histories.");
        PreparedCtrScorer unfused = PreparedCtrScorer.TryCreate(chain, model.Schema, n => ((DnnCtrModel)n.Model).ManagedForScoring(n.Layout, fuseHistories: false))!;
        PreparedCtrScorer modules = PreparedCtrScorer.TryCreate(chain, model.Schema, prepareNetworks: false)!;

        var table = new Table("Request", "Timed", "old: CPU µs per row (median)", "new: CPU µs per row (median)", "new / old (median of run pairs)", "old runs", "new runs");
        int worstOld = 0, worstModules = 0;
        foreach (int size in sizes)
        {
            ColumnarDataView[] views = [.. Enumerable.Range(0, 10).Select(b => RequestReader.Read(ServingStagesBenchmark.Body(rows.Skip(b * size % rows.Count).Take(size).ToList(), columnar: size > 1), model, settings))];
            var a = new float[size];
            var b = new float[size];
            foreach (ColumnarDataView view in views)
            {
                int count = fused.Score(view, a);
                unfused.Score(view, b);
                worstOld = Math.Max(worstOld, ServingStagesBenchmark.WorstUlps(a, b, count));
                modules.Score(view, b);
                worstModules = Math.Max(worstModules, ServingStagesBenchmark.WorstUlps(a, b, count));
            }
            int n = Math.Max(20, calls * 10 / (size + 9));
            string what = size == 1 ? "1 row" : $"{size} rows";
            fused.ReadFeatures(views[0]);
            unfused.ReadFeatures(views[0]);
            Add(table, what, "every network's forward (managed)", size, TimePair(n, repeats, _ => unfused.RunNetworks(size), _ => fused.RunNetworks(size)));
            Add(table, what, "whole call (features, forwards, trees, blend)", size, TimePair(n, repeats, i => unfused.Score(views[i % views.Length], a), i => fused.Score(views[i % views.Length], b)));
        }
        report.Paragraph($"Model `{modelPath}`: {networks.Length} network(s); requests from the first 1000 rows of `{dataPath}`; one thread, torch threads {TorchThreads.Current}; "
            + $"{repeats} runs of each, old and new interleaved run by run (the order swapped each run); load average {Report.LoadAverage()}.");
        long fusedBytes = networks.Sum(n => n.ManagedForScoring!.TableBytes);
        long tableBytes = networks.Sum(n => ((DnnCtrModel)n.Model).ManagedForScoring(n.Layout, fuseHistories: false)!.TableBytes);
        report.Paragraph($"Tables copied by the managed forwards: {tableBytes / 1024.0 / 1024:F1} MB old, {fusedBytes / 1024.0 / 1024:F1} MB new (fused tables included).");
        report.Paragraph($"Probabilities, same requests: new against old at most {worstOld} ulps apart, new against the modules' libtorch forward at most {worstModules}.");
        report.Table(table);
    }

    private static void Add(Table table, string request, string timed, int size, (double[] Old, double[] New) runs)
    {
        double[] ratios = [.. runs.Old.Zip(runs.New, (o, n) => n / o)];
        table.Add(request, timed, F(ServingStagesBenchmark.Median(runs.Old) / size), F(ServingStagesBenchmark.Median(runs.New) / size), ServingStagesBenchmark.Median(ratios).ToString("F3", CultureInfo.InvariantCulture),
            string.Join(", ", runs.Old.Select(v => F(v / size))), string.Join(", ", runs.New.Select(v => F(v / size))));
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>CPU µs per call of each, as <see cref="ServingStagesBenchmark.TimePair"/> times them: warmed, their runs interleaved.</summary>
    private static (double[] Old, double[] New) TimePair(int calls, int repeats, Action<int> old, Action<int> @new)
    {
        var (first, second) = ServingStagesBenchmark.TimePair(calls, repeats, old, @new);
        return (first.Cpu, second.Cpu);
    }
}
