using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Torch.Data;
using Ctr.MLNet.Torch.Format;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

[assembly: LoadableClass(typeof(TorchCtrTransformer), null, typeof(SignatureLoadModel), "Torch CTR", TorchCtrTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(TorchCtrTransformer), null, typeof(SignatureLoadRowMapper), "Torch CTR", TorchCtrTransformer.LoaderSignature)]

namespace Ctr.MLNet.Torch;

/// <summary>
/// A trained CTR network inside an ML.NET pipeline: adds <c>Score</c> (the logit), <c>Probability</c> and
/// <c>PredictedLabel</c>. <see cref="ITransformer.Transform"/> scores in batches; <c>PredictionEngine</c> scores
/// one row at a time. The weights save into the same model zip as the feature pipeline.
/// </summary>
public sealed class TorchCtrTransformer : RowToRowTransformerBase, ITransformer, IDisposable
{
    internal const string LoaderSignature = "TorchCtrTransformer";
    private const string WeightsStream = "TorchWeights";
    private const string OptimizerStream = "TorchOptimizerState";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRTORCH",
        //verWrittenCur: 0x00010002, // Target attention pools as CtrModelOptions.Pooling (mean by default)
        //verWrittenCur: 0x00010003, // Network by registered name, options as named typed fields (NetworkFormat)
        verWrittenCur: 0x00010004, // Options end with history_attributes (history elements embedded with their items' attributes)
        verReadableCur: 0x00010004,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(TorchCtrTransformer).Assembly.FullName);

    private const uint VersionAttentionSummed = 0x00010001;
    private const uint VersionJsonOptions = 0x00010002;

    private readonly CtrModel _model;
    private readonly Type _modelType;
    private readonly int _scoringBatchSize;
    private readonly Lazy<ManagedDnn?> _managed;
    private volatile bool _disposed;

    internal TorchCtrTransformer(IHost host, FeatureLayout layout, CtrModelOptions modelOptions, Type modelType, CtrModel model,
        IReadOnlyList<EpochMetrics> history, int scoringBatchSize, string labelColumnName, byte[]? optimizerState = null)
        : base(host)
    {
        OptimizerState = optimizerState;
        Layout = layout;
        LabelColumnName = labelColumnName;
        ModelOptions = modelOptions;
        _modelType = modelType;
        _model = model;
        _model.eval();
        _managed = new(() => _model is DnnCtrModel dnn ? dnn.ManagedForScoring(Layout) : null);
        History = [.. history];
        _scoringBatchSize = scoringBatchSize;
    }

    /// <summary>The inputs the network reads.</summary>
    public FeatureLayout Layout { get; }

    /// <summary>The label column the network was trained on (for evaluating it later).</summary>
    public string LabelColumnName { get; }

    /// <summary>The network's registered name (<see cref="CtrModelRegistry"/>), saved in the model zip.</summary>
    public string NetworkName => CtrModelRegistry.NameOf(_modelType);

    /// <summary>The network's hyperparameters.</summary>
    public CtrModelOptions ModelOptions { get; }

    /// <summary>Metrics of every training epoch.</summary>
    public ImmutableArray<EpochMetrics> History { get; }

    /// <summary>
    /// The trained network (in evaluation mode). Owned by this transformer. The default network (<see cref="DnnCtrModel"/>)
    /// is scored from a copy of its weights taken when it first scores: weights changed in place after that (<c>load</c>,
    /// an optimizer step) are not seen; save the model and load it again to score with them.
    /// </summary>
    public CtrModel Model => _model;

    /// <summary>
    /// Whether the optimizer's state was kept with the weights (<see cref="TorchCtrTrainer.Options.KeepOptimizerState"/>),
    /// so that <see cref="TorchCtrTrainer.FitIncremental"/> continues it.
    /// </summary>
    public bool HasOptimizerState => OptimizerState is not null;

    /// <summary>The optimizer's state in TorchSharp's format, or null.</summary>
    internal byte[]? OptimizerState { get; }

    /// <summary>Scores in batches of the scoring batch size: one forward pass per batch, not per row.</summary>
    public new IDataView Transform(IDataView input)
    {
        Host.CheckValue(input, nameof(input));
        CheckNotDisposed();
        Layout.CheckSchema(input.Schema);
        return new BatchScoringDataView(this, input);
    }

    IDataView ITransformer.Transform(IDataView input) => Transform(input);

    /// <summary>Frees the network's native memory; scoring with it afterwards throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        _disposed = true;
        _model.Dispose();
    }

    /// <summary>
    /// Throws when <see cref="Dispose"/> was called: the managed forward's copy of the weights would still score, while
    /// every other network (and this one's module) would fail with TorchSharp's message, which names neither.
    /// </summary>
    internal void CheckNotDisposed()
    {
        if (_disposed)
            throw new ObjectDisposedException(nameof(TorchCtrTransformer), $"This '{NetworkName}' network was disposed; load the model zip again to score with it.");
    }

    // DoNotWrapExceptions: a constructor's ArgumentOutOfRangeException (e.g. DeepFM given mixed widths) reaches the
    // caller as it was thrown rather than inside a TargetInvocationException.
    internal static CtrModel CreateModel(Type modelType, CtrModelContext context)
    {
        try
        {
            return (CtrModel)Activator.CreateInstance(modelType, BindingFlags.Public | BindingFlags.Instance | BindingFlags.DoNotWrapExceptions, binder: null, [context], culture: null)!;
        }
        catch (System.Runtime.InteropServices.ExternalException e) when (AllocationBytes(e.Message) is long bytes)
        {
            // libtorch's message runs on with a page of C++ frames; the size is what the user can act on.
            throw new InvalidOperationException($"The {CtrModelRegistry.NameOf(modelType)} network does not fit in memory: libtorch could not allocate {bytes:N0} bytes for its weights; lower emb_dim or hash_buckets in the spec (or the hidden units).", e);
        }
    }

    /// <summary>The N of libtorch's "can't allocate memory: you tried to allocate N bytes", or null for another error.</summary>
    private static long? AllocationBytes(string message)
    {
        const string Failure = "can't allocate memory: you tried to allocate ";
        int at = message.IndexOf(Failure, StringComparison.Ordinal);
        if (at < 0)
            return null;
        ReadOnlySpan<char> rest = message.AsSpan(at + Failure.Length);
        int digits = 0;
        while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            digits++;
        return long.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out long bytes) ? bytes : null;
    }

    internal static IEnumerable<SchemaShape.Column> OutputShape() =>
    [
        new SchemaShape.Column(AnnotationUtils.Const.ScoreValueKind.Score, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
        new SchemaShape.Column(AnnotationUtils.Const.ScoreValueKind.Probability, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation(isNormalized: true))),
        new SchemaShape.Column(AnnotationUtils.Const.ScoreValueKind.PredictedLabel, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, false, new SchemaShape(AnnotationUtils.GetTrainerOutputAnnotation())),
    ];

    /// <summary>The three output columns, annotated as ML.NET's binary classifiers annotate theirs.</summary>
    internal static DataViewSchema.DetachedColumn[] OutputColumns()
    {
        DataViewSchema.Annotations Annotations(string valueKind, bool normalized)
        {
            var builder = new DataViewSchema.Annotations.Builder();
            builder.Add(AnnotationUtils.Kinds.ScoreColumnSetId, AnnotationUtils.ScoreColumnSetIdType, (ref uint v) => v = 1);
            builder.Add(AnnotationUtils.Kinds.ScoreColumnKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = AnnotationUtils.Const.ScoreColumnKind.BinaryClassification.AsMemory());
            builder.Add(AnnotationUtils.Kinds.ScoreValueKind, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = valueKind.AsMemory());
            if (normalized)
                builder.Add(AnnotationUtils.Kinds.IsNormalized, BooleanDataViewType.Instance, (ref bool v) => v = true);
            return builder.ToAnnotations();
        }
        return
        [
            new(AnnotationUtils.Const.ScoreValueKind.Score, NumberDataViewType.Single, Annotations(AnnotationUtils.Const.ScoreValueKind.Score, false)),
            new(AnnotationUtils.Const.ScoreValueKind.Probability, NumberDataViewType.Single, Annotations(AnnotationUtils.Const.ScoreValueKind.Probability, true)),
            new(AnnotationUtils.Const.ScoreValueKind.PredictedLabel, BooleanDataViewType.Instance, Annotations(AnnotationUtils.Const.ScoreValueKind.PredictedLabel, false)),
        ];
    }

    /// <summary>Logits of <paramref name="rows"/> of <paramref name="block"/>, written to <paramref name="logits"/>.</summary>
    internal void Score(FeatureBlock block, BatchBuilder builder, ReadOnlySpan<int> rows, Span<float> logits)
    {
        if (ManagedForScoring is { } managed)
        {
            managed.Score(block, rows, logits);
            return;
        }
        using var scope = NewDisposeScope();
        // Inference mode rather than no_grad: no autograd bookkeeping at all (version counters, views), which
        // matters most for one-row calls. The tensors never leave this scope, so none is used outside the mode.
        using var inference = inference_mode();
        CtrBatch batch = builder.Build(block, rows, withLabels: false);
        Score(batch, logits);
    }

    /// <summary>Logits of <paramref name="batch"/>; the caller holds a dispose scope and inference mode.</summary>
    internal void Score(CtrBatch batch, Span<float> logits)
    {
        CheckNotDisposed();
        Tensor output = _model.call(batch).to(float32);
        output.data<float>().CopyTo(logits);
    }

    internal int ScoringBatchSize => _scoringBatchSize;

    /// <summary>
    /// The network's forward pass in managed code, the same floats for a row whatever the pass's size (<see cref="ManagedDnn"/>),
    /// built on first use and shared by batched scoring and every prepared scorer, or null when the network has none or is
    /// not in evaluation mode.
    /// </summary>
    internal ManagedDnn? ManagedForScoring
    {
        get
        {
            CheckNotDisposed();
            return _model.training ? null : _managed.Value;
        }
    }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema)
    {
        CheckNotDisposed();
        return new Mapper(this, schema);
    }

    // Binary format (version 1.3)
    //   FeatureLayout (see FeatureLayout.Write)
    //   string: network name (CtrModelRegistry)
    //   network options (see NetworkFormat.WriteOptions)
    //   int: scoring batch size
    //   string: label column name
    //   training history (see NetworkFormat.WriteHistory)
    //   stream "TorchWeights": the module's state dict in TorchSharp's format
    //   stream "TorchOptimizerState" (optional, KeepOptimizerState): int length, the optimizer's state in TorchSharp's format
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        Layout.Write(ctx.Writer);
        ctx.Writer.Write(NetworkName);
        NetworkFormat.WriteOptions(ctx.Writer, ModelOptions);
        ctx.Writer.Write(_scoringBatchSize);
        ctx.Writer.Write(LabelColumnName);
        NetworkFormat.WriteHistory(ctx.Writer, History);
        ctx.SaveBinaryStream(WeightsStream, writer => _model.save(writer));
        if (OptimizerState is not null)
        {
            ctx.SaveBinaryStream(OptimizerStream, writer =>
            {
                writer.Write(OptimizerState.Length);
                writer.Write(OptimizerState);
            });
        }
    }

    private static TorchCtrTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(TorchCtrTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        FeatureLayout layout = FeatureLayout.Read(ctx.Reader);
        (Type modelType, CtrModelOptions options) = ctx.Header.ModelVerWritten <= VersionJsonOptions
            ? ReadLegacyNetwork(ctx)
            : (CtrModelRegistry.TypeOf(ctx.Reader.ReadString()), NetworkFormat.ReadOptions(ctx.Reader));
        HistoryAttributes.CheckSaved(layout, options.HistoryAttributes);
        int scoringBatchSize = ctx.Reader.ReadInt32();
        string labelColumnName = ctx.Reader.ReadString();
        if (scoringBatchSize < 1)
            throw new FormatException("The model file's trainer section is corrupt.");
        List<EpochMetrics> history = NetworkFormat.ReadHistory(ctx.Reader);

        // Build on the CPU, then load the weights (TorchSharp's save/load rules).
        CtrModel model = CreateModel(modelType, new CtrModelContext(layout, options));
        byte[]? optimizerState = null;
        try
        {
            if (!ctx.TryLoadBinaryStream(WeightsStream, reader => model.load(reader)))
                throw new FormatException($"The model file has no '{WeightsStream}' stream; it is corrupt or was not saved by this library.");
            foreach (FeatureEmbedding embedding in model.modules().OfType<FeatureEmbedding>())
                embedding.CheckHistoryAttributes();
            ctx.TryLoadBinaryStream(OptimizerStream, reader =>
            {
                int length = reader.ReadInt32();
                optimizerState = length >= 0 ? reader.ReadBytes(length) : throw new FormatException("The model file's optimizer state is corrupt.");
                if (optimizerState.Length != length)
                    throw new FormatException("The model file's optimizer state is truncated.");
            });
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new TorchCtrTransformer(host, layout, options, modelType, model, history, scoringBatchSize, labelColumnName, optimizerState);
    }

    /// <summary>Versions 1.1 and 1.2: the options as JSON, the network as an assembly-qualified type name.</summary>
    private static (Type, CtrModelOptions) ReadLegacyNetwork(ModelLoadContext ctx)
    {
        CtrModelOptions options = NetworkFormat.ReadLegacyJsonOptions(ctx.Reader.ReadString());
        string typeName = ctx.Reader.ReadString();
        // The library's networks by their names of that time, so that moving or renaming a class keeps these zips loading.
        Type modelType = typeName[..(typeName.IndexOf(',') is int comma and >= 0 ? comma : typeName.Length)] switch
        {
            "Ctr.MLNet.Torch.DnnCtrModel" => CtrModelRegistry.TypeOf(CtrModelRegistry.Dnn),
            "Ctr.MLNet.Torch.DeepFmModel" => CtrModelRegistry.TypeOf(CtrModelRegistry.DeepFm),
            "Ctr.MLNet.Torch.DcnV2Model" => CtrModelRegistry.TypeOf(CtrModelRegistry.DcnV2),
            "Ctr.MLNet.Torch.TargetAttentionModel" => CtrModelRegistry.TypeOf(CtrModelRegistry.TargetAttention),
            _ => Type.GetType(typeName, throwOnError: false)
                ?? throw new FormatException($"The model file's network type '{typeName}' cannot be loaded: reference the assembly that defines it."),
        };
        // Version 1.1 summed target attention whatever Pooling said; keep scoring such a zip as it was trained.
        if (ctx.Header.ModelVerWritten <= VersionAttentionSummed && modelType == typeof(TargetAttentionModel) && !options.Parameters.ContainsKey(TargetAttentionModel.PoolingParameter))
            options = options with { Parameters = options.Parameters.SetItem(TargetAttentionModel.PoolingParameter, "sum") };
        return (modelType, options);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    /// <summary>Per-row scoring, for PredictionEngine and other row-to-row uses.</summary>
    private sealed class Mapper : MapperBase
    {
        private readonly TorchCtrTransformer _transformer;

        public Mapper(TorchCtrTransformer transformer, DataViewSchema inputSchema)
            : base(transformer.Host.Register(nameof(Mapper)), inputSchema, transformer)
        {
            transformer.Layout.CheckSchema(inputSchema);
            _transformer = transformer;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() => OutputColumns();

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            bool any = Enumerable.Range(0, 3).Any(activeOutput);
            var needed = any ? _transformer.Layout.InputColumns.Select(c => InputSchema[c].Index).ToHashSet() : [];
            return needed.Contains;
        }

        protected override void SaveModel(ModelSaveContext ctx) => _transformer.SaveModel(ctx);

        public override Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            var scorer = new RowScorer(_transformer, input);
            return
            [
                activeOutput(0) ? (ValueGetter<float>)((ref float v) => v = scorer.Logit()) : null!,
                activeOutput(1) ? (ValueGetter<float>)((ref float v) => v = Sigmoid(scorer.Logit())) : null!,
                activeOutput(2) ? (ValueGetter<bool>)((ref bool v) => v = scorer.Logit() > 0) : null!,
            ];
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer) =>
            throw new NotSupportedException("CreateGetters builds all getters together.");
    }

    /// <summary>Scores the current row once, however many output columns ask for it.</summary>
    private sealed class RowScorer(TorchCtrTransformer transformer, DataViewRow row)
    {
        private readonly FeatureReader _reader = new(row, transformer.Layout, labelColumn: null);
        private readonly FeatureBlock _block = new(transformer.Layout, capacity: 1);
        private readonly BatchBuilder _builder = new(transformer.Layout);
        private readonly float[] _logit = new float[1];
        private long _position = -1;

        public float Logit()
        {
            if (_position != row.Position)
            {
                _block.Clear();
                _reader.Append(_block);
                transformer.Score(_block, _builder, [0], _logit);
                _position = row.Position;
            }
            return _logit[0];
        }
    }

    internal static float Sigmoid(float logit) => 1f / (1f + MathF.Exp(-logit));
}
