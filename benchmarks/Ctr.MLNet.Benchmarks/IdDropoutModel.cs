using System.Collections.Generic;
using System.Globalization;
using static TorchSharp.torch;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// Experiment, not a setting: the default network trained with id dropout. In each training batch every scalar id
/// becomes the OOV id (1) with probability <c>id_dropout</c> (model parameter), so the OOV row learns what an unseen id
/// of the field predicts (a time-ordered test period brings many) and frequent ids cannot carry a row alone.
/// Scoring is the default network's forward, unchanged.
/// </summary>
public sealed class IdDropoutModel : Ctr.MLNet.Torch.CtrModel
{
    private const long Oov = 1;
    private readonly Ctr.MLNet.Torch.DnnCtrModel inner;
    private readonly double _rate;

    public IdDropoutModel(Ctr.MLNet.Torch.CtrModelContext context)
        : base(nameof(IdDropoutModel))
    {
        inner = new Ctr.MLNet.Torch.DnnCtrModel(context);
        _rate = double.Parse(context.Options.Parameters.GetValueOrDefault("id_dropout", "0.1"), CultureInfo.InvariantCulture);
        RegisterComponents();
    }

    public override Tensor forward(Ctr.MLNet.Torch.CtrBatch batch) => inner.call(batch);

    public override Tensor TrainingStep(Ctr.MLNet.Torch.CtrBatch batch)
    {
        if (batch.Categorical is Tensor ids && _rate > 0)
        {
            using Tensor draw = rand(ids.shape);
            using Tensor drop = draw.lt(_rate).logical_and_(ids.gt(Oov));
            ids.masked_fill_(drop, Oov);
        }
        return base.TrainingStep(batch);
    }
}
