using System.CommandLine;
using System.IO;
using System.Text.Json;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Tests.Helpers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed class QuickstartTest
{
    [TestMethod]
    public void QuickstartTest_GeneratesTrainsAndEvaluatesBesideTheOracle()
    {
        using var directory = new TemporaryDirectory();
        var output = new StringWriter();

        int sut = Program.CreateRootCommand().Parse(["quickstart", "--rows", "3000", "--out", directory.Path, "--epochs", "1"])
            .Invoke(new InvocationConfiguration { Output = output, Error = output });

        Assert.AreEqual(0, sut, output.ToString());
        JsonElement summary = JsonDocument.Parse(output.ToString().TrimEnd().Split('\n')[^1]).RootElement;
        double auc = summary.GetProperty("test_auc").GetDouble(), oracle = summary.GetProperty("oracle_test_auc").GetDouble();
        Assert.IsTrue(auc is > 0 and < 1, $"test AUC {auc}");
        Assert.IsGreaterThan(auc - 0.05, oracle, "nothing beats the planted model by more than noise");
        Assert.AreEqual(600, summary.GetProperty("test_rows").GetInt32());
        Assert.IsTrue(File.Exists(Path.Combine(directory.Path, "model.zip")));
        Assert.AreEqual(2400 - 240 + 1, File.ReadAllLines(Path.Combine(directory.Path, "fit.csv")).Length, "validation rows come out of the training rows");
    }
}
