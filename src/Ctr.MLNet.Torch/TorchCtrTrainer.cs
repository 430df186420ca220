using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using Ctr.MLNet.Torch.Data;
using Ctr.MLNet.Torch.Format;
using Ctr.MLNet.Torch.Incremental;
using Ctr.MLNet.Torch.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Trains a TorchSharp CTR network on the output of a Ctr.MLNet feature pipeline and returns a
/// <see cref="TorchCtrTransformer"/> that adds <c>Score</c>, <c>Probability</c> and <c>PredictedLabel</c>.
/// Create it with <c>mlContext.BinaryClassification.Trainers.TorchCtr(...)</c>.
/// </summary>
/// <remarks>
/// Inputs come from the schema: every key column our categorical transforms produced (scalars get an
/// embedding, variable-length vectors are pooled; columns sharing a vocabulary share a table), plus the numeric
/// columns a normalizer made (or those named in <see cref="Options.NumericColumnNames"/>). Training data is read once into compact arrays
/// when it fits in <see cref="Options.MaxCacheBytes"/>, otherwise streamed every epoch.
/// </remarks>
public sealed partial class TorchCtrTrainer : IEstimator<TorchCtrTransformer>
{
    private readonly IHost _host;
    private readonly Options _options;

    internal TorchCtrTrainer(IHostEnvironment env, Options options)
    {
        _host = env.Register(nameof(TorchCtrTrainer));
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Without a seed of its own the trainer takes the MLContext's (every trainer of that context the same one, so a
        // resumed or repeated fit matches), or a random one from an unseeded context.
        _options = options with { Seed = options.Seed ?? (env as IHostEnvironmentInternal)?.Seed ?? _host.Rand.Next() };
    }

    /// <summary>Whether <paramref name="directory"/> holds a checkpoint that <see cref="Options.Resume"/> can continue.</summary>
    public static bool HasCheckpoint(string directory) => Checkpoint.Exists(directory);

    /// <summary>
    /// Trains, validating on what <see cref="Options.ValidationData"/> or <see cref="Options.ValidationFraction"/> give
    /// (the way to early-stop inside <c>pipeline.Fit(train)</c>); without them every epoch runs and the last weights are kept.
    /// </summary>
    public TorchCtrTransformer Fit(IDataView input) => Fit(input, validationData: null);

    /// <summary>
    /// Trains, scoring <paramref name="validationData"/> (already through the same transforms as <paramref name="trainData"/>)
    /// after every epoch for early stopping and best weights.
    /// </summary>
    public TorchCtrTransformer Fit(IDataView trainData, IDataView? validationData) => Fit(trainData, validationData, warmStart: null);

    /// <summary>Trains from scratch, or from <paramref name="warmStart"/>'s network grown to the layout of <paramref name="trainData"/>.</summary>
    private TorchCtrTransformer Fit(IDataView trainData, IDataView? validationData, WarmStart? warmStart)
    {
        _host.CheckValue(trainData, nameof(trainData));
        (trainData, validationData) = ValidationSplit.Apply(_host, trainData, validationData, _options);
        FeatureLayout layout = warmStart?.GrowLayout(trainData.Schema)
            ?? FeatureLayout.FromSchema(trainData.Schema, _options.CategoricalColumnNames, _options.NumericColumnNames, _options.SequenceWeights, _options.LabelColumnName);
        CheckLabel(trainData.Schema);
        HistoryAttributes.Check(layout, _options.Model.HistoryAttributes);
        if (validationData is not null)
        {
            layout.CheckSchema(validationData.Schema);
            CheckLabel(validationData.Schema);
        }
        // libtorch's thread count is process-wide: set for this fit only, and restored after it.
        int previousThreads = get_num_threads();
        if (_options.Threads is int threads)
            set_num_threads(threads);
        try
        {
            return FitWithSettings(trainData, validationData, warmStart, layout);
        }
        finally
        {
            set_num_threads(previousThreads);
        }
    }

