using System;
using System.Collections.Immutable;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Commands;

/// <summary><c>train</c>: infer (or read) a feature spec, fit the pipeline and the network, save one model zip.</summary>
public static class TrainCommand
{
    /// <summary>The largest <c>--batch-size</c>: the trainer's streaming block, which a batch never spans.</summary>
    private static readonly int MaxBatchSize = new TorchCtrTrainer.Options().StreamingBlockRows;

    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<string> train = new("--train") { Description = $"Training data: {DataInput.Description}.", Required = true, HelpName = "FILE|DIR" };
        Option<string> valid = new("--valid") { Description = "Validation data (CSV, .parquet or folder), scored after every epoch for early stopping.", Required = true, HelpName = "FILE|DIR" };
        Option<string> model = new("--model") { Description = "Model zip to write (replaced only once training succeeds).", Required = true, HelpName = "OUT.zip" };
        Option<string?> spec = new("--spec") { Description = "Feature spec JSON; inferred from the training file when absent.", HelpName = "spec.json" };
        Option<bool> printSpec = new("--print-spec") { Description = "Print the feature spec (given or inferred) as JSON and stop." };
        Option<string?> label = new("--label") { Description = "Label column; found by name (click, clicked, label, y) when absent.", HelpName = "NAME" };
        Option<char> listSeparator = CommandOptions.Character("--list-separator", "Separator of list columns (for spec inference; a --spec file gives its own).", '|');
        Option<int> epochs = CommandOptions.Check(new Option<int>("--epochs") { Description = "Most epochs to train (early stopping may end sooner).", DefaultValueFactory = _ => new TorchCtrTrainer.Options().Epochs, HelpName = "N" },
            v => v >= 1 ? null : $"--epochs must be at least 1, got {v}.");
        Option<int?> batchSize = CommandOptions.Check(CommandOptions.OptionalCount("--batch-size",
            $"Rows per training step (default {TorchCtrTrainer.Options.DefaultBatchSize}, halved while an epoch would have fewer than {TorchCtrTrainer.Options.MinimumAutoStepsPerEpoch} steps, down to {TorchCtrTrainer.Options.MinimumAutoBatchSize}).",
            "B", "rows", "the automatic size"),
            v => v is null || (v >= 2 && v <= MaxBatchSize) ? null : $"--batch-size must be between 2 and {MaxBatchSize}, got {v}.");
        Option<int?> threads = CommandOptions.Threads();
        Option<int> seed = new("--seed") { Description = "Seed of initialization, shuffling and dropout.", DefaultValueFactory = _ => 1, HelpName = "S" };
        // An empty one was the current directory.
        Option<string?> checkpoints = CommandOptions.Check(new Option<string?>("--checkpoint-dir") { Description = "Write a checkpoint after every epoch here; a folder that holds one already needs --resume (or delete it to start over).", HelpName = "DIR" },
            v => v is null || !string.IsNullOrWhiteSpace(v) ? null : "--checkpoint-dir must not be empty; leave it out to train without checkpoints.");
        Option<bool> resume = new("--resume") { Description = "Continue from the checkpoint in --checkpoint-dir." };
        Option<string?> plot = CommandOptions.Check(new Option<string?>("--plot") { Description = "Draw train/validation loss and validation AUC per epoch to this PNG.", HelpName = "curves.png" },
            v => v is null || v.EndsWith(".png", StringComparison.OrdinalIgnoreCase) ? null : $"--plot must name a .png file, got '{v}'.");
        Option<string?> modelType = CommandOptions.Check(new Option<string?>("--model-type")
        {
            Description = $"Network: {string.Join(", ", ModelTypes.Names)} (default {ModelTypes.Default}; with --init-model, yesterday's).",
            HelpName = "TYPE",
        }, v => v is null || ModelTypes.TryGet(v, out _) ? null : $"--model-type must be one of {string.Join(", ", ModelTypes.Names)}, got '{v}'.");
        Option<BadRowPolicy> badRows = CommandOptions.BadRows();
        Option<int> trees = CommandOptions.Check(new Option<int>("--trees")
        {
            Description = "FastTree trees trained beside the network and blended with it on the validation rows (0: the network alone; with --init-model, 0).",
            DefaultValueFactory = _ => new HybridCtrTrainer.Options().NumberOfTrees,
            HelpName = "N",
        }, v => v >= 0 ? null : $"--trees must be at least 0, got {v}.");
        Option<int> networks = CommandOptions.Check(new Option<int>("--networks")
        {
            Description = "Networks trained with seeds seed, seed+1, ... whose logits are averaged (each costs a fit and a scoring pass; with --init-model, 1).",
            DefaultValueFactory = _ => new HybridCtrTrainer.Options().NumberOfNetworks,
            HelpName = "K",
        }, v => v is >= 1 and <= 64 ? null : $"--networks must be in 1..64, got {v}.");
        Option<int> treeLeafDim = CommandOptions.Check(new Option<int>("--tree-leaf-dim")
        {
            Description = "Above 0, the networks also embed the leaf each row reaches in every tree, this wide (0: off; it did not help on the accuracy benchmark).",
            DefaultValueFactory = _ => new HybridCtrTrainer.Options().TreeLeafEmbeddingDim,
            HelpName = "D",
        }, v => v >= 0 ? null : $"--tree-leaf-dim must be at least 0, got {v}.");
        Option<string> targetEncoding = CommandOptions.Check(new Option<string>("--target-encoding")
        {
            Description = "Give the trees and the networks each categorical id's smoothed click rate in the training rows (out of fold for those rows): on or off. Not used with --init-model.",
            HelpName = "on|off",
            DefaultValueFactory = _ => new HybridCtrTrainer.Options().TargetEncoding ? "on" : "off",
        }, v => v is "on" or "off" ? null : $"--target-encoding must be on or off, got '{v}'.");
        Option<double> embeddingL2 = CommandOptions.Check(new Option<double>("--embedding-l2")
        {
            Description = $"Gaussian prior on the rows of the embedding tables of more than {new TorchCtrTrainer.Options().EmbeddingL2MinimumTableSize:N0} rows (EmbeddingL2; 0 = off): curbs the memorization of user and item ids.",
            DefaultValueFactory = _ => new TorchCtrTrainer.Options().EmbeddingL2,
            HelpName = "L2",
        }, v => v >= 0 && double.IsFinite(v) ? null : $"--embedding-l2 must be a finite number ≥ 0, got {v}.");
        Option<string> historyAttributes = CommandOptions.Check(new Option<string>("--history-attributes")
        {
            Description = "Columns describing a history's items, embedded with every history element: auto (those that are a function of the history's candidate), none, or names separated by commas (with --init-model, yesterday's).",
            DefaultValueFactory = _ => "auto",
            HelpName = "auto|none|COL,COL",
        }, v => HistoryAttributesOf(v) is { } names && (names.Any(n => n.Length == 0) || names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            ? $"--history-attributes must be auto, none or distinct column names separated by commas, got '{v}'." : null);
        Option<string?> stats = new("--stats") { Description = "Build the fitted feature pipeline from this merge-stats file (and take its spec) instead of fitting it on --train.", HelpName = "merged.bin" };
        Option<string?> initModel = new("--init-model") { Description = "Continue this model zip on the new data: refit its feature pipeline (vocabularies grow), keep its trained weights (--spec is not used).", HelpName = "YESTERDAY.zip" };

        var command = new Command("train", "Train a CTR model on a CSV file and save the whole pipeline as one model zip.")
        {
            train, valid, model, spec, printSpec, label, listSeparator, modelType, trees, networks, treeLeafDim, targetEncoding, embeddingL2, historyAttributes, epochs, batchSize, threads, seed, checkpoints, resume, plot, initModel, badRows, stats,
        };
        command.SetAction(parse => CommandOptions.Run(parse, output =>
        {
            var settings = new TrainSettings(parse.GetRequiredValue(train), parse.GetRequiredValue(valid), parse.GetRequiredValue(model))
            {
                SpecPath = parse.GetValue(spec),
                PrintSpec = parse.GetValue(printSpec),
                Label = parse.GetValue(label),
                ListSeparator = parse.GetValue(listSeparator),
                ModelType = parse.GetValue(modelType),
                Trees = parse.GetResult(trees) is { Implicit: false } ? parse.GetValue(trees) : null,
                Networks = parse.GetResult(networks) is { Implicit: false } ? parse.GetValue(networks) : null,
                TreeLeafDim = parse.GetValue(treeLeafDim),
                TargetEncoding = parse.GetValue(targetEncoding) == "on",
                EmbeddingL2 = parse.GetValue(embeddingL2),
                HistoryAttributes = HistoryAttributesOf(parse.GetValue(historyAttributes)!),
                Epochs = parse.GetValue(epochs),
                BatchSize = parse.GetValue(batchSize),
                Threads = parse.GetValue(threads),
                Seed = parse.GetValue(seed),
                CheckpointDirectory = parse.GetValue(checkpoints),
                Resume = parse.GetValue(resume),
                PlotPath = parse.GetValue(plot),
                InitModelPath = parse.GetValue(initModel),
                BadRows = parse.GetValue(badRows),
                StatsPath = parse.GetValue(stats),
            };
            if (settings.Resume && settings.CheckpointDirectory is null)
                throw new ArgumentException("--resume needs --checkpoint-dir.");
            return Run(settings, output, parse.InvocationConfiguration.Error);
        }));
        return command;
    }

