using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class IncrementalTrainingTest
{
    public TestContext TestContext { get; set; } = null!;

    /// <summary>One logged impression of a <see cref="PlantedWorld"/>, as the feature pipeline reads it.</summary>
    private sealed class Impression
    {
        public bool Click { get; set; }

        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        public string Brand { get; set; } = "";

        public string Category { get; set; } = "";

        public string Device { get; set; } = "";

        public float Hour { get; set; }

        public float Price { get; set; }

        public float Age { get; set; }

        public string History { get; set; } = "";

        public string HistoryWeights { get; set; } = "";

        public static Impression From(PlantedRow row) => new()
        {
            Click = row.Click,
            User = row.UserIdText,
            Item = row.ItemIdText,
            Brand = row.BrandText,
            Category = row.CategoryText,
            Device = row.DeviceText,
            Hour = row.Hour,
            Price = row.PriceMissing ? float.NaN : (float)row.Price,
            Age = row.AgeMissing ? float.NaN : row.Age,
            History = row.HistoryText,
            HistoryWeights = row.HistoryWeightsText,
        };
    }

    private static readonly long MinCount = long.Parse(Environment.GetEnvironmentVariable("MC") ?? "1");

    private static List<Impression> Draw(PlantedWorld world, int rows, int day) => [.. world.DrawRows(rows, day).Select(Impression.From)];

    /// <summary>Every refittable kind: shared vocabularies, hash buckets, normalizers and quantile buckets, after sequence parsing.</summary>
    private static IEstimator<ITransformer> Features(MLContext ml)
    {
        CtrCatalog.TransformsCatalog t = ml.Ctr().Transforms;
        return t.ParseSequence(new SequenceParsingEstimator.ColumnOptions("History") { WeightColumnName = "HistoryWeights", OutputWeightColumnName = "HistoryWeights" })
            .Append(t.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("User") { MinCount = MinCount },
                new VocabularyEstimator.ColumnOptions("Item") { Vocabulary = "item", MinCount = MinCount },
                new VocabularyEstimator.ColumnOptions("History") { Vocabulary = "item", MinCount = MinCount },
                new VocabularyEstimator.ColumnOptions("Category"),
                new VocabularyEstimator.ColumnOptions("Device") { FoldCase = true }))
            .Append(t.HashToBuckets(new HashBucketingEstimator.ColumnOptions("Brand") { NumBuckets = 256 }))
            .Append(t.Normalize(new NumericNormalizingEstimator.ColumnOptions("Price") { Log1p = true }, new NumericNormalizingEstimator.ColumnOptions("Age")))
            .Append(t.BucketizeByQuantile(new QuantileBucketingEstimator.ColumnOptions("Hour") { NumBuckets = 6 }));
    }

    private static TorchCtrTrainer.Options Quick() => new()
    {
        LabelColumnName = "Click",
        NumericColumnNames = ["Price", "Age"],
        Epochs = 2,
        BatchSize = 256,
        LearningRate = 3e-3,
        Threads = 1,
        Model = new CtrModelOptions { HiddenUnits = [32, 16], EmbeddingDim = 8 },
    };

    private static TransformerChain<ITransformer> TrainCold(MLContext ml, IDataView train, IDataView? valid, TorchCtrTrainer.Options options)
    {
        ITransformer features = Features(ml).Fit(train);
        TorchCtrTransformer network = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train), valid is null ? null : features.Transform(valid));
        return new TransformerChain<ITransformer>(features, network);
    }

    private static IEnumerable<ITransformer> Stages(ITransformer chain) => (IEnumerable<ITransformer>)chain;

    private static double Auc(ITransformer model, IDataView data, List<Impression> rows) =>
        BinaryMetrics.Auc([.. rows.Select(r => r.Click ? 1f : 0f)], [.. model.Transform(data).GetColumn<float>("Probability")]);

    private static T Find<T>(ITransformer pipeline)
        where T : class, ITransformer
    {
        foreach (ITransformer stage in Stages(pipeline))
        {
            if (stage is T found)
                return found;
            if (stage is IEnumerable<ITransformer> && Find<T>(stage) is T nested)
                return nested;
        }
        return null!;
    }

    private (double Warm, double Cold) WarmAndCold(int seed, int rowsPerDay, TorchCtrTrainer.Options options)
    {
        var world = PlantedWorld.Create(seed);
        var ml = new MLContext(seed: 1);
        List<Impression> day1 = Draw(world, rowsPerDay, 1), day2 = Draw(world, rowsPerDay, 2), day3 = Draw(world, rowsPerDay / 2, 3);
        int trainRows = rowsPerDay * 4 / 5;
        bool valid = Environment.GetEnvironmentVariable("VALID") == "1";
        IDataView Train(List<Impression> day) => ml.Data.LoadFromEnumerable(valid ? day.Take(trainRows) : day);
        IDataView? Valid(List<Impression> day) => valid ? ml.Data.LoadFromEnumerable(day.Skip(trainRows)) : null;
        IDataView data3 = ml.Data.LoadFromEnumerable(day3);

        TransformerChain<ITransformer> yesterday = TrainCold(ml, Train(day1), Valid(day1), options);
        TransformerChain<ITransformer> warm = IncrementalTraining.Continue(ml, yesterday, Train(day2), Valid(day2), options);
        TransformerChain<ITransformer> cold = TrainCold(ml, Train(day2), Valid(day2), options);
        TestContext.WriteLine($"  epochs warm {((TorchCtrTransformer)warm.LastTransformer).History.Length} cold {((TorchCtrTransformer)cold.LastTransformer).History.Length}");
        return (Auc(warm, data3, day3), Auc(cold, data3, day3));
    }

    [TestMethod]
    public void IncrementalTrainingTest_Measure()
    {
        string E(string n, string d) => Environment.GetEnvironmentVariable(n) ?? d;
        foreach (int rows in E("ROWS", "8000").Split(',').Select(int.Parse))
        {
            foreach (int epochs in E("EPOCHS", "1,2").Split(',').Select(int.Parse))
            {
                for (int seed = 1; seed <= int.Parse(E("SEEDS", "3")); seed++)
                {
                    var clock = Stopwatch.StartNew();
                    var o = Quick() with { Epochs = epochs, LearningRate = double.Parse(E("LR", "3e-3")), WeightDecay = double.Parse(E("WD", "0")), BatchSize = int.Parse(E("BS", "256")), Patience = 1 };
                    o = o with { Model = o.Model with { Dropout = double.Parse(E("DROP", "0.1")), EmbeddingDim = int.Parse(E("DIM", "8")) } };
                    (double warm, double cold) = WarmAndCold(seed, rows, o);
                    TestContext.WriteLine($"rows {rows} epochs {epochs} seed {seed}: warm {warm:F4} cold {cold:F4} margin {warm - cold:F4} ({clock.Elapsed.TotalSeconds:F1} s)");
                }
            }
        }
    }
}
