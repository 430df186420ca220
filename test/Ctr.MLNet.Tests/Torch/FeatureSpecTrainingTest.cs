using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>One call from a <see cref="FeatureSpec"/> to the whole estimator, with the trainer's options derived from the spec.</summary>
[TestClass]
public sealed class FeatureSpecTrainingTest
{
    private static readonly FeatureSpec Spec = FeatureSpec.FromJson("""
        {
          "label": "click",
          "features": [
            { "name": "user_id", "dtype": "categorical", "emb_dim": 6 },
            { "name": "item_id", "dtype": "categorical", "emb_dim": 10 },
            { "name": "hist_item_ids", "dtype": "categorical", "islist": true, "maxlen": 5, "weight_col": "hist_weights", "share_vocab": "item_id" },
            { "name": "price", "dtype": "numeric", "log1p": true },
            { "name": "age", "dtype": "numeric", "buckets": 4, "emb_dim": 3 }
          ]
        }
        """);

    private static TorchCtrTrainer.Options Quick() => new() { Epochs = 2, BatchSize = 256, Threads = 1, Model = new CtrModelOptions { HiddenUnits = [16] } };

    private static string WriteCsv(string directory, int rows, int seed)
    {
        var csv = new StringBuilder("click,user_id,item_id,hist_item_ids,hist_weights,price,age\n");
        var random = new Random(seed);
        foreach (PlantedClicks.Row row in PlantedClicks.Generate(rows, seed))
        {
            csv.Append(CultureInfo.InvariantCulture, $"{(row.Label ? 1 : 0)},{row.User},{row.Item},{string.Join('|', row.History)},")
                .Append(string.Join('|', row.HistoryWeights.Select(w => w.ToString(CultureInfo.InvariantCulture))))
                .Append(CultureInfo.InvariantCulture, $",{row.Price * 100 + 100},{random.Next(18, 80)}\n");
        }
        string path = Path.Combine(directory, $"data-{seed}.csv");
        File.WriteAllText(path, csv.ToString());
        return path;
    }

    private static string History(TorchCtrTransformer network) =>
        string.Join(" | ", network.History.Select(h => $"{h.TrainLoss:R} {h.ValidAuc:R}"));

    [TestMethod]
    public void FeatureSpecTrainingTest_OneCallEqualsTheHandWrittenGlue()
    {
        using var directory = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        IDataView train = Spec.LoadCsv(ml, WriteCsv(directory.Path, 2000, 1)), valid = Spec.LoadCsv(ml, WriteCsv(directory.Path, 500, 2));
        ITransformer features = Spec.BuildPipeline(ml).Fit(train);
        using TorchCtrTransformer byHand = ml.BinaryClassification.Trainers.TorchCtr(Quick() with
        {
            LabelColumnName = "click",
            NumericColumnNames = ["price"],
            Model = Quick().Model with { EmbeddingDims = ImmutableDictionary<string, int>.Empty.Add("user_id", 6).Add("item_id", 10).Add("age", 3) },
        }).Fit(features.Transform(train), features.Transform(valid));

        using TransformerChain<TorchCtrTransformer> sut = Spec.BuildTrainingPipeline(ml, Quick() with { ValidationData = valid }).Fit(train);

        TorchCtrTransformer network = sut.LastTransformer;
        CollectionAssert.AreEqual(new[] { "price" }, network.Layout.Numeric.Select(n => n.ColumnName).ToArray(), "the normalized numeric found from the schema");
        CollectionAssert.AreEquivalent(new[] { "user_id", "item_id", "age" }, network.Layout.Tables.Select(t => t.Name).ToArray());
        Assert.AreEqual("hist_weights", network.Layout.Sequences.Single().WeightColumnName);
        Assert.AreEqual(10, network.ModelOptions.DimOf("item_id"));
        Assert.AreEqual(3, network.ModelOptions.DimOf("age"));
        Assert.AreEqual("click", network.LabelColumnName);
        Assert.AreEqual(History(byHand), History(network), "the same network as the glue written by hand");
    }

    [TestMethod]
    public void FeatureSpecTrainingTest_DeepFmGetsOneWidthTheWidest()
    {
        TorchCtrTrainer.Options sut = Spec.TrainerOptions(Quick() with { ModelType = typeof(DeepFmModel) });

        Assert.AreEqual(10, sut.Model.EmbeddingDim);
        Assert.IsEmpty(sut.Model.EmbeddingDims);
        Assert.AreEqual("click", sut.LabelColumnName);
        Assert.IsNull(sut.NumericColumnNames, "found from the schema");
        TorchCtrTrainer.Options own = Spec.TrainerOptions(Quick() with { Model = Quick().Model with { EmbeddingDims = ImmutableDictionary<string, int>.Empty.Add("item_id", 7) } });
        Assert.AreEqual(7, own.Model.DimOf("item_id"), "a width the caller gave wins");
        Assert.AreEqual(6, own.Model.DimOf("user_id"));

        using var directory = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        IDataView train = Spec.LoadCsv(ml, WriteCsv(directory.Path, 1000, 3));
        using TransformerChain<TorchCtrTransformer> fitted = Spec.BuildTrainingPipeline(ml, Quick() with { ModelType = typeof(DeepFmModel), Epochs = 1 }).Fit(train);
        Assert.IsInstanceOfType<DeepFmModel>(fitted.LastTransformer.Model);
    }
}