    /// <summary>
    /// Trains as the settings say, writes progress and the final JSON line to <paramref name="output"/>, and the
    /// bad rows skipped (if any) to <paramref name="error"/> (<paramref name="output"/> when null).
    /// </summary>
    public static int Run(TrainSettings settings, TextWriter output, TextWriter? error = null)
    {
        error ??= output;
        CheckPaths(settings);
        if (settings.InitModelPath is not null)
            return RunIncremental(settings, output, error);
        var clock = Stopwatch.StartNew();
        FeatureStatistics? statistics = settings.StatsPath is null ? null : FeatureStatistics.Load(settings.StatsPath);
        if (statistics is not null && settings.SpecPath is not null && !FeatureSpec.FromJson(File.ReadAllText(settings.SpecPath)).Equals(statistics.Spec))
            throw new ArgumentException($"--spec {settings.SpecPath} differs from the spec the statistics in {settings.StatsPath} were fitted with; leave --spec out (the statistics carry theirs).");
        FeatureSpec spec = statistics is not null ? statistics.Spec
            : settings.SpecPath is not null
            ? FeatureSpec.FromJson(File.ReadAllText(settings.SpecPath))
            : DataInput.InferSpec(settings.TrainPath, settings.Label, settings.ListSeparator, settings.BadRows);
        if (settings.PrintSpec)
        {
            output.WriteLine(spec.ToJson());
            return 0;
        }

        var defaults = new HybridCtrTrainer.Options();
        // The command line, then the spec, then the library's defaults.
        int trees = settings.Trees ?? spec.Trees ?? defaults.NumberOfTrees, networks = settings.Networks ?? spec.Networks ?? defaults.NumberOfNetworks;
        settings = settings with { Trees = trees, Networks = networks }; // what the summary reports
        CheckEnsembleCheckpoints(settings, networks);

        var ml = new MLContext(seed: settings.Seed);
        IFileDataSource trainData = DataInput.Load(ml, spec, settings.TrainPath, out CsvColumns trainColumns, settings.BadRows);
        IFileDataSource validData = DataInput.Load(ml, spec, settings.ValidPath, out _, settings.BadRows);
        if (trainColumns.Ignored.Length > 0)
            output.WriteLine($"note: ignoring column(s) the spec does not use: {string.Join(", ", trainColumns.Ignored)}");
        CheckValidation(validData, spec.Label, settings.ValidPath);

        output.WriteLine(statistics is null ? $"fitting the feature pipeline on {settings.TrainPath}" : $"building the feature pipeline from the statistics of {statistics.Shards} shard(s) in {settings.StatsPath}");
        ITransformer features = statistics?.BuildPipeline(ml) ?? spec.BuildPipeline(ml).Fit(trainData);
        if (LargeEmbeddingWarning(features.GetOutputSchema(trainData.Schema), spec) is string warning)
            error.WriteLine(warning);
        Type modelType = ModelTypes.Get(settings.ModelType ?? ModelTypes.Default);
        if (modelType == typeof(DeepFmModel) && spec.EmbeddingDims.Values.Distinct().Count() > 1)
            output.WriteLine($"note: deepfm gives every field one embedding width, the spec's widest emb_dim: {spec.EmbeddingDims.Values.Max()}");
        // The label, embedding widths and DeepFM's one width come from the spec; the inputs are found from the schema.
        var options = spec.TrainerOptions(TrainingOptions(settings, output) with { ModelType = modelType });
        if (modelType == typeof(DeepFmModel) && settings.TreeLeafDim > 0 && settings.TreeLeafDim != options.Model.EmbeddingDim)
            throw new ArgumentException($"--tree-leaf-dim {settings.TreeLeafDim} with --model-type deepfm: DeepFM gives every field one embedding width ({options.Model.EmbeddingDim} here), the leaves too; give --tree-leaf-dim {options.Model.EmbeddingDim} or leave it out.");
        if (settings.TreeLeafDim > 0 && trees == 0)
            throw new ArgumentException("--tree-leaf-dim embeds the trees' leaves, and there are no trees (--trees 0 or the spec's trees); give --trees N or leave --tree-leaf-dim out.");
        if (trees == 0 && networks == 1)
        {
            using TorchCtrTransformer network = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(trainData), features.Transform(validData));
            return Finish(ml, settings, new TransformerChain<ITransformer>(features, network), network, null, trainData, validData, output, error, clock);
        }
        TransformerChain<ITransformer> hybrid = ml.BinaryClassification.Trainers.TorchCtrWithTrees(new HybridCtrTrainer.Options { Network = options, NumberOfTrees = trees, NumberOfNetworks = networks, TreeLeafEmbeddingDim = settings.TreeLeafDim,
            TargetEncoding = settings.TargetEncoding })
            .Fit(features.Transform(trainData), features.Transform(validData));
        using TorchCtrTransformer hybridNetwork = hybrid.OfType<TorchCtrTransformer>().First(); // its curves and history stand for the ensemble's
        return Finish(ml, settings, new TransformerChain<ITransformer>(features, hybrid), hybridNetwork, hybrid.OfType<LogitBlendTransformer>().Single().Blend,
            trainData, validData, output, error, clock);
    }

    /// <summary>
    /// Everything that can fail (the plot, the summary) comes before the zip replaces the old one; after it only
    /// lines are printed, so a run that replaced the model always exits 0.
    /// </summary>
    private static int Finish(MLContext ml, TrainSettings settings, TransformerChain<ITransformer> pipeline, TorchCtrTransformer network, LogitBlend? blend,
        IFileDataSource trainData, IFileDataSource validData, TextWriter output, TextWriter error, Stopwatch clock)
    {
        EpochMetrics best = network.History.Where(h => !double.IsNaN(h.ValidAuc)).DefaultIfEmpty(network.History[^1]).MaxBy(h => h.ValidAuc)!;
        string? plotted = settings.PlotPath is null ? null : TrainingCurves.Save(network.History, settings.PlotPath);
        long badRowsSkipped = CommandOptions.ReportBadRows(TextWriter.Null, trainData, validData);
        string summary = SummaryJson(settings, network, blend, best, badRowsSkipped, clock.Elapsed.TotalSeconds);
        ModelFiles.Save(ml, pipeline, trainData.Schema, settings.ModelPath);

        output.WriteLine($"saved {Path.GetFullPath(settings.ModelPath)}");
        if (plotted is not null)
            output.WriteLine($"plotted {plotted}");
        CommandOptions.ReportBadRows(error, trainData, validData);
        output.WriteLine(summary);
        return 0;
    }

    /// <summary>The paths are files that can be read, and the outputs can be written without overwriting an input.</summary>
    private static void CheckPaths(TrainSettings settings)
    {
        InputFiles.RequireFile(settings.TrainPath, "Data");
        InputFiles.RequireFile(settings.ValidPath, "Data");
        if (settings.SpecPath is not null && settings.InitModelPath is null) // --init-model does not read it
            InputFiles.RequireFile(settings.SpecPath, "Spec");
        if (settings.InitModelPath is not null)
            InputFiles.RequireFile(settings.InitModelPath, "Model");
        if (settings.StatsPath is not null && settings.InitModelPath is null)
            InputFiles.RequireFile(settings.StatsPath, "Statistics");
        if (settings.PrintSpec)
            return;
        (string, string?)[] inputs = [("--train", settings.TrainPath), ("--valid", settings.ValidPath), ("--spec", settings.SpecPath), ("--init-model", settings.InitModelPath), ("--stats", settings.StatsPath)];
        InputFiles.RequireWritable(settings.ModelPath, "--model", inputs);
        if (settings.PlotPath is not null)
            InputFiles.RequireWritable(settings.PlotPath, "--plot", [.. inputs, ("--model", settings.ModelPath)]);
        if (settings.CheckpointDirectory is string checkpoints)
        {
            if (settings.Resume && !HybridCtrTrainer.HasCheckpoint(checkpoints))
            {
                throw new InvalidOperationException(Directory.Exists(checkpoints)
                    ? $"--resume: there is no checkpoint in '{checkpoints}'; check the directory, or leave --resume out to start over."
                    : $"--resume: the checkpoint directory '{checkpoints}' does not exist; check its name, or leave --resume out to start over.");
            }
            // A rerun that forgot --resume replaced an interrupted run's last checkpoint with its own first epoch's.
            if (!settings.Resume && HybridCtrTrainer.HasCheckpoint(checkpoints))
                throw new InvalidOperationException($"--checkpoint-dir '{checkpoints}' holds the checkpoint of an earlier run, which this run would replace after its first epoch; pass --resume to continue it, or delete it (or give another --checkpoint-dir) to start over.");
            InputFiles.RequireWritable(Path.Combine(checkpoints, "checkpoint.ctr"), "--checkpoint-dir");
        }
    }

    /// <summary>
    /// Once the number of networks is known: with several, each checkpoints to its own network-k folder, whose files
    /// must be writable too, and --resume must find checkpoints of the kind it resumes (three networks found nothing
    /// to resume in one network's checkpoint and silently started over).
    /// </summary>
    private static void CheckEnsembleCheckpoints(TrainSettings settings, int networks)
    {
        if (settings.CheckpointDirectory is not string directory)
            return;
        // CheckPaths found a checkpoint of one kind or the other.
        if (settings.Resume && networks == 1 && !TorchCtrTrainer.HasCheckpoint(directory))
            throw new InvalidOperationException($"--resume: '{directory}' holds the checkpoints of several networks (network-k folders), not of one; give the --networks they were written with, or leave --resume out to start over.");
        if (settings.Resume && networks > 1 && TorchCtrTrainer.HasCheckpoint(directory)
            && !Enumerable.Range(1, networks).Any(k => TorchCtrTrainer.HasCheckpoint(HybridCtrTrainer.NetworkCheckpointDirectory(directory, k))))
            throw new InvalidOperationException($"--resume: '{directory}' holds the checkpoint of one network, not of {networks}; give --networks 1 as when it was written, or leave --resume out to start over.");
        for (int k = 1; networks > 1 && k <= networks; k++)
            InputFiles.RequireWritable(Path.Combine(HybridCtrTrainer.NetworkCheckpointDirectory(directory, k), "checkpoint.ctr"), "--checkpoint-dir");
    }

    /// <summary>
    /// Reads the validation file once before training: bad rows show now, not after the first epoch, and the file must
    /// have rows of both classes, since AUC (which picks the best epoch) is undefined otherwise.
    /// </summary>
    private static void CheckValidation(IFileDataSource validData, string label, string path)
    {
        DataViewSchema.Column column = validData.Schema[label];
        float[] labels = column.Type.RawType == typeof(bool)
            ? [.. validData.GetColumn<bool>(column).Select(b => b ? 1f : 0f)]
            : [.. validData.GetColumn<float>(column)];
        if (labels.Length == 0)
            throw new InvalidOperationException($"Validation file '{path}' has no data rows{Skipped(validData)}; give it rows of both classes to pick the best epoch by.");
        int clicks = labels.Count(l => l == 1f);
        if (clicks == 0 || clicks == labels.Length)
        {
            throw new InvalidOperationException($"Validation file '{path}': all {labels.Length} rows have label {(clicks == 0 ? 0 : 1)}{Skipped(validData)}; "
                + "AUC, which picks the best epoch, is undefined with one class. Give a validation file with clicks and non-clicks.");
        }
    }

    private static string Skipped(IFileDataSource data) =>
        data.ReadSummary is { BadRowsSkipped: > 0 } summary ? $" ({summary.BadRowsSkipped} bad row(s) skipped)" : "";

    /// <summary>Above this many bytes of embedding weights, train warns before it starts: the zip will be at least this big.</summary>
    public const long LargeEmbeddingBytes = 256L << 20;

    /// <summary>
    /// The warning train prints before training when the embedding tables of the fitted features (<paramref name="schema"/>)
    /// hold more than <see cref="LargeEmbeddingBytes"/> of weights at the spec's <c>emb_dim</c>; null when they do not.
    /// </summary>
    public static string? LargeEmbeddingWarning(DataViewSchema schema, FeatureSpec spec)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(spec);
        long bytes = 0;
        foreach ((string name, int dim) in spec.EmbeddingDims)
        {
            DataViewType? type = schema.GetColumnOrNull(name)?.Type;
            if ((type is VectorDataViewType vector ? vector.ItemType : type) is KeyDataViewType key)
                bytes += (long)key.Count * dim * sizeof(float);
        }
        return bytes <= LargeEmbeddingBytes ? null
            : $"warning: the embedding tables hold {bytes / (1 << 20):N0} MB of weights (over {LargeEmbeddingBytes >> 20} MB): the model zip will be at least that big. Lower emb_dim in the spec if that is not intended.";
    }

    /// <summary>
    /// <c>--init-model</c>: yesterday's zip gives the pipeline, which is refit on the training file, and the network,
    /// which continues training (its optimizer state too when the zip kept one); the new zip keeps the optimizer state.
    /// </summary>
    private static int RunIncremental(TrainSettings settings, TextWriter output, TextWriter error)
    {
        if (settings.PrintSpec)
            throw new ArgumentException("--print-spec has no spec to print with --init-model: the model's own pipeline is refit.");
        if (settings.StatsPath is not null)
            throw new ArgumentException("--stats builds a new feature pipeline; --init-model refits the model's own, so give one of them.");
        if (settings.SpecPath is not null)
            output.WriteLine("note: --spec is not used with --init-model; the model's own pipeline is refit");
        if (settings.Trees is > 0)
            throw new ArgumentException("--trees is not used with --init-model: day-by-day training continues a network alone. Leave --trees out.");
        if (settings.TreeLeafDim > 0)
            throw new ArgumentException("--tree-leaf-dim is not used with --init-model: day-by-day training continues a network alone, without trees. Leave --tree-leaf-dim out.");
        if (settings.Networks is > 1)
            throw new ArgumentException("--networks is not used with --init-model: day-by-day training continues one network. Leave --networks out.");
        var clock = Stopwatch.StartNew();
        var ml = new MLContext(seed: settings.Seed);
        LoadedModel yesterday = ModelFiles.Load(ml, settings.InitModelPath!);
        using TorchCtrTransformer previous = yesterday.Network;
        if (settings.ModelType is not null && ModelTypes.Get(settings.ModelType) != previous.Model.GetType())
            throw new ArgumentException($"--model-type {settings.ModelType} differs from the network of {settings.InitModelPath} ({ModelTypes.NameOf(previous.Model.GetType())}); --init-model continues that network, so leave --model-type out.");
        if (yesterday.Blend is not null)
            throw new ArgumentException($"{settings.InitModelPath} blends its network with trees or other networks, and --init-model continues a network alone; train day 1 with --trees 0 --networks 1 to continue it day by day.");
        string[] required = [.. yesterday.InputSchema.Select(c => c.Name)];
        string label = previous.LabelColumnName;
        IFileDataSource trainData = DataInput.Load(ml, settings.TrainPath, yesterday.InputSchema, required, out var ignored, settings.BadRows, label, yesterday.Model);
        IFileDataSource validData = DataInput.Load(ml, settings.ValidPath, yesterday.InputSchema, required, out _, settings.BadRows, label, yesterday.Model);
        if (ignored.Count > 0)
            output.WriteLine($"note: ignoring column(s) the model does not use: {string.Join(", ", ignored)}");
        CheckValidation(validData, label, settings.ValidPath);

        output.WriteLine($"refitting the feature pipeline of {settings.InitModelPath} on {settings.TrainPath} and continuing its network");
        var options = TrainingOptions(settings, output) with { KeepOptimizerState = true };
        TransformerChain<ITransformer> pipeline = IncrementalTraining.Continue(ml, yesterday.Model, trainData, validData, options);
        using var network = (TorchCtrTransformer)pipeline.LastTransformer;
        return Finish(ml, settings, pipeline, network, null, trainData, validData, output, error, clock);
    }

    /// <summary><c>auto</c>: null (detect them); <c>none</c>: empty; otherwise the comma-separated names, trimmed.</summary>
    private static ImmutableArray<string>? HistoryAttributesOf(string text) => text.Trim().ToLowerInvariant() switch
    {
        "auto" => null,
        "none" => [],
        _ => [.. text.Split(',').Select(n => n.Trim())],
    };

    /// <summary>The training settings of both runs, cold and <c>--init-model</c>, in one place so that they cannot drift apart.</summary>
    private static TorchCtrTrainer.Options TrainingOptions(TrainSettings settings, TextWriter output) => new()
    {
        Model = new CtrModelOptions { HistoryAttributes = settings.HistoryAttributes },
        Epochs = settings.Epochs,
        EmbeddingL2 = settings.EmbeddingL2,
        BatchSize = settings.BatchSize,
        Threads = settings.Threads ?? new TorchCtrTrainer.Options().Threads,
        Seed = settings.Seed,
        CheckpointDirectory = settings.CheckpointDirectory,
        Resume = settings.Resume,
        Progress = ConsoleProgress.For(output),
    };

    private static string SummaryJson(TrainSettings settings, TorchCtrTransformer network, LogitBlend? blend, EpochMetrics best, long badRowsSkipped, double seconds)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            const string oneClass = "the validation rows hold one class only";
            // With trees, valid_auc and valid_logloss are the saved model's (the blend's); the network's own AUC is network_valid_auc.
            CommandOptions.WriteMetric(json, "valid_auc", blend?.BlendValidAuc ?? best.ValidAuc, oneClass);
            CommandOptions.WriteMetric(json, "valid_logloss", blend?.BlendValidLogLoss ?? best.ValidLogLoss, "there are no validation rows");
            // Run resolved the defaults; continuing a network (--init-model) has neither trees nor other networks.
            int trees = settings.Trees ?? 0;
            json.WriteNumber("trees", trees);
            json.WriteNumber("networks", settings.Networks ?? 1);
            if (blend is not null)
            {
                // network_valid_auc is the networks' mean logit's when there are several.
                CommandOptions.WriteMetric(json, "network_valid_auc", blend.NetworkValidAuc, oneClass);
                if (trees > 0)
                    CommandOptions.WriteMetric(json, "trees_valid_auc", blend.TreesValidAuc, oneClass);
            }
            CommandOptions.WriteMetric(json, "train_rows_per_s", Math.Round(network.History.Average(h => h.TrainRowsPerSecond)), "no training step ran");
            json.WriteNumber("epochs", network.History.Length);
            json.WriteNumber("best_epoch", best.Epoch);
            json.WriteString("model_type", ModelTypes.NameOf(network.Model.GetType()));
            json.WriteStartArray("history_attributes");
            foreach (string column in network.ModelOptions.HistoryAttributes ?? [])
                json.WriteStringValue(column);
            json.WriteEndArray();
            json.WriteNumber("bad_rows_skipped", badRowsSkipped);
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteString("model", Path.GetFullPath(settings.ModelPath));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>What <see cref="TrainCommand.Run"/> needs.</summary>
/// <param name="TrainPath">Training CSV.</param>
/// <param name="ValidPath">Validation CSV.</param>
/// <param name="ModelPath">Model zip to write.</param>
public sealed record TrainSettings(string TrainPath, string ValidPath, string ModelPath)
{
    /// <summary>Spec JSON to use instead of inference.</summary>
    public string? SpecPath { get; init; }

