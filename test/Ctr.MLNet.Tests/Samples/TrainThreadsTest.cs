using System;
using System.IO;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Tests.Helpers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

/// <summary>
/// <c>train</c> without <c>--threads</c> trains on one torch thread, cold or with <c>--init-model</c>. Each run is a
/// fresh process, since the thread count is a process-wide libtorch setting that an earlier test would leave behind.
/// </summary>
[TestClass]
public sealed class TrainThreadsTest
{
    [TestMethod]
    public void TrainThreadsTest_InitModelKeepsTheOneThreadDefault()
    {
        if (Environment.ProcessorCount < 2)
            Assert.Inconclusive("libtorch's own default is one thread on a one-core machine: nothing to tell apart.");
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 1500, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string day1 = Path.Combine(directory.Path, "day1.zip"), day2 = Path.Combine(directory.Path, "day2.zip");

        var (coldCode, cold) = SampleProcess.Run("train", "--train", train, "--valid", test, "--model", day1, "--epochs", "1", "--batch-size", "256", "--trees", "0", "--networks", "1");
        var (warmCode, warm) = SampleProcess.Run("train", "--train", train, "--valid", test, "--model", day2, "--epochs", "1", "--batch-size", "256", "--init-model", day1);

        Assert.AreEqual(0, coldCode, cold);
        Assert.AreEqual(0, warmCode, warm);
        StringAssert.Contains(cold, "; 1 torch thread(s)");
        StringAssert.Contains(warm, "; 1 torch thread(s)", "--init-model must not fall back to libtorch's one thread per core");
    }
}
