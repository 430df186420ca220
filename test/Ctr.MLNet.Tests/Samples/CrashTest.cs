using System;
using System.IO;
using System.Linq;
using System.Threading;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Tests.Helpers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

/// <summary>
/// <c>kill -9</c> of the sample's <c>train</c> verb, run as users run it (a child process): in the middle of training,
/// while a checkpoint is written and while the model zip is written. Whatever the moment, the file at the target path
/// is the previous one or a complete new one, and <c>--resume</c> finishes with the model an uninterrupted run gives.
/// </summary>
/// <remarks>
/// A write is caught by watching its directory for the temporary file (named as in Checkpoint.cs and ModelFiles.cs)
/// and killing the process when it appears; the temporary file still being there afterwards proves the kill landed
/// before the rename. The user column is hashed into 100,000 buckets so that the checkpoint (~20 MB) and the zip
/// (~6 MB) take long enough to write for that to happen every time; an attempt that still misses is repeated.
/// </remarks>
[TestClass]
public sealed class CrashTest
{
    private const int Attempts = 5;

    private const string Spec = """
        {"label": "click", "list_separator": "|", "features": [
          {"name": "user_id", "dtype": "categorical", "hash_buckets": 100000, "emb_dim": 16},
          {"name": "item_id", "dtype": "categorical", "min_freq": 2, "emb_dim": 8},
          {"name": "device", "dtype": "categorical"},
          {"name": "price", "dtype": "numeric", "log1p": true},
          {"name": "hist_item_ids", "dtype": "categorical", "islist": true, "maxlen": 5, "weight_col": "hist_weights", "share_vocab": "item_id"}
        ]}
        """;

    private static TemporaryDirectory s_directory = null!;
    private static string s_train = null!;
    private static string s_valid = null!;
    private static string s_spec = null!;
    private static string s_reference = null!;
    private static string[] s_referencePredictions = null!;
    private static string s_other = null!;
    private static string[] s_otherPredictions = null!;
    private static string s_referenceSummary = null!;

