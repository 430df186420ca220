using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed class SampleVerbsTest
{
    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        int code = Program.CreateRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }

    private static JsonElement LastJsonLine(string output) =>
        JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;

    [TestMethod]
    public void SampleVerbsTest_TrainEvaluatePredictOnGeneratedData()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 4000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string model = Path.Combine(directory.Path, "model.zip"), predictions = Path.Combine(directory.Path, "predictions.csv");

        var (trainCode, trainOutput) = Invoke("train", "--train", train, "--valid", test, "--model", model, "--epochs", "2", "--batch-size", "256", "--threads", "1");
        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", model, "--data", test);
        var (predictCode, predictOutput) = Invoke("predict", "--model", model, "--data", test, "--out", predictions);

        Assert.AreEqual(0, trainCode, trainOutput);
        Assert.AreEqual(0, evaluateCode, evaluateOutput);
        Assert.AreEqual(0, predictCode, predictOutput);
        JsonElement trained = LastJsonLine(trainOutput), evaluated = LastJsonLine(evaluateOutput);
        foreach (string key in new[] { "valid_auc", "valid_logloss", "train_rows_per_s", "epochs" })
            Assert.IsTrue(trained.TryGetProperty(key, out _), $"train's JSON line has {key}");
        // Learning quality is TorchCtrTrainerTest's concern; 3,200 rows of this long-tailed world teach little.
        Assert.IsTrue(double.IsFinite(trained.GetProperty("valid_auc").GetDouble()));
        Assert.AreEqual(trained.GetProperty("valid_auc").GetDouble(), evaluated.GetProperty("auc").GetDouble(), 1e-6, "the reloaded zip scores the validation file as training did");
        Assert.AreEqual(trained.GetProperty("valid_logloss").GetDouble(), evaluated.GetProperty("logloss").GetDouble(), 1e-6);
        int testRows = File.ReadAllLines(test).Length - 1;
        Assert.AreEqual(testRows, evaluated.GetProperty("rows").GetInt32());
        string[] lines = File.ReadAllLines(predictions);
        Assert.AreEqual("probability", lines[0]);
        Assert.HasCount(testRows + 1, lines);
        Assert.IsTrue(lines.Skip(1).All(l => float.Parse(l, CultureInfo.InvariantCulture) is > 0f and < 1f));

        // The field's metrics, by user and by a column the model does not read, equal the library's on the predictions.
        string[][] rows = [.. File.ReadAllLines(test).Skip(1).Select(l => l.Split(','))];
        int userColumn = Array.IndexOf(File.ReadLines(test).First().Split(','), "user_id");
        File.WriteAllLines(Path.Combine(directory.Path, "paged.csv"), File.ReadAllLines(test).Select((l, i) => l + "," + (i == 0 ? "page" : (i % 7).ToString(CultureInfo.InvariantCulture))));
        var (byUserCode, byUserOutput) = Invoke("evaluate", "--model", model, "--data", test, "--group-column", "user_id");
        var (byPageCode, byPageOutput) = Invoke("evaluate", "--model", model, "--data", Path.Combine(directory.Path, "paged.csv"), "--group-column", "page");
        Assert.AreEqual(0, byUserCode, byUserOutput);
        Assert.AreEqual(0, byPageCode, byPageOutput);
        float[] clicks = [.. rows.Select(r => float.Parse(r[0], CultureInfo.InvariantCulture))];
        float[] probabilities = [.. lines.Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture))];
        JsonElement byUser = LastJsonLine(byUserOutput), byPage = LastJsonLine(byPageOutput);
        Assert.AreEqual(BinaryMetrics.GroupAuc(clicks, probabilities, rows.Select(r => r[userColumn]).ToArray().AsSpan()), byUser.GetProperty("gauc").GetDouble(), 1e-5);
        Assert.AreEqual(BinaryMetrics.GroupAuc(clicks, probabilities, Enumerable.Range(1, rows.Length).Select(i => i % 7).ToArray().AsSpan()), byPage.GetProperty("gauc").GetDouble(), 1e-5);
        Assert.AreEqual(BinaryMetrics.Calibration(clicks, probabilities), byUser.GetProperty("calibration").GetDouble(), 1e-5);
        Assert.AreEqual(BinaryMetrics.ExpectedCalibrationError(clicks, probabilities), byUser.GetProperty("ece").GetDouble(), 1e-5);
        Assert.AreEqual(BinaryMetrics.NormalizedEntropy(clicks, probabilities), byUser.GetProperty("normalized_entropy").GetDouble(), 1e-5);
        Assert.AreEqual(JsonValueKind.Null, evaluated.GetProperty("gauc").ValueKind, "no --group-column, no gAUC");
        var (missingCode, missingOutput) = Invoke("evaluate", "--model", model, "--data", test, "--group-column", "session");
        Assert.AreEqual(1, missingCode);
        StringAssert.Contains(missingOutput, $"--group-column 'session' is not a column of '{test}'");
    }

    [TestMethod]
    public void SampleVerbsTest_TrainModelTypePicksTheNetworkThatTheZipKeeps()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 2000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");

        foreach (string type in new[] { "deepfm", "dcn-v2", "target-attention" })
        {
            string model = Path.Combine(directory.Path, $"{type}.zip");
            var (code, output) = Invoke("train", "--train", train, "--valid", test, "--model", model, "--model-type", type, "--epochs", "1", "--batch-size", "256");
            var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", model, "--data", test);

            Assert.AreEqual(0, code, output);
            Assert.AreEqual(0, evaluateCode, evaluateOutput);
            Assert.AreEqual(type, LastJsonLine(output).GetProperty("model_type").GetString());
            Assert.AreEqual(LastJsonLine(output).GetProperty("valid_auc").GetDouble(), LastJsonLine(evaluateOutput).GetProperty("auc").GetDouble(), 1e-6, $"{type}: the zip holds the network that was trained");
            if (type == "deepfm")
                StringAssert.Contains(output, "note: deepfm gives every field one embedding width");
        }
        var (unknownCode, unknownOutput) = Invoke("train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "x.zip"), "--model-type", "xgboost");
        var (mismatchCode, mismatchOutput) = Invoke("train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "y.zip"),
            "--init-model", Path.Combine(directory.Path, "deepfm.zip"), "--model-type", "dcn-v2");

        Assert.AreEqual(1, unknownCode);
        StringAssert.Contains(unknownOutput, "--model-type must be one of dnn, deepfm, dcn-v2, target-attention, got 'xgboost'");
        Assert.AreEqual(1, mismatchCode);
        StringAssert.Contains(mismatchOutput, "--model-type dcn-v2 differs from the network of");
        Assert.IsFalse(File.Exists(Path.Combine(directory.Path, "y.zip")));
    }

    [TestMethod]
    public void SampleVerbsTest_TrainWithTreesSavesTheBlendAndZeroTreesTheNetworkAlone()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string hybrid = Path.Combine(directory.Path, "hybrid.zip"), network = Path.Combine(directory.Path, "network.zip");

        var (code, output) = Invoke("train", "--train", train, "--valid", test, "--model", hybrid, "--trees", "20", "--epochs", "1", "--batch-size", "256");
        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", hybrid, "--data", test);
        var (networkCode, networkOutput) = Invoke("train", "--train", train, "--valid", test, "--model", network, "--trees", "0", "--networks", "1", "--epochs", "1", "--batch-size", "256");
        var (warmCode, warmOutput) = Invoke("train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "day2.zip"), "--init-model", hybrid);

        Assert.AreEqual(0, code, output);
        Assert.AreEqual(0, evaluateCode, evaluateOutput);
        JsonElement summary = LastJsonLine(output);
        Assert.AreEqual(20, summary.GetProperty("trees").GetInt32());
        Assert.AreEqual(summary.GetProperty("valid_auc").GetDouble(), LastJsonLine(evaluateOutput).GetProperty("auc").GetDouble(), 1e-6, "the zip scores as the blend did");
        Assert.IsTrue(summary.TryGetProperty("network_valid_auc", out _) && summary.TryGetProperty("trees_valid_auc", out _), output);
        Assert.AreEqual(new HybridCtrTrainer.Options().NumberOfNetworks, summary.GetProperty("networks").GetInt32());
        Assert.AreEqual(0, networkCode, networkOutput);
        Assert.AreEqual(0, LastJsonLine(networkOutput).GetProperty("trees").GetInt32());
        Assert.IsFalse(LastJsonLine(networkOutput).TryGetProperty("network_valid_auc", out _));
        Assert.AreEqual(1, warmCode);
        StringAssert.Contains(warmOutput, "blends its network with trees");
    }

    [TestMethod]
    public void SampleVerbsTest_TrainEmbedsTheTreesLeavesWhenAskedAndNeedsTreesForIt()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string leaves = Path.Combine(directory.Path, "leaves.zip"), none = Path.Combine(directory.Path, "none.zip");
        string[] quick = ["--networks", "1", "--epochs", "1", "--batch-size", "256"];

        var (code, output) = Invoke(["train", "--train", train, "--valid", test, "--model", leaves, "--trees", "10", "--tree-leaf-dim", "2", .. quick]);
        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", leaves, "--data", test);
        var (noTreesCode, noTreesOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", none, "--trees", "0", "--tree-leaf-dim", "2", .. quick]);
        var (deepFmCode, deepFmOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", none, "--model-type", "deepfm", "--tree-leaf-dim", "2", .. quick]);

        Assert.AreEqual(0, code, output);
        Assert.AreEqual(0, evaluateCode, evaluateOutput);
        Assert.AreEqual(LastJsonLine(output).GetProperty("valid_auc").GetDouble(), LastJsonLine(evaluateOutput).GetProperty("auc").GetDouble(), 1e-6, "the zip scores as the fit did");
        using TorchCtrTransformer network = ModelFiles.Load(new Microsoft.ML.MLContext(), leaves).Network;
        Assert.IsTrue(network.Layout.Sequences.Any(s => s.ColumnName == HybridCtrTrainer.TreeLeavesColumnName), "the network reads the leaves");
        Assert.AreEqual(1, noTreesCode);
        StringAssert.Contains(noTreesOutput, "--tree-leaf-dim embeds the trees' leaves, and there are no trees");
        Assert.AreEqual(1, deepFmCode);
        StringAssert.Contains(deepFmOutput, "--tree-leaf-dim 2 with --model-type deepfm: DeepFM gives every field one embedding width");
        Assert.IsFalse(File.Exists(none));
    }

    [TestMethod]
    public void SampleVerbsTest_TrainFindsHistoryAttributesOrTakesThemFromTheCommandLine()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string[] quick = ["--trees", "0", "--networks", "1", "--epochs", "1", "--batch-size", "256"];
        string Model(string name) => Path.Combine(directory.Path, name);

        var (autoCode, autoOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Model("auto.zip"), .. quick]);
        var (noneCode, noneOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Model("none.zip"), "--history-attributes", "none", .. quick]);
        var (namedCode, namedOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Model("named.zip"), "--history-attributes", "category", .. quick]);
        var (twiceCode, twiceOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Model("twice.zip"), "--history-attributes", "category,category", .. quick]);
        var (unknownCode, unknownOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Model("unknown.zip"), "--history-attributes", "nope", .. quick]);

        Assert.AreEqual(0, autoCode, autoOutput);
        string[] Attributes(string output) => [.. LastJsonLine(output).GetProperty("history_attributes").EnumerateArray().Select(e => e.GetString()!)];
        // The item's brand and category describe the history's items; the user, device and hour do not.
        CollectionAssert.AreEqual(new[] { "brand", "category" }, Attributes(autoOutput), autoOutput);
        Assert.AreEqual(0, noneCode, noneOutput);
        Assert.IsEmpty(Attributes(noneOutput));
        Assert.AreEqual(0, namedCode, namedOutput);
        CollectionAssert.AreEqual(new[] { "category" }, Attributes(namedOutput));
        Assert.AreEqual(1, twiceCode);
        StringAssert.Contains(twiceOutput, "--history-attributes must be auto, none or distinct column names separated by commas, got 'category,category'.");
        Assert.AreEqual(1, unknownCode);
        StringAssert.Contains(unknownOutput, "HistoryAttributes names 'nope', which is not a scalar categorical input of the network");
        Assert.IsFalse(File.Exists(Model("twice.zip")) || File.Exists(Model("unknown.zip")), "no zip after an error");
    }

    [TestMethod]
    public void SampleVerbsTest_TheSpecsTreesAndNetworksApplyUnlessTheCommandLineSaysOtherwise()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv"), spec = Path.Combine(directory.Path, "spec.json");
        File.WriteAllText(spec, (FeatureSpecInference.FromCsv(train) with { Trees = 0, Networks = 2 }).ToJson());
        string[] quick = ["--epochs", "1", "--batch-size", "256", "--spec", spec];

        var (specCode, specOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "spec.zip"), .. quick]);
        var (cliCode, cliOutput) = Invoke(["train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "cli.zip"), "--trees", "10", .. quick]);

        Assert.AreEqual(0, specCode, specOutput);
        Assert.AreEqual(0, LastJsonLine(specOutput).GetProperty("trees").GetInt32());
        Assert.AreEqual(2, LastJsonLine(specOutput).GetProperty("networks").GetInt32());
        Assert.AreEqual(0, cliCode, cliOutput);
        Assert.AreEqual(10, LastJsonLine(cliOutput).GetProperty("trees").GetInt32(), "--trees wins over the spec");
        Assert.AreEqual(2, LastJsonLine(cliOutput).GetProperty("networks").GetInt32());
    }

    [TestMethod]
    public void SampleVerbsTest_TrainWithNetworksAveragesAnEnsembleTheZipScoresAlike()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string ensemble = Path.Combine(directory.Path, "ensemble.zip");

        var (code, output) = Invoke("train", "--train", train, "--valid", test, "--model", ensemble, "--trees", "0", "--networks", "2", "--epochs", "1", "--batch-size", "256");
        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", ensemble, "--data", test);
        var (warmCode, warmOutput) = Invoke("train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "day2.zip"), "--init-model", ensemble);
        var (badCode, badOutput) = Invoke("train", "--train", train, "--valid", test, "--model", Path.Combine(directory.Path, "bad.zip"), "--networks", "0");

        Assert.AreEqual(0, code, output);
        JsonElement summary = LastJsonLine(output);
        Assert.AreEqual(2, summary.GetProperty("networks").GetInt32());
        Assert.AreEqual(0, summary.GetProperty("trees").GetInt32());
        Assert.IsFalse(summary.TryGetProperty("trees_valid_auc", out _), output);
        Assert.AreEqual(0, evaluateCode, evaluateOutput);
        Assert.AreEqual(summary.GetProperty("valid_auc").GetDouble(), LastJsonLine(evaluateOutput).GetProperty("auc").GetDouble(), 1e-6, "the zip scores as the ensemble did");
        Assert.AreEqual(1, warmCode);
        StringAssert.Contains(warmOutput, "--networks 1");
        Assert.AreNotEqual(0, badCode);
        StringAssert.Contains(badOutput, "--networks must be in 1..64");
        Assert.IsFalse(File.Exists(Path.Combine(directory.Path, "bad.zip")));
    }

    [TestMethod]
    public void SampleVerbsTest_PrintSpecShowsTheInferredSpecAsJson()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 2000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv");

        var (code, output) = Invoke("train", "--train", train, "--valid", train, "--model", Path.Combine(directory.Path, "m.zip"), "--print-spec");

        Assert.AreEqual(0, code, output);
        var spec = Ctr.MLNet.Transforms.FeatureSpec.FromJson(output);
        Assert.AreEqual("click", spec.Label);
        Assert.IsTrue(spec.Features.Any(f => f.Name == "hist_item_ids" && f.IsList && f.WeightCol == "hist_weights" && f.ShareVocab == "item_id"));
        Assert.IsFalse(File.Exists(Path.Combine(directory.Path, "m.zip")), "--print-spec stops before training");
    }

    [TestMethod]
    public void SampleVerbsTest_BadInputGivesClearErrorsAndKeepsTheOldModel()
    {
        using var directory = new TemporaryDirectory();
        string model = Path.Combine(directory.Path, "model.zip");
        File.WriteAllText(model, "not a zip");
        string data = Path.Combine(directory.Path, "data.csv");
        File.WriteAllText(data, "click,a\n1,x\n");

        var (missingCode, missingOutput) = Invoke("train", "--train", Path.Combine(directory.Path, "nope.csv"), "--valid", data, "--model", model);
        var (corruptCode, corruptOutput) = Invoke("evaluate", "--model", model, "--data", data);
        var (noModelCode, noModelOutput) = Invoke("predict", "--model", Path.Combine(directory.Path, "absent.zip"), "--data", data, "--out", Path.Combine(directory.Path, "p.csv"));

        Assert.AreEqual(1, missingCode);
        StringAssert.Contains(missingOutput, "nope.csv' does not exist");
        Assert.AreEqual(1, corruptCode);
        StringAssert.Contains(corruptOutput, $"Model file '{model}' cannot be loaded");
        Assert.AreEqual(1, noModelCode);
        StringAssert.Contains(noModelOutput, "absent.zip' does not exist");
        Assert.AreEqual("not a zip", File.ReadAllText(model), "a failed run never touches the existing model file");
        Assert.IsFalse(corruptOutput.Contains("   at "), "no stack trace");
    }

    [TestMethod]
    public void SampleVerbsTest_TrainWithBadRowsFailsNamingTheLineOrSkipsThemWhenAsked()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 2000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string[] lines = File.ReadAllLines(train);
        lines[9] += ",extra"; // line 10
        string[] fields = lines[19].Split(',');
        fields[Array.IndexOf(lines[0].Split(','), "price")] = "NaN"; // line 20
        lines[19] = string.Join(',', fields);
        File.WriteAllLines(train, lines);
        string model = Path.Combine(directory.Path, "model.zip");
        File.WriteAllText(model, "yesterday's model");

        var (failCode, failOutput) = Invoke("train", "--train", train, "--valid", test, "--model", model, "--epochs", "1", "--batch-size", "256", "--threads", "1");

        Assert.AreEqual(1, failCode, failOutput);
        StringAssert.Contains(failOutput, $"error: {train} line 10, column {lines[0].Split(',').Length + 1}: the row has");
        StringAssert.Contains(failOutput, "or pass --bad-rows skip to skip such rows.");
        Assert.IsFalse(failOutput.Contains("   at "), "no stack trace");
        Assert.AreEqual("yesterday's model", File.ReadAllText(model), "a failed run never touches the existing model file");

        var (code, output) = Invoke("train", "--train", train, "--valid", test, "--model", model, "--epochs", "1", "--batch-size", "256", "--threads", "1", "--bad-rows", "skip");

        Assert.AreEqual(0, code, output);
        Assert.AreEqual(2, LastJsonLine(output).GetProperty("bad_rows_skipped").GetInt32());
        StringAssert.Contains(output, $"warning: skipped 2 bad row(s) of {train}; the first: {train} line 10, column");
        Assert.AreNotEqual("yesterday's model", File.ReadAllText(model));

        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", model, "--data", train, "--bad-rows", "skip");
        var (predictCode, predictOutput) = Invoke("predict", "--model", model, "--data", train, "--out", Path.Combine(directory.Path, "p.csv"), "--bad-rows", "skip");

        Assert.AreEqual(0, evaluateCode, evaluateOutput);
        Assert.AreEqual(2, LastJsonLine(evaluateOutput).GetProperty("bad_rows_skipped").GetInt32());
        Assert.AreEqual(lines.Length - 3, LastJsonLine(evaluateOutput).GetProperty("rows").GetInt32());
        Assert.AreEqual(0, predictCode, predictOutput);
        string[] predicted = File.ReadAllLines(Path.Combine(directory.Path, "p.csv"));
        Assert.HasCount(lines.Length, predicted, "one line per input row, skipped ones too");
        Assert.AreEqual("", predicted[9], "a skipped row's probability is empty, so the lines stay aligned");
        Assert.AreEqual("", predicted[19]);
        Assert.IsTrue(float.Parse(predicted[10], CultureInfo.InvariantCulture) is > 0f and < 1f);
    }
}
