using System;
using System.Diagnostics;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// On-demand benchmarks: <c>dotnet run -c Release --project benchmarks/Ctr.MLNet.Benchmarks -- &lt;verb&gt; [options]</c>.
/// Each verb prints Markdown and writes it to <c>benchmarks/results/&lt;name&gt;.md</c> (<c>--name</c> overrides).
/// </summary>
public static class Program
{
    private const string Usage = """
        usage: dotnet run -c Release --project benchmarks/Ctr.MLNet.Benchmarks -- <verb> [options]

          transforms [--rows 1000000] [--repeats 3] [--ids 1000000] [--zipf 0.8] [--dirty 0.02] [--spec-rows N]
              fit/transform rows/s of MapToVocabulary and HashToBuckets on a high-cardinality column, beside ML.NET's
              MapValueToKey and Hash; CSV read rows/s; the full feature pipeline on planted data
          trainer [--rows 200000,1000000] [--epochs N] [--threads 1] [--config NAME] [--no-lightgbm] [--no-torch] [--lightgbm-threads 1] [--lightgbm default,no-categorical,no-bag,cat-regularized]
              our TorchCtrTrainer vs ML.NET LightGBM vs the oracle on planted data
          trainer --sweep [--configs a,b,...] [--rows 200000] ...
              several settings of our trainer on the same data (see TorchConfigs.cs)
          threads [--rows 200000] [--batches 512,1024,2048] [--threads 1,2] [--rounds 2] [--epochs 2]
              training-step rows/s of the default model per batch size and torch thread count
          models [--rows 200000,1000000] [--no-criteo] [--criteo PATH] [--no-lightgbm] [--lightgbm-threads 2]
              the model zoo (DNN, DeepFM, DCN-v2, target attention) vs LightGBM (vs the oracle) on criteo 10k and planted data
          accuracy [--rows 200000,1000000 (0: none)] [--seeds 1,2,3] [--no-criteo] [--criteo PATH] [--models hybrid,lightgbm,ceiling] [--network-config NAME] [--trees 100] [--leaves 31] [--max-onehot 10000] [--tree-lr 0.1] [--min-leaf 50] [--tree-leaf-dim 0] [--networks 3] [--lightgbm-threads 1]
                   [--criteo-rows N[,N...] (first N rows only: an earlier test period; several: one per period and a summary)] [--criteo-min-freq N] [--id-min-count 2]
              the default network, the network + FastTree hybrid and its parts, LightGBM, the well-specified ceiling and the oracle; mean ± sd over seeds
          feeding [--rows 200000] [--threads 1,2] [--rounds 3]
              full trainer epoch rows/s beside the same model stepping on batches prebuilt as tensors (feeding overhead)
          scoring [--rows 100000] [--train-rows 200000] [--repeats 5] [--calls 20000] [--warmup 2000] [--threads 1] [--sections batched,single,breakdown,compute]
              batched Transform rows/s (features + model, features only, model only); single-row latency p50/p99
          serving-stages [--model /tmp/ctr-serve-bench/model.zip] [--data /tmp/ctr-serve-bench/data/test.csv] [--calls 2000] [--repeats 3] [--sizes 1,10,100,256]
              a predict request's stages inside serve, one thread: JSON → view, scoring (per-request Transform vs prepared scorer), answer → JSON
          serving-pool [--model /tmp/ctr-serve-bench/model.zip] [--data /tmp/ctr-serve-bench/data/test.csv] [--calls 2000] [--repeats 7] [--sizes 100,1]
              the managed forward's histories pooled table by table (old) against one fused table per history (new), interleaved in one process
          tree-walk [--model /tmp/ctr-serve-bench/model.zip] [--data /tmp/ctr-serve-bench/data/test.csv] [--calls 20000] [--repeats 5] [--sizes 1,3,8,10,100]
              the hybrid's trees as serve walks them: the one-row walk against the block walk, interleaved in one process
          scale --train FILE [--max-cache-mb 64] [--epochs 1] [--threads 1]
              train streamed from a CSV on disk: peak RSS and rows/s (run once per file size)
          ceiling [--rows 200000,1000000] [--seeds 1,2,3] [--prior-scale 1] [--learning-rate 0.02] [--decay 0.7] [--batch-size 4096]
              the well-specified model (the generator's structure fitted by MAP) beside the oracle: the learnable ceiling
          data [--rows 5000000] [--repeats 3] [--row-group-rows 100000] [--dir DIR]
              planted rows read as CSV and as Parquet (rows/s, peak RSS); 4 shards fitted in 2 processes + merge vs one process

        every verb: [--name FILE] (results file name without .md) [--seed 1]
        """;

