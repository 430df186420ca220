using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests;

/// <summary>Keeps README.md's C# example compiling and running: the block in the README must equal <see cref="QuickExample"/>'s body.</summary>
[TestClass]
public sealed class ReadMeTest
{
    public sealed class Input
    {
        public bool click { get; set; }

        public string item_id { get; set; } = "";

        public string user_id { get; set; } = "";

        public string hist_item_ids { get; set; } = "";

        public string hist_weights { get; set; } = "";

        public float price { get; set; }
    }

    public sealed class Prediction
    {
        public float Probability { get; set; }
    }

    private static float QuickExample(List<Input> rows, string directory)
    {
        Directory.SetCurrentDirectory(directory);
        // README example start
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(rows);   // or spec.LoadCsv(ml, "train.csv")

        var pipeline = ml.Ctr().Transforms.ParseSequence("HistoryTokens", "hist_item_ids", weightColumnName: "hist_weights", maxLength: 40)
            .Append(ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("ItemId", "item_id") { Vocabulary = "item", MinCount = 2 },
                new VocabularyEstimator.ColumnOptions("HistoryIds", "HistoryTokens") { Vocabulary = "item", MinCount = 2 }))
            .Append(ml.Ctr().Transforms.HashToBuckets("UserBucket", "user_id", numBuckets: 100_003))
            .Append(ml.Ctr().Transforms.Normalize("Price", "price", log1p: true))
            .Append(ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options
            {
                LabelColumnName = "click",
                NumericColumnNames = ["Price"],
                Epochs = 3,
            }));

        var model = pipeline.Fit(train);
        ml.Model.Save(model, train.Schema, "model.zip");

        // Any other process:
        ITransformer loaded = new MLContext().Model.Load("model.zip", out _);
        var engine = new MLContext().Model.CreatePredictionEngine<Input, Prediction>(loaded);
        float p = engine.Predict(new Input { item_id = "i42", user_id = "u7", hist_item_ids = "i3|i9", hist_weights = "12|3.5", price = 9.99f }).Probability;
        // README example end
        (loaded as IDisposable)?.Dispose();
        return p;
    }

    [TestMethod]
    public void ReadMeTest_ExampleIsTheTestedCode()
    {
        string readme = File.ReadAllText(FindUp("README.md"));
        string source = File.ReadAllText(FindUp(Path.Combine("test", "Ctr.MLNet.Tests", "ReadMeTest.cs")));

        string inReadme = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        string tested = Regex.Match(source, "// README example start\n(.*?)        // README example end", RegexOptions.Singleline).Groups[1].Value;

        Assert.AreEqual(Dedent(tested), Dedent(inReadme), "README.md's C# example must be ReadMeTest.QuickExample's body");
    }

    [TestMethod]
    public void ReadMeTest_ExampleRuns()
    {
        var rows = PlantedClicks.Generate(3000, seed: 4).Select(r => new Input
        {
            click = r.Label,
            item_id = r.Item,
            user_id = r.User,
            hist_item_ids = string.Join("|", r.History),
            hist_weights = string.Join("|", r.HistoryWeights.Select(w => w.ToString(System.Globalization.CultureInfo.InvariantCulture))),
            price = r.Price,
        }).ToList();
        using var directory = new TemporaryDirectory();
        string current = Directory.GetCurrentDirectory();
        try
        {
            float sut = QuickExample(rows, directory.Path);

            Assert.IsTrue(sut is > 0f and < 1f, $"probability {sut}");
        }
        finally
        {
            Directory.SetCurrentDirectory(current);
        }
    }

    private static string Dedent(string code)
    {
        string[] lines = code.Replace("\r", "").TrimEnd().Split('\n');
        int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }

    private static string FindUp(string relative)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            string candidate = Path.Combine(directory.FullName, relative);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"{relative} not found above {AppContext.BaseDirectory}.");
    }
}
