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
        var inputs = new List<Tensor>(2);
        if (embedding.FieldCount > 0)
        {
            inputs.Add(embedding.call(batch));
        }
        if (batch.Numeric is not null)
            inputs.Add(batch.Numeric);
        using Tensor features = inputs.Count == 1 ? inputs[0].alias() : cat(inputs, dim: 1);
        using Tensor logits = mlp.call(features);
        return logits.squeeze(-1);
    }
}
