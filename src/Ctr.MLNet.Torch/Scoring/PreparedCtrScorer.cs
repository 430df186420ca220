using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Ctr.MLNet.Torch.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Scores small batches through a fitted chain that ends in CTR networks (each maybe followed by a copy of its
/// <c>Score</c>) and optionally a <see cref="LogitBlendTransformer"/>, as <c>train</c> saves them, with the work a
/// model server repeats on every call done once. <c>Transform</c> binds every transformer to a new view per call, and
/// each network re-reads its features through a second cursor down the whole chain, so the feature transforms run
/// once per network plus once more; here the transforms before the first network are bound once as a row-to-row
/// mapper over a row whose values are swapped per call (as <c>PredictionEngine</c> does), each row goes through them
/// once, the feature buffers are kept between calls, one tensor batch serves every network with the same inputs, a
/// hybrid's FastTree ensemble is walked from the key and numeric columns it reads, the rows of a call together
/// (<see cref="FlatTreeEnsemble"/>, without building its one-hot vector), the default network (<see cref="DnnCtrModel"/>) runs its forward pass in managed
/// code without a libtorch call (<see cref="ManagedDnn"/>), and the blend is computed directly. The probabilities are the
/// same floats that <c>Transform</c> gives for the same rows (the same transforms, tree margins, network forward passes
/// and blend arithmetic; the managed forward gives a row the same floats in a pass of any size, while another network's
/// libtorch products may round differently in a pass of another size, as they do in <c>Transform</c>); when one call
/// throws, score that input with <c>Transform</c> for its error message, whose row numbers count from the call's first
/// row. One instance serves one caller at a time; it does not own the model.
/// </summary>
public sealed class PreparedCtrScorer
{
    private readonly DataViewSchema _inputSchema;
    private readonly SwappedRow _input;
    private readonly DataViewRow _row;
    private readonly NetworkGroup[] _groups;
    private readonly (TorchCtrTransformer Network, NetworkGroup Group, ManagedDnn? Managed)[] _networks;
    private readonly bool _allManaged;
    private readonly int[] _blendNetworks;
    private readonly LogitBlend? _blend;
    private readonly Func<float>? _tree; // the trees' margin read from the bound transforms
    private readonly PreparedTrees.BlockReader? _treeBlock; // or the trees walked here, over the rows of a call at once
    private float[][] _logits = [];
    private float[] _trees = [];
    private int[] _rows = [];

    private PreparedCtrScorer(DataViewSchema inputSchema, IRowToRowMapper prefix, List<TorchCtrTransformer> networks, int[] blendNetworks, LogitBlend? blend, string? treeColumn, PreparedTrees.Evaluator? trees, Func<TorchCtrTransformer, ManagedDnn?> managedForward)
    {
        _inputSchema = inputSchema;
        _input = new SwappedRow(inputSchema);
        DataViewSchema output = prefix.OutputSchema;
        IEnumerable<string> treeInputs = trees is not null ? trees.Parts.Select(p => p.ColumnName) : treeColumn is null ? [] : [treeColumn];
        var needed = networks.SelectMany(n => n.Layout.InputColumns).Concat(treeInputs).Distinct().Select(name => output[name]);
        _row = prefix.GetRow(_input, needed);
        var groups = new List<NetworkGroup>();
        _networks = new (TorchCtrTransformer, NetworkGroup, ManagedDnn?)[networks.Count];
        for (int k = 0; k < networks.Count; k++)
        {
            NetworkGroup? group = groups.FirstOrDefault(g => SameLayout(g.Layout, networks[k].Layout));
            if (group is null)
            {
                group = new NetworkGroup(networks[k].Layout, _row);
                groups.Add(group);
            }
            _networks[k] = (networks[k], group, managedForward(networks[k]));
        }
        _groups = [.. groups];
        _allManaged = _networks.All(n => n.Managed is not null);
        _blendNetworks = blendNetworks;
        _blend = blend;
        if (trees is not null)
        {
            _treeBlock = trees.Bind(_row);
        }
        else if (treeColumn is not null)
        {
            ValueGetter<float> getter = _row.GetGetter<float>(output[treeColumn]);
            float margin = 0;
            _tree = () =>
            {
                getter(ref margin);
                return margin;
            };
        }
    }

    /// <summary>The schema a view given to <see cref="Score"/> must have (the one the scorer was prepared for).</summary>
    public DataViewSchema InputSchema => _inputSchema;

    /// <summary>
    /// Prepares <paramref name="model"/> for views with <paramref name="inputSchema"/>, or returns null when the chain
    /// is not of the form this scorer knows (score such a model with <c>Transform</c>).
    /// </summary>
    public static PreparedCtrScorer? TryCreate(ITransformer model, DataViewSchema inputSchema) => TryCreate(model, inputSchema, prepareNetworks: true);

    /// <summary>As <see cref="TryCreate(ITransformer, DataViewSchema)"/>; without <paramref name="prepareNetworks"/> every network runs its module's forward (to compare both).</summary>
    internal static PreparedCtrScorer? TryCreate(ITransformer model, DataViewSchema inputSchema, bool prepareNetworks) =>
        TryCreate(model, inputSchema, prepareNetworks ? n => n.ManagedForScoring : _ => null);

    /// <summary>As <see cref="TryCreate(ITransformer, DataViewSchema)"/>, each network scored by <paramref name="managedForward"/>'s managed form of it (null: its module's forward), to compare forms.</summary>
    internal static PreparedCtrScorer? TryCreate(ITransformer model, DataViewSchema inputSchema, Func<TorchCtrTransformer, ManagedDnn?> managedForward)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputSchema);
        List<ITransformer> steps = [.. Flatten(model)];
        int first = steps.FindIndex(t => t is TorchCtrTransformer);
        if (first < 0)
            return null;

        // The suffix: networks, copies of their Score, and at most one blend at the very end. Which network each
        // column the blend reads comes from, and which names the suffix adds (none may hide a column the networks or
        // the blend read from the prefix).
        var networks = new List<TorchCtrTransformer>();
        var producedBy = new Dictionary<string, int>(StringComparer.Ordinal);
        var added = new HashSet<string>(StringComparer.Ordinal);
        LogitBlendTransformer? blend = null;
        for (int i = first; i < steps.Count; i++)
        {
            switch (steps[i])
            {
                case TorchCtrTransformer network:
                    networks.Add(network);
                    foreach (DataViewSchema.DetachedColumn column in TorchCtrTransformer.OutputColumns())
                    {
                        added.Add(column.Name);
                        producedBy[column.Name] = networks.Count - 1;
                    }
                    break;
                case ColumnCopyingTransformer copy when networks.Count > 0:
                    if (CopiesOfScore(copy) is not string[] names)
                        return null;
                    foreach (string name in names)
                    {
                        if (name is "Probability" or "PredictedLabel")
                            return null; // would replace the answer itself
                        added.Add(name);
                        producedBy[name] = producedBy["Score"];
                    }
                    break;
                case LogitBlendTransformer last when i == steps.Count - 1:
                    blend = last;
                    break;
                default:
                    return null;
            }
        }

        // The hybrid's trees, when the prefix ends in them, are evaluated here from the columns they read; else the
        // whole prefix is bound and the trees' margin read from it.
        string[] networkInputs = [.. networks.SelectMany(n => n.Layout.InputColumns).Distinct()];
        PreparedTrees? treeSteps = blend?.TreeScoreColumn is string treeScore ? PreparedTrees.TryFind(steps, first, treeScore) : null;
        PreparedTrees.Evaluator? trees = null;
        IRowToRowMapper? mapper = null;
        if (treeSteps is not null && BindPrefix(steps, treeSteps.Start, inputSchema) is { } beforeTrees)
        {
            trees = treeSteps.TryBind(beforeTrees.OutputSchema, out ImmutableArray<string> treeColumns);
            if (trees is not null && !networkInputs.Intersect(treeColumns).Any())
                mapper = beforeTrees;
            else
                trees = null;
        }
        mapper ??= BindPrefix(steps, first, inputSchema);
        if (mapper is null)
            return null;

        DataViewSchema output = mapper.OutputSchema;
        string?[] read = trees is null ? [.. networkInputs, blend?.TreeScoreColumn] : [.. networkInputs, .. trees.Parts.Select(p => p.ColumnName)];
        foreach (string column in read.OfType<string>())
        {
            if (added.Contains(column) || output.GetColumnOrNull(column) is not { IsHidden: false })
                return null;
        }
        if (trees is null && blend?.TreeScoreColumn is string tree && output[tree].Type != NumberDataViewType.Single)
            return null;
        int[] blendNetworks = [];
        if (blend is not null)
        {
            blendNetworks = new int[blend.NetworkScoreColumns.Length];
            for (int k = 0; k < blendNetworks.Length; k++)
            {
                if (!producedBy.TryGetValue(blend.NetworkScoreColumns[k], out blendNetworks[k]) || blend.NetworkScoreColumns[k] is "Probability" or "PredictedLabel")
                    return null;
            }
        }
        try
        {
            foreach (TorchCtrTransformer network in networks)
                network.Layout.CheckSchema(output);
            return new PreparedCtrScorer(inputSchema, mapper, networks, blendNetworks, blend?.Blend, blend?.TreeScoreColumn, trees, managedForward);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException and not ObjectDisposedException)
        {
            return null; // Transform reports what is wrong with the columns
        }
    }

    /// <summary>The first <paramref name="count"/> steps bound as one row-to-row mapper, or null when they cannot be.</summary>
    private static IRowToRowMapper? BindPrefix(List<ITransformer> steps, int count, DataViewSchema inputSchema)
    {
        ITransformer prefix = new TransformerChain<ITransformer>([.. steps.Take(count)]);
        if (!prefix.IsRowToRowMapper)
            return null;
        try
        {
            return prefix.GetRowToRowMapper(inputSchema);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the probability of every row of <paramref name="rows"/> (a view with <see cref="InputSchema"/>) to
    /// <paramref name="probabilities"/>, in order, and returns the number of rows.
    /// </summary>
    /// <exception cref="ArgumentException">The view has another schema, or more rows than <paramref name="probabilities"/> holds.</exception>
    public int Score(IDataView rows, Span<float> probabilities)
    {
        int count = ReadFeatures(rows);
        if (count > probabilities.Length)
            throw new ArgumentException($"{count} rows but room for {probabilities.Length} probabilities.", nameof(probabilities));
        if (count == 0)
            return 0;
        RunNetworks(count);
        Blend(probabilities[..count]);
        return count;
    }

    /// <summary>Runs every row of <paramref name="rows"/> through the bound transforms into the feature blocks; returns the rows read.</summary>
    internal int ReadFeatures(IDataView rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (!ReferenceEquals(rows.Schema, _inputSchema) && !SameSchema(rows.Schema, _inputSchema))
            throw new ArgumentException("The view's schema is not the one the scorer was prepared for.", nameof(rows));
        foreach (NetworkGroup group in _groups)
            group.Block.Clear();
        int count = 0;
        using DataViewRowCursor cursor = rows.GetRowCursor(rows.Schema);
        _input.Bind(cursor);
        while (cursor.MoveNext())
        {
            _input.Advance();
            if (count == _trees.Length)
                Grow(Math.Max(16, count * 2));
            foreach (NetworkGroup group in _groups)
                group.Reader.Append(group.Block);
            if (_treeBlock is not null)
                _treeBlock.Read(count);
            else if (_tree is not null)
                _trees[count] = _tree();
            count++;
        }
        _treeBlock?.Score(_trees.AsSpan(0, count));
        return count;
    }

    /// <summary>Whether the trees are evaluated here (<see cref="FlatTreeEnsemble"/>), not read from the bound transforms.</summary>
    internal bool EvaluatesTrees => _treeBlock is not null;

    /// <summary>The tree margins of the rows <see cref="ReadFeatures"/> read (0 without trees).</summary>
    internal ReadOnlySpan<float> TreeMargins(int count) => _trees.AsSpan(0, count);

    /// <summary>Each network's logits of the first <paramref name="count"/> rows read (without <paramref name="forward"/>, only the tensors the modules' forward reads).</summary>
    internal void RunNetworks(int count, bool forward = true)
    {
        ReadOnlySpan<int> rows = _rows.AsSpan(0, count);
        for (int k = 0; k < _networks.Length && forward; k++)
        {
            if (_networks[k].Managed is { } managed)
            {
                _networks[k].Network.CheckNotDisposed(); // the copied weights outlive the module
                managed.Score(_networks[k].Group.Block, rows, _logits[k].AsSpan(0, count));
            }
        }
        if (_allManaged)
            return; // no tensors to build
        using (NewDisposeScope())
        using (inference_mode())
        {
            foreach (NetworkGroup group in _groups)
                group.Batch = null;
            for (int k = 0; k < _networks.Length; k++)
            {
                (TorchCtrTransformer network, NetworkGroup group, ManagedDnn? managed) = _networks[k];
                if (managed is not null)
                    continue;
                group.Batch ??= group.Builder.Build(group.Block, rows, withLabels: false);
                if (forward)
                {
                    using (NewDisposeScope()) // each network's intermediates go before the next runs; the inputs stay
                        network.Score(group.Batch, _logits[k].AsSpan(0, count));
                }
            }
            foreach (NetworkGroup group in _groups)
                group.Batch = null;
        }
    }

    /// <summary>The probabilities of the rows whose logits <see cref="RunNetworks"/> computed: the blend's, or the last network's.</summary>
    internal void Blend(Span<float> probabilities)
    {
        int count = probabilities.Length;
        if (_blend is null)
        {
            float[] logits = _logits[^1];
            for (int r = 0; r < count; r++)
                probabilities[r] = TorchCtrTransformer.Sigmoid(logits[r]);
            return;
        }
        Span<float> mean = stackalloc float[_blendNetworks.Length];
        for (int r = 0; r < count; r++)
        {
            for (int k = 0; k < mean.Length; k++)
                mean[k] = _logits[_blendNetworks[k]][r];
            probabilities[r] = TorchCtrTransformer.Sigmoid(_blend.Score(LogitBlend.MeanLogit(mean), _tree is null && _treeBlock is null ? 0f : _trees[r]));
        }
    }

    /// <summary>Room for <paramref name="capacity"/> rows; the tree margins read so far are kept.</summary>
    private void Grow(int capacity)
    {
        Array.Resize(ref _trees, capacity);
        _rows = [.. Enumerable.Range(0, capacity)];
        _logits = [.. _networks.Select(_ => new float[capacity])];
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    /// <summary>The columns <paramref name="copy"/> makes, when it copies only <c>Score</c>: bound to a schema of that column alone, anything else fails.</summary>
    internal static string[]? CopiesOfScore(ColumnCopyingTransformer copy)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Score", NumberDataViewType.Single);
        DataViewSchema score = builder.ToSchema();
        try
        {
            DataViewSchema output = copy.GetOutputSchema(score);
            return [.. output.Skip(score.Count).Select(c => c.Name)];
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static bool SameLayout(FeatureLayout a, FeatureLayout b) =>
        a.Tables.SequenceEqual(b.Tables) && a.Categorical.SequenceEqual(b.Categorical) && a.Sequences.SequenceEqual(b.Sequences) && a.Numeric.SequenceEqual(b.Numeric);

    private static bool SameSchema(DataViewSchema a, DataViewSchema b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.Type.Equals(p.Second.Type));

    /// <summary>The features of one network layout: read from the mapped row into a block kept between calls.</summary>
    private sealed class NetworkGroup(FeatureLayout layout, DataViewRow row)
    {
        public FeatureLayout Layout { get; } = layout;

        public FeatureReader Reader { get; } = new(row, layout, labelColumn: null);

        public FeatureBlock Block { get; } = new(layout, capacity: 16);

        public BatchBuilder Builder { get; } = new(layout);

        public CtrBatch? Batch { get; set; }
    }

    /// <summary>
    /// The row the bound transforms read: each column forwards to the current cursor's getter. Its position only grows
    /// (across calls too), so the transforms' per-row caches never mistake a new row for the last one.
    /// </summary>
    private sealed class SwappedRow : DataViewRow
    {
        private readonly IForward[] _columns;
        private long _position = -1;

        public SwappedRow(DataViewSchema schema)
        {
            Schema = schema;
            _columns = [.. schema.Select(c => (IForward)Activator.CreateInstance(typeof(Forward<>).MakeGenericType(c.Type.RawType), c)!)];
        }

        public override DataViewSchema Schema { get; }

        public override long Position => _position;

        public override long Batch => 0;

        public void Bind(DataViewRow cursor)
        {
            foreach (IForward column in _columns)
                column.Bind(cursor);
        }

        public void Advance() => _position++;

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) =>
            _columns[column.Index] as Forward<TValue> is { } forward
                ? forward.Get
                : throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        private interface IForward
        {
            void Bind(DataViewRow cursor);
        }

        private sealed class Forward<T>(DataViewSchema.Column column) : IForward
        {
            private ValueGetter<T>? _current;

            public void Bind(DataViewRow cursor) => _current = cursor.GetGetter<T>(cursor.Schema[column.Index]);

            public void Get(ref T value) => (_current ?? throw new InvalidOperationException("No rows to score."))(ref value);
        }
    }
}
