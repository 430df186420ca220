using System;
using System.Collections.Immutable;
using System.Linq;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(LogitBlendTransformer), null, typeof(SignatureLoadModel), "Logit blend", LogitBlendTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(LogitBlendTransformer), null, typeof(SignatureLoadRowMapper), "Logit blend", LogitBlendTransformer.LoaderSignature)]

namespace Ctr.MLNet.Torch;

/// <summary>
/// The last step of a hybrid: <c>Score = Intercept + NetworkWeight · network logit + TreeWeight · tree margin</c>, where
/// the network logit is the mean of the ensemble's networks' logits, with <c>Probability</c> its sigmoid and
/// <c>PredictedLabel</c> <c>Score &gt; 0</c>. The three weights are a logistic regression fitted on validation rows
/// (<see cref="LogitBlend.Fit"/>), so the blend is calibrated.
/// </summary>
public sealed class LogitBlendTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "CtrLogitBlend";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRBLEND",
        verWrittenCur: 0x00010002, // 1.2: several network score columns, the tree column optional
        verReadableCur: 0x00010002,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(LogitBlendTransformer).Assembly.FullName);

    internal LogitBlendTransformer(IHostEnvironment env, ImmutableArray<string> networkScoreColumns, string? treeScoreColumn, LogitBlend blend)
        : base(env.Register(nameof(LogitBlendTransformer)))
    {
        if (networkScoreColumns.IsDefaultOrEmpty)
            throw new ArgumentException("A logit blend needs at least one network score column.", nameof(networkScoreColumns));
        NetworkScoreColumns = networkScoreColumns;
        TreeScoreColumn = treeScoreColumn;
        Blend = blend;
    }

    /// <summary>The networks' logit columns; their mean is the network logit the blend weighs.</summary>
    public ImmutableArray<string> NetworkScoreColumns { get; }

    /// <summary>The tree ensemble's margin column, or null for a blend of networks alone.</summary>
    public string? TreeScoreColumn { get; }

    /// <summary>The fitted weights and the validation AUCs they were chosen on.</summary>
    public LogitBlend Blend { get; }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format (1.1 had exactly one network column and always a tree column)
    //   int: network score columns K ≥ 1, K strings: their names
    //   string: tree score column, empty for none
    //   3 doubles: intercept, network weight, tree weight
    //   4 doubles: validation AUC of the network, the trees and the blend, and the blend's validation log loss (NaN when unknown)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.Writer.Write(NetworkScoreColumns.Length);
        foreach (string column in NetworkScoreColumns)
            ctx.Writer.Write(column);
        ctx.Writer.Write(TreeScoreColumn ?? "");
        ctx.Writer.Write(Blend.Intercept);
        ctx.Writer.Write(Blend.NetworkWeight);
        ctx.Writer.Write(Blend.TreeWeight);
        ctx.Writer.Write(Blend.NetworkValidAuc);
        ctx.Writer.Write(Blend.TreesValidAuc);
        ctx.Writer.Write(Blend.BlendValidAuc);
        ctx.Writer.Write(Blend.BlendValidLogLoss);
    }

    private static LogitBlendTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        ImmutableArray<string> networks;
        if (ctx.Header.ModelVerWritten >= 0x00010002)
        {
            int count = ctx.Reader.ReadInt32();
            if (count is < 1 or > 1024)
                throw new FormatException($"The model file's logit blend names {count} network score columns; the file is corrupt.");
            networks = [.. Enumerable.Range(0, count).Select(_ => ctx.Reader.ReadString())];
        }
        else
        {
            networks = [ctx.Reader.ReadString()];
        }
        string trees = ctx.Reader.ReadString();
        var blend = new LogitBlend(ctx.Reader.ReadDouble(), ctx.Reader.ReadDouble(), ctx.Reader.ReadDouble(),
            ctx.Reader.ReadDouble(), ctx.Reader.ReadDouble(), ctx.Reader.ReadDouble(), ctx.Reader.ReadDouble());
        if (!double.IsFinite(blend.Intercept) || !double.IsFinite(blend.NetworkWeight) || !double.IsFinite(blend.TreeWeight))
            throw new FormatException("The model file's logit blend weights are not finite; the file is corrupt.");
        return new LogitBlendTransformer(env, networks, trees.Length == 0 ? null : trees, blend);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : MapperBase
    {
        private readonly LogitBlendTransformer _blend;
        private readonly int[] _networks;
        private readonly int _trees;

        public Mapper(LogitBlendTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _blend = parent;
            _networks = [.. parent.NetworkScoreColumns.Select(c => Find(inputSchema, c))];
            _trees = parent.TreeScoreColumn is null ? -1 : Find(inputSchema, parent.TreeScoreColumn);
        }

        private static int Find(DataViewSchema schema, string name)
        {
            DataViewSchema.Column column = schema.GetColumnOrNull(name)
                ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{name}'");
            if (column.Type != NumberDataViewType.Single)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{name}': expected Single, got {column.Type}");
            return column.Index;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() => TorchCtrTransformer.OutputColumns();

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput) =>
            Enumerable.Range(0, 3).Any(activeOutput) ? c => c == _trees || _networks.Contains(c) : _ => false;

        protected override void SaveModel(ModelSaveContext ctx) => _blend.SaveModel(ctx);

        public override Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            var getters = new Delegate[3];
            if (!Enumerable.Range(0, 3).Any(activeOutput))
                return getters; // the inputs are not active then, and asking for their getters would throw
            ValueGetter<float>[] networks = [.. _networks.Select(c => input.GetGetter<float>(input.Schema[c]))];
            ValueGetter<float>? trees = _trees < 0 ? null : input.GetGetter<float>(input.Schema[_trees]);
            LogitBlend blend = _blend.Blend;
            var logits = new float[networks.Length];
            float Score()
            {
                for (int k = 0; k < networks.Length; k++)
                    networks[k](ref logits[k]);
                float t = 0;
                trees?.Invoke(ref t);
                return blend.Score(LogitBlend.MeanLogit(logits), t);
            }
            return
            [
                activeOutput(0) ? (ValueGetter<float>)((ref float v) => v = Score()) : null!,
                activeOutput(1) ? (ValueGetter<float>)((ref float v) => v = TorchCtrTransformer.Sigmoid(Score())) : null!,
                activeOutput(2) ? (ValueGetter<bool>)((ref bool v) => v = Score() > 0) : null!,
            ];
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer) =>
            throw new NotSupportedException("CreateGetters builds all getters together.");
    }
}
