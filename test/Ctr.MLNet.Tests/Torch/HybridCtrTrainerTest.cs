using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class HybridCtrTrainerTest
{
    public sealed class Prediction
    {
        public float Probability { get; set; }

        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }

    /// <summary>
    /// Item and user effects (an embedding's job) plus a sharp threshold interaction of two numbers: +2.5 on the logit
    /// when X1 &gt; 0.5 and X2 &lt; −0.2 (a tree's job: two cuts; a small MLP trained briefly only approximates it).
    /// </summary>
    private static List<UserItemRow> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var world = new Random(4242);
        double[] item = [.. Enumerable.Range(0, 300).Select(_ => world.NextDouble() * 2 - 1)];
        double[] user = [.. Enumerable.Range(0, 500).Select(_ => world.NextDouble() * 2 - 1)];
        var rows = new List<UserItemRow>(count);
        for (int i = 0; i < count; i++)
        {
            int u = random.Next(user.Length), v = random.Next(item.Length);
            float x1 = (float)(random.NextDouble() * 2 - 1), x2 = (float)(random.NextDouble() * 2 - 1);
            double logit = -1.2 + 1.2 * item[v] + 1.0 * user[u] + (x1 > 0.5 && x2 < -0.2 ? 2.5 : 0);
            rows.Add(new UserItemRow { Label = random.NextDouble() < 1 / (1 + Math.Exp(-logit)), User = $"u{u}", Item = $"i{v}", X1 = x1, X2 = x2 });
        }
        return rows;
    }

    private static readonly List<UserItemRow> Train = Generate(12_000, seed: 1);
    private static readonly List<UserItemRow> Valid = Generate(3_000, seed: 2);
    private static readonly List<UserItemRow> Test = Generate(3_000, seed: 3);

    private static IEstimator<ITransformer> Features(MLContext ml) =>
        ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("UserId", "User"),
                new VocabularyEstimator.ColumnOptions("ItemId", "Item"))
            .Append(ml.Transforms.Concatenate("Numbers", "X1", "X2"));

    private static HybridCtrTrainer.Options Quick() => new()
    {
        Network = new TorchCtrTrainer.Options
        {
            NumericColumnNames = ["Numbers"],
            Epochs = 2,
            BatchSize = 256,
            Threads = 1,
            Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 8 },
        },
        NumberOfTrees = 40,
        NumberOfLeaves = 8,
        MinimumExampleCountPerLeaf = 20,
    };

    private static float[] Column(IDataView data, string name) => [.. data.GetColumn<float>(name)];

    [TestMethod]
    public void HybridCtrTrainerTest_TreesAddAThresholdInteractionTheNetworkMisses()
    {
        var ml = new MLContext(seed: 1);
        ITransformer features = Features(ml).Fit(ml.Data.LoadFromEnumerable(Train));
        IDataView train = features.Transform(ml.Data.LoadFromEnumerable(Train));
        IDataView valid = features.Transform(ml.Data.LoadFromEnumerable(Valid));
        IDataView test = features.Transform(ml.Data.LoadFromEnumerable(Test));

        TransformerChain<ITransformer> sut = ml.BinaryClassification.Trainers.TorchCtrWithTrees(Quick()).Fit(train, valid);

        IDataView scored = sut.Transform(test);
        float[] labels = [.. Test.Select(r => r.Label ? 1f : 0f)];
        double blend = BinaryMetrics.Auc(labels, Column(scored, "Probability"));
        double network = BinaryMetrics.Auc(labels, Column(scored, HybridCtrTrainer.NetworkScoreColumnName));
        double trees = BinaryMetrics.Auc(labels, Column(scored, HybridCtrTrainer.TreeScoreColumnName));
        string figures = $"blend {blend:F4}, network {network:F4}, trees {trees:F4}";
        Assert.IsGreaterThan(network + 0.01, blend, figures);
        Assert.IsGreaterThan(trees + 0.01, blend, figures);
        LogitBlend weights = ((LogitBlendTransformer)sut.LastTransformer).Blend;
        Assert.IsGreaterThan(0.0, weights.NetworkWeight, "both parts count");
        Assert.IsGreaterThan(0.0, weights.TreeWeight, "both parts count");
        var metrics = ml.BinaryClassification.Evaluate(scored);
        Assert.AreEqual(blend, metrics.AreaUnderRocCurve, 1e-6, "ML.NET's evaluator reads the blended columns");
    }

    [TestMethod]
    public void HybridCtrTrainerTest_OneZipLoadsInANewProcessAndPredictionEngineEqualsTransform()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(4000)), test = ml.Data.LoadFromEnumerable(Test.Take(300));
        var pipeline = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtrWithTrees(Quick() with { Network = Quick().Network with { Epochs = 1 }, NumberOfTrees = 10 }));
        var model = pipeline.Fit(train); // in a pipeline: a seeded hold-out early-stops and fits the blend
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "hybrid.zip");
        ml.Model.Save(model, train.Schema, path);

        ITransformer loaded = new MLContext(seed: 5).Model.Load(path, out _);

        float[] expected = Column(model.Transform(test), "Probability");
        CollectionAssert.AreEqual(expected, Column(loaded.Transform(test), "Probability"), "a new MLContext");
        CollectionAssert.AreEqual(EstimatorChecks.Rows(model.Transform(test)), ChildProcess.TransformInNewProcess(path, test, ml), "a new process");
        var engine = new MLContext().Model.CreatePredictionEngine<UserItemRow, Prediction>(loaded);
        List<UserItemRow> rows = [.. Test.Take(300)];
        for (int i = 0; i < rows.Count; i++)
        {
            Prediction p = engine.Predict(rows[i]);
            Assert.AreEqual(expected[i], p.Probability, 1e-6f, $"row {i}");
            Assert.AreEqual(p.Score > 0, p.PredictedLabel, $"row {i}");
        }
    }

    [TestMethod]
    public void HybridCtrTrainerTest_EnsembleAveragesItsNetworksAndLoadsInANewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(4000)), test = ml.Data.LoadFromEnumerable(Test.Take(300));
        var options = Quick() with { Network = Quick().Network with { Epochs = 1 }, NumberOfTrees = 10, NumberOfNetworks = 2 };
        var model = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtrWithTrees(options)).Fit(train);
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "ensemble.zip");
        ml.Model.Save(model, train.Schema, path);

        ITransformer loaded = new MLContext(seed: 5).Model.Load(path, out _);

        IDataView scored = model.Transform(test);
        float[] first = Column(scored, HybridCtrTrainer.NetworkScoreColumn(1)), second = Column(scored, HybridCtrTrainer.NetworkScoreColumn(2));
        float[] trees = Column(scored, HybridCtrTrainer.TreeScoreColumnName), score = Column(scored, "Score");
        Assert.IsGreaterThan(0.01, first.Zip(second, (a, b) => Math.Abs(a - b)).Average(), "two seeds give two different networks");
        var blend = model.LastTransformer.OfType<LogitBlendTransformer>().Single();
        CollectionAssert.AreEqual(new[] { HybridCtrTrainer.NetworkScoreColumn(1), HybridCtrTrainer.NetworkScoreColumn(2) }, blend.NetworkScoreColumns.ToArray());
        for (int i = 0; i < score.Length; i++)
            Assert.AreEqual(blend.Blend.Score((first[i] + second[i]) / 2, trees[i]), score[i], 1e-5f, $"row {i}: the blend of the networks' mean logit and the trees");
        float[] expected = Column(scored, "Probability");
        CollectionAssert.AreEqual(expected, Column(loaded.Transform(test), "Probability"), "a new MLContext");
        CollectionAssert.AreEqual(EstimatorChecks.Rows(scored), ChildProcess.TransformInNewProcess(path, test, ml), "a new process");
        var engine = new MLContext().Model.CreatePredictionEngine<UserItemRow, Prediction>(loaded);
        List<UserItemRow> rows = [.. Test.Take(300)];
        for (int i = 0; i < rows.Count; i++)
            Assert.AreEqual(expected[i], engine.Predict(rows[i]).Probability, 1e-6f, $"row {i}");
    }

    [TestMethod]
    public void HybridCtrTrainerTest_EnsembleCheckpointsEachNetworkApartAndResumesToTheSameModel()
    {
        var ml = new MLContext(seed: 1);
        ITransformer features = Features(ml).Fit(ml.Data.LoadFromEnumerable(Train));
        IDataView train = features.Transform(ml.Data.LoadFromEnumerable(Train.Take(3000)));
        IDataView valid = features.Transform(ml.Data.LoadFromEnumerable(Valid.Take(1000)));
        using var directory = new TemporaryDirectory();
        var options = Quick() with { Network = Quick().Network with { Epochs = 2, CheckpointDirectory = directory.Path }, NumberOfTrees = 5, NumberOfNetworks = 2 };
        IDataView scored = ml.BinaryClassification.Trainers.TorchCtrWithTrees(options).Fit(train, valid).Transform(valid);
        Assert.IsFalse(HybridCtrTrainer.HasCheckpoint(Path.Combine(directory.Path, "none")));
        Assert.IsTrue(HybridCtrTrainer.HasCheckpoint(directory.Path));
        Assert.IsTrue(TorchCtrTrainer.HasCheckpoint(Path.Combine(directory.Path, "network-1")) && TorchCtrTrainer.HasCheckpoint(Path.Combine(directory.Path, "network-2")),
            "each network writes its own checkpoint: one shared file would resume network 2 from network 1");
        // Network 2 never started: its checkpoint is gone, as after a kill during network 1.
        Directory.Delete(Path.Combine(directory.Path, "network-2"), recursive: true);

        var resumed = ml.BinaryClassification.Trainers.TorchCtrWithTrees(options with { Network = options.Network with { Resume = true } }).Fit(train, valid);

        CollectionAssert.AreEqual(Column(scored, "Probability"), Column(resumed.Transform(valid), "Probability"), "network 1 resumed past its end, network 2 trained afresh: the same model");
    }

    [TestMethod]
    public void HybridCtrTrainerTest_EnsembleWithoutTreesBlendsTheNetworksAlone()
    {
        var ml = new MLContext(seed: 1);
        ITransformer features = Features(ml).Fit(ml.Data.LoadFromEnumerable(Train));
        IDataView train = features.Transform(ml.Data.LoadFromEnumerable(Train.Take(4000)));
        IDataView valid = features.Transform(ml.Data.LoadFromEnumerable(Valid.Take(1000)));

        TransformerChain<ITransformer> sut = ml.BinaryClassification.Trainers.TorchCtrWithTrees(
            Quick() with { Network = Quick().Network with { Epochs = 1 }, NumberOfTrees = 0, NumberOfNetworks = 2 }).Fit(train, valid);

        var blend = (LogitBlendTransformer)sut.LastTransformer;
        Assert.IsNull(blend.TreeScoreColumn);
        Assert.AreEqual(0.0, blend.Blend.TreeWeight);
        Assert.IsTrue(double.IsNaN(blend.Blend.TreesValidAuc));
        Assert.HasCount(5, sut.ToList(), "two networks, the copies of their logits, the blend: no trees");
        Assert.HasCount(2, sut.OfType<TorchCtrTransformer>().ToList());
        Assert.IsNull(sut.Transform(valid).Schema.GetColumnOrNull(HybridCtrTrainer.TreeScoreColumnName));
    }

    [TestMethod]
    public void HybridCtrTrainerTest_RejectsBadOptionsNamingThem()
    {
        var ml = new MLContext();
        var sut = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtrWithTrees(new HybridCtrTrainer.Options { NumberOfTrees = 0, NumberOfNetworks = 1 }));
        StringAssert.Contains(sut.Message, "nothing to blend");
        sut = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtrWithTrees(new HybridCtrTrainer.Options { NumberOfTrees = -1 }));
        StringAssert.Contains(sut.Message, "NumberOfTrees");
        sut = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtrWithTrees(new HybridCtrTrainer.Options { NumberOfNetworks = 0 }));
        StringAssert.Contains(sut.Message, "NumberOfNetworks");
        sut = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtrWithTrees(new HybridCtrTrainer.Options { HoldOutFraction = 1 }));
        StringAssert.Contains(sut.Message, "HoldOutFraction");
    }

    [TestMethod]
    public void LogitBlendTest_RecoversPlantedWeightsAndRefusesOneClass()
    {
        var random = new Random(3);
        int n = 40_000;
        var network = new float[n];
        var trees = new float[n];
        var labels = new float[n];
        for (int i = 0; i < n; i++)
        {
            network[i] = (float)(random.NextDouble() * 4 - 2);
            trees[i] = (float)(random.NextDouble() * 4 - 2);
            double logit = -0.7 + 0.8 * network[i] + 1.3 * trees[i];
            labels[i] = random.NextDouble() < 1 / (1 + Math.Exp(-logit)) ? 1 : 0;
        }

        LogitBlend sut = LogitBlend.Fit(network, trees, labels);

        Assert.AreEqual(-0.7, sut.Intercept, 0.06);
        Assert.AreEqual(0.8, sut.NetworkWeight, 0.05);
        Assert.AreEqual(1.3, sut.TreeWeight, 0.06);
        Assert.IsGreaterThan(Math.Max(sut.NetworkValidAuc, sut.TreesValidAuc), sut.BlendValidAuc);
        Assert.AreEqual((float)(sut.Intercept + sut.NetworkWeight * 0.5 + sut.TreeWeight * -1), sut.Score(0.5f, -1f), 1e-6f);
        var error = Errors.Find<ArgumentException>(() => LogitBlend.Fit([1f, 2f], [0f, 1f], [1f, 1f]));
        StringAssert.Contains(error.Message, "both classes");
    }

    /// <summary>
    /// Hybrid zips of each blend format version (1.1: one network and trees; 1.2: an ensemble of two networks and trees)
    /// keep loading with the probabilities they were saved with. CTR_WRITE_BACKCOMPAT=1 writes the current version's.
    /// </summary>
    [TestMethod]
    [DataRow("v1.1")]
    [DataRow("v1.2")]
    public void HybridCtrTrainerTest_EveryBlendFormatVersionLoadsWithItsProbabilities(string version)
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(Test.Take(200));
        string zip = $"hybrid-{version}.zip", expected = $"hybrid-{version}.expected.txt";
        if (BackCompatFiles.Writing && version == "v1.2")
        {
            var options = Quick() with { Network = Quick().Network with { Epochs = 1 }, NumberOfTrees = 5, NumberOfNetworks = 2 };
            var model = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtrWithTrees(options)).Fit(ml.Data.LoadFromEnumerable(Train.Take(2000)));
            ml.Model.Save(model, data.Schema, BackCompatFiles.SourcePath(zip));
            File.WriteAllLines(BackCompatFiles.SourcePath(expected), Column(model.Transform(data), "Probability").Select(p => p.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Inconclusive("Wrote the back-compat files; rebuild and run again without CTR_WRITE_BACKCOMPAT.");
        }

        ITransformer sut = new MLContext(seed: 2).Model.Load(BackCompatFiles.Path(zip), out _);

        float[] want = [.. File.ReadAllLines(BackCompatFiles.Path(expected)).Select(l => float.Parse(l, System.Globalization.CultureInfo.InvariantCulture))];
        float[] got = Column(sut.Transform(data), "Probability");
        Assert.HasCount(want.Length, got);
        for (int i = 0; i < want.Length; i++)
            Assert.AreEqual(want[i], got[i], 1e-5f, $"row {i + 1}"); // libtorch's kernels may round differently on another CPU
    }
}
