using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>
/// Checkpoints written before BatchSize became automatic and EmbeddingL2 got its default of 1000 on tables over a
/// minimum size (2026-12-06). The files under TestData/backcompat were written by commit 5a10337 with the options of
/// <see cref="Options"/> and one epoch (checkpoint-2026-12-05-defaults.ctr: its defaults, BatchSize 1024 and
/// EmbeddingL2 0; checkpoint-2026-12-05-embedding-l2-300.ctr: EmbeddingL2 300, a prior on every table then).
/// </summary>
[TestClass]
public sealed class CheckpointCompatTest
{
    private static readonly List<PlantedClicks.Row> Train = PlantedClicks.Generate(600, seed: 1);
    private static readonly List<PlantedClicks.Row> Valid = PlantedClicks.Generate(300, seed: 2);

    private static TorchCtrTrainer.Options Options(string checkpoints) => new()
    {
        NumericColumnNames = ["Price"],
        SequenceWeights = new Dictionary<string, string> { ["HistoryIds"] = "HistoryWeights" },
        Epochs = 2,
        Threads = 1,
        Seed = 1,
        CheckpointDirectory = checkpoints,
        Resume = true,
        Model = new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4 },
    };

    /// <summary>A copy of the committed checkpoint <paramref name="name"/> in <paramref name="directory"/>, as the trainer names it.</summary>
    private static string CopyCheckpoint(string name, TemporaryDirectory directory)
    {
        File.Copy(BackCompatFiles.Path(name), Path.Combine(directory.Path, "checkpoint.ctr"));
        return directory.Path;
    }

    private static TorchCtrTransformer Fit(TorchCtrTrainer.Options options, List<string>? messages = null)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train), valid = ml.Data.LoadFromEnumerable(Valid);
        ITransformer features = PlantedClicks.Features(ml).Fit(train);
        options = options with { Progress = new SynchronousProgress(p => { if (p.Message is not null) messages?.Add(p.Message); }) };
        return ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train), features.Transform(valid));
    }

    [TestMethod]
    public void CheckpointCompatTest_APriorOnEveryTableResumesWithMinimumTableSizeZero()
    {
        using var directory = new TemporaryDirectory();
        string checkpoints = CopyCheckpoint("checkpoint-2026-12-05-embedding-l2-300.ctr", directory);
        var messages = new List<string>();

        // EmbeddingL2MinimumTableSize 0 is what the prior did before the minimum size existed: every table.
        using TorchCtrTransformer resumed = Fit(Options(checkpoints) with { BatchSize = 1024, EmbeddingL2 = 300, EmbeddingL2MinimumTableSize = 0 }, messages);

        CollectionAssert.Contains(messages, "resumed after epoch 1 (step 1)");
        Assert.HasCount(2, resumed.History);

        // The minimum size still tells checkpoints apart when it is set.
        using var fresh = new TemporaryDirectory();
        var withMinimum = Options(fresh.Path) with { Epochs = 1, Resume = false, EmbeddingL2 = 300, EmbeddingL2MinimumTableSize = 50 };
        Fit(withMinimum).Dispose();
        Assert.ThrowsExactly<InvalidOperationException>(() => Fit(withMinimum with { Epochs = 2, Resume = true, EmbeddingL2MinimumTableSize = 0 }));
    }
    [TestMethod]
    public void CheckpointCompatTest_ACheckpointOfEarlierDefaultsNamesTheSettingsThatResumeIt()
    {
        using var directory = new TemporaryDirectory();
        string checkpoints = CopyCheckpoint("checkpoint-2026-12-05-defaults.ctr", directory);

        // The same options as when it was written, today's defaults: automatic batches (32 rows here) and EmbeddingL2 1000.
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(Options(checkpoints)));

        StringAssert.Contains(error.Message, "was written with BatchSize = 1024, EmbeddingL2 = 0");
        var messages = new List<string>();
        using (TorchCtrTransformer resumed = Fit(Options(checkpoints) with { BatchSize = 1024, EmbeddingL2 = 0 }, messages))
            CollectionAssert.Contains(messages, "resumed after epoch 1 (step 1)", "the settings the message names resume it");

        using var prior = new TemporaryDirectory();
        error = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(Options(CopyCheckpoint("checkpoint-2026-12-05-embedding-l2-300.ctr", prior)) with { EmbeddingL2 = 300 }));
        StringAssert.Contains(error.Message, "was written with BatchSize = 1024, EmbeddingL2MinimumTableSize = 0");

        using var other = new TemporaryDirectory();
        error = Assert.ThrowsExactly<InvalidOperationException>(() => Fit(Options(CopyCheckpoint("checkpoint-2026-12-05-defaults.ctr", other)) with { BatchSize = 64 }));
        StringAssert.Contains(error.Message, "was written for different features or model settings", "settings that are no earlier default are not guessed");
    }
}
