using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Torch.Data;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The input tensors of one scoring pass for the <see cref="PreparedDnn"/>s of one feature layout, each built from the
/// feature block on first use and shared by every network that reads it (the networks of an ensemble read the same
/// columns). They live in the pass's dispose scope; <see cref="Begin"/> forgets the last pass's.
/// </summary>
internal sealed class ScoringInputs
{
    private readonly FeatureLayout _layout;
    private readonly Dictionary<long[], long[]> _sameMap = new(ReferenceEqualityComparer.Instance); // each map seen to the first equal one
    private readonly List<(int[] Dims, Tensor Index)> _scalarIndexes = [];
    private readonly Dictionary<(long[] Map, int Sequence), Tensor> _attributeIds = [];
    private readonly Sequence?[] _sequences;
    private readonly Tensor?[] _fieldIds;
    private FeatureBlock? _block;
    private ReadOnlyMemory<int> _rows;
    private Tensor? _numeric;
    private bool _complete;

    public ScoringInputs(FeatureLayout layout)
    {
        _layout = layout;
        _sequences = new Sequence?[layout.Sequences.Length];
        _fieldIds = new Tensor?[layout.Categorical.Length];
    }

    /// <summary>Rows in the pass.</summary>
    public int Count => _rows.Length;

    /// <summary>Starts a pass over the first rows of <paramref name="block"/>: <paramref name="rows"/> is 0, 1, ..., count − 1.</summary>
    public void Begin(FeatureBlock block, ReadOnlyMemory<int> rows)
    {
        _block = block;
        _rows = rows;
        _scalarIndexes.Clear();
        _attributeIds.Clear();
        Array.Clear(_sequences);
        Array.Clear(_fieldIds);
        _numeric = null;
        _complete = false;
    }

    /// <summary>
    /// Says that every input of the pass is built: what a network builds later would live only in its own dispose
    /// scope, and the next network would read a freed tensor, so building is refused from here on.
    /// </summary>
    public void Complete() => _complete = true;

    /// <summary>The block to build from, while building is allowed.</summary>
    private FeatureBlock Block =>
        _complete ? throw new InvalidOperationException("A scoring input was built after the pass's inputs were complete; PreparedDnn.ReadInputs must build every input Score reads.")
        : _block ?? throw new InvalidOperationException("No scoring pass has begun.");

    /// <summary>
    /// Int64 [rows × the sum of <paramref name="dims"/>]: for each row and scalar field, the positions of the field's
    /// embedding in a table holding every scalar field's table flattened, table <c>t</c> from <paramref name="tableStart"/>[t].
    /// </summary>
    public Tensor ScalarIndex(int[] dims, long[] tableStart)
    {
        foreach ((int[] known, Tensor index) in _scalarIndexes)
        {
            if (known.AsSpan().SequenceEqual(dims))
                return index;
        }
        FeatureBlock block = Block;
        int width = block.CategoricalWidth, total = dims.Sum();
        Tensor tensor = BatchBuilder.Allocate(ScalarType.Int64, [(long)Count * total], out Span<long> positions);
        int at = 0;
        for (int r = 0; r < Count; r++)
        {
            ReadOnlySpan<int> ids = block.Categorical.AsSpan(r * width, width);
            for (int f = 0; f < width; f++)
            {
                int dim = dims[f];
                long start = tableStart[_layout.Categorical[f].Table] + (long)ids[f] * dim;
                for (int j = 0; j < dim; j++)
                    positions[at++] = start + j;
            }
        }
        _scalarIndexes.Add((dims, tensor));
        return tensor;
    }

    /// <summary>Int64 [rows]: scalar field <paramref name="field"/>'s ids.</summary>
    public Tensor FieldIds(int field)
    {
        if (_fieldIds[field] is { } known)
            return known;
        FeatureBlock block = Block;
        int width = block.CategoricalWidth;
        Tensor tensor = BatchBuilder.Allocate(ScalarType.Int64, [Count], out Span<long> ids);
        for (int r = 0; r < Count; r++)
            ids[r] = block.Categorical[r * width + field];
        return _fieldIds[field] = tensor;
    }

    /// <summary>Sequence field <paramref name="sequence"/> in <c>nn.EmbeddingBag</c> form, and [rows, 1] of what its weighted mean divides by.</summary>
    public Sequence SequenceOf(int sequence)
    {
        if (_sequences[sequence] is { } known)
            return known;
        FeatureBlock.SequenceColumn column = Block.Sequences[sequence];
        ReadOnlySpan<int> rows = _rows.Span;
        int total = BatchBuilder.TotalLength(column, rows);
        Tensor ids = BatchBuilder.Allocate(ScalarType.Int64, [total], out Span<long> idValues);
        Tensor offsets = BatchBuilder.Allocate(ScalarType.Int64, [Count], out Span<long> offsetValues);
        Tensor weights = BatchBuilder.Allocate(ScalarType.Float32, [total], out Span<float> weightValues);
        Tensor denominators = BatchBuilder.Allocate(ScalarType.Float32, [Count, 1], out Span<float> sums);
        BatchBuilder.FillSequence(column, rows, idValues, offsetValues, weightValues, sums);
        // What SequenceBatch.MeanOf divides by (clamp_min of the sums, unsqueezed), written here instead of by two
        // libtorch calls: the weights are finite and not negative, so the clamp is a plain maximum.
        for (int r = 0; r < sums.Length; r++)
            sums[r] = MathF.Max(sums[r], SequenceBatch.MeanFloor);
        return (_sequences[sequence] = new Sequence(ids, offsets, weights, denominators))!;
    }

    /// <summary>
    /// Int64 [elements]: the rows of an attribute's table for sequence field <paramref name="sequence"/>'s elements,
    /// through <paramref name="map"/> (an item row's attribute row); networks whose maps are equal share one tensor.
    /// </summary>
    public Tensor AttributeIds(int sequence, long[] map)
    {
        if (!_sameMap.TryGetValue(map, out long[]? same))
        {
            same = _sameMap.Values.FirstOrDefault(m => m.AsSpan().SequenceEqual(map)) ?? map;
            _sameMap[map] = same;
        }
        if (_attributeIds.TryGetValue((same, sequence), out Tensor? known))
            return known;
        FeatureBlock.SequenceColumn column = Block.Sequences[sequence];
        int start = column.Offsets[0], total = column.Offsets[Count] - start;
        Tensor tensor = BatchBuilder.Allocate(ScalarType.Int64, [total], out Span<long> ids);
        ReadOnlySpan<int> items = column.Ids.AsSpan(start, total);
        for (int i = 0; i < total; i++)
            ids[i] = same[items[i]];
        _attributeIds[(same, sequence)] = tensor;
        return tensor;
    }

    /// <summary>Float32 [rows, numeric width].</summary>
    public Tensor Numeric()
    {
        if (_numeric is not null)
            return _numeric;
        FeatureBlock block = Block;
        int width = block.NumericWidth;
        Tensor tensor = BatchBuilder.Allocate(ScalarType.Float32, [Count, width], out Span<float> values);
        block.Numeric.AsSpan(0, Count * width).CopyTo(values);
        return _numeric = tensor;
    }

    /// <summary>A sequence field's tensors for one pass.</summary>
    public sealed record Sequence(Tensor Ids, Tensor Offsets, Tensor Weights, Tensor Denominators);
}
