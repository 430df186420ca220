using System.Collections.Generic;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>Linear → (BatchNorm) → ReLU → (Dropout) per hidden layer, then a linear layer to <c>outputs</c>.</summary>
public sealed class MlpBlock : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> layers;

    /// <summary>An MLP from <paramref name="inputs"/> features through <see cref="CtrModelOptions.HiddenUnits"/>.</summary>
    public MlpBlock(long inputs, CtrModelOptions options, long outputs = 1)
        : base(nameof(MlpBlock))
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long width = inputs;
        for (int i = 0; i < options.HiddenUnits.Length; i++)
        {
            modules.Add(($"linear{i}", nn.Linear(width, options.HiddenUnits[i])));
            if (options.BatchNorm)
                modules.Add(($"norm{i}", nn.BatchNorm1d(options.HiddenUnits[i])));
            modules.Add(($"relu{i}", nn.ReLU(inplace: true))); // its input (the linear or norm output) is not needed for backward
            if (options.Dropout > 0)
                modules.Add(($"dropout{i}", nn.Dropout(options.Dropout)));
            width = options.HiddenUnits[i];
        }
        modules.Add(("output", nn.Linear(width, outputs)));
        layers = nn.Sequential(modules.ToArray());
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input) => layers.call(input);

    /// <summary>The layers in call order (linear, norm, ReLU, dropout, ..., output).</summary>
    internal IEnumerable<nn.Module<Tensor, Tensor>> Layers()
    {
        var sequential = (TorchSharp.Modules.Sequential)layers;
        for (int i = 0; i < sequential.Count; i++)
            yield return (nn.Module<Tensor, Tensor>)sequential[i];
    }
}
