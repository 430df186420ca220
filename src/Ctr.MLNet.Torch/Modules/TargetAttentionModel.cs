using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Target attention over behaviour histories, DIN-style (Zhou et al., 2018): every sequence field that shares its
/// embedding table with a scalar categorical field (the history of items and the candidate item) is pooled by a
/// <see cref="TargetAttention"/> unit in which the candidate's embedding attends over the history's element embeddings,
/// masked to the valid elements and multiplied by the element weights, with no softmax (see <see cref="TargetAttention"/>).
/// Everything else is as in <see cref="DnnCtrModel"/>: other sequence fields are pooled as
/// <see cref="CtrModelOptions.Pooling"/> says, and the field embeddings and numeric features go through the MLP.
/// </summary>
/// <remarks>
/// <para>The candidate of a sequence field is the first scalar field (in <see cref="FeatureLayout.Categorical"/> order)
/// reading the same table. Without any such pair the model is <see cref="DnnCtrModel"/>.</para>
/// <para>Settings in <see cref="CtrModelOptions.Parameters"/>: <c>attention_units</c>, the attention MLP's hidden
/// widths, comma-separated (default <c>64</c>); <c>attention_pooling</c>, <c>mean</c> or <c>sum</c> (default as
/// <see cref="CtrModelOptions.Pooling"/>): whether each row's attended sum is divided by its weight sum. The scores stay
/// unnormalized either way (no softmax); dividing by the weights keeps long or heavily weighted histories on the scale
/// of short ones, which measured +0.007 AUC on the planted benchmark at 200k rows (benchmarks/README.md).</para>
/// </remarks>
public sealed class TargetAttentionModel : CtrModel
{
    private const string Name = "Target attention";

    /// <summary>The <see cref="CtrModelOptions.Parameters"/> key of the attention's pooling (<c>mean</c> or <c>sum</c>).</summary>
    public const string PoolingParameter = "attention_pooling";
    private readonly FeatureEmbedding embedding;
    private readonly ModuleList<TargetAttention> attention;
    private readonly MlpBlock mlp;
    private readonly FeatureLayout _layout;
    private readonly int[] _candidateOf;
    private readonly int[] _attentionOf;

    /// <summary>Builds the network for <paramref name="context"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting in <see cref="CtrModelOptions.Parameters"/> is invalid.</exception>
    public TargetAttentionModel(CtrModelContext context)
        : base(nameof(TargetAttentionModel))
    {
        ArgumentNullException.ThrowIfNull(context);
        _layout = context.Layout;
        ImmutableArray<int> units = ModelParameters.Widths(context.Options, Name, "attention_units", [64]);
        string pooling = context.Options.Pooling == SequencePooling.Mean ? "mean" : "sum";
        pooling = ModelParameters.Choice(context.Options, Name, PoolingParameter, pooling, pooling == "mean" ? "sum" : "mean");
        AttentionPooling = pooling == "mean" ? SequencePooling.Mean : SequencePooling.Sum;
        _candidateOf = HistoryAttributes.CandidateFields(_layout);
        _attentionOf = new int[_candidateOf.Length];
        var attentionUnits = new List<TargetAttention>();
        for (int s = 0; s < _candidateOf.Length; s++)
        {
            _attentionOf[s] = _candidateOf[s] < 0 ? -1 : attentionUnits.Count;
            if (_candidateOf[s] >= 0)
                attentionUnits.Add(new TargetAttention(context.Options.DimOf(_layout.Tables[_layout.Sequences[s].Table].Name), units, AttentionPooling));
        }
        AttendedSequences = [.. _layout.Sequences.Where((_, s) => _candidateOf[s] >= 0).Select(s => s.ColumnName)];

        embedding = new FeatureEmbedding(context);
        attention = nn.ModuleList(attentionUnits.ToArray());
        mlp = new MlpBlock(embedding.TotalDim + _layout.NumericWidth, context.Options);
        RegisterComponents();
    }

    /// <summary>How the attended sum of a row is pooled: divided by the row's weight sum (<see cref="SequencePooling.Mean"/>) or not.</summary>
    public SequencePooling AttentionPooling { get; }

    /// <summary>The sequence columns pooled by target attention (the others are pooled plainly).</summary>
    public ImmutableArray<string> AttendedSequences { get; }

    /// <inheritdoc/>
    public override Tensor forward(CtrBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var inputs = new List<Tensor>(embedding.FieldCount + 1);
        for (int f = 0; f < _layout.Categorical.Length; f++)
            inputs.Add(embedding.Table(_layout.Categorical[f].Table).weight!.index_select(0, batch.Categorical!.select(1, f)));
        for (int s = 0; s < _layout.Sequences.Length; s++)
        {
            SequenceBatch sequence = batch.Sequences[s];
            if (_attentionOf[s] < 0)
            {
                inputs.Add(embedding.PoolSequence(s, sequence));
                continue;
            }
            Tensor keys = embedding.ElementEmbeddings(s, sequence.Ids);
            inputs.Add(attention[_attentionOf[s]].call(inputs[_candidateOf[s]], keys, sequence));
        }
        if (batch.Numeric is not null)
            inputs.Add(batch.Numeric);
        Tensor logit = mlp.call(inputs.Count == 1 ? inputs[0] : cat(inputs, 1)).squeeze(-1);
        return logit.MoveToOuterDisposeScope();
    }
}