    [ClassInitialize]
    public static void Initialize(TestContext context)
    {
        s_directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(s_directory.Path, Rows: 3000, Seed: 3));
        s_train = Path.Combine(s_directory.Path, "train.csv");
        s_valid = Path.Combine(s_directory.Path, "test.csv");
        s_spec = Path.Combine(s_directory.Path, "spec.json");
        File.WriteAllText(s_spec, Spec);
        s_reference = Path.Combine(s_directory.Path, "reference.zip");
        var (code, output) = SampleProcess.Run(TrainArguments(s_reference, checkpoints: null));
        Assert.AreEqual(0, code, output);
        s_referenceSummary = output.TrimEnd().Split('\n')[^1];
        s_referencePredictions = Predictions(s_reference);
        // Another model (another seed) as the zip a run replaces, so that replacement shows in the predictions.
        s_other = Path.Combine(s_directory.Path, "other.zip");
        (code, output) = SampleProcess.Run(TrainArguments(s_other, checkpoints: null, seed: "6"));
        Assert.AreEqual(0, code, output);
        s_otherPredictions = Predictions(s_other);
        CollectionAssert.AreNotEqual(s_referencePredictions, s_otherPredictions, "the two models predict differently");
    }

    [ClassCleanup]
    public static void Cleanup() => s_directory?.Dispose();

    private static string[] TrainArguments(string model, string? checkpoints, bool resume = false, string seed = "5") =>
    [
        "train", "--train", s_train, "--valid", s_valid, "--spec", s_spec, "--model", model,
        "--epochs", "4", "--batch-size", "256", "--threads", "1", "--seed", seed, "--networks", "1", // one checkpoint file to catch
        .. checkpoints is null ? Array.Empty<string>() : ["--checkpoint-dir", checkpoints],
        .. resume ? ["--resume"] : Array.Empty<string>(),
    ];

    private static string[] Predictions(string model)
    {
        string output = Path.Combine(s_directory.Path, $"predictions-{Guid.NewGuid():N}.csv");
        PredictCommand.Run(model, s_valid, output);
        return File.ReadAllLines(output);
    }

    /// <summary>
    /// Runs the sample and kills it as soon as the file <paramref name="temporaryName"/> (given the child's process id)
    /// appears in <paramref name="directory"/>; returns whether it was killed that way (rather than ending first), whether
    /// the temporary file is still there, the exit code and the output.
    /// </summary>
    private static (bool Killed, bool TemporaryLeft, int ExitCode, string Output) KillWhenCreated(string[] arguments, string directory, Func<int, string> temporaryName)
    {
        SampleProcess? run = null;
        int killed = 0;
        using var watcher = new FileSystemWatcher(directory) { Filter = "*.tmp" };
        watcher.Created += (_, e) =>
        {
            SampleProcess? current = Volatile.Read(ref run);
            if (current is not null && e.Name == temporaryName(current.Id) && Interlocked.Exchange(ref killed, 1) == 0)
                current.Kill();
        };
        watcher.EnableRaisingEvents = true;
        using (run = SampleProcess.Start(arguments))
        {
            Volatile.Write(ref run, run);
            int code = run.WaitForExit();
            bool wasKilled = Volatile.Read(ref killed) == 1 && code != 0;
            return (wasKilled, File.Exists(Path.Combine(directory, temporaryName(run.Id))), code, run.Output);
        }
    }

    [TestMethod]
    public void CrashTest_KillDuringTrainingAndDuringACheckpointWriteKeepsTheLastCheckpointAndResumeGivesTheSameModel()
    {
        string checkpoints = Path.Combine(s_directory.Path, "checkpoints");
        Directory.CreateDirectory(checkpoints);
        string checkpoint = Path.Combine(checkpoints, "checkpoint.ctr");
        string model = Path.Combine(s_directory.Path, "resumed.zip");

        // (a) In the middle of training: epoch 1 is reported (its checkpoint is written), epoch 2 is training.
        using (var run = SampleProcess.Start(TrainArguments(model, checkpoints)))
        {
            Assert.IsTrue(run.WaitForLine(line => line.StartsWith("epoch 1/4: train loss", StringComparison.Ordinal)), run.Output);
            run.Kill();
            Assert.AreNotEqual(0, run.WaitForExit(), "killed, not finished");
        }
        Assert.IsTrue(File.Exists(checkpoint), "the checkpoint of epoch 1 survives the kill");
        Assert.IsFalse(File.Exists(model), "no model zip before training ends");

        // (b) While a checkpoint is being written: the previous checkpoint stays at the target path, byte for byte.
        int caught = 0;
        for (int attempt = 0; attempt < Attempts && caught == 0; attempt++)
        {
            byte[]? before = File.Exists(checkpoint) ? File.ReadAllBytes(checkpoint) : null;
            // --resume with no checkpoint is an error, so a run after a start-over starts afresh.
            var (killed, temporaryLeft, exitCode, output) = KillWhenCreated(TrainArguments(model, checkpoints, resume: before is not null), checkpoints, pid => $"checkpoint.ctr.{pid}.tmp");

            if (before is not null)
                StringAssert.Contains(output, "resumed after epoch", "the checkpoint the previous kill left loads");
            if (!killed)
            {
                // Every kill came after its rename and training finished: start over to catch a write.
                Assert.AreEqual(0, exitCode, output);
                File.Delete(checkpoint);
                File.Delete(model);
                continue;
            }
            if (temporaryLeft)
            {
                caught++;
                if (before is null)
                    Assert.IsFalse(File.Exists(checkpoint), "killed before the first rename: no checkpoint at the target path");
                else
                    CollectionAssert.AreEqual(before, File.ReadAllBytes(checkpoint), "killed before the rename: the previous checkpoint is untouched");
            }
            // Otherwise the kill came after the rename: the next resume loads the new checkpoint.
        }
        Assert.AreEqual(1, caught, $"a kill landed inside a checkpoint write within {Attempts} attempts");

        // Resumed to the end, training gives the model of the uninterrupted run.
        var (code, finished) = SampleProcess.Run(TrainArguments(model, checkpoints, resume: true));
        Assert.AreEqual(0, code, finished);
        StringAssert.Contains(finished, "resumed after epoch");
        CollectionAssert.AreEqual(s_referencePredictions, Predictions(model), "the resumed model predicts exactly as the uninterrupted one");
        AssertSameSummary(finished);
        Assert.IsEmpty(Directory.GetFiles(checkpoints, "*.tmp"), "the next checkpoint write removed the temporary files the kills left");
    }

    [TestMethod]
    public void CrashTest_KillDuringTheModelZipWriteKeepsThePreviousZipByteForByte()
    {
        string checkpoints = Path.Combine(s_directory.Path, "checkpoints-zip");
        Directory.CreateDirectory(checkpoints);
        string model = Path.Combine(s_directory.Path, "model.zip");
        File.Copy(s_other, model);
        byte[] previous = File.ReadAllBytes(model);

        // Training runs to its end, then the zip is written: killed then. A retry resumes past the last epoch,
        // so it goes straight to writing the zip again.
        int caught = 0;
        for (int attempt = 0; attempt < Attempts && caught == 0; attempt++)
        {
            var (killed, temporaryLeft, exitCode, output) = KillWhenCreated(TrainArguments(model, checkpoints, resume: attempt > 0), s_directory.Path, pid => $"model.zip.{pid}.tmp");

            if (!killed)
                Assert.AreEqual(0, exitCode, $"the run ended before the kill could land, and not well:\n{output}");
            else if (temporaryLeft)
            {
                caught++;
                CollectionAssert.AreEqual(previous, File.ReadAllBytes(model), "killed before the rename: the previous zip is untouched");
            }
            // Otherwise the kill came after the rename: the zip is the new one, whole. Either way it loads and
            // predicts as one of the two models.
            string[] predictions = Predictions(model);
            Assert.IsTrue(predictions.SequenceEqual(s_otherPredictions) || predictions.SequenceEqual(s_referencePredictions), "the zip at the target path is one of the two models, whole");
            previous = File.ReadAllBytes(model);
        }
        Assert.AreEqual(1, caught, $"a kill landed inside the zip write within {Attempts} attempts");

        var (code, finished) = SampleProcess.Run(TrainArguments(model, checkpoints, resume: true));
        Assert.AreEqual(0, code, finished);
        CollectionAssert.AreEqual(s_referencePredictions, Predictions(model), "a finished run replaces the other model's zip with the model of the uninterrupted run");
        CollectionAssert.AreNotEqual(s_otherPredictions, Predictions(model));
        AssertSameSummary(finished);
        Assert.IsEmpty(Directory.GetFiles(s_directory.Path, "model.zip.*.tmp"), "the next zip write removed the temporary file the kill left");
    }

    [TestMethod]
    public void CrashTest_KillDuringGenerateKeepsTheEarlierDataSetWhole()
    {
        string directory = Path.Combine(s_directory.Path, "generated");
        var (code, output) = SampleProcess.Run(["generate", "--rows", "3000", "--seed", "1", "--out", directory]);
        Assert.AreEqual(0, code, output);
        string train = Path.Combine(directory, "train.csv"), test = Path.Combine(directory, "test.csv");
        byte[] earlierTrain = File.ReadAllBytes(train), earlierTest = File.ReadAllBytes(test);

        var (killed, temporaryLeft, _, killedOutput) = KillWhenCreated(["generate", "--rows", "200000", "--seed", "2", "--out", directory], directory, pid => $"train.csv.{pid}.tmp");

        Assert.IsTrue(killed && temporaryLeft, $"killed while train.csv was being written beside its path:\n{killedOutput}");
        CollectionAssert.AreEqual(earlierTrain, File.ReadAllBytes(train), "train.csv is the earlier data set's, whole");
        CollectionAssert.AreEqual(earlierTest, File.ReadAllBytes(test), "test.csv too");
    }

    /// <summary>The final JSON line gives the uninterrupted run's validation metrics and epochs.</summary>
    private static void AssertSameSummary(string output)
    {
        using var resumed = System.Text.Json.JsonDocument.Parse(output.TrimEnd().Split('\n')[^1]);
        using var reference = System.Text.Json.JsonDocument.Parse(s_referenceSummary);
        foreach (string key in new[] { "valid_auc", "valid_logloss", "epochs", "best_epoch" })
            Assert.AreEqual(reference.RootElement.GetProperty(key).GetDouble(), resumed.RootElement.GetProperty(key).GetDouble(), key);
    }
}