    /// <summary>Print the spec and stop.</summary>
    public bool PrintSpec { get; init; }

    /// <summary>Label column for inference.</summary>
    public string? Label { get; init; }

    /// <summary>List separator for inference.</summary>
    public char ListSeparator { get; init; } = '|';

    /// <summary>Network name (see <see cref="ModelTypes"/>); null for the default, or yesterday's with <see cref="InitModelPath"/>.</summary>
    public string? ModelType { get; init; }

    /// <summary>Most epochs.</summary>
    public int Epochs { get; init; } = new TorchCtrTrainer.Options().Epochs;

    /// <summary>Rows per step; null for the trainer's automatic size.</summary>
    public int? BatchSize { get; init; }

    /// <summary>Torch threads.</summary>
    public int? Threads { get; init; }

    /// <summary>Seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checkpoint directory.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Resume from the checkpoint.</summary>
    public bool Resume { get; init; }

    /// <summary>PNG to draw the per-epoch loss and AUC curves to (none when null).</summary>
    public string? PlotPath { get; init; }

    /// <summary>What to do with a row of the training or validation file that cannot be read.</summary>
    public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Error;

    /// <summary>Gaussian prior on the embedding rows (<see cref="TorchCtrTrainer.Options.EmbeddingL2"/>).</summary>
    public double EmbeddingL2 { get; init; } = new TorchCtrTrainer.Options().EmbeddingL2;

