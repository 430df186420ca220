using System.Collections.Generic;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The default network: field embeddings (sequences pooled over their valid elements) concatenated with the
/// numeric features, through an MLP to one logit.
/// </summary>
public sealed class DnnCtrModel : CtrModel
{
    private readonly FeatureEmbedding embedding;
    private readonly MlpBlock mlp;

    /// <summary>Builds the network for <paramref name="context"/>.</summary>
    public DnnCtrModel(CtrModelContext context)
        : base(nameof(DnnCtrModel))
    {
        embedding = new FeatureEmbedding(context);
        mlp = new MlpBlock(embedding.TotalDim + context.Layout.NumericWidth, context.Options);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(CtrBatch batch)
    {
        // The fields and the numerics joined by one cat (not the embedding's cat and then another).
        List<Tensor> fields = embedding.FieldCount > 0 ? embedding.Fields(batch) : [];
        int owned = fields.Count;
        if (batch.Numeric is not null)
            fields.Add(batch.Numeric);
        using Tensor features = fields.Count == 1 ? fields[0].alias() : cat(fields, dim: 1);
        for (int i = 0; i < owned; i++)
            fields[i].Dispose();
        using Tensor logits = mlp.call(features);
        return logits.squeeze(-1);
    }
}
