using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// DeepFM (Guo et al., 2017): the logit is the sum of a first-order term (one learned weight per id of every field,
/// sequence fields pooled like their embeddings, plus a linear term on the numeric features), the factorization
/// machine's pairwise term over the field embeddings (sequence fields pooled first), and an MLP on the concatenated
/// field embeddings and numeric features. The factorization machine and the MLP share the embeddings.
/// </summary>
/// <remarks>
/// The pairwise term takes dot products between fields, so every table must have the same width: set
/// <see cref="CtrModelOptions.EmbeddingDim"/> and leave <see cref="CtrModelOptions.EmbeddingDims"/> empty (or give
/// every vocabulary the same width). No <see cref="CtrModelOptions.Parameters"/> are read.
/// </remarks>
public sealed class DeepFmModel : CtrModel
{
    private readonly FeatureEmbedding firstOrder;
    private readonly Linear? numericLinear;
    private readonly FeatureEmbedding embedding;
    private readonly FactorizationMachine fm;
    private readonly MlpBlock mlp;

    /// <summary>Builds the network for <paramref name="context"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The fields' embedding widths differ.</exception>
    public DeepFmModel(CtrModelContext context)
        : base(nameof(DeepFmModel))
    {
        ArgumentNullException.ThrowIfNull(context);
        FeatureLayout layout = context.Layout;
        int[] widths = [.. layout.Categorical.Select(f => f.Table).Concat(layout.Sequences.Select(s => s.Table)).Select(t => context.Options.DimOf(layout.Tables[t].Name))];
        if (widths.Distinct().Count() > 1)
        {
            string byTable = string.Join(", ", layout.Tables.Select(t => $"'{t.Name}' {context.Options.DimOf(t.Name)}"));
            throw new ArgumentOutOfRangeException(nameof(CtrModelOptions.EmbeddingDims),
                $"DeepFM needs one EmbeddingDim for every field (its factorization machine takes dot products between field embeddings), but the tables' widths differ: {byTable}. Leave EmbeddingDims empty or give every vocabulary the same width.");
        }

        firstOrder = new FeatureEmbedding(context with { Options = context.Options with { EmbeddingDim = 1, EmbeddingDims = ImmutableDictionary<string, int>.Empty } });
        numericLinear = layout.NumericWidth > 0 ? nn.Linear(layout.NumericWidth, 1, hasBias: false) : null;
        embedding = new FeatureEmbedding(context);
        fm = new FactorizationMachine();
        // The MLP's output bias is the model's global bias.
        mlp = new MlpBlock(embedding.TotalDim + layout.NumericWidth, context.Options);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(CtrBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var deepInputs = new List<Tensor>(2);
        var terms = new List<Tensor>(4);
        if (embedding.FieldCount > 0)
        {
            terms.Add(firstOrder.call(batch).sum(1));
            Tensor fields = stack(embedding.Fields(batch), 1);   // [rows, fields, dim]
            terms.Add(fm.call(fields));
            deepInputs.Add(fields.flatten(1));
        }
        if (batch.Numeric is not null)
        {
            terms.Add(numericLinear!.call(batch.Numeric).squeeze(-1));
            deepInputs.Add(batch.Numeric);
        }
        Tensor deep = mlp.call(deepInputs.Count == 1 ? deepInputs[0] : cat(deepInputs, 1)).squeeze(-1);
        Tensor logit = terms.Aggregate(deep, (sum, term) => sum.add(term, Scalars.One));
        return logit.MoveToOuterDisposeScope();
    }
}
