using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class EmbeddingPriorTest
{
    private static readonly List<PlantedClicks.Row> Train = PlantedClicks.Generate(3000, seed: 1);

    private static TorchCtrTransformer Fit(double embeddingL2, int minimumTableSize = 0)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Train);
        IDataView features = PlantedClicks.Features(ml).Fit(train).Transform(train);
        return ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options
        {
            NumericColumnNames = ["Price"],
            Epochs = 3,
            BatchSize = 256,
            Threads = 1,
            EmbeddingL2 = embeddingL2,
            EmbeddingL2MinimumTableSize = minimumTableSize,
            Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 8 },
        }).Fit(features);
    }

    private static double TableNorm(TorchCtrTransformer model, int table)
    {
        using torch.Tensor weight = ((DnnCtrModel)model.Model).named_parameters().First(p => p.name.Contains($"tables.{table}")).parameter.detach();
        return weight.square().sum().item<float>();
    }

    [TestMethod]
    public void EmbeddingPriorTest_PullsEveryEmbeddingTableTowardZero()
    {
        using TorchCtrTransformer free = Fit(0), sut = Fit(200);

        for (int table = 0; table < free.Layout.Tables.Length; table++)
        {
            double without = TableNorm(free, table), with = TableNorm(sut, table);
            Assert.IsLessThan(0.5 * without, with, $"table '{free.Layout.Tables[table].Name}': ‖W‖² {with:G4} with the prior, {without:G4} without");
        }
    }

    [TestMethod]
    public void EmbeddingPriorTest_ReachesOnlyTablesLargerThanTheMinimumSize()
    {
        using TorchCtrTransformer free = Fit(0);
        int[] sizes = [.. free.Layout.Tables.Select(t => t.Size)];
        int threshold = sizes.Order().ElementAt(sizes.Length / 2 - 1);
        Assert.IsTrue(sizes.Any(s => s > threshold) && sizes.Any(s => s <= threshold), $"table sizes {string.Join(", ", sizes)}");

        using TorchCtrTransformer sut = Fit(200, threshold), none = Fit(200, sizes.Max());

        for (int table = 0; table < sizes.Length; table++)
        {
            double without = TableNorm(free, table), with = TableNorm(sut, table);
            if (sizes[table] > threshold)
                Assert.IsLessThan(0.5 * without, with, $"table '{free.Layout.Tables[table].Name}' ({sizes[table]} rows): ‖W‖² {with:G4} with the prior, {without:G4} without");
            else
                Assert.IsGreaterThan(0.5 * without, with, $"table '{free.Layout.Tables[table].Name}' ({sizes[table]} rows, at most {threshold}) is not pulled: ‖W‖² {with:G4}, {without:G4} without");
        }
        var ml = new MLContext(seed: 1);
        IDataView test = PlantedClicks.Features(ml).Fit(ml.Data.LoadFromEnumerable(Train)).Transform(ml.Data.LoadFromEnumerable(Train.Take(200)));
        CollectionAssert.AreEqual(free.Transform(test).GetColumn<float>("Probability").ToArray(), none.Transform(test).GetColumn<float>("Probability").ToArray(),
            "no table above the minimum: the same model as without the prior");
    }

    /// <summary>
    /// The prior reaches a row only through the batches that use it: rows of ids no training row holds (the vocabulary was
    /// fitted on more data) keep their initial values exactly, as without the prior. A prior over whole tables at every
    /// step shrinks them too.
    /// </summary>
    [TestMethod]
    public void EmbeddingPriorTest_LeavesRowsNoTrainingRowUsesAsTheyWere()
    {
        TorchCtrTransformer Train(double embeddingL2, out HashSet<uint> used)
        {
            var ml = new MLContext(seed: 1);
            ITransformer features = PlantedClicks.Features(ml).Fit(ml.Data.LoadFromEnumerable(EmbeddingPriorTest.Train));
            IDataView train = features.Transform(ml.Data.LoadFromEnumerable(EmbeddingPriorTest.Train.Take(300)));
            used = [.. train.GetColumn<uint>("UserId")];
            return ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options
            {
                NumericColumnNames = ["Price"], Epochs = 2, BatchSize = 50, Threads = 1, EmbeddingL2 = embeddingL2, EmbeddingL2MinimumTableSize = 0,
                Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 8 },
            }).Fit(train);
        }
        using TorchCtrTransformer free = Train(0, out HashSet<uint> used), sut = Train(200, out _);
        int table = free.Layout.Categorical.Single(f => f.ColumnName == "UserId").Table;
        float[] Rows(TorchCtrTransformer model)
        {
            using torch.Tensor weight = ((DnnCtrModel)model.Model).named_parameters().First(p => p.name.Contains($"tables.{table}")).parameter.detach();
            return weight.data<float>().ToArray();
        }
        float[] without = Rows(free), with = Rows(sut);
        int width = 8, unused = 0, usedChanged = 0;
        for (int row = 1; row < without.Length / width; row++)
        {
            bool same = without.AsSpan(row * width, width).SequenceEqual(with.AsSpan(row * width, width));
            if (used.Contains((uint)row))
                usedChanged += same ? 0 : 1;
            else
            {
                unused++;
                Assert.IsTrue(same, $"user row {row}: no training row uses it, yet the prior moved it");
            }
        }
        Assert.IsGreaterThan(10, unused, $"{unused} rows: the vocabulary has rows the 300 training rows never use");
        Assert.IsGreaterThan(10, usedChanged, "the rows training uses differ with the prior");
    }

    [TestMethod]
    public void EmbeddingPriorTest_RejectsNegativeOrNonFiniteWeights()
    {
        var ml = new MLContext();
        foreach (double bad in new[] { -1, double.NaN, double.PositiveInfinity })
        {
            var error = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options { EmbeddingL2 = bad }));
            StringAssert.Contains(error.Message, "EmbeddingL2");
        }
        var size = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options { EmbeddingL2MinimumTableSize = -1 }));
        StringAssert.Contains(size.Message, "EmbeddingL2MinimumTableSize must not be negative, got -1");
    }
}
