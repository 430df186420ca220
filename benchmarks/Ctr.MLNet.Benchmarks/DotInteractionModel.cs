using System.Collections.Generic;
using Ctr.MLNet.Torch;
using static TorchSharp.torch;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// An experiment for the sweep, not a library model: <see cref="DnnCtrModel"/> plus the pairwise dot products of
/// the field embeddings (DLRM-style) fed to the MLP beside the embeddings. The planted click model's largest terms
/// are dot products (candidate · weighted history mean, user · item), which an MLP on concatenated embeddings has to
/// approximate from data. Needs every field to have the same embedding width.
/// </summary>
public sealed class DotInteractionModel : CtrModel
{
    private readonly FeatureEmbedding embedding;
    private readonly MlpBlock mlp;
    private readonly long[] _pairIndex;

    public DotInteractionModel(CtrModelContext context)
        : base(nameof(DotInteractionModel))
    {
        embedding = new FeatureEmbedding(context);
        int fields = embedding.FieldCount;
        var pairs = new List<long>();
        for (int i = 0; i < fields; i++)
        {
            for (int j = i + 1; j < fields; j++)
                pairs.Add(i * fields + j);
        }
        _pairIndex = [.. pairs];
        mlp = new MlpBlock(embedding.TotalDim + _pairIndex.Length + context.Layout.NumericWidth, context.Options);
        RegisterComponents();
    }

    public override Tensor forward(CtrBatch batch)
    {
        using var scope = NewDisposeScope();
        List<Tensor> fields = embedding.Fields(batch);
        Tensor stacked = stack(fields, 1);                                   // [rows, fields, dim]
        Tensor dots = bmm(stacked, stacked.transpose(1, 2)).flatten(1);      // [rows, fields²]
        Tensor pairs = dots.index_select(1, tensor(_pairIndex));              // [rows, fields·(fields−1)/2]
        var inputs = new List<Tensor> { stacked.flatten(1), pairs };
        if (batch.Numeric is not null)
            inputs.Add(batch.Numeric);
        Tensor logits = mlp.call(cat(inputs, 1)).squeeze(-1);
        return logits.MoveToOuterDisposeScope();
    }
}
