using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class TorchCtrTrainerTest
{
    public TestContext TestContext { get; set; } = null!;

    static TorchCtrTrainerTest()
    {
        CtrModelRegistry.Register<LogisticModel>("test-logistic");
        CtrModelRegistry.Register<DivergingModel>("test-diverging");
    }

    private static readonly List<PlantedClicks.Row> Train = PlantedClicks.Generate(6000, seed: 1);
    private static readonly List<PlantedClicks.Row> Test = PlantedClicks.Generate(2000, seed: 2);

    private static TorchCtrTrainer.Options Quick() => new()
    {
        NumericColumnNames = ["Price"],
        SequenceWeights = new Dictionary<string, string> { ["HistoryIds"] = "HistoryWeights" },
        Epochs = 3,
        BatchSize = 256,
        LearningRate = 1e-2,
        Threads = 1,
        Model = new CtrModelOptions { HiddenUnits = [32, 16], EmbeddingDim = 8 },
    };

    private static float[] Probabilities(ITransformer model, IDataView data) =>
        [.. model.Transform(data).GetColumn<float>("Probability")];

    [TestMethod]
    public void TorchCtrTrainerTest_Workout()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(1000));
        IDataView features = PlantedClicks.Features(ml).Fit(train).Transform(train);
        IDataView invalid = ml.Transforms.DropColumns("Label").Fit(features).Transform(features);

        ITransformer loaded = EstimatorChecks.Workout(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 1 }), features, invalid);

        ((IDisposable)loaded).Dispose();
    }

    [TestMethod]
    public void TorchCtrTrainerTest_SeedComesFromTheMLContextUnlessGiven()
    {
        float[] Fit(int contextSeed, int? seed)
        {
            var ml = new MLContext(seed: contextSeed);
            IDataView train = ml.Data.LoadFromEnumerable(Train.Take(600));
            IDataView features = PlantedClicks.Features(ml).Fit(train).Transform(train);
            using TorchCtrTransformer model = ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 1, Seed = seed }).Fit(features);
            return Probabilities(model, features);
        }

        CollectionAssert.AreEqual(Fit(3, null), Fit(3, null), "a seeded MLContext repeats");
        CollectionAssert.AreNotEqual(Fit(3, null), Fit(4, null), "another MLContext seed, another model");
        CollectionAssert.AreEqual(Fit(3, 5), Fit(4, 5), "a seed of the trainer's own wins over the MLContext's");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_ThreadsApplyToTheFitOnly()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(600));
        IDataView features = PlantedClicks.Features(ml).Fit(train).Transform(train);
        int before = torch.get_num_threads();
        torch.set_num_threads(2);
        var during = new List<int>();
        try
        {
            var options = Quick() with { Epochs = 1, Threads = 1, Progress = new SynchronousProgress(_ => during.Add(torch.get_num_threads())) };

            using TorchCtrTransformer sut = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features);

            Assert.IsTrue(during.Count > 0 && during.All(t => t == 1), $"threads during the fit: {string.Join(", ", during.Distinct())}");
            Assert.AreEqual(2, torch.get_num_threads(), "the process's setting is back after the fit");
        }
        finally
        {
            torch.set_num_threads(before);
        }
    }

    [TestMethod]
    public void TorchCtrTrainerTest_LearnsPlantedSignalAndEvaluates()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train), test = ml.Data.LoadFromEnumerable(Test);

        var sut = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick()));
        var model = sut.Fit(train);

        var metrics = ml.BinaryClassification.Evaluate(model.Transform(test));
        float[] labels = [.. Test.Select(r => r.Label ? 1f : 0f)];
        double oracle = BinaryMetrics.Auc(labels, [.. Test.Select(r => r.TrueProbability)]);
        // Baseline: each item's click rate in the training data.
        var itemRate = Train.GroupBy(r => r.Item).ToDictionary(g => g.Key, g => g.Average(r => r.Label ? 1f : 0f));
        double popularity = BinaryMetrics.Auc(labels, [.. Test.Select(r => itemRate.GetValueOrDefault(r.Item, 0.4f))]);
        Assert.IsGreaterThan(popularity + 0.04, metrics.AreaUnderRocCurve, $"AUC {metrics.AreaUnderRocCurve:F4}, item popularity {popularity:F4}, oracle {oracle:F4}");
        Assert.IsLessThan(oracle + 0.02, metrics.AreaUnderRocCurve);
        float[] probabilities = Probabilities(model, test);
        Assert.AreEqual(metrics.AreaUnderRocCurve, BinaryMetrics.Auc(labels, probabilities), 1e-6, "our AUC agrees with ML.NET's");
        Assert.AreEqual(metrics.LogLoss / Math.Log2(Math.E), BinaryMetrics.LogLoss(labels, probabilities), 1e-4, "our log loss is ML.NET's in nats");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_AutomaticBatchSizeGivesSmallDataAtLeastOneHundredStepsPerEpoch()
    {
        var auto = new TorchCtrTrainer.Options();

        Assert.IsNull(auto.BatchSize);
        Assert.AreEqual(1024, auto.ResolveBatchSize(10_000_000));
        Assert.AreEqual(1024, auto.ResolveBatchSize(102_400), "exactly 100 steps of 1024");
        Assert.AreEqual(512, auto.ResolveBatchSize(102_399));
        Assert.AreEqual(64, auto.ResolveBatchSize(7_200), "the criteo sample's training rows");
        Assert.AreEqual(32, auto.ResolveBatchSize(500), "never below 32");
        Assert.AreEqual(4096, (auto with { BatchSize = 4096 }).ResolveBatchSize(500), "a set size is kept");
        Assert.AreEqual(100, (auto with { StreamingBlockRows = 100 }).ResolveBatchSize(10_000_000), "a batch fits in a streamed block");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext().BinaryClassification.Trainers.TorchCtr(auto with { BatchSize = 1 }));
        Assert.AreEqual(2, (auto with { StreamingBlockRows = 2 }).ResolveBatchSize(10_000_000), "the smallest block");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_ABlockTooSmallForAnyBatchSaysHowLargeItMustBe()
    {
        var ml = new MLContext();

        var automatic = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options { StreamingBlockRows = 1 }));
        var set = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options { StreamingBlockRows = 100, BatchSize = 256 }));

        StringAssert.StartsWith(automatic.Message, "StreamingBlockRows must be at least 2 (a batch of the automatic BatchSize has at least 2 rows), got 1.");
        StringAssert.StartsWith(set.Message, "StreamingBlockRows (100) must be at least BatchSize (256).");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_AutomaticBatchSizeIsReportedAndLearnsMoreFromSmallDataThanLargeBatches()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(3000)), test = ml.Data.LoadFromEnumerable(Test);
        ITransformer features = PlantedClicks.Features(ml).Fit(train);
        float[] labels = [.. Test.Select(r => r.Label ? 1f : 0f)];
        var messages = new List<string>();
        double Auc(int? batchSize)
        {
            var options = Quick() with { BatchSize = batchSize, Epochs = 1, Progress = new SynchronousProgress(p => { if (p.Message is not null) messages.Add(p.Message); }) };
            using var model = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train));
            return BinaryMetrics.Auc(labels, Probabilities(model, features.Transform(test)));
        }

        double automatic = Auc(null), large = Auc(1024);

        CollectionAssert.Contains(messages, "batches of 32 rows", "3,000 rows: 32 is the largest power of two with 100 steps");
        Assert.AreEqual(1, messages.Count(m => m.StartsWith("batches of", StringComparison.Ordinal)), "a set size is not reported");
        // One epoch of three 1024-row steps barely moves the network; 94 steps of 32 learn the planted signal.
        Assert.IsGreaterThan(large + 0.03, automatic, $"automatic {automatic:F4}, 1024 rows {large:F4}");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_ModelZipRoundTripGivesIdenticalProbabilities()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(2000)), test = ml.Data.LoadFromEnumerable(Test.Take(500));
        var model = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 1 })).Fit(train);
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "model.zip");
        ml.Model.Save(model, train.Schema, path);

        var fresh = new MLContext(seed: 9);
        ITransformer sut = fresh.Model.Load(path, out _);

        CollectionAssert.AreEqual(Probabilities(model, test), Probabilities(sut, test), "same MLContext-free process");
        string[] inNewProcess = ChildProcess.TransformInNewProcess(path, test, ml);
        CollectionAssert.AreEqual(EstimatorChecks.Rows(model.Transform(test)), inNewProcess, "new process");
        (sut as IDisposable)?.Dispose();
    }

    [TestMethod]
    public void TorchCtrTrainerTest_PredictionEngineMatchesBatchedTransform()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(2000));
        var model = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 1 })).Fit(train);
        using var stream = new MemoryStream();
        ml.Model.Save(model, train.Schema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext().Model.Load(stream, out _);
        var inputs = Test.Take(50).Select(r => new PlantedClicks.Input { User = r.User, Item = r.Item, History = r.History, HistoryWeights = r.HistoryWeights, Price = r.Price }).ToList();
        float[] batched = Probabilities(loaded, ml.Data.LoadFromEnumerable(inputs));

        var sut = new MLContext().Model.CreatePredictionEngine<PlantedClicks.Input, PlantedClicks.Prediction>(loaded);

        for (int i = 0; i < inputs.Count; i++)
        {
            PlantedClicks.Prediction prediction = sut.Predict(inputs[i]);
            Assert.AreEqual(batched[i], prediction.Probability, 1e-6f, $"row {i}");
            Assert.AreEqual(prediction.Probability > 0.5f, prediction.PredictedLabel);
        }
        PlantedClicks.Prediction unseen = sut.Predict(new PlantedClicks.Input { User = "nobody", Item = "new", History = [], HistoryWeights = [] });
        Assert.IsTrue(float.IsFinite(unseen.Probability), "unknown ids and an empty history still score");
    }

    private sealed class LogisticModel : CtrModel
    {
        private readonly FeatureEmbedding weights;
        private readonly TorchSharp.Modules.Parameter bias;

        public LogisticModel(CtrModelContext context)
            : base(nameof(LogisticModel))
        {
            weights = new FeatureEmbedding(context with { Options = context.Options with { EmbeddingDim = 1 } });
            bias = new TorchSharp.Modules.Parameter(torch.zeros(1));
            RegisterComponents();
        }

        public int TrainingSteps { get; private set; }

        public override torch.Tensor forward(CtrBatch batch)
        {
            using torch.Tensor fields = weights.call(batch);
            return fields.sum(1) + bias;
        }

        public override torch.Tensor TrainingStep(CtrBatch batch)
        {
            TrainingSteps++;
            return base.TrainingStep(batch);
        }

        public override torch.optim.Optimizer CreateOptimizer(TorchCtrTrainer.Options options) => torch.optim.Adagrad(parameters(), 0.1);
    }

    [TestMethod]
    public void TorchCtrTrainerTest_CustomModelTrainsSavesAndLoads()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train), test = ml.Data.LoadFromEnumerable(Test);
        var options = Quick() with { ModelType = typeof(LogisticModel), NumericColumnNames = [], Epochs = 3 };

        var model = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);

        var trained = (LogisticModel)model.LastTransformer.Model;
        Assert.AreEqual(3 * (int)Math.Ceiling(6000 / 256.0), trained.TrainingSteps, "the trainer called the model's own training step");
        Assert.IsGreaterThan(0.65, ml.BinaryClassification.Evaluate(model.Transform(test)).AreaUnderRocCurve);
        ITransformer loaded = EstimatorChecks.SaveAndLoad(model, train.Schema);
        CollectionAssert.AreEqual(Probabilities(model, test), Probabilities(loaded, test));
    }

    [TestMethod]
    public void TorchCtrTrainerTest_ResumeFromCheckpointEqualsUninterruptedRun()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(3000)), valid = ml.Data.LoadFromEnumerable(Test.Take(1000));
        var features = PlantedClicks.Features(ml).Fit(train);
        IDataView trainFeatures = features.Transform(train), validFeatures = features.Transform(valid);
        using var directory = new TemporaryDirectory();
        var options = Quick() with { Epochs = 4, Patience = null, KeepBestWeights = false, Schedule = LearningRateSchedule.Cosine, WarmupSteps = 5 };

        using TorchCtrTransformer uninterrupted = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(trainFeatures, validFeatures);
        var interrupted = ml.BinaryClassification.Trainers.TorchCtr(options with { CheckpointDirectory = directory.Path, CancellationToken = CancelAfterEpoch(2, out var progress), Progress = progress });
        Assert.ThrowsExactly<OperationCanceledException>(() => interrupted.Fit(trainFeatures, validFeatures));
        Assert.IsTrue(File.Exists(Path.Combine(directory.Path, "checkpoint.ctr")));
        using TorchCtrTransformer sut = ml.BinaryClassification.Trainers.TorchCtr(options with { CheckpointDirectory = directory.Path, Resume = true }).Fit(trainFeatures, validFeatures);

        CollectionAssert.AreEqual(uninterrupted.History.Select(h => h.ValidAuc).ToArray(), sut.History.Select(h => h.ValidAuc).ToArray());
        CollectionAssert.AreEqual(Probabilities(uninterrupted, validFeatures), Probabilities(sut, validFeatures));
    }

    [TestMethod]
    public void TorchCtrTrainerTest_SeededDeepFmFitRepeatsBitForBitInAnotherProcess()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "clicks.csv");
        WriteNumericClicksCsv(path, rows: 4000, seed: 5);

        string[] here = SeededDeepFmProbabilities(path);
        string[] sut = ChildProcess.SeededFitInNewProcess(path);

        Assert.HasCount(500, here);
        CollectionAssert.AreEqual(here, sut, "the same seed, one torch thread: identical probabilities in another process");
    }

    /// <summary>
    /// What the <c>models</c> benchmark does on criteo, small: infer the spec, fit its pipeline on the first rows, train
    /// DeepFM (one embedding width) with early stopping on the next, and score the last 500 rows. Returns the test
    /// probabilities as the hex of their bits, so that a comparison is exact.
    /// </summary>
    internal static string[] SeededDeepFmProbabilities(string csvPath)
    {
        FeatureSpec spec = FeatureSpecInference.FromCsv(csvPath);
        var ml = new MLContext(seed: 1);
        IDataView all = spec.LoadCsv(ml, csvPath);
        IDataView train = ml.Data.TakeRows(all, 3000), valid = ml.Data.SkipRows(ml.Data.TakeRows(all, 3500), 3000), test = ml.Data.SkipRows(all, 3500);
        ITransformer features = spec.BuildPipeline(ml).Fit(train);
        var options = Quick() with
        {
            LabelColumnName = spec.Label,
            NumericColumnNames = spec.NumericColumnNames,
            SequenceWeights = new Dictionary<string, string>(),
            ModelType = typeof(DeepFmModel),
            Seed = 1,
        };
        using TorchCtrTransformer model = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train), features.Transform(valid));
        return [.. Probabilities(model, features.Transform(test)).Select(p => BitConverter.SingleToInt32Bits(p).ToString("X8", CultureInfo.InvariantCulture))];
    }

    /// <summary>
    /// A click file with 8 float columns and two id columns; the click probability follows a few of each. DeepFM's linear
    /// term multiplies the batch's numeric tensor directly, and libtorch's product over 5 or more columns rounded with
    /// the alignment of that tensor's memory, which was the garbage collector's choice when batches lived in managed arrays.
    /// </summary>
    private static void WriteNumericClicksCsv(string path, int rows, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder("click,n1,n2,n3,n4,n5,n6,n7,n8,site,ad\n");
        for (int r = 0; r < rows; r++)
        {
            double[] numbers = [.. Enumerable.Range(0, 8).Select(_ => Math.Round(random.NextDouble() * 10 - 3, 3))];
            int site = random.Next(30), ad = random.Next(80);
            double logit = 0.4 * numbers[0] - 0.3 * numbers[3] + 0.2 * numbers[6] + (site % 3 - 1) + (ad % 5 == 0 ? 1 : -0.2) - 1;
            int click = random.NextDouble() < 1 / (1 + Math.Exp(-logit)) ? 1 : 0;
            text.Append(CultureInfo.InvariantCulture, $"{click},{string.Join(',', numbers.Select(n => n.ToString(CultureInfo.InvariantCulture)))},s{site},a{ad}\n");
        }
        File.WriteAllText(path, text.ToString());
    }

    /// <summary>The logistic model, whose loss turns NaN at a chosen training step (static: the trainer builds the model).</summary>
    private sealed class DivergingModel : CtrModel
    {
        private readonly FeatureEmbedding weights;
        private int _steps;

        public DivergingModel(CtrModelContext context)
            : base(nameof(DivergingModel))
        {
            weights = new FeatureEmbedding(context with { Options = context.Options with { EmbeddingDim = 1 } });
            RegisterComponents();
        }

        public static int DivergeAtStep { get; set; } = -1;

        public static Action? OnDiverge { get; set; }

        public override torch.Tensor forward(CtrBatch batch)
        {
            using torch.Tensor fields = weights.call(batch);
            return fields.sum(1);
        }

        public override torch.Tensor TrainingStep(CtrBatch batch)
        {
            torch.Tensor loss = base.TrainingStep(batch);
            if (++_steps != DivergeAtStep)
                return loss;
            OnDiverge?.Invoke();
            using (loss)
                return loss * float.NaN;
        }
    }

    [TestMethod]
    public void TorchCtrTrainerTest_NaNLossStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(3000));
        IDataView trainFeatures = PlantedClicks.Features(ml).Fit(train).Transform(train);
        using var directory = new TemporaryDirectory();
        string checkpoint = Path.Combine(directory.Path, "checkpoint.ctr");
        var options = Quick() with { ModelType = typeof(DivergingModel), NumericColumnNames = [], CheckpointDirectory = directory.Path };
        byte[]? beforeDivergence = null;
        DivergingModel.DivergeAtStep = 15; // 12 steps an epoch: the third step of epoch 2
        DivergingModel.OnDiverge = () => beforeDivergence = File.ReadAllBytes(checkpoint);
        try
        {
            var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.TorchCtr(options).Fit(trainFeatures));

            StringAssert.Contains(error.Message, "Training loss became NaN in epoch 2, step 15.");
            Assert.DoesNotContain("EmbeddingL2", error.Message, "no table is large enough for the prior: it is not what went wrong");
            StringAssert.Contains(error.Message, $"The last good checkpoint (after epoch 1) is in '{directory.Path}'.");
            Assert.IsNotNull(beforeDivergence, "epoch 1 wrote a checkpoint before the loss diverged");
            CollectionAssert.AreEqual(beforeDivergence, File.ReadAllBytes(checkpoint), "the failed epoch leaves the checkpoint as it was");

            DivergingModel.DivergeAtStep = -1;
            using TorchCtrTransformer resumed = ml.BinaryClassification.Trainers.TorchCtr(options with { Resume = true }).Fit(trainFeatures);
            Assert.HasCount(3, resumed.History);
            Assert.IsTrue(resumed.History.All(h => double.IsFinite(h.TrainLoss)));
        }
        finally
        {
            DivergingModel.DivergeAtStep = -1;
            DivergingModel.OnDiverge = null;
        }
    }

    [TestMethod]
    public void TorchCtrTrainerTest_ALossTheEmbeddingPriorOverflowsNamesEmbeddingL2()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(1000));
        IDataView trainFeatures = PlantedClicks.Features(ml).Fit(train).Transform(train);
        // Finite, but its penalty overflows Single: the weights become NaN after the first step.
        var options = Quick() with { EmbeddingL2 = 1e300, EmbeddingL2MinimumTableSize = 0, Epochs = 1 };

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => ml.BinaryClassification.Trainers.TorchCtr(options).Fit(trainFeatures));

        StringAssert.Contains(error.Message, "Lower LearningRate or EmbeddingL2 (1E+300)");
    }

    private static CancellationToken CancelAfterEpoch(int epoch, out IProgress<TrainingProgress> progress)
    {
        var source = new CancellationTokenSource();
        progress = new SynchronousProgress(p =>
        {
            if (p.Phase == TrainingPhase.EpochEnd && p.Epoch == epoch)
                source.Cancel();
        });
        return source.Token;
    }

    [TestMethod]
    public void TorchCtrTrainerTest_EarlyStoppingKeepsBestEpoch()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(1500)), valid = ml.Data.LoadFromEnumerable(Test.Take(1000));
        var features = PlantedClicks.Features(ml).Fit(train);
        // A large rate on few rows overfits quickly, so validation AUC peaks early.
        var options = Quick() with { Epochs = 30, Patience = 2, LearningRate = 0.02, Model = new CtrModelOptions { HiddenUnits = [64], Dropout = 0, BatchNorm = false, EmbeddingDim = 16 } };

        using TorchCtrTransformer sut = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train), features.Transform(valid));

        Assert.IsLessThan(30, sut.History.Length, "stopped early");
        int best = sut.History.Select((h, i) => (h.ValidAuc, i)).Max().i;
        Assert.AreEqual(sut.History.Length - 3, best, "stopped two epochs after the best");
        float[] labels = [.. Test.Take(1000).Select(r => r.Label ? 1f : 0f)];
        Assert.AreEqual(sut.History[best].ValidAuc, BinaryMetrics.Auc(labels, Probabilities(sut, features.Transform(valid))), 1e-6, "the best epoch's weights were restored");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_OptimizersAndSchedules()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(1024));
        IDataView features = PlantedClicks.Features(ml).Fit(train).Transform(train);
        float[] labels = [.. Train.Take(1024).Select(r => r.Label ? 1f : 0f)];
        foreach (CtrOptimizer optimizer in Enum.GetValues<CtrOptimizer>())
        {
            // Plain SGD needs a larger rate to move as far in 8 steps.
            var options = Quick() with { Optimizer = optimizer, Epochs = 2, WeightDecay = 1e-4, GradientClipNorm = 1.0, LearningRate = optimizer == CtrOptimizer.Sgd ? 0.1 : 1e-2 };
            using TorchCtrTransformer sut = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features);
            // The control starts from the same weights (same seed) and takes steps of nothing.
            using TorchCtrTransformer control = ml.BinaryClassification.Trainers.TorchCtr(options with { LearningRate = 1e-30 }).Fit(features);
            Assert.IsTrue(sut.History.All(h => double.IsFinite(h.TrainLoss)), optimizer.ToString());
            double trained = BinaryMetrics.LogLoss(labels, Probabilities(sut, features)), untrained = BinaryMetrics.LogLoss(labels, Probabilities(control, features));
            TestContext.WriteLine($"{optimizer}: training log loss {trained:F4}, no-step control {untrained:F4}");
            Assert.IsLessThan(untrained - 0.02, trained, $"{optimizer} lowers the loss below the no-step control's {untrained:F4}");
        }

        // 1024 rows / 256 = 4 steps per epoch.
        using var step = ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 3, Schedule = LearningRateSchedule.Step, StepEpochs = 1, StepGamma = 0.5 }).Fit(features);
        double rate = Quick().LearningRate;
        CollectionAssert.AreEqual(new[] { rate, rate / 2, rate / 4 }, step.History.Select(h => h.LearningRate).ToArray());
        using var warmup = ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 1, WarmupSteps = 8 }).Fit(features);
        Assert.AreEqual(rate * 4 / 8, warmup.History[0].LearningRate, 1e-12, "linear warm-up: step 4 of 8");
        using var cosine = ml.BinaryClassification.Trainers.TorchCtr(Quick() with { Epochs = 2, Schedule = LearningRateSchedule.Cosine }).Fit(features);
        Assert.AreEqual(rate * 0.5 * (1 + Math.Cos(Math.PI * 7 / 8)), cosine.History[1].LearningRate, 1e-12, "cosine at the last of 8 steps");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_LiveTensorsStayFlatOverEpochs()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(2000)), valid = ml.Data.LoadFromEnumerable(Test.Take(500));
        var features = PlantedClicks.Features(ml).Fit(train);
        var live = new List<long>();
        var options = Quick() with { Epochs = 6, Patience = null, Progress = new SynchronousProgress(p => { if (p.Phase == TrainingPhase.EpochEnd) live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount); }) };

        using TorchCtrTransformer sut = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(train), features.Transform(valid));

        Assert.HasCount(6, live);
        // Counted on this thread only, so tensors other tests leave to the finalizer cannot blur the count.
        Assert.AreEqual(1, live.Skip(1).Distinct().Count(), $"live tensors after each epoch: {string.Join(", ", live)}");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_SchemaErrorsNameTheColumn()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(100));
        IDataView features = PlantedClicks.Features(ml).Fit(train).Transform(train);

        var noLabel = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { LabelColumnName = "Clicked" }).Fit(features));
        var rawColumn = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { CategoricalColumnNames = ["User"] }).Fit(features));
        var textNumeric = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { NumericColumnNames = ["Item"] }).Fit(features));
        var badOption = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Quick() with { BatchSize = 0 }));

        StringAssert.Contains(noLabel.Message, "Could not find label column 'Clicked'");
        StringAssert.Contains(rawColumn.Message, "Schema mismatch for input column 'User': expected a key column from MapToVocabulary or HashToBuckets");
        StringAssert.Contains(textNumeric.Message, "Schema mismatch for input column 'Item': expected Single");
        StringAssert.Contains(badOption.Message, "BatchSize must be at least 2");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_WeightLengthMismatchNamesTheRow()
    {
        var ml = new MLContext(seed: 1);
        var rows = Train.Take(10).Select(r => new PlantedClicks.Row { Label = r.Label, User = r.User, Item = r.Item, History = ["i1", "i2"], HistoryWeights = [1f, 1f] }).ToList();
        rows[6].HistoryWeights = [1f];
        IDataView train = ml.Data.LoadFromEnumerable(rows);

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Quick())).Fit(train));

        StringAssert.Contains(error.Message, "Row 7: sequence column 'HistoryIds' has 2 ids but weight column 'HistoryWeights' has 1 weights");
    }

    [TestMethod]
    public void TorchCtrTrainerTest_ReadsSequenceWeightsAndEmbeddingWidthsFromTheSchema()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train.Take(1000));
        var features = ml.Ctr().Transforms.ParseSequence("HistoryTokens", "History", weightColumnName: "HistoryWeights")
            .Append(ml.Ctr().Transforms.MapToVocabulary(
                new Ctr.MLNet.Transforms.VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
                new Ctr.MLNet.Transforms.VocabularyEstimator.ColumnOptions("HistoryIds", "HistoryTokens") { Vocabulary = "item" },
                new Ctr.MLNet.Transforms.VocabularyEstimator.ColumnOptions("UserId", "User")));
        var options = Quick() with { SequenceWeights = new Dictionary<string, string>(), Epochs = 1, Model = Quick().Model with { EmbeddingDims = System.Collections.Immutable.ImmutableDictionary<string, int>.Empty.Add("item", 4) } };

        var model = features.Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);

        FeatureLayout sut = model.LastTransformer.Layout;
        Assert.AreEqual("HistoryTokensWeights", sut.Sequences.Single().WeightColumnName, "paired by ParseSequence, carried by the vocabulary");
        Assert.AreEqual(2, sut.Tables.Length, "item and history share one table");
        long[][] shapes = [.. model.LastTransformer.Model.parameters().Select(p => p.shape).Where(s => s.Length == 2 && s[0] > 100)];
        CollectionAssert.AreEquivalent(new long[] { 4, 8 }, shapes.Select(s => s[1]).ToArray(), "item table 4 wide, user table the default 8");
    }
}

/// <summary>Calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class SynchronousProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
