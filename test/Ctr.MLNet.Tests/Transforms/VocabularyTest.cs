using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class VocabularyTest
{
    private sealed class Row
    {
        public string Item { get; set; } = "";

        [VectorType]
        public string[] History { get; set; } = [];
    }

    private sealed class BoolRow
    {
        public bool Item { get; set; }
    }

    private sealed class Output
    {
        [KeyType(1_000)]
        public uint ItemId { get; set; }

        [KeyType(1_000)]
        [VectorType]
        public uint[] HistoryIds { get; set; } = [];
    }

    private static IDataView Load(MLContext ml, params (string Item, string[] History)[] rows) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Item = r.Item, History = r.History }));

    private static IDataView Items(MLContext ml, params string[] items) =>
        Load(ml, [.. items.Select(i => (i, Array.Empty<string>()))]);

    private static uint[] ItemIds(ITransformer transformer, IDataView data, string column = "ItemId") =>
        [.. transformer.Transform(data).GetColumn<uint>(column)];

    [TestMethod]
    public void VocabularyTest_Workout()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a", ["b", "a"]), ("b", []), ("c", ["c", "c", "x"]));
        var sut = ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" });
        IDataView invalid = ml.Data.LoadFromEnumerable(new[] { new BoolRow { Item = true } });

        EstimatorChecks.Workout(sut, data, invalid);
    }

    [TestMethod]
    public void VocabularyTest_MostFrequentFirstWithReservedPaddingAndOov()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "b", "a", "b", "c", "b", "a");

        var sut = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item").Fit(data);

        Vocabulary vocabulary = sut.GetVocabulary("ItemId");
        CollectionAssert.AreEqual(new[] { "b", "a", "c" }, vocabulary.Terms.ToArray());
        Assert.AreEqual(0, Vocabulary.PaddingIndex);
        Assert.AreEqual(1, Vocabulary.OovIndex);
        Assert.AreEqual(5, vocabulary.Size);
        CollectionAssert.AreEqual(new uint[] { 2, 3, 2, 4, 2, 3 }, ItemIds(sut, data));
        Assert.AreEqual(3, vocabulary.GetCount("b"));
        Assert.AreEqual(1, vocabulary.GetIndex("never seen"));
    }

    [TestMethod]
    public void VocabularyTest_MinCountSendsRareTermsToOov()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "x", "y", "x", "z", "x", "y");

        var sut = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item", minCount: 2).Fit(data);

        CollectionAssert.AreEqual(new[] { "x", "y" }, sut.GetVocabulary("ItemId").Terms.ToArray());
        CollectionAssert.AreEqual(new uint[] { 2, 3, 2, 1, 2, 3 }, ItemIds(sut, data));
        Assert.AreEqual(1, sut.GetVocabulary("ItemId").GetCount("z"), "rare terms are still counted");
    }

    [TestMethod]
    public void VocabularyTest_MaxSizeKeepsMostFrequentAndBreaksTiesByTerm()
    {
        var ml = new MLContext(seed: 1);
        // d and b tie at 2, a and c tie at 1: the order must not depend on input order.
        IDataView data = Items(ml, "d", "a", "b", "c", "b", "d", "e", "e", "e");
        IDataView reversed = Items(ml, "e", "e", "e", "d", "b", "c", "b", "a", "d");

        var sut = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item", maxSize: 3);

        CollectionAssert.AreEqual(new[] { "e", "b", "d" }, sut.Fit(data).GetVocabulary("ItemId").Terms.ToArray());
        CollectionAssert.AreEqual(new[] { "e", "b", "d" }, sut.Fit(reversed).GetVocabulary("ItemId").Terms.ToArray());
    }

    [TestMethod]
    public void VocabularyTest_MissingAndOutlierTokensMapToOov()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "a", "", "  ", "None", "NaN", "NULL", "unknown", " a ");

        var sut = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item").Fit(data);

        CollectionAssert.AreEqual(new[] { "a" }, sut.GetVocabulary("ItemId").Terms.ToArray(), "outliers are never terms");
        CollectionAssert.AreEqual(new uint[] { 2, 1, 1, 1, 1, 1, 1, 2 }, ItemIds(sut, data));
    }

    [TestMethod]
    public void VocabularyTest_CustomOutlierTokens()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "a", "-", "None");

        var sut = ml.Ctr().Transforms.MapToVocabulary(new VocabularyEstimator.ColumnOptions("ItemId", "Item") { OutlierTokens = ["-"] }).Fit(data);

        CollectionAssert.AreEqual(new[] { "None", "a" }, sut.GetVocabulary("ItemId").Terms.ToArray(), "equal counts: ordinal order");
        CollectionAssert.AreEqual(new uint[] { 3, 1, 2 }, ItemIds(sut, data));
    }

    [TestMethod]
    public void VocabularyTest_OutlierTokensOfAnyLengthMatchIgnoringCase()
    {
        var ml = new MLContext(seed: 1);
        string longOutlier = new('x', 70);
        IDataView data = Items(ml, "N/A", " n/a ", longOutlier.ToUpperInvariant(), new string('x', 63), new string('x', 71), "n/b", "a");

        var sut = ml.Ctr().Transforms.MapToVocabulary(new VocabularyEstimator.ColumnOptions("ItemId", "Item") { OutlierTokens = ["n/a", longOutlier] }).Fit(data);

        CollectionAssert.AreEqual(new[] { "a", "n/b", new string('x', 63), new string('x', 71) }, sut.GetVocabulary("ItemId").Terms.ToArray());
        CollectionAssert.AreEqual(new uint[] { 1, 1, 1, 4, 5, 3, 2 }, ItemIds(sut, data));
    }

    [TestMethod]
    public void VocabularyTest_FoldCase()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "Apple", "APPLE", "apple", "Pear");

        var folded = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item", foldCase: true).Fit(data);
        var kept = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item").Fit(data);

        CollectionAssert.AreEqual(new[] { "apple", "pear" }, folded.GetVocabulary("ItemId").Terms.ToArray());
        CollectionAssert.AreEqual(new uint[] { 2, 2, 2, 3 }, ItemIds(folded, data));
        Assert.AreEqual(4, kept.GetVocabulary("ItemId").Terms.Length, "without folding each spelling is its own term");
    }

    [TestMethod]
    public void VocabularyTest_NumbersWrittenDifferentlyAreOneToken()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "3", "3.0", "3.00", "+3", "03", "-0.0", "0", "1e3", "2.50");

        var sut = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item").Fit(data);

        Vocabulary vocabulary = sut.GetVocabulary("ItemId");
        Assert.AreEqual(4, vocabulary.GetCount("3"));
        Assert.AreEqual(2, vocabulary.GetCount("0"));
        Assert.AreEqual(1, vocabulary.GetCount("03"), "leading zeros are kept: 03 is an id, not 3");
        Assert.AreEqual(1, vocabulary.GetCount("2.5"));
        Assert.AreEqual(vocabulary.GetIndex("3"), vocabulary.GetIndex("3.000"));
        uint[] ids = ItemIds(sut, data);
        Assert.AreEqual(ids[0], ids[1]);
        Assert.AreEqual(ids[0], ids[3]);
        Assert.AreNotEqual(ids[0], ids[4]);
    }

    private sealed class FloatRow
    {
        public float Item { get; set; }
    }

    [TestMethod]
    public void VocabularyTest_NumericAndKeyInputs()
    {
        var ml = new MLContext(seed: 1);
        IDataView floats = ml.Data.LoadFromEnumerable(new[] { 3f, 3f, 7.5f, float.NaN }.Select(v => new FloatRow { Item = v }));

        var sut = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item").Fit(floats);

        CollectionAssert.AreEqual(new[] { "3", "7.5" }, sut.GetVocabulary("ItemId").Terms.ToArray());
        CollectionAssert.AreEqual(new uint[] { 2, 2, 3, 1 }, ItemIds(sut, floats), "NaN is missing");

        IDataView text = Items(ml, "k2", "k1", "k2");
        IDataView keys = ml.Transforms.Conversion.MapValueToKey("ItemKey", "Item").Fit(text).Transform(text);
        var byKey = ml.Ctr().Transforms.MapToVocabulary("ItemId", "ItemKey").Fit(keys);
        CollectionAssert.AreEqual(new[] { "k2", "k1" }, byKey.GetVocabulary("ItemId").Terms.ToArray(), "keys are read through their key values");
    }

    [TestMethod]
    public void VocabularyTest_RefitGrowsWithStableIndicesAndCumulativeCounts()
    {
        var ml = new MLContext(seed: 1);
        IDataView day1 = Items(ml, "a", "a", "a", "b", "b", "c");
        IDataView day2 = Items(ml, "d", "d", "d", "d", "b", "b", "c", "a");

        var first = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item", minCount: 3).Fit(day1);
        var sut = first.Refit(day2);

        CollectionAssert.AreEqual(new[] { "a" }, first.GetVocabulary("ItemId").Terms.ToArray(), "the refit leaves the original unchanged");
        Vocabulary grown = sut.GetVocabulary("ItemId");
        // b: 2 + 2 = 4 >= 3 although each day alone has 2 < 3; d: 4 (ties with b, ordinal order); c: 1 + 1 = 2 stays out.
        CollectionAssert.AreEqual(new[] { "a", "b", "d" }, grown.Terms.ToArray());
        Assert.AreEqual(2, grown.GetIndex("a"), "existing index kept");
        Assert.AreEqual(4, grown.GetCount("a"));
        Assert.AreEqual(2, grown.GetCount("c"));
        Assert.AreEqual(Vocabulary.OovIndex, grown.GetIndex("c"));

        var third = sut.Refit(Items(ml, "c"));
        CollectionAssert.AreEqual(new[] { "a", "b", "d", "c" }, third.GetVocabulary("ItemId").Terms.ToArray(), "c reaches 3 on the third fit");
    }

    [TestMethod]
    public void VocabularyTest_RefitAfterSaveAndLoadKeepsCounts()
    {
        var ml = new MLContext(seed: 1);
        IDataView day1 = Items(ml, "a", "b", "b");
        var first = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item", minCount: 2).Fit(day1);

        var loaded = (VocabularyTransformer)EstimatorChecks.SaveAndLoad(first, day1.Schema);
        var sut = loaded.Refit(Items(ml, "a"));

        CollectionAssert.AreEqual(new[] { "b", "a" }, sut.GetVocabulary("ItemId").Terms.ToArray(), "a: 1 before saving + 1 after");
    }

    [TestMethod]
    public void VocabularyTest_MaxSizeCapsGrowth()
    {
        var ml = new MLContext(seed: 1);
        var first = ml.Ctr().Transforms.MapToVocabulary("ItemId", "Item", maxSize: 2).Fit(Items(ml, "a", "b", "c"));

        var sut = first.Refit(Items(ml, "z", "z", "z"));

        CollectionAssert.AreEqual(new[] { "a", "b" }, sut.GetVocabulary("ItemId").Terms.ToArray(), "existing terms are never dropped, and the cap holds");
    }

    [TestMethod]
    public void VocabularyTest_SharedVocabularyAcrossScalarAndSequence()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("i1", ["i2", "i3"]), ("i2", ["i1"]), ("i9", []));

        var sut = ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", MinCount = 2 },
            new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item", MinCount = 2 }).Fit(data);

        Assert.AreSame(sut.GetVocabulary("ItemId"), sut.GetVocabulary("HistoryIds"));
        CollectionAssert.AreEqual(new[] { "i1", "i2" }, sut.GetVocabulary("ItemId").Terms.ToArray(), "counts from both columns add up");
        IDataView output = sut.Transform(data);
        var rows = ml.Data.CreateEnumerable<Output>(output, reuseRowObject: false).ToArray();
        CollectionAssert.AreEqual(new uint[] { 3, 1 }, rows[0].HistoryIds);
        Assert.AreEqual(rows[1].HistoryIds[0], rows[0].ItemId);
        Assert.AreEqual(0, rows[2].HistoryIds.Length, "an empty sequence stays empty");

        Assert.IsTrue(output.Schema["ItemId"].TryGetCategoricalFeature(out CategoricalFeature item));
        Assert.IsTrue(output.Schema["HistoryIds"].TryGetCategoricalFeature(out CategoricalFeature history));
        Assert.AreEqual(new CategoricalFeature("ItemId", "item", 4, 1, 0, IsSequence: false), item);
        Assert.AreEqual(new CategoricalFeature("HistoryIds", "item", 4, 1, 0, IsSequence: true), history);
    }

    [TestMethod]
    public void VocabularyTest_SharedVocabularyNeedsSameSettings()
    {
        var ml = new MLContext(seed: 1);

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", MinCount = 2 },
            new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" }));

        StringAssert.Contains(error.Message, "'ItemId' and 'HistoryIds' share vocabulary 'item'");
    }

    [TestMethod]
    public void VocabularyTest_SchemaErrorsNameTheColumn()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new BoolRow { Item = true } });

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.MapToVocabulary("Id", "Nope").Fit(data));
        var wrongType = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.MapToVocabulary("Id", "Item").GetOutputSchema(SchemaShape.Create(data.Schema)));
        var badOption = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.MapToVocabulary("Id", "Item", minCount: 0));

        StringAssert.Contains(missing.Message, "Could not find input column 'Nope'");
        StringAssert.Contains(wrongType.Message, "Schema mismatch for input column 'Item': expected Text, Key or numeric");
        StringAssert.Contains(badOption.Message, "MinCount of column 'Id' must be at least 1");
    }

    [TestMethod]
    public void VocabularyTest_LoadedModelWorksInPredictionEngine()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a", ["b", "a"]), ("b", []));
        var model = ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" }).Fit(data);

        ITransformer loaded = EstimatorChecks.SaveAndLoad(model, data.Schema);
        var sut = new MLContext(seed: 3).Model.CreatePredictionEngine<Row, Output>(loaded);

        Output output = sut.Predict(new Row { Item = "b", History = ["a", "zzz", "b"] });
        Assert.AreEqual(3u, output.ItemId);
        CollectionAssert.AreEqual(new uint[] { 2, 1, 3 }, output.HistoryIds);
    }

    [TestMethod]
    public void VocabularyTest_ModelZipGivesSameOutputInNewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a", ["b", "a"]), ("b", []), ("c", ["zz", "c"]), ("", ["None"]));
        var model = ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" }).Fit(data);
        using var directory = new TemporaryDirectory();
        string path = System.IO.Path.Combine(directory.Path, "vocabulary.zip");
        ml.Model.Save(model, data.Schema, path);

        string[] sut = ChildProcess.TransformInNewProcess(path, data, ml);

        CollectionAssert.AreEqual(EstimatorChecks.Rows(model.Transform(data)), sut);
    }
}
