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

    /// <summary>The flat trees and the columns they read; <see cref="Bind"/> makes a reader of one row.</summary>
    internal sealed class Evaluator(FlatTreeEnsemble ensemble, ImmutableArray<TreeInputPart> parts)
    {
        public ImmutableArray<TreeInputPart> Parts { get; } = parts;

        /// <summary>A function that reads the current row of <paramref name="row"/> and returns its margin.</summary>
        public Func<float> Bind(DataViewRow row)
        {
            var hot = new int[ensemble.OneHotParts];
            var numbers = new float[ensemble.NumericWidth];
            var keys = new List<(ValueGetter<uint> Get, int Offset, uint Count)>();
            var scalars = new List<(ValueGetter<float> Get, int At)>();
            var vectors = new List<(ValueGetter<VBuffer<float>> Get, int At, int Width)>();
            int offset = 0, at = 0;
            foreach (TreeInputPart part in Parts)
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
            var keyGetters = keys.ToArray();
            var scalarGetters = scalars.ToArray();
            var vectorGetters = vectors.ToArray();
            uint key = 0;
            VBuffer<float> values = default;
            return () =>
            {
                for (int p = 0; p < keyGetters.Length; p++)
                {
                    keyGetters[p].Get(ref key);
                    // As MapKeyToVector: key k in 1..Count is feature k - 1 of the part, any other key none.
                    hot[p] = key - 1 < keyGetters[p].Count ? keyGetters[p].Offset + (int)(key - 1) : -1;
                }
                foreach (var (get, slot) in scalarGetters)
                    get(ref numbers[slot]);
                foreach (var (get, slot, width) in vectorGetters)
                {
                    get(ref values);
                    values.CopyTo(numbers.AsSpan(slot, width));
                }
                return ensemble.Score(hot, numbers);
            };
        }
    }
}
