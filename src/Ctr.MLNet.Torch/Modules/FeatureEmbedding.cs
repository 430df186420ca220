using System.Collections.Generic;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// One embedding table per vocabulary (columns sharing a vocabulary share the table), looked up for every
/// scalar field and pooled over the valid elements of every sequence field (weighted by the per-element
/// weights). Output: [rows, fields, dim], scalar fields first, then sequence fields.
/// </summary>
public sealed class FeatureEmbedding : nn.Module<CtrBatch, Tensor>
{
    private readonly ModuleList<EmbeddingBag> tables;
    private readonly FeatureLayout _layout;
    private readonly SequencePooling _pooling;

    /// <summary>Builds the tables for <paramref name="context"/>'s layout.</summary>
    public FeatureEmbedding(CtrModelContext context)
        : base(nameof(FeatureEmbedding))
    {
        _layout = context.Layout;
        _pooling = context.Options.Pooling;
        Dim = context.Options.EmbeddingDim;
        tables = nn.ModuleList(_layout.Tables.Select(t => nn.EmbeddingBag(t.Size, Dim, mode: EmbeddingBagMode.Sum, padding_index: 0)).ToArray());
        using (no_grad())
        {
            foreach (EmbeddingBag table in tables)
            {
                nn.init.normal_(table.weight!, 0, context.Options.EmbeddingInitStd);
                table.weight![0].zero_();
            }
        }
        RegisterComponents();
    }

    /// <summary>Embedding width.</summary>
    public int Dim { get; }

    /// <summary>Number of fields in the output: scalar categorical plus sequence fields.</summary>
    public int FieldCount => _layout.Categorical.Length + _layout.Sequences.Length;

    /// <summary>The table of vocabulary <paramref name="index"/> (see <see cref="FeatureLayout.Tables"/>).</summary>
    public EmbeddingBag Table(int index) => tables[index];

    /// <summary>[rows, fields, dim] field embeddings.</summary>
    public override Tensor forward(CtrBatch batch)
    {
        var fields = new List<Tensor>(FieldCount);
        for (int f = 0; f < _layout.Categorical.Length; f++)
        {
            using Tensor ids = batch.Categorical![.., f];
            fields.Add(tables[_layout.Categorical[f].Table].weight!.index_select(0, ids));
        }
        for (int s = 0; s < _layout.Sequences.Length; s++)
            fields.Add(PoolSequence(s, batch.Sequences[s]));
        Tensor stacked = stack(fields, dim: 1);
        foreach (Tensor field in fields)
            field.Dispose();
        return stacked;
    }

    /// <summary>Pooled embedding [rows, dim] of sequence field <paramref name="index"/>.</summary>
    public Tensor PoolSequence(int index, SequenceBatch sequence)
    {
        Tensor sum = tables[_layout.Sequences[index].Table].call(sequence.Ids, sequence.Offsets, sequence.Weights);
        if (_pooling == SequencePooling.Sum)
            return sum;
        // An empty row sums to zero with weight 0: dividing by a tiny positive number keeps it zero.
        using (sum)
        using (Tensor denominator = sequence.WeightSums.clamp_min(1e-12f).unsqueeze(1))
            return sum.div(denominator);
    }
}
