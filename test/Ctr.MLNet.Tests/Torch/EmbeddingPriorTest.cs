using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class EmbeddingPriorTest
{
    private static readonly List<PlantedClicks.Row> Train = PlantedClicks.Generate(3000, seed: 1);

    private static TorchCtrTransformer Fit(double embeddingL2)
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
    public void EmbeddingPriorTest_RejectsNegativeOrNonFiniteWeights()
    {
        var ml = new MLContext();
        foreach (double bad in new[] { -1, double.NaN, double.PositiveInfinity })
        {
            var error = Errors.Find<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options { EmbeddingL2 = bad }));
            StringAssert.Contains(error.Message, "EmbeddingL2");
        }
    }
}
