using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Transforms;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The tree steps of a hybrid just before its first network, as <see cref="HybridCtrTrainer"/> makes them: key
/// columns one-hot (<c>MapKeyToVector</c>), their concatenation with numeric columns, a FastTree binary classifier on
/// that vector, and a copy of its <c>Score</c> (the margin the blend reads; the calibrated probability is not used).
/// <see cref="PreparedCtrScorer"/> binds the transforms before these steps only and evaluates the trees with a
/// <see cref="FlatTreeEnsemble"/> from the key and numeric columns the vector is made of.
/// </summary>
internal sealed class PreparedTrees
{
    private readonly ITransformer[] _steps;
    private readonly FastTreeBinaryModelParameters _model;
    private readonly string _featureColumn;
    private readonly string[] _vectorParts;
    private readonly Dictionary<string, string> _oneHot;

    private PreparedTrees(int start, ITransformer[] steps, FastTreeBinaryModelParameters model, string featureColumn, string[] vectorParts, Dictionary<string, string> oneHot)
    {
        Start = start;
        _steps = steps;
        _model = model;
        _featureColumn = featureColumn;
        _vectorParts = vectorParts;
        _oneHot = oneHot;
    }

    /// <summary>The index of the first tree step: the transforms before it are the ones to bind.</summary>
    public int Start { get; }

