using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Torch;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// Experiment: <see cref="DnnCtrModel"/> whose history elements carry their items' attributes. Each history element's
/// embedding is the item's plus the embeddings of the attributes (Parameters <c>item_attributes</c>, e.g. brand,
/// category) last seen with that item as the candidate; the candidate · history dot product joins the MLP's inputs.
/// </summary>
public sealed class SideInfoModel : CtrModel
{
    private readonly FeatureEmbedding embedding;
    private readonly MlpBlock mlp;
    private readonly FeatureLayout _layout;
    private readonly int[] _candidateOf;
    private readonly int[] _attributes;
    private readonly List<Tensor> _attributeOf = [];
    private readonly bool _dot;

    public SideInfoModel(CtrModelContext context)
        : base(nameof(SideInfoModel))
    {
        _layout = context.Layout;
        embedding = new FeatureEmbedding(context);
        _candidateOf = [.. _layout.Sequences.Select(s => _layout.Categorical.Select(c => c.Table).ToList().IndexOf(s.Table))];
        context.Options.Parameters.TryGetValue("item_attributes", out string? names);
        string[] attributeNames = (names ?? "brand,category").Split(',', StringSplitOptions.RemoveEmptyEntries);
        _attributes = [.. attributeNames.Select(n => _layout.Categorical.Select(c => c.ColumnName).ToList().IndexOf(n)).Where(i => i >= 0)];
        _dot = !context.Options.Parameters.TryGetValue("side_dot", out string? dot) || dot != "false";
        int dots = 0;
        for (int s = 0; s < _candidateOf.Length; s++)
        {
            if (_candidateOf[s] < 0)
                continue;
            dots++;
            foreach (int a in _attributes)
            {
                Tensor map = zeros(_layout.Tables[_layout.Sequences[s].Table].Size, dtype: int64);
                register_buffer($"attribute_{s}_{a}", map);
                _attributeOf.Add(map);
            }
        }
        mlp = new MlpBlock(embedding.TotalDim + context.Layout.NumericWidth + (_dot ? dots : 0), context.Options);
        RegisterComponents();
    }

    public override Tensor forward(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        List<Tensor> fields = embedding.Fields(batch);
        int map = 0;
        var extra = new List<Tensor>();
        for (int s = 0; s < _candidateOf.Length; s++)
        {
            int c = _candidateOf[s];
            if (c < 0)
                continue;
            SequenceBatch sequence = batch.Sequences[s];
            Tensor candidates = batch.Categorical![.., c];
            Tensor sum = embedding.Table(_layout.Sequences[s].Table).call(sequence.Ids, sequence.Offsets, sequence.Weights);
            Tensor candidate = fields[c];
            foreach (int a in _attributes)
            {
                Tensor attributeOf = _attributeOf[map++];
                if (training)
                {
                    using (no_grad())
                    {
                        Tensor known = candidates.ge(2);
                        attributeOf.index_put_(batch.Categorical![.., a].masked_select(known), candidates.masked_select(known));
                    }
                }
                EmbeddingBag_(a, attributeOf.index_select(0, sequence.Ids), sequence, ref sum);
                candidate = candidate + fields[a];
            }
            Tensor pooled = sequence.MeanOf(sum);
            fields[_layout.Categorical.Length + s] = pooled;
            if (_dot)
                extra.Add((candidate * pooled).sum(1, keepdim: true));
        }
        if (batch.Numeric is not null)
            fields.Add(batch.Numeric);
        fields.AddRange(extra);
        Tensor logits = mlp.call(cat(fields, 1)).squeeze(-1);
        return logits.MoveToOuterDisposeScope();
    }

    private void EmbeddingBag_(int attribute, Tensor ids, SequenceBatch sequence, ref Tensor sum)
    {
        Tensor attributes = embedding.Table(_layout.Categorical[attribute].Table).call(ids, sequence.Offsets, sequence.Weights);
        sum = sum + attributes;
    }
}