    /// <summary>Columns describing a history's items (<see cref="CtrModelOptions.HistoryAttributes"/>): null to detect them, empty for none.</summary>
    public ImmutableArray<string>? HistoryAttributes { get; init; }

    /// <summary>FastTree trees blended with the network; null for the default (0 with <see cref="InitModelPath"/>).</summary>
    public int? Trees { get; init; }

    /// <summary>Networks averaged (seeds seed, seed + 1, ...); null for the default (1 with <see cref="InitModelPath"/>).</summary>
    public int? Networks { get; init; }

    /// <summary>Width of the trees' leaf embeddings in the networks (<see cref="HybridCtrTrainer.Options.TreeLeafEmbeddingDim"/>); 0 for none.</summary>
    public int TreeLeafDim { get; init; }

    /// <summary>Whether a hybrid reads the categorical ids' click rates (<see cref="HybridCtrTrainer.Options.TargetEncoding"/>).</summary>
    public bool TargetEncoding { get; init; } = new HybridCtrTrainer.Options().TargetEncoding;

    /// <summary>A merge-stats file whose spec and statistics give the fitted feature pipeline, or null to fit it on the training data.</summary>
    public string? StatsPath { get; init; }

    /// <summary>Yesterday's model zip to continue (incremental training), or null to train from scratch.</summary>
    public string? InitModelPath { get; init; }
}