    /// <summary>
    /// The tree steps that end just before <paramref name="end"/> and write <paramref name="treeColumn"/>, or null
    /// when the steps there are not of that form.
    /// </summary>
    public static PreparedTrees? TryFind(IReadOnlyList<ITransformer> steps, int end, string treeColumn)
    {
        if (end < 3 || steps[end - 1] is not ColumnCopyingTransformer copy || PreparedCtrScorer.CopiesOfScore(copy) is not string[] copies || !copies.Contains(treeColumn))
            return null;
        if (steps[end - 2] is not ISingleFeaturePredictionTransformer<object> trees
            || (trees.Model is CalibratedModelParametersBase calibrated ? calibrated.SubModel : trees.Model) is not FastTreeBinaryModelParameters model)
            return null;
        if (HybridCtrTrainer.ConcatenatedColumns(steps[end - 3]) is not var (vector, vectorParts) || vector != trees.FeatureColumnName)
            return null;
        // The one-hot steps before it whose every output is a part of the vector; a later step's output hides an earlier's.
        int start = end - 3;
        while (start > 0 && HybridCtrTrainer.OneHotColumns(steps[start - 1]) is { } pairs && pairs.All(p => vectorParts.Contains(p.Output)))
            start--;
        var sources = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = start; i < end - 3; i++)
        {
            foreach (var (output, key) in HybridCtrTrainer.OneHotColumns(steps[i])!)
                sources[output] = key;
        }
        return new PreparedTrees(start, [.. steps.Skip(start).Take(end - start)], model, trees.FeatureColumnName, vectorParts, sources);
    }

    /// <summary>
    /// The evaluator for rows with <paramref name="schema"/> (the output of the transforms before <see cref="Start"/>),
    /// or null when a part of the trees' vector is not a column there of a type it knows, or the trees cannot be laid
    /// out exactly. <paramref name="produced"/> gets the names the tree steps add, which later steps must not read
    /// from the bound transforms.
    /// </summary>
    public Evaluator? TryBind(DataViewSchema schema, out ImmutableArray<string> produced)
    {
        produced = [];
        DataViewSchema output;
        DataViewSchema vector;
        try
        {
            output = new TransformerChain<ITransformer>(_steps).GetOutputSchema(schema);
            vector = new TransformerChain<ITransformer>(_steps[..^2]).GetOutputSchema(schema);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return null;
        }
        produced = [.. output.Skip(schema.Count).Select(c => c.Name)];
        var parts = new List<TreeInputPart>();
        foreach (string name in _vectorParts)
        {
            TreeInputPart? part = _oneHot.TryGetValue(name, out string? key)
                ? schema.GetColumnOrNull(key) is { IsHidden: false, Type: KeyDataViewType { RawType: var raw } keyType } && raw == typeof(uint) && keyType.Count is > 0 and <= int.MaxValue
                    ? new TreeInputPart(key, (int)keyType.Count, IsOneHot: true) : null
                : schema.GetColumnOrNull(name) switch
                {
                    { IsHidden: false, Type: var type } when type == NumberDataViewType.Single => new TreeInputPart(name, 1, IsOneHot: false),
                    { IsHidden: false, Type: VectorDataViewType { ItemType: var item, Size: > 0 and var size } } when item == NumberDataViewType.Single => new TreeInputPart(name, size, IsOneHot: false),
                    _ => null,
                };
            if (part is null)
                return null;
            parts.Add(part);
        }
        if (vector[_featureColumn].Type is not VectorDataViewType { Size: var width } || width != parts.Sum(p => p.Width))
            return null;
        return FlatTreeEnsemble.TryCreate(_model.TrainedTreeEnsemble, parts) is { } ensemble ? new Evaluator(ensemble, [.. parts]) : null;
    }

    /// <summary>The flat trees and the columns they read; <see cref="Bind"/> makes a reader of rows into a block.</summary>
    internal sealed class Evaluator(FlatTreeEnsemble ensemble, ImmutableArray<TreeInputPart> parts)
    {
        public ImmutableArray<TreeInputPart> Parts { get; } = parts;

        public FlatTreeEnsemble Ensemble { get; } = ensemble;

        /// <summary>A reader of the current row of <paramref name="row"/> into a block of rows scored together.</summary>
        public BlockReader Bind(DataViewRow row) => new(Ensemble, Parts, row);
    }

    /// <summary>
    /// Reads the trees' inputs of a bound row, row after row, into row-major blocks kept between calls, and scores the
    /// rows read together (<see cref="FlatTreeEnsemble.Score(ReadOnlySpan{int}, ReadOnlySpan{float}, Span{float})"/>).
    /// </summary>
    internal sealed class BlockReader
    {
        private readonly FlatTreeEnsemble _ensemble;
        private readonly (ValueGetter<uint> Get, int Offset, uint Count)[] _keys;
        private readonly (ValueGetter<float> Get, int At)[] _scalars;
        private readonly (ValueGetter<VBuffer<float>> Get, int At, int Width)[] _vectors;
        private int[] _hot = [];
        private float[] _numbers = [];
        private int _capacity; // rows
        private VBuffer<float> _values;

        public BlockReader(FlatTreeEnsemble ensemble, ImmutableArray<TreeInputPart> parts, DataViewRow row)
        {
            _ensemble = ensemble;
            var keys = new List<(ValueGetter<uint>, int, uint)>();
            var scalars = new List<(ValueGetter<float>, int)>();
            var vectors = new List<(ValueGetter<VBuffer<float>>, int, int)>();
            int offset = 0, at = 0;
            foreach (TreeInputPart part in parts)
            {
                DataViewSchema.Column column = row.Schema[part.ColumnName];
                if (part.IsOneHot)
                    keys.Add((row.GetGetter<uint>(column), offset, (uint)part.Width));
                else if (part.Width == 1 && column.Type is not VectorDataViewType)
                    scalars.Add((row.GetGetter<float>(column), at));
                else
                    vectors.Add((row.GetGetter<VBuffer<float>>(column), at, part.Width));
                offset += part.Width;
                at += part.IsOneHot ? 0 : part.Width;
            }
            (_keys, _scalars, _vectors) = ([.. keys], [.. scalars], [.. vectors]);
        }

        /// <summary>The hot feature per one-hot part of the first <paramref name="count"/> rows read, row after row.</summary>
        public ReadOnlySpan<int> Hot(int count) => _hot.AsSpan(0, count * _ensemble.OneHotParts);

        /// <summary>The numeric parts' floats of the first <paramref name="count"/> rows read, row after row.</summary>
        public ReadOnlySpan<float> Numbers(int count) => _numbers.AsSpan(0, count * _ensemble.NumericWidth);

        /// <summary>Reads the current row as the block's row <paramref name="index"/> (0, 1, … in order; the block grows as needed).</summary>
        public void Read(int index)
        {
            int parts = _ensemble.OneHotParts, width = _ensemble.NumericWidth;
            if (index >= _capacity)
            {
                _capacity = Math.Max(16, (index + 1) * 2);
                Array.Resize(ref _hot, _capacity * parts);
                Array.Resize(ref _numbers, _capacity * width);
            }
            Span<int> hot = _hot.AsSpan(index * parts, parts);
            Span<float> numbers = _numbers.AsSpan(index * width, width);
            uint key = 0;
            for (int p = 0; p < _keys.Length; p++)
            {
                _keys[p].Get(ref key);
                // As MapKeyToVector: key k in 1..Count is feature k - 1 of the part, any other key none.
                hot[p] = key - 1 < _keys[p].Count ? _keys[p].Offset + (int)(key - 1) : -1;
            }
            foreach (var (get, slot) in _scalars)
                get(ref numbers[slot]);
            foreach (var (get, slot, size) in _vectors)
            {
                get(ref _values);
                _values.CopyTo(numbers.Slice(slot, size));
            }
        }

        /// <summary>Writes the margins of the first <paramref name="margins"/>.Length rows read.</summary>
        public void Score(Span<float> margins) => _ensemble.Score(Hot(margins.Length), Numbers(margins.Length), margins);
    }
}
