using System;
using System.Collections.Generic;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

/// <summary><see cref="TorchCtrTrainer.Options.MaxCacheBytes"/> holds whatever the size of the data.</summary>
[TestClass]
public sealed class TrainingCacheTest
{
    private static string ReadingMessage(long maxCacheBytes)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(PlantedClicks.Generate(3000, seed: 6));
        var messages = new List<string>();
        var options = new TorchCtrTrainer.Options
        {
            Epochs = 1,
            BatchSize = 256,
            StreamingBlockRows = 1024,
            MaxCacheBytes = maxCacheBytes,
            Threads = 1,
            Progress = new Progress(p =>
            {
                if (p.Phase == TrainingPhase.Reading && p.Message is not null)
                    messages.Add(p.Message);
            }),
        };
        using TorchCtrTransformer network = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(data).LastTransformer;
        Assert.HasCount(1, network.History);
        return string.Join("\n", messages);
    }

    [TestMethod]
    public void TrainingCacheTest_SmallLimitOnSmallDataStreams()
    {
        // 3,000 rows of 2 ids, a history and a label take about 100 kB in compact form.
        StringAssert.Contains(ReadingMessage(maxCacheBytes: 20_000), "streaming 3000 rows every epoch");
        StringAssert.Contains(ReadingMessage(maxCacheBytes: 10_000_000), "cached 3000 rows in memory");
    }

    [TestMethod]
    [DataRow(257, 10_000_000L, 1024, DisplayName = "cached: 4 batches of 64 and one row")]
    [DataRow(258, 1L, 129, DisplayName = "streamed: 2 blocks of 2 batches of 64 and one row")]
    [DataRow(257, 1L, 128, DisplayName = "streamed: 2 blocks of 2 batches of 64, and one row left for a block of its own")]
    public void TrainingCacheTest_EveryRowIsTrainedOnInEveryEpoch(int rows, long maxCacheBytes, int blockRows)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(PlantedClicks.Generate(rows, seed: 6));
        var trained = new List<long>();
        var options = new TorchCtrTrainer.Options
        {
            Epochs = 2,
            Patience = null,
            BatchSize = 64,
            StreamingBlockRows = blockRows,
            MaxCacheBytes = maxCacheBytes,
            Threads = 1,
            Progress = new Progress(p =>
            {
                if (p.Phase == TrainingPhase.EpochEnd)
                    trained.Add(p.RowsDone);
            }),
        };
        using TorchCtrTransformer network = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(data).LastTransformer;
        CollectionAssert.AreEqual(new long[] { rows, rows }, trained, "rows trained on per epoch (a lone last row of a block joins the batch before it)");
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
