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
/// The network's part of the model zip: every network type, written by every format version since 1.2 (from 1.4 with
/// history attributes), is
/// committed under TestData/backcompat and must keep loading with the same probabilities. Set
/// CTR_WRITE_BACKCOMPAT=1 to write the current version's files (only when a format version is added).
/// </summary>
[TestClass]
public sealed class NetworkFormatTest
{
    private const string CurrentVersion = "v1.4";

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
    [DataRow("dnn", "v1.3")]
    [DataRow("deepfm", "v1.3")]
    [DataRow("dcn-v2", "v1.3")]
    [DataRow("target-attention", "v1.3")]
    [DataRow("dnn", "v1.4")]
    [DataRow("deepfm", "v1.4")]
    [DataRow("dcn-v2", "v1.4")]
    [DataRow("target-attention", "v1.4")]
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
        // From 1.4 the history's elements carry their item's category, found in the training rows; before, items alone.
        CollectionAssert.AreEqual(version == "v1.4" ? new[] { "CategoryId" } : [], loaded.ModelOptions.HistoryAttributes!.Value.ToArray());
        loaded.Dispose();
    }

    [TestMethod]
    public void NetworkFormatTest_EveryOptionIsANamedFieldOfTheFormat()
    {
        byte[] sut = NetworkEntry(File.ReadAllBytes(BackCompatFiles.Path($"network-dnn-{CurrentVersion}.zip")));

        // A new CtrModelOptions property must become a field of the format (and a new format version).
        foreach (var property in typeof(CtrModelOptions).GetProperties().Where(p => p.CanWrite))
        {
            string field = string.Concat(property.Name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(c) : c.ToString()));
            Assert.IsGreaterThanOrEqualTo(0, sut.AsSpan().IndexOf([(byte)field.Length, .. System.Text.Encoding.UTF8.GetBytes(field)]), $"field '{field}' of CtrModelOptions.{property.Name}");
        }
        Assert.IsGreaterThanOrEqualTo(0, sut.AsSpan().IndexOf((byte[])[3, .. "dnn"u8]), "the network by its registered name");
        Assert.IsGreaterThanOrEqualTo(0, sut.AsSpan().IndexOf((byte[])[3, .. "Sum"u8]), "an enum by its name");
        Assert.AreEqual(-1, sut.AsSpan().IndexOf("DnnCtrModel"u8), "no class name");
    }

    [TestMethod]
    [DataRow("dropout", "dropouX", "The model file's network options have an unknown field 'dropouX' where 'dropout' belongs")]
    [DataRow("dropout", "pooling", "The model file's network options lack the field 'dropout'")]
    [DataRow("Sum", "Max", "The model file's network option 'pooling' is 'Max', not one of Mean, Sum.")]
    [DataRow("dnn", "xyz", "The model file's network 'xyz' is not registered in this process: call CtrModelRegistry.Register<YourModel>(\"xyz\") before loading")]
    public void NetworkFormatTest_AnUnknownOrMissingFieldIsAnErrorNamingIt(string find, string replace, string message)
    {
        using MemoryStream sut = ModelZip.Patch(BackCompatFiles.Path($"network-dnn-{CurrentVersion}.zip"), "CTRTORCH",
            [(byte)find.Length, .. System.Text.Encoding.UTF8.GetBytes(find)], [(byte)replace.Length, .. System.Text.Encoding.UTF8.GetBytes(replace)]);

        var error = Errors.Find<FormatException>(() => new MLContext().Model.Load(sut, out _));

        StringAssert.StartsWith(error.Message, message);
    }

    [TestMethod]
    public void NetworkFormatTest_AUserNetworkNeedsARegisteredName()
    {
        var ml = new MLContext(seed: 1);

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options { ModelType = typeof(UnnamedModel) }));

        StringAssert.Contains(error.Message, "ModelType Ctr.MLNet.Tests.Torch.NetworkFormatTest+UnnamedModel has no registered name, which the model zip stores: call CtrModelRegistry.Register<UnnamedModel>(\"a-short-name\") once per process");
        Assert.ThrowsExactly<InvalidOperationException>(() => CtrModelRegistry.Register<UnnamedModel>(CtrModelRegistry.Dnn), "a name means one network");
        Assert.ThrowsExactly<InvalidOperationException>(() => CtrModelRegistry.Register<DnnCtrModel>("another-name"), "a network has one name");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CtrModelRegistry.Register<UnnamedModel>("Not A Name"));
        CtrModelRegistry.Register<DnnCtrModel>(CtrModelRegistry.Dnn);
    }

    public sealed class UnnamedModel : CtrModel
    {
        public UnnamedModel(CtrModelContext context)
            : base("unnamed") => ArgumentNullException.ThrowIfNull(context);

        public override TorchSharp.torch.Tensor forward(CtrBatch batch) => TorchSharp.torch.zeros(batch.Count);
    }

    /// <summary>The saved state of the network transformer inside a model zip.</summary>
    private static byte[] NetworkEntry(byte[] zip)
    {
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(zip));
        foreach (var entry in archive.Entries.Where(e => e.Name == "Model.key"))
        {
            using var copy = new MemoryStream();
            using (Stream read = entry.Open())
                read.CopyTo(copy);
            if (copy.ToArray().AsSpan().IndexOf("CTRTORCH"u8) >= 0)
                return copy.ToArray();
        }
        throw new AssertFailedException("no network entry in the zip");
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
        var model = PlantedHistory.FeaturesWithCategory(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);
        ml.Model.Save(model, train.Schema, zipPath);
        File.WriteAllLines(expectedPath, model.Transform(Data(ml)).GetColumn<float>("Probability").Select(p => p.ToString("R", CultureInfo.InvariantCulture)));
        model.LastTransformer.Dispose();
    }
}
