using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// One embedding table per vocabulary (columns sharing a vocabulary share the table), looked up for every
/// scalar field and pooled over the valid elements of every sequence field, each element weighted by its
/// weight. Fields are ordered scalar fields first, then sequence fields; <c>forward</c> concatenates them.
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
        int[] tableDims = [.. _layout.Tables.Select(t => context.Options.DimOf(t.Name))];
        tables = nn.ModuleList(_layout.Tables.Select((t, i) => nn.EmbeddingBag(t.Size, tableDims[i], mode: EmbeddingBagMode.Sum, padding_index: 0)).ToArray());
        using (no_grad())
        {
            foreach (EmbeddingBag table in tables)
            {
                nn.init.normal_(table.weight!, 0, context.Options.EmbeddingInitStd);
                table.weight![0].zero_();
            }
        }
        FieldDims = [.. _layout.Categorical.Select(f => tableDims[f.Table]).Concat(_layout.Sequences.Select(f => tableDims[f.Table]))];
        RegisterComponents();
    }

    /// <summary>Width of each field's embedding, in field order.</summary>
    public ImmutableArray<int> FieldDims { get; }

    /// <summary>Number of fields: scalar categorical plus sequence fields.</summary>
    public int FieldCount => FieldDims.Length;

    /// <summary>Width of <c>forward</c>'s output: the sum of <see cref="FieldDims"/>.</summary>
    public int TotalDim => FieldDims.Sum();

    /// <summary>The table of vocabulary <paramref name="index"/> (see <see cref="FeatureLayout.Tables"/>).</summary>
    public EmbeddingBag Table(int index) => tables[index];

    /// <summary>[rows, <see cref="TotalDim"/>]: every field's embedding, concatenated.</summary>
    public override Tensor forward(CtrBatch batch)
    {
        List<Tensor> fields = Fields(batch);
        Tensor joined = cat(fields, dim: 1);
        foreach (Tensor field in fields)
            field.Dispose();
        return joined;
    }

    /// <summary>Each field's embedding, [rows, dim] per field, in field order. The caller disposes them.</summary>
    public List<Tensor> Fields(CtrBatch batch)
    {
        var fields = new List<Tensor>(FieldCount);
        for (int f = 0; f < _layout.Categorical.Length; f++)
        {
            using Tensor ids = batch.Categorical![.., f];
            fields.Add(tables[_layout.Categorical[f].Table].weight!.index_select(0, ids));
        }
        for (int s = 0; s < _layout.Sequences.Length; s++)
            fields.Add(PoolSequence(s, batch.Sequences[s]));
        return fields;
    }

    /// <summary>Pooled embedding [rows, dim] of sequence field <paramref name="index"/>.</summary>
    public Tensor PoolSequence(int index, SequenceBatch sequence)
    {
        Tensor sum = tables[_layout.Sequences[index].Table].call(sequence.Ids, sequence.Offsets, sequence.Weights);
        if (_pooling == SequencePooling.Sum)
            return sum;
        using (sum)
            return sequence.MeanOf(sum);
    }
}