    public static int Main(string[] argv)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return argv.Length == 0 ? 1 : 0;
        }
        string verb = argv[0];
        var args = new Args(argv.Skip(1));
        if (verb == "data-read")
        {
            // The data verb's child process: one read, no report.
            DataBenchmark.ReadOnce(args);
            return 0;
        }
        try
        {
            string? name = args.OptionalString("name");
            var clock = Stopwatch.StartNew();
            Report report;
            switch (verb)
            {
                case "transforms":
                    report = new Report(name ?? "transforms", "Transforms: fit and transform throughput", argv);
                    TransformsBenchmark.Run(args, report);
                    break;
                case "trainer":
                    bool sweep = argv.Contains("--sweep") || argv.Contains("--configs");
                    string sizes = string.Join("-", args.Ints("rows", [200_000, 1_000_000]).Select(r => Format.RowsLabel(r)));
                    report = new Report(name ?? (sweep ? $"trainer-sweep-{sizes}" : $"trainer-{sizes}"), "Trainer: TorchCtrTrainer vs LightGBM vs oracle", argv);
                    TrainerBenchmark.Run(args, report);
                    break;
                case "threads":
                    report = new Report(name ?? "threads", "Torch threads: training-step throughput", argv);
                    ThreadsBenchmark.Run(args, report);
                    break;
                case "models":
                    report = new Report(name ?? "models", "Models: the model zoo vs LightGBM vs oracle", argv);
                    ModelsBenchmark.Run(args, report);
                    break;
                case "accuracy":
                    report = new Report(name ?? "accuracy", "Accuracy: network, network + trees, LightGBM, ceiling, oracle", argv);
                    AccuracyBenchmark.Run(args, report);
                    break;
                case "feeding":
                    report = new Report(name ?? "feeding", "Training: feeding overhead (full trainer vs prebuilt tensors)", argv);
                    FeedingBenchmark.Run(args, report);
                    break;
                case "scoring":
                    report = new Report(name ?? "scoring", "Scoring: batched Transform and single-row latency", argv);
                    ScoringBenchmark.Run(args, report);
                    break;
                case "serving-stages":
                    report = new Report(name ?? "serving-stages", "Serving: where a predict request's time goes (no HTTP)", argv);
                    ServingStagesBenchmark.Run(args, report);
                    break;
                case "serving-pool":
                    report = new Report(name ?? "serving-pool", "Serving: the managed forward's history pooling, old vs new", argv);
                    ServingPoolBenchmark.Run(args, report);
                    break;
                case "tree-walk":
                    report = new Report(name ?? "tree-walk", "Trees: the one-row walk against the block walk", argv);
                    TreeWalkBenchmark.Run(args, report);
                    break;
                case "scale":
                    report = new Report(name ?? "scale", "Scale: training streamed from a CSV on disk", argv);
                    ScaleBenchmark.Run(args, report);
                    break;
                case "ceiling":
                    report = new Report(name ?? "ceiling", "Ceiling: the well-specified model vs the oracle on planted data", argv);
                    Ceiling.CeilingBenchmark.Run(args, report);
                    break;
                case "data":
                    report = new Report(name ?? $"data-{Format.RowsLabel(args.Int("rows", 5_000_000))}", "Data: Parquet vs CSV reading, sharded feature fitting", argv);
                    DataBenchmark.Run(args, report);
                    break;
                default:
                    Console.Error.WriteLine($"error: unknown verb '{verb}'.");
                    Console.Error.WriteLine(Usage);
                    return 1;
            }
            report.Finish(clock.Elapsed);
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }
}
