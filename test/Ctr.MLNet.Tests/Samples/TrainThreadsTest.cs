using System.Collections.Generic;
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
    /// <summary>
    /// libtorch's own default made three threads on any machine (it is one thread per core, so one on a one-core
    /// machine, where a run that fell back to it would look right): OMP_NUM_THREADS sets it, and MKL_DYNAMIC=FALSE
    /// keeps MKL from cutting it down to the cores there are.
    /// </summary>
    private static readonly Dictionary<string, string> s_threeThreadsByDefault = new() { ["OMP_NUM_THREADS"] = "3", ["MKL_DYNAMIC"] = "FALSE" };

    [TestMethod]
    public void TrainThreadsTest_InitModelKeepsTheOneThreadDefault()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 1500, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string day1 = Path.Combine(directory.Path, "day1.zip"), day2 = Path.Combine(directory.Path, "day2.zip");

        var (coldCode, cold) = SampleProcess.RunWith(s_threeThreadsByDefault, "train", "--train", train, "--valid", test, "--model", day1, "--epochs", "1", "--batch-size", "256", "--trees", "0", "--networks", "1");
        var (warmCode, warm) = SampleProcess.RunWith(s_threeThreadsByDefault, "train", "--train", train, "--valid", test, "--model", day2, "--epochs", "1", "--batch-size", "256", "--init-model", day1);

        Assert.AreEqual(3, ChildProcess.TorchThreadsInNewProcess(s_threeThreadsByDefault), "libtorch's default in the runs' environment");
        Assert.AreEqual(0, coldCode, cold);
        Assert.AreEqual(0, warmCode, warm);
        StringAssert.Contains(cold, "; 1 torch thread(s)");
        StringAssert.Contains(warm, "; 1 torch thread(s)", "--init-model must not fall back to libtorch's default of one thread per core");
    }
}
