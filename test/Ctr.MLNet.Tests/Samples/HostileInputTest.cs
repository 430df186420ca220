using System;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

/// <summary>The sample's verbs given careless or hostile input: a clear error before any long work, or a documented result.</summary>
[TestClass]
public sealed class HostileInputTest
{
    private static TemporaryDirectory s_directory = null!;
    private static string s_train = null!, s_valid = null!, s_model = null!;

    [ClassInitialize]
    public static void Initialize(TestContext _)
    {
        s_directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(s_directory.Path, Rows: 1500, Seed: 3));
        s_train = Path.Combine(s_directory.Path, "train.csv");
        s_valid = Path.Combine(s_directory.Path, "test.csv");
        s_model = Path.Combine(s_directory.Path, "model.zip");
        var (code, output) = Invoke(Train(s_model));
        Assert.AreEqual(0, code, output);
    }

    [ClassCleanup]
    public static void Cleanup() => s_directory?.Dispose();

    /// <summary>A train command line; <paramref name="more"/> adds options or replaces the value of one already there.</summary>
    private static string[] Train(string model, params string[] more)
    {
        var args = new System.Collections.Generic.List<string> { "train", "--train", s_train, "--valid", s_valid, "--model", model, "--epochs", "1", "--batch-size", "256", "--threads", "1" };
        for (int i = 0; i < more.Length; i++)
        {
            int at = args.IndexOf(more[i]);
            bool flag = i + 1 == more.Length || more[i + 1].StartsWith("--", StringComparison.Ordinal);
            if (at >= 0 && !flag)
                args[at + 1] = more[++i];
            else if (flag)
                args.Add(more[i]);
            else
                args.AddRange([more[i], more[++i]]);
        }
        return [.. args];
    }

    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        int code = Program.CreateRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }

    private static JsonElement LastJsonLine(string output) => JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]).RootElement;

    private static string Write(string name, string text)
    {
        string path = Path.Combine(s_directory.Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string[] Lines(string path) => File.ReadAllLines(path);

    [TestMethod]
    public void HostileInputTest_TrainChecksWhatCanFailBeforeTrainingAndKeepsTheOldZip()
    {
        string[] valid = Lines(s_valid);
        string oneClass = Write("one-class.csv", string.Join('\n', [valid[0], .. valid.Skip(1).Where(l => l.StartsWith("0,", StringComparison.Ordinal))]) + "\n");
        string headerOnly = Write("header-only.csv", valid[0] + "\n");
        string aFile = Write("a-file", "not a directory");
        string emptyCheckpoints = Path.Combine(s_directory.Path, "empty-checkpoints");
        Directory.CreateDirectory(emptyCheckpoints);
        // Checkpoints of one network, of an ensemble, and an ensemble's checkpoint path taken by a folder (the
        // checks look at the files, not into them).
        string oneNetwork = Directory.CreateDirectory(Path.Combine(s_directory.Path, "one-network-checkpoints")).FullName;
        Write(Path.Combine("one-network-checkpoints", "checkpoint.ctr"), "");
        string ensemble = Path.Combine(s_directory.Path, "ensemble-checkpoints");
        Directory.CreateDirectory(Path.Combine(ensemble, "network-1"));
        Write(Path.Combine("ensemble-checkpoints", "network-1", "checkpoint.ctr"), "");
        string blocked = Path.Combine(s_directory.Path, "blocked-checkpoints");
        Directory.CreateDirectory(Path.Combine(blocked, "network-2", "checkpoint.ctr"));
        string newFolder = Path.Combine(s_directory.Path, "new-folder") + Path.DirectorySeparatorChar;
        string trainCopy = Path.Combine(s_directory.Path, "train-copy.csv");
        File.Copy(s_train, trainCopy, overwrite: true);
        string model = Path.Combine(s_directory.Path, "kept.zip");

        (string[] Args, string Message)[] cases =
        [
            (["--valid", oneClass], $"Validation file '{oneClass}': all "),
            (["--valid", headerOnly], $"Validation file '{headerOnly}' has no data rows"),
            (["--plot", Path.Combine(aFile, "curves.png")], $"--plot '{Path.Combine(aFile, "curves.png")}' cannot be written"),
            (["--model", Path.Combine(aFile, "model.zip")], $"--model '{Path.Combine(aFile, "model.zip")}' cannot be written"),
            (["--model", s_directory.Path], $"--model '{s_directory.Path}' is a directory"),
            // A folder yet to be made: it was made by the check, and the zip failed to save after training.
            (["--model", newFolder], $"--model '{newFolder}' is a directory; give a file path, such as '{Path.Combine(newFolder, "model.zip")}'."),
            (["--train", trainCopy, "--model", trainCopy], $"--model '{trainCopy}' is also the --train file"),
            (["--checkpoint-dir", emptyCheckpoints, "--resume"], $"--resume: there is no checkpoint in '{emptyCheckpoints}'"),
            (["--checkpoint-dir", emptyCheckpoints + "-misspelled", "--resume"], "does not exist; check its name"),
            (["--train", s_directory.Path], $"Data file '{s_directory.Path}' is a directory"),
            (["--checkpoint-dir", ""], "--checkpoint-dir must not be empty; leave it out to train without checkpoints."),
            // Three networks (the default) each resumed nothing from one network's checkpoint: a silent fresh start.
            (["--checkpoint-dir", oneNetwork, "--resume"], $"--resume: '{oneNetwork}' holds the checkpoint of one network, not of 3; give --networks 1 as when it was written"),
            (["--checkpoint-dir", ensemble, "--resume", "--networks", "1"], $"--resume: '{ensemble}' holds the checkpoints of several networks (network-k folders), not of one"),
            // Without --resume, the first epoch's checkpoint replaced the one an interrupted run left.
            (["--checkpoint-dir", ensemble], $"--checkpoint-dir '{ensemble}' holds the checkpoint of an earlier run, which this run would replace after its first epoch; pass --resume to continue it"),
            // Found after the first network's first epoch, as "Is a directory".
            (["--checkpoint-dir", blocked], $"--checkpoint-dir: '{Path.Combine(blocked, "network-2", "checkpoint.ctr")}' is a directory where the checkpoint file goes"),
        ];
        foreach ((string[] args, string message) in cases)
        {
            File.WriteAllText(model, "yesterday's model");
            var (code, output) = Invoke(Train(model, args));

            string what = string.Join(' ', args);
            Assert.AreEqual(1, code, $"{what}: {output}");
            StringAssert.Contains(output, message, what);
            Assert.IsFalse(output.Contains("epoch 1/", StringComparison.Ordinal), $"{what}: fails before training\n{output}");
            Assert.IsFalse(output.Contains("   at ", StringComparison.Ordinal), $"{what}: no stack trace");
            Assert.AreEqual("yesterday's model", File.ReadAllText(model), $"{what}: the old zip is kept");
        }
        CollectionAssert.AreEqual(Lines(s_train), Lines(trainCopy), "the input named as --model is not overwritten");
        Assert.IsFalse(Directory.Exists(newFolder), "a refused --model makes no folder");
    }

    [TestMethod]
    public void HostileInputTest_PredictOutIsAFilePathOrAClearError()
    {
        var (emptyCode, emptyOutput) = Invoke("predict", "--model", s_model, "--data", s_valid, "--out", "");
        var (folderCode, folderOutput) = Invoke("predict", "--model", s_model, "--data", s_valid, "--out", s_directory.Path);

        Assert.AreEqual(1, emptyCode, emptyOutput);
        Assert.AreEqual("error: --out must not be empty; give a file path.", emptyOutput.Trim(), "names the option, not 'The value cannot be an empty string.'");
        Assert.AreEqual(1, folderCode, folderOutput);
        Assert.AreEqual($"error: --out '{s_directory.Path}' is a directory; give the path of a file in it.", folderOutput.Trim(), "no model.zip suggested for predictions");
    }

    [TestMethod]
    public void HostileInputTest_AGroupColumnNotInParquetDataIsNamedAsTheOption()
    {
        // It read "there is no column 'nope'; the model needs it. Add the column to the export".
        string parquet = Path.Combine(s_directory.Path, "group-test.parquet");
        ParquetTestFiles.FromPlantedCsv(s_valid, parquet);

        var (code, output) = Invoke("evaluate", "--model", s_model, "--data", parquet, "--group-column", "nope");
        var (userCode, userOutput) = Invoke("evaluate", "--model", s_model, "--data", parquet, "--group-column", "user_id");

        Assert.AreEqual(1, code, output);
        Assert.AreEqual($"error: --group-column 'nope' is not a column of '{parquet}'; name one of its header's columns, e.g. the user id.", output.Trim());
        Assert.AreEqual(0, userCode, userOutput);
        Assert.AreEqual(JsonValueKind.Number, LastJsonLine(userOutput).GetProperty("gauc").ValueKind);
    }

    [TestMethod]
    public void HostileInputTest_EvaluateReportsUndefinedMetricsAsNullWithAReason()
    {
        string[] valid = Lines(s_valid);
        string oneClass = Write("eval-one-class.csv", string.Join('\n', [valid[0], .. valid.Skip(1).Where(l => l.StartsWith("1,", StringComparison.Ordinal))]) + "\n");
        string headerOnly = Write("eval-header-only.csv", valid[0] + "\n");

        var (oneCode, oneOutput) = Invoke("evaluate", "--model", s_model, "--data", oneClass);
        var (emptyCode, emptyOutput) = Invoke("evaluate", "--model", s_model, "--data", headerOnly);

        Assert.AreEqual(0, oneCode, oneOutput);
        JsonElement one = LastJsonLine(oneOutput);
        Assert.AreEqual(JsonValueKind.Null, one.GetProperty("auc").ValueKind);
        StringAssert.Contains(one.GetProperty("auc_undefined").GetString(), "rows have label 1; AUC needs rows of both classes");
        Assert.IsTrue(double.IsFinite(one.GetProperty("logloss").GetDouble()));
        Assert.AreEqual(0, emptyCode, emptyOutput);
        JsonElement empty = LastJsonLine(emptyOutput);
        Assert.AreEqual(JsonValueKind.Null, empty.GetProperty("auc").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, empty.GetProperty("logloss").ValueKind);
        Assert.AreEqual("the file has no data rows", empty.GetProperty("logloss_undefined").GetString());
        Assert.AreEqual(0, empty.GetProperty("rows").GetInt32());
    }

    [TestMethod]
    public void HostileInputTest_EvaluateSaysWhenEveryRowWasSkipped()
    {
        // The reason read "the file has no data rows" beside "bad_rows_skipped": 5.
        string[] lines = Lines(s_valid);
        string allBad = Write("all-bad-labels.csv", string.Join('\n', [lines[0], .. lines.Skip(1).Take(5).Select(l => "yes" + l[l.IndexOf(',')..])]) + "\n");

        var (code, output) = Invoke("evaluate", "--model", s_model, "--data", allBad, "--bad-rows", "skip");

        Assert.AreEqual(0, code, output);
        JsonElement json = LastJsonLine(output);
        Assert.AreEqual(5, json.GetProperty("bad_rows_skipped").GetInt32());
        Assert.AreEqual("every row of the file was skipped as bad (5)", json.GetProperty("auc_undefined").GetString());
        Assert.AreEqual("every row of the file was skipped as bad (5)", json.GetProperty("logloss_undefined").GetString());
    }

    [TestMethod]
    public void HostileInputTest_AWeightErrorNamesItsLineAndColumnAndCanBeSkipped()
    {
        string[] lines = Lines(s_train);
        string[] header = lines[0].Split(',');
        int hist = Array.IndexOf(header, "hist_item_ids"), weights = Array.IndexOf(header, "hist_weights");
        int line = Enumerable.Range(1, lines.Length - 1).First(i => lines[i].Split(',')[hist].Contains('|'));
        string[] fields = lines[line].Split(',');
        fields[weights] = "";
        lines[line] = string.Join(',', fields);
        string train = Write("bad-weights.csv", string.Join('\n', lines) + "\n");
        string model = Path.Combine(s_directory.Path, "weights.zip");

        var (failCode, failOutput) = Invoke(["train", "--train", train, "--valid", s_valid, "--model", model, "--epochs", "1", "--batch-size", "256"]);
        var (skipCode, skipOutput) = Invoke(["train", "--train", train, "--valid", s_valid, "--model", model, "--epochs", "1", "--batch-size", "256", "--bad-rows", "skip"]);
        var (evalCode, evalOutput) = Invoke("evaluate", "--model", s_model, "--data", train, "--bad-rows", "skip");

        Assert.AreEqual(1, failCode, failOutput);
        StringAssert.Contains(failOutput, $"error: {train} line {line + 1}, column 'hist_weights' ({weights + 1}): the row has 0 weight(s) for the ");
        StringAssert.Contains(failOutput, "or pass --bad-rows skip to skip such rows.");
        Assert.AreEqual(0, skipCode, skipOutput);
        Assert.AreEqual(1, LastJsonLine(skipOutput).GetProperty("bad_rows_skipped").GetInt32());
        Assert.AreEqual(0, evalCode, evalOutput);
        Assert.AreEqual(1, LastJsonLine(evalOutput).GetProperty("bad_rows_skipped").GetInt32(), "evaluate checks the weights the model reads");
    }

    [TestMethod]
    public void HostileInputTest_ARunawayQuoteInABigFileIsNamedOrSkipped()
    {
        // Over 16 Mi characters after the quote, Sep's own limit: an extra 1,000-character column keeps the rows few.
        string[] lines = Lines(s_valid);
        string filler = new('x', 1000);
        string path = Path.Combine(s_directory.Path, "big.csv");
        int rows = 0;
        using (var writer = new StreamWriter(path))
        {
            writer.Write(lines[0] + ",note\n");
            for (int i = 1; rows < 17_000; i++, rows++)
            {
                string row = lines[1 + (i - 1) % (lines.Length - 1)];
                writer.Write(rows == 4 ? row.Insert(row.IndexOf(',') + 1, "\"") : row); // line 6: field 2 opens a quote
                writer.Write("," + filler + "\n");
            }
        }

        var (failCode, failOutput) = Invoke("evaluate", "--model", s_model, "--data", path);
        var (skipCode, skipOutput) = Invoke("evaluate", "--model", s_model, "--data", path, "--bad-rows", "skip");

        Assert.AreEqual(1, failCode, failOutput);
        StringAssert.StartsWith(failOutput, $"error: {path} line 6, column ");
        StringAssert.Contains(failOutput, "its closing quote never comes, and the row runs on past 8,388,608 characters");
        Assert.IsFalse(failOutput.Contains("   at ", StringComparison.Ordinal), "no stack trace");
        Assert.AreEqual(0, skipCode, skipOutput);
        Assert.AreEqual(rows - 1, LastJsonLine(skipOutput).GetProperty("rows").GetInt32());
        Assert.AreEqual(1, LastJsonLine(skipOutput).GetProperty("bad_rows_skipped").GetInt32());
    }

    [TestMethod]
    public void HostileInputTest_ANulByteIsEscapedInTheMessage()
    {
        string[] lines = Lines(s_valid);
        int price = Array.IndexOf(lines[0].Split(','), "price");
        string[] fields = lines[3].Split(',');
        fields[price] = "1\0\u001b[31m";
        lines[3] = string.Join(',', fields);
        string data = Write("nul.csv", string.Join('\n', lines) + "\n");

        var (code, output) = Invoke("evaluate", "--model", s_model, "--data", data);

        Assert.AreEqual(1, code, output);
        StringAssert.Contains(output, "'1\\u0000\\u001B[31m' is not a number");
        Assert.IsFalse(output.Any(c => char.IsControl(c) && c is not '\n' and not '\r'), "no raw control character reaches the terminal");
    }

    [TestMethod]
    [Timeout(120_000, CooperativeCancellation = true)]
    public void HostileInputTest_AFifoAsInputIsRefusedNotHung()
    {
        if (OperatingSystem.IsWindows())
            Assert.Inconclusive("FIFOs are a Unix thing.");
        string fifo = Path.Combine(s_directory.Path, "data.fifo");
        using (var mkfifo = Process.Start("mkfifo", [fifo]))
            mkfifo.WaitForExit();
        byte[] content = File.ReadAllBytes(s_valid);
        var writer = new Thread(() =>
        {
            try
            {
                // Like `cat test.csv > data.fifo`: one writer, once.
                using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
                stream.Write(content);
            }
            catch (IOException)
            {
                // The reader closed early: what a refusal looks like from here.
            }
        }) { IsBackground = true };
        writer.Start();

        Task<(int, string)> run = Task.Run(() => Invoke("evaluate", "--model", s_model, "--data", fifo));
        Assert.IsTrue(run.Wait(TimeSpan.FromSeconds(60)), "evaluate on a FIFO returns instead of hanging");
        var (code, output) = run.Result;

        Assert.AreEqual(1, code, output);
        StringAssert.Contains(output, $"Data file '{fifo}' is a stream (a pipe or a device), not a file; streams are not supported");
    }

    [TestMethod]
    public void HostileInputTest_ListSeparatorOptionReachesSpecInference()
    {
        string[] lines = Lines(s_train).Take(400).Select(l => l.Replace('|', ';')).ToArray();
        string train = Write("semicolons.csv", string.Join('\n', lines) + "\n");

        var (code, output) = Invoke("train", "--train", train, "--valid", train, "--model", Path.Combine(s_directory.Path, "s.zip"), "--print-spec", "--list-separator", ";");

        Assert.AreEqual(0, code, output);
        FeatureSpec spec = FeatureSpec.FromJson(output);
        Assert.AreEqual(';', spec.ListSeparator);
        Assert.IsTrue(spec.Features.Any(f => f.Name == "hist_item_ids" && f.IsList && f.WeightCol == "hist_weights"));
    }

    [TestMethod]
    public void HostileInputTest_AModelWithNonFiniteWeightsPredictsNothing()
    {
        var ml = new MLContext(seed: 1);
        LoadedModel loaded = Sample.Models.ModelFiles.Load(ml, s_model);
        using (TorchSharp.torch.no_grad())
        {
            foreach (TorchSharp.Modules.Parameter parameter in loaded.Network.Model.parameters())
                parameter.fill_(float.NaN);
        }
        string damaged = Path.Combine(s_directory.Path, "nan.zip"), predictions = Path.Combine(s_directory.Path, "nan-predictions.csv");
        Sample.Models.ModelFiles.Save(ml, loaded.Model, loaded.InputSchema, damaged);

        var (predictCode, predictOutput) = Invoke("predict", "--model", damaged, "--data", s_valid, "--out", predictions);
        var (evaluateCode, evaluateOutput) = Invoke("evaluate", "--model", damaged, "--data", s_valid);

        Assert.AreEqual(1, predictCode, predictOutput);
        StringAssert.Contains(predictOutput, $"error: Model file '{damaged}' gives data row 1 (counting rows read) the probability NaN; its weights are not finite, so nothing was written.");
        Assert.IsFalse(File.Exists(predictions), "no NaN passes for a prediction");
        Assert.AreEqual(1, evaluateCode, evaluateOutput);
        StringAssert.Contains(evaluateOutput, "the probability NaN");
    }

    [TestMethod]
    public void HostileInputTest_ARowThatOverflowsASoundModelIsBlamedNotTheWeights()
    {
        // DCN-v2 gave a row with age 3.4028235e38 the probability NaN while scoring the other rows: the row's values
        // overflow the network, its weights are fine.
        var e = Assert.ThrowsExactly<InvalidOperationException>(() => Sample.Models.Probabilities.RequireFinite([0.25f, float.NaN, 0.5f], "m.zip"));

        StringAssert.Contains(e.Message, "Model file 'm.zip' gives data row 2 (counting rows read) the probability NaN");
        StringAssert.Contains(e.Message, "other rows");
        StringAssert.Contains(e.Message, "numeric columns");
        Assert.IsFalse(e.Message.Contains("weights are not finite", StringComparison.Ordinal), e.Message);
    }

    [TestMethod]
    public void HostileInputTest_AHugeEmbDimWarnsAboveTheDocumentedSize()
    {
        var ml = new MLContext(seed: 1);
        FeatureSpec inferred = FeatureSpecInference.FromCsv(s_valid);
        FeatureSpec huge = inferred with { Features = [.. inferred.Features.Select(f => f.Name is "user_id" or "item_id" ? f with { EmbDim = 1_000_000 } : f)] };
        CsvDataSource data = huge.LoadCsv(ml, s_valid);
        DataViewSchemaOf(huge, ml, data, out var hugeSchema);
        DataViewSchemaOf(inferred, ml, data, out var normalSchema);

        string? warning = TrainCommand.LargeEmbeddingWarning(hugeSchema, huge);

        Assert.IsNotNull(warning, "hundreds of users and items at emb_dim 1,000,000 are over 256 MB of weights");
        StringAssert.StartsWith(warning, "warning: the embedding tables hold ");
        StringAssert.Contains(warning, "(over 256 MB): the model zip will be at least that big. Lower emb_dim in the spec");
        Assert.IsNull(TrainCommand.LargeEmbeddingWarning(normalSchema, inferred));
    }

    [TestMethod]
    public void HostileInputTest_ANetworkTooBigForMemoryIsAnErrorNotACrash()
    {
        // 800 TB of user_id embeddings, past any address space: libtorch's allocator failed as an unhandled native
        // exception with pages of C++ and .NET frames.
        FeatureSpec inferred = FeatureSpecInference.FromCsv(s_train);
        FeatureSpec huge = inferred with { Features = [.. inferred.Features.Select(f => f.Name == "user_id" ? f with { EmbDim = 100_000, HashBuckets = 2_000_000_000 } : f)] };
        string spec = Write("huge-spec.json", huge.ToJson());
        string model = Path.Combine(s_directory.Path, "huge.zip");

        var (code, output) = Invoke(Train(model, "--spec", spec, "--trees", "0", "--networks", "1"));

        Assert.AreEqual(1, code, output);
        StringAssert.Contains(output, "error: The dnn network does not fit in memory: libtorch could not allocate 800,000,000,800,000 bytes for its weights; lower emb_dim or hash_buckets in the spec");
        Assert.IsFalse(output.Contains("   at ", StringComparison.Ordinal), "no stack trace");
        Assert.IsFalse(File.Exists(model));
    }

    private static void DataViewSchemaOf(FeatureSpec spec, MLContext ml, IDataView data, out Microsoft.ML.DataViewSchema schema) =>
        schema = spec.BuildPipeline(ml).Fit(data).GetOutputSchema(data.Schema);
}
