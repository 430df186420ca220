using System.Collections.Generic;
using System.Linq;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The default network: field embeddings (sequences pooled over their valid elements) concatenated with the
/// numeric features, through an MLP to one logit. A history whose elements carry their items' attributes
/// (<see cref="CtrModelOptions.HistoryAttributes"/>) adds the dot product of its candidate and its pooled embedding
/// to the MLP's inputs: the candidate-to-history similarity an MLP over concatenated embeddings approximates poorly.
/// </summary>
public sealed class DnnCtrModel : CtrModel
{
    private readonly FeatureEmbedding embedding;
    private readonly MlpBlock mlp;
    private readonly int[] _dotSequences;

    /// <summary>Builds the network for <paramref name="context"/>.</summary>
    public DnnCtrModel(CtrModelContext context)
        : base(nameof(DnnCtrModel))
    {
        embedding = new FeatureEmbedding(context);
        _dotSequences = [.. Enumerable.Range(0, context.Layout.Sequences.Length).Where(embedding.HasAttributes)];
        mlp = new MlpBlock(embedding.TotalDim + context.Layout.NumericWidth + _dotSequences.Length, context.Options);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(CtrBatch batch)
    {
        // The fields and the numerics joined by one cat (not the embedding's cat and then another).
        List<Tensor> fields = embedding.FieldCount > 0 ? embedding.Fields(batch) : [];
        int scalars = batch.Layout.Categorical.Length;
        foreach (int s in _dotSequences)
        {
            using Tensor candidate = embedding.CandidateOf(s, fields);
            using Tensor product = candidate.mul(fields[scalars + s]);
            fields.Add(product.sum(1, keepdim: true));
        }
        int owned = fields.Count;
        if (batch.Numeric is not null)
            fields.Add(batch.Numeric);
        using Tensor features = fields.Count == 1 ? fields[0].alias() : cat(fields, dim: 1);
        for (int i = 0; i < owned; i++)
            fields[i].Dispose();
        using Tensor logits = mlp.call(features);
        return logits.squeeze(-1);
    }

    /// <summary>This network's managed scoring form for <paramref name="layout"/> (its own), or null when it has none.</summary>
    internal ManagedDnn? ManagedForScoring(FeatureLayout layout, long maxTableBytes = ManagedDnn.DefaultMaxTableBytes, bool fuseHistories = true, long maxFoldedTableBytes = ManagedDnn.DefaultMaxFoldedTableBytes) =>
        ManagedDnn.TryCreate(layout, embedding, mlp, _dotSequences, maxTableBytes, fuseHistories, maxFoldedTableBytes);
}
