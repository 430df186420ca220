using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Torch.Incremental;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using Visit = Ctr.MLNet.Tests.Torch.HistoryAttributesTest.Visit;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>
/// History attributes on awkward inputs: streamed data, other embedding widths, missing attributes, empty or double
/// histories, a mostly unknown candidate, damaged model files and a model of the format before them.
/// </summary>
[TestClass]
public sealed class HistoryAttributesEdgeTest
{
    /// <summary>A visit with two histories over the item vocabulary (clicked and viewed items).</summary>
    public sealed class TwoHistories
    {
        public bool Click { get; set; }

        public string Item { get; set; } = "";

        public string Category { get; set; } = "";

        [VectorType]
        public string[] Clicked { get; set; } = [];

        [VectorType]
        public string[] Viewed { get; set; } = [];
    }

    private static List<Visit> Visits(int count, int seed, int items = 300)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ =>
        {
            int item = random.Next(items), user = random.Next(50);
            return new Visit
            {
                Click = random.NextDouble() < (item % 6 == user % 6 ? 0.6 : 0.2),
                User = $"u{user}",
                Item = $"i{item}",
                Brand = $"b{item % 20}",
                Category = $"c{item % 6}",
                Device = $"d{random.Next(3)}",
                History = [.. Enumerable.Range(0, random.Next(1, 6)).Select(_ => $"i{random.Next(items)}")],
            };
        })];
    }

    private static IEstimator<ITransformer> Features(MLContext ml) => HistoryAttributesTest.Features(ml);

    private static TorchCtrTrainer.Options Options(CtrModelOptions? model = null, Type? type = null) => new()
    {
        LabelColumnName = "Click",
        Epochs = 1,
        BatchSize = 128,
        Threads = 1,
        Seed = 3,
        ModelType = type ?? typeof(DnnCtrModel),
        Model = model ?? new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4 },
    };

    private static IDataView Keyed(MLContext ml, IEnumerable<Visit> visits)
    {
        IDataView data = ml.Data.LoadFromEnumerable(visits);
        return Features(ml).Fit(data).Transform(data);
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_StreamedDataFindsTheSameAttributesAndMapsAsCachedData()
    {
        var ml = new MLContext(seed: 1);
        IDataView keyed = Keyed(ml, Visits(1500, seed: 1));

        using TorchCtrTransformer cached = ml.BinaryClassification.Trainers.TorchCtr(Options()).Fit(keyed);
        using TorchCtrTransformer streamed = ml.BinaryClassification.Trainers.TorchCtr(Options() with { MaxCacheBytes = 1, StreamingBlockRows = 128 }).Fit(keyed);

        CollectionAssert.AreEqual(new[] { "BrandId", "CategoryId" }, streamed.ModelOptions.HistoryAttributes!.Value.ToArray());
        Dictionary<string, torch.Tensor> want = cached.Model.state_dict(), got = streamed.Model.state_dict();
        string[] maps = [.. want.Keys.Where(k => k.Contains("history_attribute_", StringComparison.Ordinal))];
        Assert.HasCount(2, maps);
        foreach (string map in maps)
            CollectionAssert.AreEqual(want[map].data<long>().ToArray(), got[map].data<long>().ToArray(), map);
    }

    [TestMethod]
    [DataRow(0.005, true)]
    [DataRow(0.03, false)]
    public void HistoryAttributesEdgeTest_AColumnIsAnAttributeWhenAtMostOnePercentOfRepeatedRowsDisagree(double share, bool attribute)
    {
        var ml = new MLContext(seed: 1);
        List<Visit> visits = Visits(2000, seed: 7);
        var seen = new HashSet<string>();
        int repeated = 0, flipped = 0;
        foreach (Visit visit in visits)
        {
            if (!seen.Add(visit.Item) && ++repeated * share >= flipped + 1)
            {
                visit.Brand = visit.Brand == "b0" ? "b1" : "b0";
                flipped++;
            }
        }

        using TorchCtrTransformer sut = ml.BinaryClassification.Trainers.TorchCtr(Options()).Fit(Keyed(ml, visits));

        Assert.AreEqual(attribute, sut.ModelOptions.HistoryAttributes!.Value.Contains("BrandId"), $"{flipped} of {repeated} repeated rows disagree");
        Assert.Contains("CategoryId", sut.ModelOptions.HistoryAttributes!.Value);
    }

    [TestMethod]
    [DataRow("dnn", SequencePooling.Sum)]
    [DataRow("dcn-v2", SequencePooling.Mean)]
    [DataRow("target-attention", SequencePooling.Sum)]
    public void HistoryAttributesEdgeTest_AttributeTablesOfAnotherWidthAreProjectedAndSaved(string network, SequencePooling pooling)
    {
        var ml = new MLContext(seed: 1);
        List<Visit> visits = Visits(800, seed: 2);
        IDataView data = ml.Data.LoadFromEnumerable(visits);
        var model = new CtrModelOptions
        {
            HiddenUnits = [8],
            EmbeddingDim = 4,
            Pooling = pooling,
            EmbeddingDims = ImmutableDictionary<string, int>.Empty.Add("item", 6).Add("CategoryId", 3),
        };
        var chain = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Options(model, network switch { "dnn" => typeof(DnnCtrModel), "dcn-v2" => typeof(DcnV2Model), _ => typeof(TargetAttentionModel) }))).Fit(data);
        float[] want = [.. chain.Transform(data).GetColumn<float>("Probability")];
        using var stream = new MemoryStream();
        ml.Model.Save(chain, data.Schema, stream);
        stream.Position = 0;

        ITransformer loaded = new MLContext(seed: 5).Model.Load(stream, out _);

        Assert.IsTrue(chain.LastTransformer.Model.named_parameters().Any(p => p.name.Contains("projections", StringComparison.Ordinal)), "a projection of the narrower tables");
        CollectionAssert.AreEqual(want, loaded.Transform(data).GetColumn<float>("Probability").ToArray());
        chain.LastTransformer.Dispose();
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_MissingAttributesEmptyHistoriesAndAnUnknownCandidateTrain()
    {
        var ml = new MLContext(seed: 1);
        // Half the categories missing, every history empty, most candidates seen once (so unknown beyond their row).
        List<Visit> visits = Visits(1200, seed: 3, items: 100000);
        for (int i = 0; i < visits.Count; i++)
        {
            visits[i].History = [];
            if (i % 2 == 0)
                visits[i].Category = "";
        }

        using TorchCtrTransformer named = ml.BinaryClassification.Trainers.TorchCtr(Options(new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4, HistoryAttributes = ["CategoryId"] }))
            .Fit(Keyed(ml, visits));
        using TorchCtrTransformer detected = ml.BinaryClassification.Trainers.TorchCtr(Options()).Fit(Keyed(ml, visits));

        float[] scores = [.. named.Transform(Keyed(ml, visits)).GetColumn<float>("Probability")];
        Assert.IsTrue(scores.All(float.IsFinite), "finite scores");
        Assert.IsEmpty(detected.ModelOptions.HistoryAttributes!.Value, "too few repeated candidates to call a column an attribute");
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_TwoHistoriesOfOneCandidateShareTheMap()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(4);
        IDataView data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 1000).Select(_ =>
        {
            int item = random.Next(200);
            return new TwoHistories
            {
                Click = random.Next(3) == 0,
                Item = $"i{item}",
                Category = $"c{item % 5}",
                Clicked = [.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => $"i{random.Next(200)}")],
                Viewed = [.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => $"i{random.Next(200)}")],
            };
        }));
        var features = ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("ClickedIds", "Clicked") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("ViewedIds", "Viewed") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("CategoryId", "Category"));

        foreach (Type type in new[] { typeof(DnnCtrModel), typeof(TargetAttentionModel) })
        {
            var chain = features.Append(ml.BinaryClassification.Trainers.TorchCtr(Options(type: type))).Fit(data);

            CollectionAssert.AreEqual(new[] { "CategoryId" }, chain.LastTransformer.ModelOptions.HistoryAttributes!.Value.ToArray(), type.Name);
            Assert.AreEqual(1, chain.LastTransformer.Model.state_dict().Keys.Count(k => k.Contains("history_attribute_", StringComparison.Ordinal)), type.Name);
            Assert.IsTrue(chain.Transform(data).GetColumn<float>("Probability").All(float.IsFinite), type.Name);
            chain.LastTransformer.Dispose();
        }
    }

    [TestMethod]
    [DataRow("Click", "HistoryAttributes names 'Click', which is not a scalar categorical input of the network")]
    [DataRow("UserId", null)]
    public void HistoryAttributesEdgeTest_TheLabelIsNoAttributeAndAnyScalarInputMayBeNamed(string column, string? message)
    {
        var ml = new MLContext(seed: 1);
        IDataView keyed = Keyed(ml, Visits(300, seed: 5));
        var trainer = ml.BinaryClassification.Trainers.TorchCtr(Options(new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4, HistoryAttributes = [column] }));

        if (message is null)
        {
            // Named, a column is taken as it is: the user is no attribute of an item, but the caller said so.
            using TorchCtrTransformer network = trainer.Fit(keyed);
            CollectionAssert.AreEqual(new[] { column }, network.ModelOptions.HistoryAttributes!.Value.ToArray());
            return;
        }
        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(keyed));
        StringAssert.StartsWith(error.Message, message);
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_AWrongNameIsReportedBeforeTheDataIsRead()
    {
        var ml = new MLContext(seed: 1);
        ITransformer features = Features(ml).Fit(ml.Data.LoadFromEnumerable(Visits(100, seed: 6)));
        // Rows that fail when read: a large file's rows are read for minutes before training starts.
        IDataView unread = features.Transform(ml.Data.LoadFromEnumerable(Enumerable.Range(0, 10).Select<int, Visit>(_ => throw new InvalidOperationException("a row was read"))));
        var trainer = ml.BinaryClassification.Trainers.TorchCtr(Options(new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4, HistoryAttributes = ["Categry"] }));

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => trainer.Fit(unread, unread));
        // With trees, before they are fitted.
        var hybrid = ml.BinaryClassification.Trainers.TorchCtrWithTrees(new HybridCtrTrainer.Options { Network = Options(new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4, HistoryAttributes = ["Categry"] }), NumberOfTrees = 2 });
        var hybridError = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => hybrid.Fit(unread, unread));

        StringAssert.StartsWith(error.Message, "HistoryAttributes names 'Categry', which is not a scalar categorical input");
        StringAssert.StartsWith(hybridError.Message, "HistoryAttributes names 'Categry', which is not a scalar categorical input");
    }

    [TestMethod]
    [DataRow(new[] { "CategoryId", "BrandId", "CategoryId" }, "HistoryAttributes names 'CategoryId' twice")]
    [DataRow(new[] { "CategoryId", " " }, "HistoryAttributes holds a blank column name at position 2")]
    public void HistoryAttributesEdgeTest_TheOptionErrorNamesTheRepeatedOrBlankEntry(string[] columns, string message)
    {
        var ml = new MLContext(seed: 1);

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.BinaryClassification.Trainers.TorchCtr(Options(new CtrModelOptions { HistoryAttributes = [.. columns] })));

        StringAssert.StartsWith(error.Message, message);
    }

    [TestMethod]
    [DataRow(1, "CategoryIx", "The model file's network option 'history_attributes' names 'CategoryIx', which is not a scalar categorical input of the network (those are: ItemId, CategoryId); the file is corrupt.")]
    [DataRow(1, "HistoryIds", "The model file's network option 'history_attributes' names 'HistoryIds', which is not a scalar categorical input")]
    [DataRow(1, "ItemId\0\0\0\0", "The model file's network option 'history_attributes' names 'ItemId")]
    [DataRow(-1, "CategoryId", "The model file's network option 'history_attributes' holds no list")]
    public void HistoryAttributesEdgeTest_ADamagedAttributeListIsAFormatErrorNamingIt(int count, string replace, string message)
    {
        byte[] field = [18, .. "history_attributes"u8, 8];
        using MemoryStream sut = ModelZip.Patch(BackCompatFiles.Path("network-dnn-v1.4.zip"), "CTRTORCH",
            [.. field, 1, 0, 0, 0, 10, .. "CategoryId"u8], [.. field, .. BitConverter.GetBytes(count), 10, .. System.Text.Encoding.UTF8.GetBytes(replace)]);

        var error = Errors.Find<FormatException>(() => new MLContext().Model.Load(sut, out _));

        StringAssert.StartsWith(error.Message, message);
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_AMapPointingOutsideItsTableIsAFormatErrorAtLoad()
    {
        var ml = new MLContext(seed: 1);
        List<Visit> visits = Visits(600, seed: 8);
        IDataView data = ml.Data.LoadFromEnumerable(visits);
        var chain = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Options(new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4, HistoryAttributes = ["CategoryId"] }))).Fit(data);
        string map = chain.LastTransformer.Model.state_dict().Keys.Single(k => k.Contains("history_attribute_", StringComparison.Ordinal));
        using (torch.no_grad())
            chain.LastTransformer.Model.state_dict()[map][5] = torch.tensor(1_000_000L);
        using var stream = new MemoryStream();
        ml.Model.Save(chain, data.Schema, stream);
        stream.Position = 0;

        // Loaded as it is, it would fail only when a history holds that item, at scoring time.
        var error = Errors.Find<FormatException>(() => new MLContext().Model.Load(stream, out _));

        StringAssert.Contains(error.Message, $"'{map.Split('.')[^1]}'");
        StringAssert.Contains(error.Message, "1000000");
        chain.LastTransformer.Dispose();
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_ACheckpointOfOtherAttributesIsNotResumed()
    {
        var ml = new MLContext(seed: 1);
        List<Visit> visits = Visits(1500, seed: 9);
        ITransformer features = Features(ml).Fit(ml.Data.LoadFromEnumerable(visits));
        // The same rows and vocabularies, but the brand no longer follows the item: detection drops it.
        var random = new Random(10);
        List<Visit> shuffled = [.. visits.Select(v => new Visit { Click = v.Click, User = v.User, Item = v.Item, Brand = $"b{random.Next(20)}", Category = v.Category, Device = v.Device, History = v.History })];
        using var directory = new TemporaryDirectory();
        TorchCtrTrainer.Options options = Options() with { CheckpointDirectory = directory.Path };
        using (TorchCtrTransformer first = ml.BinaryClassification.Trainers.TorchCtr(options).Fit(features.Transform(ml.Data.LoadFromEnumerable(visits))))
            CollectionAssert.AreEqual(new[] { "BrandId", "CategoryId" }, first.ModelOptions.HistoryAttributes!.Value.ToArray());

        var resuming = ml.BinaryClassification.Trainers.TorchCtr(options with { Resume = true, Epochs = 2 });
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => resuming.Fit(features.Transform(ml.Data.LoadFromEnumerable(shuffled))));

        StringAssert.Contains(error.Message, "was written for different features or model settings");
    }

    [TestMethod]
    public void HistoryAttributesEdgeTest_AModelOfFormat13ContinuesWithItemsAlone()
    {
        var ml = new MLContext(seed: 1);
        ITransformer yesterday = ml.Model.Load(BackCompatFiles.Path("network-target-attention-v1.3.zip"), out _);
        IDataView today = ml.Data.LoadFromEnumerable(PlantedHistory.Generate(400, seed: 11));

        TransformerChain<ITransformer> sut = IncrementalTraining.Continue(ml, yesterday, today, options: new TorchCtrTrainer.Options { LabelColumnName = "Label", Epochs = 1, Threads = 1 });

        var network = (TorchCtrTransformer)sut.LastTransformer;
        Assert.IsEmpty(network.ModelOptions.HistoryAttributes!.Value);
        Assert.IsTrue(sut.Transform(today).GetColumn<float>("Probability").All(float.IsFinite));
        network.Dispose();
    }
}
