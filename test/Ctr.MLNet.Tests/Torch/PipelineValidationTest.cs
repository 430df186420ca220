using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>Early stopping inside <c>pipeline.Fit(train)</c>: raw validation data, or a hold-out of the training rows.</summary>
[TestClass]
public sealed class PipelineValidationTest
{
    private static readonly List<PlantedClicks.Row> Rows = PlantedClicks.Generate(3000, seed: 5);

    public sealed class TimedRow
    {
        public bool Label { get; set; }

        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        public double Time { get; set; }
    }

    private static TorchCtrTrainer.Options Quick() => new()
    {
        Epochs = 3,
        BatchSize = 256,
        Threads = 1,
        Patience = 1,
        Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 4 },
    };

    private static IEstimator<ITransformer> Features(MLContext ml) =>
        ml.Ctr().Transforms.MapToVocabulary("UserId", "User").Append(ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item"));

    private static string History(TorchCtrTransformer network) =>
        string.Join(" | ", network.History.Select(h => $"{h.Epoch}: {h.TrainLoss:R} {h.ValidAuc:R} {h.ValidLogLoss:R}"));

    [TestMethod]
    public void PipelineValidationTest_RawValidationDataGoesThroughTheFittedTransforms()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Rows.Take(2500)), valid = ml.Data.LoadFromEnumerable(Rows.Skip(2500));
        ITransformer features = Features(ml).Fit(train);
        using TorchCtrTransformer expected = ml.BinaryClassification.Trainers.TorchCtr(Quick()).Fit(features.Transform(train), features.Transform(valid));

        var sut = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ValidationData = valid })).Fit(train);

        Assert.IsFalse(double.IsNaN(sut.LastTransformer.History[0].ValidAuc), "validation ran");
        Assert.AreEqual(History(expected), History(sut.LastTransformer), "the same as fitting the network apart on transformed validation data");
        sut.LastTransformer.Dispose();
    }

    [TestMethod]
    public void PipelineValidationTest_SeededHoldOutIsLeftOutOfTraining()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(Rows);
        ITransformer features = Features(ml).Fit(data);
        DataOperationsCatalog.TrainTestData split = ml.Data.TrainTestSplit(features.Transform(data), 0.2, seed: Quick().Seed);
        using TorchCtrTransformer expected = ml.BinaryClassification.Trainers.TorchCtr(Quick()).Fit(split.TrainSet, split.TestSet);
        long trainedRows = 0;
        var options = Quick() with { ValidationFraction = 0.2, Progress = new Progress(p => trainedRows = p.Phase == TrainingPhase.Reading ? p.RowsDone : trainedRows) };

        var sut = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(data);

        Assert.IsTrue(trainedRows is > 2200 and < 2600, $"about 80% of 3000 rows trained, got {trainedRows}");
        Assert.AreEqual(History(expected), History(sut.LastTransformer));
        sut.LastTransformer.Dispose();
    }

    [TestMethod]
    public void PipelineValidationTest_TimeHoldOutTakesTheLatestRows()
    {
        var ml = new MLContext(seed: 1);
        // Rows arrive newest first, so "latest" is not "last read".
        var rows = Rows.Select((r, i) => new TimedRow { Label = r.Label, User = r.User, Item = r.Item, Time = 1_700_000_000 - i * 60.0 }).ToList();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        ITransformer features = Features(ml).Fit(data);
        double threshold = rows.Select(r => r.Time).OrderDescending().ElementAt(599);
        IDataView transformed = features.Transform(data);
        using TorchCtrTransformer expected = ml.BinaryClassification.Trainers.TorchCtr(Quick())
            .Fit(ml.Data.FilterRowsByColumn(transformed, "Time", upperBound: threshold), ml.Data.FilterRowsByColumn(transformed, "Time", lowerBound: threshold));

        var sut = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ValidationFraction = 0.2, ValidationTimeColumnName = "Time" })).Fit(data);

        Assert.AreEqual(History(expected), History(sut.LastTransformer), "the 600 latest rows validate");
        sut.LastTransformer.Dispose();
    }

    [TestMethod]
    public void PipelineValidationTest_ErrorsNameTheProblem()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(Rows.Take(500));
        IDataView wrong = ml.Data.LoadFromEnumerable(Rows.Take(100).Select(r => new { r.Label, r.User }));

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ValidationData = wrong })).Fit(data));
        StringAssert.Contains(missing.Message, "'Item'");
        var time = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ValidationFraction = 0.1, ValidationTimeColumnName = "When" })).Fit(data));
        StringAssert.Contains(time.Message, "'When'");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ValidationFraction = 1.0 }));
        ITransformer features = Features(ml).Fit(data);
        var both = Assert.ThrowsExactly<InvalidOperationException>(() =>
            ml.BinaryClassification.Trainers.TorchCtr(Quick() with { ValidationFraction = 0.1 }).Fit(features.Transform(data), features.Transform(data)));
        StringAssert.Contains(both.Message, "one way");
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
