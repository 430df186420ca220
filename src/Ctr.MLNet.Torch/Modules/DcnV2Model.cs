using System;
using System.Collections.Generic;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// DCN-v2 (Wang et al., 2021): the field embeddings (sequence fields pooled) and the numeric features, concatenated
/// into <c>x0</c>, go through a <see cref="CrossNetwork"/> of explicit crosses <c>x_{l+1} = x_0 ⊙ (W_l x_l + b_l) + x_l</c>
/// and through the MLP.
/// </summary>
/// <remarks>
/// <para>Settings in <see cref="CtrModelOptions.Parameters"/>:</para>
/// <list type="bullet">
/// <item><c>cross_layers</c>: number of cross layers, default 3.</item>
/// <item><c>cross_rank</c>: rank of each cross layer's weight (the low-rank <c>W = U V</c> of the paper's mixture-free
/// variant); absent for full-rank layers.</item>
/// <item><c>structure</c>: <c>parallel</c> (default): the cross network beside the MLP, both on <c>x0</c>; the logit is
/// a linear layer on the cross output plus the MLP's output layer on its last hidden layer, which is one linear layer on
/// their concatenation written as two. <c>stacked</c>: the MLP on the cross network's output.</item>
/// </list>
/// </remarks>
public sealed class DcnV2Model : CtrModel
{
    private const string Name = "DCN-v2";
    private readonly FeatureEmbedding embedding;
    private readonly CrossNetwork cross;
    private readonly MlpBlock mlp;
    private readonly Linear? crossOutput;

    /// <summary>Builds the network for <paramref name="context"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting in <see cref="CtrModelOptions.Parameters"/> is invalid.</exception>
    public DcnV2Model(CtrModelContext context)
        : base(nameof(DcnV2Model))
    {
        ArgumentNullException.ThrowIfNull(context);
        CtrModelOptions options = context.Options;
        int layers = ModelParameters.Int(options, Name, "cross_layers", defaultValue: 3, min: 1);
        int? rank = ModelParameters.OptionalInt(options, Name, "cross_rank");
        IsStacked = ModelParameters.Choice(options, Name, "structure", "parallel", "stacked") == "stacked";

        embedding = new FeatureEmbedding(context);
        long width = embedding.TotalDim + context.Layout.NumericWidth;
        cross = new CrossNetwork(width, layers, rank);
        mlp = new MlpBlock(width, options);
        crossOutput = IsStacked ? null : nn.Linear(width, 1);
        RegisterComponents();
    }

    /// <summary>True when the MLP runs on the cross network's output, false when beside it.</summary>
    public bool IsStacked { get; }

    /// <inheritdoc/>
    public override Tensor forward(CtrBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        var inputs = new List<Tensor>(2);
        if (embedding.FieldCount > 0)
            inputs.Add(embedding.call(batch));
        if (batch.Numeric is not null)
            inputs.Add(batch.Numeric);
        Tensor x0 = inputs.Count == 1 ? inputs[0] : cat(inputs, 1);
        Tensor crossed = cross.call(x0);
        Tensor logit = IsStacked
            ? mlp.call(crossed)
            : crossOutput!.call(crossed).add(mlp.call(x0), Scalars.One);
        return logit.squeeze(-1).MoveToOuterDisposeScope();
    }
}
