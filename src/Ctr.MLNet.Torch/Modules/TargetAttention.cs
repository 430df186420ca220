using System;
using System.Collections.Immutable;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// DIN's local activation unit (Zhou et al., 2018): a candidate embedding <c>q</c> attends over the elements
/// <c>k_1 … k_n</c> of a weighted sequence. An MLP scores <c>[q, k, q − k, q ⊙ k]</c> per element, and the output is
/// <c>Σ_i score_i · w_i · k_i</c> over the row's valid elements, <c>w_i</c> being the element weights.
/// </summary>
/// <remarks>
/// As in DIN the scores are not normalized by a softmax, so the output keeps the intensity of the matching interest
/// (how much weight matching elements carry) instead of sharing a fixed total among the elements; an element of
/// weight 0, a padding id (0) and an empty row contribute nothing, so an empty sequence gives zeros. Rows are processed
/// in the sequence's flat <c>EmbeddingBag</c> form (each element knows its row from the offsets), with no padding to
/// the longest row and no per-row loop.
/// </remarks>
public sealed class TargetAttention : nn.Module<Tensor, Tensor, SequenceBatch, Tensor>
{
    private readonly MlpBlock scorer;

    /// <summary>
    /// An attention unit over <paramref name="dim"/>-wide embeddings, scoring through ReLU hidden layers of
    /// <paramref name="hiddenUnits"/> (no batch normalization or dropout: padding-free element batches vary in size).
    /// </summary>
    public TargetAttention(int dim, ImmutableArray<int> hiddenUnits, SequencePooling pooling = SequencePooling.Sum)
        : base(nameof(TargetAttention))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        Dim = dim;
        Pooling = pooling;
        scorer = new MlpBlock(4L * dim, new CtrModelOptions { HiddenUnits = hiddenUnits, BatchNorm = false, Dropout = 0 });
        RegisterComponents();
    }

    /// <summary>Embedding width.</summary>
    public int Dim { get; }

    /// <summary><see cref="SequencePooling.Mean"/> divides each row's sum by its weight sum.</summary>
    public SequencePooling Pooling { get; }

    /// <summary>
    /// Pools <paramref name="keys"/> [elements, dim], the embeddings of <paramref name="sequence"/>'s ids, into
    /// [rows, dim] guided by <paramref name="query"/> [rows, dim].
    /// </summary>
    public override Tensor forward(Tensor query, Tensor keys, SequenceBatch sequence)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(sequence);
        using var scope = NewDisposeScope();
        long rows = query.shape[0], elements = keys.shape[0];
        // Row of each element: the last row whose offset is at or before it (an empty row shares the next row's offset).
        Tensor positions = arange(elements, ScalarType.Int64, query.device);
        Tensor rowOf = searchsorted(sequence.Offsets, positions, right: true).sub(Scalars.One);
        Tensor q = query.index_select(0, rowOf);
        Tensor score = scorer.call(cat([q, keys, q - keys, q * keys], 1)).squeeze(-1);      // [elements]
        Tensor weight = sequence.Weights * sequence.Ids.ne(Scalars.Zero).to(sequence.Weights.dtype);  // padding ids count 0
        Tensor contributions = keys * (score * weight).unsqueeze(1);
        Tensor pooled = zeros([rows, keys.shape[1]], keys.dtype, keys.device).index_add(0, rowOf, contributions, Scalars.One);
        if (Pooling == SequencePooling.Mean)
            pooled = sequence.MeanOf(pooled);
        return pooled.MoveToOuterDisposeScope();
    }
}
