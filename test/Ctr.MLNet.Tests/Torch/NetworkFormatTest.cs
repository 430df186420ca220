using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>
/// The network's part of the model zip: every network type, written by every format version since 1.2, is
/// committed under TestData/backcompat and must keep loading with the same probabilities. Set
/// CTR_WRITE_BACKCOMPAT=1 to write the current version's files (only when a format version is added).
/// </summary>
[TestClass]
public sealed class NetworkFormatTest
{
    private const string CurrentVersion = "v1.2";

    private static readonly Dictionary<string, (Type Type, CtrModelOptions Options)> s_networks = new()
    {
        // Settings away from the defaults, so that every field of the format is exercised.
        ["dnn"] = (typeof(DnnCtrModel), new CtrModelOptions { HiddenUnits = [8, 4], EmbeddingDim = 4, Dropout = 0.2, Pooling = SequencePooling.Sum, EmbeddingInitStd = 0.05 }),
        ["deepfm"] = (typeof(DeepFmModel), new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4, BatchNorm = false }),
        ["dcn-v2"] = (typeof(DcnV2Model), new CtrModelOptions
        {
            HiddenUnits = [8],
            EmbeddingDim = 4,
            EmbeddingDims = ImmutableDictionary<string, int>.Empty.Add("item", 6),
            Parameters = ImmutableDictionary<string, string>.Empty.Add("cross_layers", "2").Add("cross_rank", "3").Add("structure", "stacked"),
        }),
        ["target-attention"] = (typeof(TargetAttentionModel), new CtrModelOptions
        {
            HiddenUnits = [8],
            EmbeddingDim = 4,
            Parameters = ImmutableDictionary<string, string>.Empty.Add("attention_units", "8,4"),
        }),
    };

    private static IDataView Data(MLContext ml) =>
        ml.Data.LoadFromEnumerable(PlantedHistory.Generate(300, seed: 9).Select(PlantedHistory.Input.Of));

    [TestMethod]
    [DataRow("dnn", "v1.2")]
    [DataRow("deepfm", "v1.2")]
    [DataRow("dcn-v2", "v1.2")]
    [DataRow("target-attention", "v1.2")]
    public void NetworkFormatTest_CommittedZipLoadsWithSameProbabilities(string network, string version)
    {
        string zip = $"network-{network}-{version}.zip", expected = $"network-{network}-{version}.expected.txt";
        if (BackCompatFiles.Writing)
        {
            if (version != CurrentVersion)
                return;
            Write(network, BackCompatFiles.SourcePath(zip), BackCompatFiles.SourcePath(expected));
            Assert.Inconclusive("Wrote the back-compat files; rebuild and run again without CTR_WRITE_BACKCOMPAT.");
        }

        ITransformer sut = new MLContext(seed: 2).Model.Load(BackCompatFiles.Path(zip), out _);

        float[] got = [.. sut.Transform(Data(new MLContext())).GetColumn<float>("Probability")];
        float[] want = [.. File.ReadAllLines(BackCompatFiles.Path(expected)).Select(l => float.Parse(l, CultureInfo.InvariantCulture))];
        Assert.HasCount(want.Length, got);
        for (int i = 0; i < want.Length; i++)
            Assert.AreEqual(want[i], got[i], 1e-6f, $"{network} {version}, row {i + 1}");
        var loaded = (TorchCtrTransformer)((TransformerChain<ITransformer>)sut).LastTransformer;
        Assert.AreEqual(s_networks[network].Type, loaded.Model.GetType());
        loaded.Dispose();
    }

    private static void Write(string network, string zipPath, string expectedPath)
    {
        var ml = new MLContext(seed: 1);
        var train = ml.Data.LoadFromEnumerable(PlantedHistory.Generate(600, seed: 5));
        var options = new TorchCtrTrainer.Options
        {
            NumericColumnNames = ["Price"],
            SequenceWeights = new Dictionary<string, string> { ["HistoryIds"] = "HistoryWeights" },
            Epochs = 2,
            BatchSize = 64,
            Threads = 1,
            ModelType = s_networks[network].Type,
            Model = s_networks[network].Options,
        };
        var model = PlantedHistory.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);
        ml.Model.Save(model, train.Schema, zipPath);
        File.WriteAllLines(expectedPath, model.Transform(Data(ml)).GetColumn<float>("Probability").Select(p => p.ToString("R", CultureInfo.InvariantCulture)));
        model.LastTransformer.Dispose();
    }
}