    private TorchCtrTransformer FitWithSettings(IDataView trainData, IDataView? validationData, WarmStart? warmStart, FeatureLayout layout)
    {
        TrainingData train = TrainingData.Load(trainData, layout, _options.LabelColumnName, _options.MaxCacheBytes, _options.StreamingBlockRows,
            (rows, rate) => _options.Progress?.Report(new TrainingProgress(TrainingPhase.Reading, 0, _options.Epochs, rows, trainData.GetRowCount(), rate, 0, null)),
            _options.CancellationToken);
        if (train.RowCount < 2)
            throw new ArgumentOutOfRangeException(nameof(trainData), $"Training needs at least 2 rows, got {train.RowCount}.");
        _options.Progress?.Report(new TrainingProgress(TrainingPhase.Reading, 0, _options.Epochs, train.RowCount, train.RowCount, 0, 0, null,
            (train.IsCached ? $"cached {train.RowCount} rows in memory ({train.CachedBytes / (1 << 20)} MB)" : $"streaming {train.RowCount} rows every epoch (larger than MaxCacheBytes)")
            + $"; {get_num_threads()} torch thread(s)"));
        TrainingData? valid = validationData is null ? null
            : TrainingData.Load(validationData, layout, _options.LabelColumnName, _options.MaxCacheBytes, _options.StreamingBlockRows, null, _options.CancellationToken);

        // The network's shape depends on which columns describe the history's items: resolve them (the model keeps the list).
        HistoryAttributes attributes = HistoryAttributes.Fit(train, layout, _options.Model.HistoryAttributes);
        CtrModelOptions modelOptions = _options.Model with { HistoryAttributes = attributes.Columns };
        if (!attributes.Columns.IsEmpty)
            _options.Progress?.Report(new TrainingProgress(TrainingPhase.Reading, 0, _options.Epochs, train.RowCount, train.RowCount, 0, 0, null, $"history elements embedded with their items' {string.Join(", ", attributes.Columns)}"));

        TorchCtrTrainer.Options resolved = _options with { Model = modelOptions, BatchSize = _options.ResolveBatchSize(train.RowCount) };
        if (_options.BatchSize is null)
            _options.Progress?.Report(new TrainingProgress(TrainingPhase.Reading, 0, _options.Epochs, train.RowCount, train.RowCount, 0, 0, null, $"batches of {resolved.BatchSize} rows"));

        manual_seed(_options.SeedValue);
        var context = new CtrModelContext(layout, modelOptions);
        CtrModel model = TorchCtrTransformer.CreateModel(_options.ModelType, context);
        try
        {
            warmStart?.CopyWeights(model, layout, _options.Progress);
            foreach (FeatureEmbedding embedding in model.modules().OfType<FeatureEmbedding>())
                embedding.SetHistoryAttributes(attributes.Maps);
            var loop = new TrainingLoop(model, resolved, layout, Fingerprint(layout, resolved, warmStart))
            {
                StartOptimizer = warmStart is null ? null : optimizer => warmStart.StartOptimizer(optimizer, _options),
                EarlierSettings = _options.Resume ? EarlierSettings(layout, resolved, warmStart) : null,
            };
            var history = loop.Run(train, valid);
            return new TorchCtrTransformer(_host, layout, modelOptions, _options.ModelType, model, history, _options.ScoringBatchSize, _options.LabelColumnName, loop.OptimizerState);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Adds <c>Score</c>, <c>Probability</c> and <c>PredictedLabel</c> to the input schema.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        if (!inputSchema.TryFindColumn(_options.LabelColumnName, out SchemaShape.Column label))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find label column '{_options.LabelColumnName}'");
        if (label.Kind != SchemaShape.Column.VectorKind.Scalar || !FeatureReader.IsLabelType(label.ItemType))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for label column '{_options.LabelColumnName}': expected Boolean, Single or Double, got {label.GetTypeString()}");
        foreach (string name in (_options.NumericColumnNames ?? []).Concat(_options.CategoricalColumnNames ?? []))
        {
            if (!inputSchema.TryFindColumn(name, out _))
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find input column '{name}'");
        }
        var columns = inputSchema.ToDictionary(c => c.Name);
        foreach (SchemaShape.Column column in TorchCtrTransformer.OutputShape())
            columns[column.Name] = column;
        return new SchemaShape(columns.Values);
    }

    private void CheckLabel(DataViewSchema schema)
    {
        DataViewSchema.Column? label = schema.GetColumnOrNull(_options.LabelColumnName);
        if (label is null)
            throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find label column '{_options.LabelColumnName}'");
        if (!FeatureReader.IsLabelType(label.Value.Type))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for label column '{_options.LabelColumnName}': expected Boolean, Single or Double, got {label.Value.Type}");
    }

    /// <summary>
    /// The fingerprints of a checkpoint written with the defaults before 2026-12-06 (BatchSize 1024 where it is now
    /// automatic, EmbeddingL2 0, the prior on every table) and otherwise <paramref name="resolved"/>'s settings, each
    /// with the options that resume it: resuming such a checkpoint with the same code as before then says what to set.
    /// </summary>
    private Dictionary<string, string> EarlierSettings(FeatureLayout layout, Options resolved, WarmStart? warmStart)
    {
        int[] batchSizes = _options.BatchSize is null ? [resolved.BatchSize!.Value, Options.DefaultBatchSize] : [resolved.BatchSize!.Value];
        (double L2, int Minimum)[] priors = [(resolved.EmbeddingL2, resolved.EmbeddingL2MinimumTableSize), (resolved.EmbeddingL2, 0), (0, resolved.EmbeddingL2MinimumTableSize)];
        var settings = new Dictionary<string, string>();
        foreach (int batchSize in batchSizes)
        {
            foreach ((double l2, int minimum) in priors)
            {
                var changes = new List<string>();
                if (batchSize != resolved.BatchSize)
                    changes.Add($"BatchSize = {batchSize}");
                if (l2 != resolved.EmbeddingL2)
                    changes.Add("EmbeddingL2 = 0");
                else if (l2 > 0 && minimum != resolved.EmbeddingL2MinimumTableSize)
                    changes.Add("EmbeddingL2MinimumTableSize = 0");
                if (changes.Count > 0)
                    settings.TryAdd(Fingerprint(layout, resolved with { BatchSize = batchSize, EmbeddingL2 = l2, EmbeddingL2MinimumTableSize = minimum }, warmStart), string.Join(", ", changes));
            }
        }
        return settings;
    }

    /// <summary>Identifies what a checkpoint was written for: features, model type and hyperparameters, optimizer, warm start.</summary>
    /// <remarks>
    /// <paramref name="options"/> holds the resolved history attributes (their maps and projections are weights of the
    /// checkpoint) and the resolved batch size.
    /// </remarks>
    private static string Fingerprint(FeatureLayout layout, Options options, WarmStart? warmStart)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            layout.Write(writer);
            writer.Write(CtrModelRegistry.NameOf(options.ModelType));
            NetworkFormat.WriteOptions(writer, options.Model);
            writer.Write($"{options.Optimizer}|{options.BatchSize}|{options.SeedValue}");
            if (options.EmbeddingL2 > 0)
            {
                // Absent when off, so earlier checkpoints keep resuming; the minimum size absent at 0, every table, which
                // is what the prior did before it had a minimum size.
                writer.Write(options.EmbeddingL2);
                if (options.EmbeddingL2MinimumTableSize > 0)
                    writer.Write(options.EmbeddingL2MinimumTableSize);
            }
            warmStart?.WriteIdentity(writer);
        }
        return Convert.ToHexString(SHA256.HashData(stream.ToArray()));
    }
}
