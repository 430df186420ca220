using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed class PlantedWorldTest
{
    private static string Describe(PlantedRow row) => string.Join(',',
        row.ClickText, row.UserIdText, row.ItemIdText, row.BrandText, row.CategoryText, row.DeviceText,
        row.Hour.ToString(CultureInfo.InvariantCulture), row.PriceText, row.AgeText, row.HistoryText, row.HistoryWeightsText,
        row.Probability.ToString("R", CultureInfo.InvariantCulture));

    [TestMethod]
    public void PlantedWorldTest_SameSeedGivesSameRows()
    {
        var sut = PlantedWorld.Create(7);

        string[] first = [.. sut.DrawRows(2_000).Select(Describe)];
        string[] again = [.. PlantedWorld.Create(7).DrawRows(2_000).Select(Describe)];
        string[] otherSeed = [.. PlantedWorld.Create(8).DrawRows(2_000).Select(Describe)];

        CollectionAssert.AreEqual(first, again);
        Assert.IsTrue(first.Zip(otherSeed).Count(p => p.First == p.Second) < 10, "another seed must give other rows");
    }

    [TestMethod]
    public void PlantedWorldTest_OracleAucIsInTheExpectedBandAndHistoryWeightsPayOff()
    {
        var sut = PlantedWorld.Create(1);

        PlantedRow[] rows = [.. sut.DrawRows(20_000)];

        bool[] clicks = [.. rows.Select(r => r.Click)];
        double auc = BinaryMetrics.Auc(clicks, [.. rows.Select(r => r.Probability)]);
        double ctr = clicks.Average(c => c ? 1.0 : 0.0);
        Assert.IsTrue(auc is > 0.75 and < 0.82, $"oracle AUC {auc}");
        Assert.IsTrue(ctr is > 0.15 and < 0.25, $"CTR {ctr}");
        double baseRateLogLoss = -(ctr * Math.Log(ctr) + (1 - ctr) * Math.Log(1 - ctr));
        Assert.IsTrue(BinaryMetrics.LogLoss(clicks, [.. rows.Select(r => r.Probability)]) < baseRateLogLoss - 0.05);
        double ignoringWeights = BinaryMetrics.Auc(clicks, [.. rows.Select(r => r.ProbabilityIgnoringWeights)]);
        double withoutHistory = BinaryMetrics.Auc(clicks, [.. rows.Select(r => r.ProbabilityWithoutHistory)]);
        Assert.IsTrue(auc > ignoringWeights + 0.004, $"weights should pay off: {auc} vs {ignoringWeights} without them");
        Assert.IsTrue(ignoringWeights > withoutHistory + 0.02, $"the history should pay off: {ignoringWeights} vs {withoutHistory} without it");
    }

    [TestMethod]
    public void PlantedWorldTest_HistoriesHaveOneWeightPerElementAndBoundedLength()
    {
        var sut = PlantedWorld.Create(3);

        PlantedRow[] rows = [.. sut.DrawRows(5_000)];

        foreach (PlantedRow row in rows)
        {
            Assert.IsTrue(row.History.Length is >= 0 and <= PlantedWorld.MaxHistoryLength);
            Assert.HasCount(row.History.Length, row.HistoryWeights);
            Assert.IsTrue(row.HistoryWeights.All(w => w > 0));
            Assert.IsTrue(row.History.All(id => id >= 0 && id < PlantedWorld.ItemCount(0)));
            int elements = row.History.Length == 0 ? 0 : row.HistoryText.Split('|').Length;
            Assert.AreEqual(row.History.Length, elements);
            Assert.AreEqual(elements, row.History.Length == 0 ? 0 : row.HistoryWeightsText.Split('|').Length);
            Assert.IsTrue(row.Hour is >= 0 and <= 23);
        }
        Assert.IsTrue(rows.Any(r => r.History.Length == 0), "some rows have no history");
        Assert.IsTrue(rows.Any(r => r.History.Length >= 30), "some rows have long histories");
        Assert.IsTrue(rows.Any(r => r.History.Length == PlantedWorld.MaxHistoryLength), "the cap is reached");
    }

    [TestMethod]
    public void PlantedWorldTest_LogHasDirtyValues()
    {
        var sut = PlantedWorld.Create(1);

        PlantedRow[] rows = [.. sut.DrawRows(20_000)];

        string[] devices = [.. rows.Select(r => r.DeviceText).Distinct()];
        CollectionAssert.IsSubsetOf(new[] { "mobile", "Mobile", "MOBILE", "desktop", "tablet", "" }, devices);
        double dirtyDevices = rows.Count(r => r.DeviceText != r.DeviceText.ToLowerInvariant() || r.DeviceText.Length == 0) / (double)rows.Length;
        Assert.IsTrue(dirtyDevices is > 0.02 and < 0.08, $"dirty devices {dirtyDevices}");
        double missingPrice = rows.Count(r => r.PriceText.Length == 0) / (double)rows.Length;
        Assert.IsTrue(missingPrice is > 0.08 and < 0.12, $"missing prices {missingPrice}");
        Assert.IsTrue(rows.Any(r => r.AgeText.Length == 0));
        Assert.IsTrue(rows.Any(r => r.BrandText == "None") && rows.Any(r => r.BrandText.Length == 0));
        Assert.IsTrue(rows.Any(r => r.UserIdText.Length == 0));
        Assert.IsTrue(rows.All(r => r.Price > 0));
    }

    [TestMethod]
    public void PlantedWorldTest_GenerateWritesByteIdenticalFilesWithIdsUnseenInTrain()
    {
        using var first = new TemporaryDirectory();
        using var second = new TemporaryDirectory();
        var settings = new GenerateSettings(first.Path, Rows: 5_000, Seed: 5);

        PlantedDatasetReport sut = PlantedDataset.Generate(settings);
        PlantedDataset.Generate(settings with { OutputDirectory = second.Path });

        foreach (string file in new[] { PlantedDataset.TrainFileName, PlantedDataset.TestFileName, PlantedDataset.OracleFileName })
            CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(first.Path, file)), File.ReadAllBytes(Path.Combine(second.Path, file)), file);
        string[] train = File.ReadAllLines(sut.TrainPath);
        string[] test = File.ReadAllLines(sut.TestPath);
        Assert.AreEqual(string.Join(',', PlantedDataset.Columns), train[0]);
        Assert.AreEqual(train[0], test[0]);
        Assert.HasCount(4_001, train);
        Assert.HasCount(1_001, test);
        Assert.IsTrue(train.Skip(1).All(line => line.Split(',').Length == PlantedDataset.Columns.Length));
        var trainItems = train.Skip(1).Select(line => line.Split(',')[2]).ToHashSet();
        var trainUsers = train.Skip(1).Select(line => line.Split(',')[1]).ToHashSet();
        Assert.IsTrue(test.Skip(1).Any(line => !trainItems.Contains(line.Split(',')[2])), "some test items are not in train");
        Assert.IsTrue(test.Skip(1).Any(line => !trainUsers.Contains(line.Split(',')[1])), "some test users are not in train");
        Assert.IsTrue(sut.TestRowsWithItemUnseenInTrain > 0);
        StringAssert.Contains(File.ReadAllText(sut.OraclePath), "\"auc\": " + Math.Round(sut.Test.Auc, 6).ToString(CultureInfo.InvariantCulture));
    }

    [TestMethod]
    public void PlantedWorldTest_NextDayKeepsTheWorldWithNewRowsAndNewItems()
    {
        var sut = PlantedWorld.Create(2);

        PlantedRow[] day0 = [.. sut.DrawRows(3_000, day: 0)];
        PlantedRow[] day1 = [.. PlantedWorld.Create(2).DrawRows(3_000, day: 1)];

        int firstItemOfDay1 = PlantedWorld.ItemCount(0);
        Assert.IsFalse(day0.Any(r => r.ItemId >= firstItemOfDay1 || r.History.Any(h => h >= firstItemOfDay1)), "day 0 cannot show items born on day 1");
        Assert.IsTrue(day1.Any(r => r.ItemId >= firstItemOfDay1), "day 1 shows items born on day 1");
        Assert.IsTrue(day1.Any(r => r.ItemId >= PlantedWorld.BaseItemCount && r.ItemId < firstItemOfDay1), "items born on day 0 live on");
        Assert.IsTrue(day0.Select(Describe).Zip(day1.Select(Describe)).Count(p => p.First == p.Second) < 10, "day 1 draws new rows");
        var day0Items = day0.GroupBy(r => r.ItemId).ToDictionary(g => g.Key, g => g.First());
        var shared = day1.Where(r => day0Items.ContainsKey(r.ItemId)).ToArray();
        Assert.IsTrue(shared.Length > 500, $"{shared.Length} day-1 rows show day-0 items");
        foreach (PlantedRow row in shared)
        {
            Assert.AreEqual(day0Items[row.ItemId].Brand, row.Brand);
            Assert.AreEqual(day0Items[row.ItemId].Category, row.Category);
        }
        PlantedWorld fresh = PlantedWorld.Create(2);
        CollectionAssert.AreEqual(sut.ItemVector(123), fresh.ItemVector(123));
        Assert.AreEqual(sut.ItemCategory(firstItemOfDay1 + 5), fresh.ItemCategory(firstItemOfDay1 + 5));
    }

    [TestMethod]
    public void PlantedWorldTest_CommandLineReportsBadArgumentsWithoutStackTraces()
    {
        using var directory = new TemporaryDirectory();
        string blocker = Path.Combine(directory.Path, "file");
        File.WriteAllText(blocker, "not a directory");

        (int exitCode, string output) Invoke(params string[] args)
        {
            var sut = Program.CreateRootCommand();
            var output = new StringWriter();
            int code = sut.Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
            return (code, output.ToString());
        }

        var (negativeRows, negativeRowsText) = Invoke("generate", "--rows", "-1", "--out", directory.Path);
        var (notANumber, notANumberText) = Invoke("generate", "--rows", "many", "--out", directory.Path);
        var (badFraction, badFractionText) = Invoke("generate", "--rows", "100", "--out", directory.Path, "--test-fraction", "1");
        var (unwritable, unwritableText) = Invoke("generate", "--rows", "100", "--out", Path.Combine(blocker, "out"));
        var (help, helpText) = Invoke("demo", "--help");

        Assert.AreNotEqual(0, negativeRows);
        StringAssert.Contains(negativeRowsText, "--rows must be at least 2");
        Assert.AreNotEqual(0, notANumber);
        StringAssert.Contains(notANumberText, "many");
        Assert.AreNotEqual(0, badFraction);
        StringAssert.Contains(badFractionText, "--test-fraction");
        Assert.AreEqual(1, unwritable);
        StringAssert.StartsWith(unwritableText, "error: Cannot write the data set to");
        foreach (string text in new[] { negativeRowsText, notANumberText, badFractionText, unwritableText })
            Assert.IsFalse(text.Contains("   at ", StringComparison.Ordinal), text);
        Assert.AreEqual(0, help);
        StringAssert.Contains(helpText, "--rows");
    }

    [TestMethod]
    public void PlantedWorldTest_DemoRoundTripIsIdentical()
    {
        using var directory = new TemporaryDirectory();
        var log = new StringWriter();

        DemoResult sut = DemoCommand.Run(new DemoSettings(directory.Path, Rows: 3_000), log);

        Assert.IsTrue(sut.RoundtripIdentical, log.ToString());
        Assert.AreEqual(600, sut.RoundtripRowsCompared);
        Assert.IsTrue(File.Exists(Path.Combine(directory.Path, DemoCommand.ModelFileName)));
        Assert.AreEqual(PlantedWorld.CategoryNames.Length + 2, sut.VocabularySizes["category"]);
        Assert.AreEqual(3 + 2, sut.VocabularySizes["device"], "FoldCase merges Mobile/MOBILE into mobile");
        Assert.IsTrue(sut.OovRateTestItem is > 0 and < 1);
        string json = DemoCommand.ResultJson(sut);
        StringAssert.Contains(json, "\"roundtrip_identical\":true");
        StringAssert.StartsWith(json, "{\"rows\":3000,");
    }

    [TestMethod]
    public void PlantedWorldTest_OptionsReadTheInvariantCultureUnderAGermanLocale()
    {
        // Under de-DE "0.3" parses as 3 (the dot groups thousands), which generate refuses as a test fraction.
        using var directory = new TemporaryDirectory();
        CultureInfo before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            Assert.AreEqual(0, Program.Main(["generate", "--rows", "200", "--seed", "3", "--out", directory.Path, "--test-fraction", "0.3"]));
        }
        finally
        {
            CultureInfo.DefaultThreadCurrentCulture = null;
            CultureInfo.CurrentCulture = before;
        }
        int testRows = File.ReadLines(Path.Combine(directory.Path, "test.csv")).Count() - 1;
        Assert.IsTrue(testRows is > 0 and < 200, $"{testRows} test rows of 200 for a fraction of 0.3");
    }
}
