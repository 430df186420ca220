using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>A damaged checkpoint, a checkpoint that is not there, and a model that yields NaN are never trained on or saved.</summary>
[TestClass]
public sealed class CheckpointIntegrityTest
{
    static CheckpointIntegrityTest() => CtrModelRegistry.Register<NaNOnValidationModel>("test-nan-on-validation");

    private static readonly List<PlantedClicks.Row> Train = PlantedClicks.Generate(1500, seed: 1);
    private static readonly List<PlantedClicks.Row> Valid = PlantedClicks.Generate(500, seed: 2);

    private static TorchCtrTrainer.Options Quick() => new()
    {
        NumericColumnNames = ["Price"],
        SequenceWeights = new Dictionary<string, string> { ["HistoryIds"] = "HistoryWeights" },
        Epochs = 2,
        BatchSize = 256,
        Threads = 1,
        Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 4 },
    };

    private static (IDataView Train, IDataView Valid) Features(MLContext ml)
    {
        IDataView train = ml.Data.LoadFromEnumerable(Train), valid = ml.Data.LoadFromEnumerable(Valid);
        ITransformer features = PlantedClicks.Features(ml).Fit(train);
        return (features.Transform(train), features.Transform(valid));
    }

    [TestMethod]
    public void CheckpointIntegrityTest_TwoFlippedBytesAreACorruptCheckpointNotAResume()
    {
        var ml = new MLContext(seed: 1);
        var (train, valid) = Features(ml);
        using var directory = new TemporaryDirectory();
        var options = Quick() with { CheckpointDirectory = directory.Path };
        using (ml.BinaryClassification.Trainers.TorchCtr(options with { Epochs = 1 }).Fit(train, valid))
        {
        }
        string checkpoint = Path.Combine(directory.Path, "checkpoint.ctr");
        byte[] bytes = File.ReadAllBytes(checkpoint);
        bytes[bytes.Length / 2] ^= 0x40; // inside the weights
        bytes[bytes.Length / 2 + 1000] ^= 0x01;
        File.WriteAllBytes(checkpoint, bytes);

        var error = Assert.ThrowsExactly<FormatException>(() => ml.BinaryClassification.Trainers.TorchCtr(options with { Resume = true }).Fit(train, valid));

        StringAssert.Contains(error.Message, $"Checkpoint '{checkpoint}' is corrupt: its SHA-256 checksum does not match its contents");
        StringAssert.Contains(error.Message, "Delete it to start over");
    }

    [TestMethod]
    public void CheckpointIntegrityTest_ResumeWithAnEmptyOrMisspelledDirectoryIsAnError()
    {
        using var directory = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);

        foreach (string checkpoints in new[] { directory.Path, Path.Combine(directory.Path, "chekpoints") })
        {
            var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { CheckpointDirectory = checkpoints, Resume = true }));
            StringAssert.Contains(error.Message, $"Resume: there is no checkpoint in '{checkpoints}'");
        }
    }

    [TestMethod]
    public void CheckpointIntegrityTest_AModelThatGivesNonFiniteValidationProbabilitiesIsNeverReturned()
    {
        var ml = new MLContext(seed: 1);
        var (train, valid) = Features(ml);

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ModelType = typeof(NaNOnValidationModel), NumericColumnNames = [] }).Fit(train, valid));

        StringAssert.Contains(error.Message, "After epoch 1 the model gives validation row 1 the probability NaN; a model that yields non-finite probabilities is never saved.");
    }

    /// <summary>Trains normally but scores NaN, like weights a flipped bit has damaged.</summary>
    private sealed class NaNOnValidationModel : CtrModel
    {
        private readonly FeatureEmbedding weights;

        public NaNOnValidationModel(CtrModelContext context)
            : base(nameof(NaNOnValidationModel))
        {
            weights = new FeatureEmbedding(context with { Options = context.Options with { EmbeddingDim = 1 } });
            RegisterComponents();
        }

        public override torch.Tensor forward(CtrBatch batch)
        {
            using torch.Tensor fields = weights.call(batch);
            return fields.sum(1);
        }

        public override torch.Tensor ValidationStep(CtrBatch batch)
        {
            using torch.Tensor probability = base.ValidationStep(batch);
            return probability * float.NaN;
        }
    }
}
