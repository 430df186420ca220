using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Tests.Transforms;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed class ParquetVerbsTest
{
    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        int code = Program.CreateRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }

    private static JsonElement LastJsonLine(string output) => JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;

    private static System.Collections.Generic.IEnumerable<ITransformer> Flatten(ITransformer model) =>
        model is TransformerChain<ITransformer> chain ? chain.SelectMany(Flatten) : [model];

    private static readonly string[] Quick = ["--epochs", "1", "--batch-size", "256", "--threads", "1"];

    [TestMethod]
    public void ParquetVerbsTest_DataFolderPassesThePathChecksOnlyWithParquetFilesInIt()
    {
        using var directory = new TemporaryDirectory();
        string folder = Path.Combine(directory.Path, "export");
        Directory.CreateDirectory(Path.Combine(folder, "day=1"));
        File.WriteAllText(Path.Combine(folder, "_SUCCESS"), "");

        var empty = Assert.ThrowsExactly<InvalidOperationException>(() => InputFiles.RequireFile(folder, "Data"));
        StringAssert.Contains(empty.Message, $"Data file '{folder}' is a directory with no Parquet file in it");
        File.WriteAllText(Path.Combine(folder, "day=1", "part-0.parquet"), "");
        Assert.AreEqual(folder, InputFiles.RequireFile(folder, "Data"));
        // Only data may be a folder: a model or spec is one file.
        var model = Assert.ThrowsExactly<InvalidOperationException>(() => InputFiles.RequireFile(folder, "Model"));
        StringAssert.Contains(model.Message, "is a directory; give the path of a file in it");
    }

    [TestMethod]
    public void ParquetVerbsTest_FitStatsOnShardsThenMergeStatsThenTrainWithStatsEqualsTrainingOnTheUnion()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 4));
        string P(string name) => Path.Combine(directory.Path, name);
        string[] shards = FeatureStatisticsTest.WriteShards(P("train.csv"), directory.Path, 2);
        ParquetTestFiles.FromPlantedCsv(P("test.csv"), P("test.parquet"));

        var (specCode, specOutput) = Invoke("train", "--train", P("union"), "--valid", P("test.csv"), "--model", P("unused.zip"), "--print-spec");
        Assert.AreEqual(0, specCode, specOutput);
        File.WriteAllText(P("spec.json"), specOutput);
        var (fit0Code, fit0Output) = Invoke("fit-stats", "--spec", P("spec.json"), "--data", shards[0], "--out", P("s0.bin"));
        var (fit1Code, fit1Output) = Invoke("fit-stats", "--spec", P("spec.json"), "--data", shards[1], "--out", P("s1.bin"), "--bad-rows", "skip");
        var (mergeCode, mergeOutput) = Invoke("merge-stats", P("s0.bin"), P("s1.bin"), "--out", P("merged.bin"));
        var (statsCode, statsOutput) = Invoke(["train", "--train", P("union"), "--valid", P("test.csv"), "--model", P("stats.zip"), "--stats", P("merged.bin"), .. Quick]);
        var (unionCode, unionOutput) = Invoke(["train", "--train", P("union"), "--valid", P("test.csv"), "--model", P("union.zip"), "--spec", P("spec.json"), .. Quick]);
        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", P("stats.zip"), "--data", P("test.parquet"));
        var (predictCode, predictOutput) = Invoke("predict", "--model", P("stats.zip"), "--data", P("test.parquet"), "--out", P("p.csv"));

        Assert.AreEqual(0, fit0Code, fit0Output);
        Assert.AreEqual(0, fit1Code, fit1Output);
        Assert.AreEqual(0, mergeCode, mergeOutput);
        Assert.AreEqual(0, statsCode, statsOutput);
        Assert.AreEqual(0, unionCode, unionOutput);
        Assert.AreEqual(0, evaluateCode, evaluateOutput);
        Assert.AreEqual(0, predictCode, predictOutput);
        Assert.AreEqual(1200, LastJsonLine(fit0Output).GetProperty("rows").GetInt64());
        Assert.AreEqual(2, LastJsonLine(mergeOutput).GetProperty("shards").GetInt32());
        StringAssert.Contains(statsOutput, "building the feature pipeline from the statistics of 2 shard(s)");
        StringAssert.Contains(statsOutput, "note: ignoring column(s) the spec does not use: part");
        double statsAuc = LastJsonLine(statsOutput).GetProperty("valid_auc").GetDouble();
        Assert.AreEqual(LastJsonLine(unionOutput).GetProperty("valid_auc").GetDouble(), statsAuc, 1e-9, "the merged statistics give the pipeline one fit on the union gives, so the same training");
        Assert.AreEqual(statsAuc, LastJsonLine(evaluateOutput).GetProperty("auc").GetDouble(), 1e-6, "the test rows score the same from Parquet as from CSV");
        Assert.HasCount(601, File.ReadAllLines(P("p.csv")));

        File.WriteAllText(P("other.json"), FeatureSpec.FromJson(specOutput) is var spec ? (spec with { Features = spec.Features.RemoveAt(0) }).ToJson() : "");
        Invoke("fit-stats", "--spec", P("other.json"), "--data", shards[1], "--out", P("other.bin"));
        var (mixedCode, mixedOutput) = Invoke("merge-stats", P("s0.bin"), P("other.bin"), "--out", P("mixed.bin"));
        var (missingCode, missingOutput) = Invoke("merge-stats", P("s0.bin"), P("nope.bin"), "--out", P("mixed.bin"));
        var (againCode, againOutput) = Invoke("merge-stats", P("merged.bin"), P("s1.bin"), "--out", P("mixed.bin"));
        var (bothCode, bothOutput) = Invoke("train", "--train", P("union"), "--valid", P("test.csv"), "--model", P("x.zip"), "--stats", P("merged.bin"), "--init-model", P("stats.zip"));
        Assert.AreEqual(1, mixedCode);
        StringAssert.Contains(mixedOutput, "other.bin was fitted with another feature spec than");
        Assert.AreEqual(1, againCode);
        StringAssert.Contains(againOutput, $"error: {P("merged.bin")} and {P("s1.bin")} both hold the statistics of one shard");
        Assert.AreEqual(1, missingCode);
        StringAssert.Contains(missingOutput, "nope.bin' does not exist");
        Assert.IsFalse(File.Exists(P("mixed.bin")));
        Assert.AreEqual(1, bothCode);
        StringAssert.Contains(bothOutput, "--stats builds a new feature pipeline; --init-model refits the model's own");
    }

    [TestMethod]
    public void ParquetVerbsTest_StatsVerbsCheckTheirPathsAsTheOtherVerbsDo()
    {
        using var directory = new TemporaryDirectory();
        string P(string name) => Path.Combine(directory.Path, name);
        Directory.CreateDirectory(P("folder"));
        File.WriteAllText(P("s0.bin"), "written by fit-stats");

        var (specCode, specOutput) = Invoke("fit-stats", "--spec", P("folder"), "--data", P("folder"), "--out", P("s.bin"));
        var (inputCode, inputOutput) = Invoke("merge-stats", P("s0.bin"), P("folder"), "--out", P("merged.bin"));
        var (sameCode, sameOutput) = Invoke("merge-stats", P("s0.bin"), "--out", P("s0.bin"));
        // A glob and a name, or a shard beside the merge that holds it: counted twice, min_freq would keep what it drops.
        var (twiceCode, twiceOutput) = Invoke("merge-stats", P("s0.bin"), Path.Combine(directory.Path, ".", "s0.bin"), "--out", P("merged.bin"));

        Assert.AreEqual(1, specCode, specOutput);
        StringAssert.Contains(specOutput, $"Spec file '{P("folder")}' is a directory; give the path of a file in it.");
        Assert.AreEqual(1, inputCode, inputOutput);
        StringAssert.Contains(inputOutput, $"Statistics file '{P("folder")}' is a directory; give the path of a file in it.");
        Assert.AreEqual(1, sameCode, sameOutput);
        StringAssert.Contains(sameOutput, $"--out '{P("s0.bin")}' is also the statistics file; writing it would overwrite that input.");
        Assert.AreEqual("written by fit-stats", File.ReadAllText(P("s0.bin")), "the input is untouched");
        Assert.AreEqual(1, twiceCode, twiceOutput);
        StringAssert.Contains(twiceOutput, $"error: Statistics file '{Path.Combine(directory.Path, ".", "s0.bin")}' is given twice (also as '{P("s0.bin")}'); merging it twice would count its shard twice, so give each file once.");
        Assert.IsFalse(File.Exists(P("merged.bin")));
    }

    [TestMethod]
    public void ParquetVerbsTest_PredictAndEvaluateReadAPartitionFolderAsTheCsv()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 1500, Seed: 6));
        string P(string name) => Path.Combine(directory.Path, name);
        string[] parts = FeatureStatisticsTest.WriteShards(P("test.csv"), directory.Path, 2);
        string folder = Path.GetDirectoryName(Path.GetDirectoryName(parts[0]))!;

        var (trainCode, trainOutput) = Invoke(["train", "--train", P("train.csv"), "--valid", P("test.csv"), "--model", P("m.zip"), "--trees", "0", .. Quick]);
        Assert.AreEqual(0, trainCode, trainOutput);
        var (csvCode, csvOutput) = Invoke("evaluate", "--model", P("m.zip"), "--data", P("test.csv"));
        var (folderCode, folderOutput) = Invoke("evaluate", "--model", P("m.zip"), "--data", folder);
        var (predictCsvCode, predictCsvOutput) = Invoke("predict", "--model", P("m.zip"), "--data", P("test.csv"), "--out", P("csv.csv"));
        var (predictFolderCode, predictFolderOutput) = Invoke("predict", "--model", P("m.zip"), "--data", folder, "--out", P("folder.csv"));

        Assert.AreEqual(0, csvCode, csvOutput);
        Assert.AreEqual(0, folderCode, folderOutput);
        Assert.AreEqual(0, predictCsvCode, predictCsvOutput);
        Assert.AreEqual(0, predictFolderCode, predictFolderOutput);
        JsonElement fromCsv = LastJsonLine(csvOutput), fromFolder = LastJsonLine(folderOutput);
        Assert.AreEqual(fromCsv.GetProperty("rows").GetInt32(), fromFolder.GetProperty("rows").GetInt32());
        Assert.AreEqual(fromCsv.GetProperty("auc").GetDouble(), fromFolder.GetProperty("auc").GetDouble(), 1e-9, "the folder's parts read as the CSV's rows");
        Assert.AreEqual(fromCsv.GetProperty("logloss").GetDouble(), fromFolder.GetProperty("logloss").GetDouble(), 1e-9);
        CollectionAssert.AreEqual(File.ReadAllLines(P("csv.csv")), File.ReadAllLines(P("folder.csv")), "one probability per row, in the same order");
        Assert.HasCount(fromCsv.GetProperty("rows").GetInt32() + 1, File.ReadAllLines(P("folder.csv")));
    }

    [TestMethod]
    public void ParquetVerbsTest_InitModelOverAPartitionFolderContinuesAsOverTheCsv()
    {
        using var directory = new TemporaryDirectory();
        string Day(int day, string name) => Path.Combine(directory.Path, $"day{day}", name);
        for (int day = 0; day < 2; day++)
            PlantedDataset.Generate(new GenerateSettings(Path.Combine(directory.Path, $"day{day}"), Rows: 2500, Seed: 3, Day: day));
        FeatureStatisticsTest.WriteShards(Day(1, "train.csv"), Path.Combine(directory.Path, "day1"), 3);
        string folder = Day(1, "union");

        var (code0, output0) = Invoke(["train", "--train", Day(0, "train.csv"), "--valid", Day(0, "test.csv"), "--model", Day(0, "model.zip"), "--trees", "0", "--networks", "1", .. Quick]); // day by day continues a network alone
        var (parquetCode, parquetOutput) = Invoke(["train", "--init-model", Day(0, "model.zip"), "--train", folder, "--valid", Day(1, "test.csv"), "--model", Day(1, "parquet.zip"), .. Quick]);
        var (csvCode, csvOutput) = Invoke(["train", "--init-model", Day(0, "model.zip"), "--train", Day(1, "train.csv"), "--valid", Day(1, "test.csv"), "--model", Day(1, "csv.zip"), .. Quick]);

        Assert.AreEqual(0, code0, output0);
        Assert.AreEqual(0, parquetCode, parquetOutput);
        Assert.AreEqual(0, csvCode, csvOutput);
        StringAssert.Contains(parquetOutput, "note: ignoring column(s) the model does not use: part");
        StringAssert.Contains(parquetOutput, "warm start");
        Assert.AreEqual(LastJsonLine(csvOutput).GetProperty("valid_auc").GetDouble(), LastJsonLine(parquetOutput).GetProperty("valid_auc").GetDouble(), 1e-9,
            "the same rows from a partition folder continue the network as from the CSV");
        var ml = new MLContext(seed: 1);
        Vocabulary Items(string zip) => Flatten(ModelFiles.Load(ml, zip).Model).OfType<VocabularyTransformer>().First().GetVocabulary("item_id");
        Vocabulary before = Items(Day(0, "model.zip")), fromParquet = Items(Day(1, "parquet.zip")), fromCsv = Items(Day(1, "csv.zip"));
        CollectionAssert.AreEqual(fromCsv.Terms.ToArray(), fromParquet.Terms.ToArray(), "the vocabulary grows the same way");
        Assert.IsGreaterThan(before.Terms.Length, fromParquet.Terms.Length, "day 1's new items join the vocabulary");
        CollectionAssert.AreEqual(before.Terms.ToArray(), fromParquet.Terms.Take(before.Terms.Length).ToArray(), "yesterday's items keep their indices");
    }

    [TestMethod]
    public void ParquetVerbsTest_ADamagedPageFoundWhileReadingNamesTheFileNotMLNetsWrapper()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 4));
        string P(string name) => Path.Combine(directory.Path, name);
        ParquetTestFiles.FromPlantedCsv(P("train.csv"), P("train.parquet"));
        var (specCode, spec) = Invoke("train", "--train", P("train.csv"), "--valid", P("test.csv"), "--model", P("unused.zip"), "--print-spec");
        Assert.AreEqual(0, specCode, spec);
        File.WriteAllText(P("spec.json"), spec);
        // The footer stays readable; 2,000 bytes of the pages in the middle are overwritten.
        byte[] bytes = File.ReadAllBytes(P("train.parquet"));
        Array.Fill(bytes, (byte)0xFF, bytes.Length / 2, 2000);
        File.WriteAllBytes(P("damaged.parquet"), bytes);

        var (code, output) = Invoke("fit-stats", "--spec", P("spec.json"), "--data", P("damaged.parquet"), "--out", P("stats.bin"));

        Assert.AreEqual(1, code, output);
        StringAssert.StartsWith(output, "error: ");
        StringAssert.Contains(output, "damaged.parquet row group");
        Assert.IsFalse(output.Contains("Splitter/consolidator", StringComparison.Ordinal), output);
        Assert.IsFalse(File.Exists(P("stats.bin")), "nothing written");
    }

    [TestMethod]
    public void ParquetVerbsTest_AFooterParquetNetWouldReadForeverIsAnErrorNotAHang()
    {
        // Parquet.Net 6.1 reads past the end of a footer as 0xFF bytes, so a varint running to the end never ends:
        // here the first field's id. In a child process, since the thread reading it spins on until its process ends.
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 300, Seed: 4));
        string P(string name) => Path.Combine(directory.Path, name);
        ParquetTestFiles.FromPlantedCsv(P("train.csv"), P("endless.parquet"));
        byte[] bytes = File.ReadAllBytes(P("endless.parquet"));
        int footer = BitConverter.ToInt32(bytes, bytes.Length - 8), start = bytes.Length - 8 - footer;
        Array.Fill(bytes, (byte)0x80, start, footer);
        bytes[start] = 0x0E; // a field whose id follows as a varint
        File.WriteAllBytes(P("endless.parquet"), bytes);

        var (code, output) = SampleProcess.Run("train", "--train", P("endless.parquet"), "--valid", P("test.csv"), "--model", P("unused.zip"), "--print-spec");

        Assert.AreEqual(1, code, output);
        StringAssert.StartsWith(output, $"error: {P("endless.parquet")}: not a readable Parquet file (its footer could not be read within ");
        Assert.IsFalse(output.Contains("   at ", StringComparison.Ordinal), "no stack trace");
    }
}
