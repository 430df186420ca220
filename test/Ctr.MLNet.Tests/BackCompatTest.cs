using System;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests;

/// <summary>
/// Model zips written by version 1 of each saved format (committed under TestData/backcompat) must keep loading
/// and giving the same outputs. Set CTR_WRITE_BACKCOMPAT=1 to write them again, only when a format version is added.
/// </summary>
[TestClass]
public sealed class BackCompatTest
{
    private static IDataView Data(MLContext ml) => ml.Data.LoadFromEnumerable(PlantedClicks.Generate(300, seed: 5));

    private static IEstimator<ITransformer> Features(MLContext ml) =>
        ml.Ctr().Transforms.ParseSequence("HistoryTokens", "History", weightColumnName: "HistoryWeights", maxLength: 5)
            .Append(ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", MinCount = 2 },
                new VocabularyEstimator.ColumnOptions("HistoryIds", "HistoryTokens") { Vocabulary = "item", MinCount = 2 }))
            .Append(ml.Ctr().Transforms.HashToBuckets("UserBucket", "User", numBuckets: 97, minCount: 2));

    [TestMethod]
    public void BackCompatTest_Version1ModelZipLoadsWithSameOutputs()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        string zip = BackCompatFiles.Path("pipeline-v1.zip"), expected = BackCompatFiles.Path("pipeline-v1.expected.txt");
        if (BackCompatFiles.Writing)
        {
            var options = new TorchCtrTrainer.Options { Epochs = 1, BatchSize = 64, Threads = 1, Model = new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4 } };
            var model = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(data);
            ml.Model.Save(model, data.Schema, BackCompatFiles.SourcePath("pipeline-v1.zip"));
            File.WriteAllLines(BackCompatFiles.SourcePath("pipeline-v1.expected.txt"), Outputs(model.Transform(data)));
            Assert.Inconclusive("Wrote the back-compat files; rebuild and run again without CTR_WRITE_BACKCOMPAT.");
        }

        ITransformer sut = new MLContext(seed: 2).Model.Load(zip, out _);

        string[] want = File.ReadAllLines(expected), got = Outputs(sut.Transform(data));
        Assert.HasCount(want.Length, got);
        for (int i = 0; i < want.Length; i++)
        {
            // Ids and weights must match exactly; the probability to float precision, since libtorch's
            // vectorized kernels may round differently on another CPU.
            int split = want[i].LastIndexOf(' ');
            Assert.AreEqual(want[i][..split], got[i][..got[i].LastIndexOf(' ')], $"row {i + 1}");
            Assert.AreEqual(float.Parse(want[i][(split + 1)..], System.Globalization.CultureInfo.InvariantCulture),
                float.Parse(got[i][(got[i].LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture), 1e-5f, $"row {i + 1}");
        }
    }

    [TestMethod]
    public void BackCompatTest_FeatureCrossingVersion1LoadsWithSameOutputs()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Data(ml);
        string zip = BackCompatFiles.Path("feature-crossing-v1.zip"), expected = BackCompatFiles.Path("feature-crossing-v1.expected.txt");
        static string[] Crossed(IDataView output) =>
            [.. output.GetColumn<string>("UserItemText").Zip(output.GetColumn<uint>("UserItem"), (text, id) => FormattableString.Invariant($"{text.Replace('\u001F', '|')} {id}"))];
        if (BackCompatFiles.Writing)
        {
            var model = ml.Ctr().Transforms.CrossFeatures("UserItemText", "User", "Item")
                .Append(ml.Ctr().Transforms.MapToVocabulary("UserItem", "UserItemText")).Fit(data);
            ml.Model.Save(model, data.Schema, BackCompatFiles.SourcePath("feature-crossing-v1.zip"));
            File.WriteAllLines(BackCompatFiles.SourcePath("feature-crossing-v1.expected.txt"), Crossed(model.Transform(data)));
            Assert.Inconclusive("Wrote the back-compat files; rebuild and run again without CTR_WRITE_BACKCOMPAT.");
        }

        ITransformer sut = new MLContext(seed: 2).Model.Load(zip, out _);

        CollectionAssert.AreEqual(File.ReadAllLines(expected), Crossed(sut.Transform(data)));
    }

    private static string[] Outputs(IDataView output)
    {
        uint[] items = [.. output.GetColumn<uint>("ItemId")];
        uint[][] history = [.. output.GetColumn<VBuffer<uint>>("HistoryIds").Select(v => v.DenseValues().ToArray())];
        float[][] weights = [.. output.GetColumn<VBuffer<float>>("HistoryTokensWeights").Select(v => v.DenseValues().ToArray())];
        uint[] users = [.. output.GetColumn<uint>("UserBucket")];
        float[] probabilities = [.. output.GetColumn<float>("Probability")];
        return [.. items.Select((item, i) => FormattableString.Invariant($"{item} [{string.Join(",", history[i])}] [{string.Join(",", weights[i].Select(w => w.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}] {users[i]} {probabilities[i]:R}"))];
    }
}
