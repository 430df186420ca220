using System;
using System.IO;
using System.Linq;
using System.Text;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class HashBucketingTest
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

    private sealed class NumberRow
    {
        public int Count { get; set; }

        public float Price { get; set; }
    }

    private sealed class Output
    {
        [KeyType(10_000)]
        public uint ItemId { get; set; }

        [KeyType(10_000)]
        [VectorType]
        public uint[] HistoryIds { get; set; } = [];
    }

    private static IDataView Load(MLContext ml, params (string Item, string[] History)[] rows) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Item = r.Item, History = r.History }));

    private static IDataView Items(MLContext ml, params string[] items) =>
        Load(ml, [.. items.Select(i => (i, Array.Empty<string>()))]);

    private static uint[] ItemIds(ITransformer transformer, IDataView data, string column = "ItemId") =>
        [.. transformer.Transform(data).GetColumn<uint>(column)];

    // The documented rule, written out independently of the transformer.
    private static int Expected(string token, int numBuckets, uint seed = HashBucketingEstimator.Defaults.Seed) =>
        2 + (int)(MurmurHash3.Hash(Encoding.UTF8.GetBytes(token), seed) % (uint)numBuckets);

    [TestMethod]
    public void HashBucketingTest_Workout()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a", ["b", "a"]), ("b", []), ("c", ["c", "c", "x"]));
        var sut = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", MinCount = 2 },
            new HashBucketingEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item", MinCount = 2 });
        IDataView invalid = ml.Data.LoadFromEnumerable(new[] { new BoolRow { Item = true } });

        EstimatorChecks.Workout(sut, data, invalid);
    }

    [TestMethod]
    public void HashBucketingTest_ModelZipGivesSameOutputInNewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a", ["b", "a"]), ("b", []), ("c", ["c", "c", "x"]), ("", ["None"]));
        var sut = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", MinCount = 2 },
            new HashBucketingEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item", MinCount = 2 },
            new HashBucketingEstimator.ColumnOptions("ItemBucket", "Item") { NumBuckets = 7 }).Fit(data);

        EstimatorChecks.AssertSameOutputInNewProcess(sut, data);
    }

    [TestMethod]
    public void HashBucketingTest_WorkoutWithFixedBucketsAndNumericInput()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Count = 3, Price = 1.5f }, new NumberRow { Count = 7, Price = float.NaN } });
        var sut = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("CountId", "Count") { NumBuckets = 10 },
            new HashBucketingEstimator.ColumnOptions("PriceId", "Price") { NumBuckets = 3 });

        EstimatorChecks.Workout(sut, data);
    }

    // Published MurmurHash3_x86_32 vectors, each checked against two independent implementations
    // (a Python script written from Appleby's MurmurHash3.cpp, and Debian's Digest::MurmurHash3::PurePerl).
    [TestMethod]
    [DataRow("", 0u, 0x00000000u)]
    [DataRow("", 1u, 0x514E28B7u)]
    [DataRow("", 0xFFFFFFFFu, 0x81F16F39u)]
    [DataRow("hello", 0u, 0x248BFA47u)]
    [DataRow("abc", 0u, 0xB3DD93FAu)]
    [DataRow("aaaa", 0x9747B28Cu, 0x5A97808Au)]
    [DataRow("Hello, world!", 1234u, 0xFAF6CDB3u)]
    [DataRow("Hello, world!", 0x9747B28Cu, 0x24884CBAu)]
    [DataRow("The quick brown fox jumps over the lazy dog", 0u, 0x2E4FF723u)]
    [DataRow("πř你好", 0u, 0x38D19002u)]
    public void HashBucketingTest_MurmurHash3MatchesPublishedVectors(string text, uint seed, uint expected)
    {
        uint sut = MurmurHash3.HashUtf8(text, seed);

        Assert.AreEqual(expected, sut, $"0x{sut:X8}");
        Assert.AreEqual(expected, MurmurHash3.Hash(Encoding.UTF8.GetBytes(text), seed));
    }

    [TestMethod]
    public void HashBucketingTest_MurmurHash3OfLongTextUsesPooledBuffer()
    {
        string text = new('é', 5_000);

        uint sut = MurmurHash3.HashUtf8(text, 7);

        Assert.AreEqual(MurmurHash3.Hash(Encoding.UTF8.GetBytes(text), 7), sut);
    }

    [TestMethod]
    public void HashBucketingTest_PinnedBucketsForNonPowerOfTwoCount()
    {
        var ml = new MLContext(seed: 1);
        // Normalized: "banana", "42", "7.5"; each the same token as its neighbour.
        IDataView data = Items(ml, "apple", " banana ", "banana", "cherry", "42.0", "42", "7.50", "7.5", "é");

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 1000).Fit(data);
        var seven = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 7, seed: 314489979).Fit(data);

        // 2 + murmur3_32(utf8(token), 314489979) mod N, from the Python and Perl references.
        Assert.AreEqual(314489979u, HashBucketingEstimator.Defaults.Seed);
        CollectionAssert.AreEqual(new uint[] { 62, 329, 329, 982, 242, 242, 5, 5, 662 }, ItemIds(sut, data));
        CollectionAssert.AreEqual(new uint[] { 4, 3, 3, 8, 7, 7, 7, 7, 6 }, ItemIds(seven, data));
        Assert.AreEqual(1000, sut.GetBucketCount("ItemId"));
        Assert.AreEqual(62, sut.GetBucket("ItemId", "apple"));
        Assert.AreEqual(Expected("cherry", 1000), sut.GetBucket("ItemId", "cherry"));

        IDataView numbers = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Count = 42, Price = 7.5f } });
        var byNumber = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("CountId", "Count") { NumBuckets = 1000 },
            new HashBucketingEstimator.ColumnOptions("PriceId", "Price") { NumBuckets = 1000 }).Fit(numbers);
        IDataView output = byNumber.Transform(numbers);
        Assert.AreEqual(242u, output.GetColumn<uint>("CountId").Single(), "int 42 hashes as \"42\"");
        Assert.AreEqual(5u, output.GetColumn<uint>("PriceId").Single(), "float 7.5 hashes as \"7.5\"");

        IDataView keys = ml.Transforms.Conversion.MapValueToKey("ItemKey", "Item").Fit(data).Transform(data);
        var byKey = ml.Ctr().Transforms.HashToBuckets("ItemId", "ItemKey", numBuckets: 1000).Fit(keys);
        CollectionAssert.AreEqual(ItemIds(sut, data), ItemIds(byKey, keys), "keys are hashed through their key values");
    }

    [TestMethod]
    public void HashBucketingTest_FixedBucketsNeedNoTrainingData()
    {
        var ml = new MLContext(seed: 1);

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 5).Fit(Items(ml));

        Assert.AreEqual(5, sut.GetBucketCount("ItemId"));
        CollectionAssert.AreEqual(new uint[] { (uint)Expected("never seen", 5) }, ItemIds(sut, Items(ml, "never seen")));
        Assert.AreEqual(0, sut.GetCount("ItemId", "never seen"), "with MinCount 1 nothing is counted");
    }

    [TestMethod]
    public void HashBucketingTest_MinCountSendsRareTokensToOov()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "x", "y", "x", "z", "x", "y");

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 1000, minCount: 2).Fit(data);

        uint x = (uint)Expected("x", 1000), y = (uint)Expected("y", 1000);
        CollectionAssert.AreEqual(new uint[] { x, y, x, 1, x, y }, ItemIds(sut, data));
        Assert.AreEqual(Vocabulary.OovIndex, sut.GetBucket("ItemId", "z"));
        Assert.AreEqual(Vocabulary.OovIndex, sut.GetBucket("ItemId", "never seen"));
        Assert.AreEqual(1, sut.GetCount("ItemId", "z"), "rare tokens are still counted");
        Assert.AreEqual(3, sut.GetCount("ItemId", "x"));
    }

    [TestMethod]
    public void HashBucketingTest_RefitAccumulatesCountsAndKeepsBucketCount()
    {
        var ml = new MLContext(seed: 1);
        IDataView day1 = Items(ml, "a", "a", "a", "b", "b", "c");
        IDataView day2 = Items(ml, [.. new[] { "d", "d", "d", "d", "b", "b", "c", "a" }, .. Enumerable.Range(0, 50).Select(i => $"new{i}")]);

        var first = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", minCount: 3).Fit(day1);
        var sut = first.Refit(day2);

        Assert.AreEqual(16, first.GetBucketCount("ItemId"), "one qualifying token: the floor");
        Assert.AreEqual(16, sut.GetBucketCount("ItemId"), "the bucket count is frozen at the first fit");
        Assert.AreEqual(Vocabulary.OovIndex, first.GetBucket("ItemId", "b"), "the refit leaves the original unchanged");
        // b: 2 + 2 = 4 >= 3 although each day alone has 2 < 3; c: 1 + 1 = 2 stays out.
        Assert.AreEqual(Expected("b", 16), sut.GetBucket("ItemId", "b"));
        Assert.AreEqual(Expected("d", 16), sut.GetBucket("ItemId", "d"));
        Assert.AreEqual(Expected("a", 16), sut.GetBucket("ItemId", "a"), "a keeps its bucket");
        Assert.AreEqual(Vocabulary.OovIndex, sut.GetBucket("ItemId", "c"));
        Assert.AreEqual(4, sut.GetCount("ItemId", "a"));
        Assert.AreEqual(2, sut.GetCount("ItemId", "c"));

        var third = sut.Refit(Items(ml, "c"));
        Assert.AreEqual(Expected("c", 16), third.GetBucket("ItemId", "c"), "c reaches 3 on the third fit");
    }

    [TestMethod]
    public void HashBucketingTest_RefitAfterSaveAndLoadKeepsCounts()
    {
        var ml = new MLContext(seed: 1);
        IDataView day1 = Items(ml, "a", "b", "b");
        var first = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 7, minCount: 2).Fit(day1);

        var loaded = (HashBucketingTransformer)EstimatorChecks.SaveAndLoad(first, day1.Schema);
        var sut = loaded.Refit(Items(ml, "a"));

        Assert.AreEqual(Vocabulary.OovIndex, loaded.GetBucket("ItemId", "a"));
        Assert.AreEqual(Expected("a", 7), sut.GetBucket("ItemId", "a"), "a: 1 before saving + 1 after");
        Assert.AreEqual(7, sut.GetBucketCount("ItemId"));
    }

    [TestMethod]
    [DataRow(0L, 16)]
    [DataRow(1L, 16)]
    [DataRow(4L, 16)]
    [DataRow(5L, 20)]
    [DataRow(1_000L, 4_000)]
    [DataRow(1_048_575L, 4_194_300)]
    [DataRow(1_048_576L, 4_194_304)]
    [DataRow(10_000_000_000L, 4_194_304)]
    public void HashBucketingTest_AutoBucketCountRule(long distinctTokens, int expected)
    {
        int sut = HashBucketingEstimator.AutoBucketCount(distinctTokens);

        Assert.AreEqual(expected, sut);
    }

    [TestMethod]
    public void HashBucketingTest_AutoBucketCountRejectsNegative()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => HashBucketingEstimator.AutoBucketCount(-1));
    }

    [TestMethod]
    public void HashBucketingTest_AutoSizingCountsDistinctQualifyingTokens()
    {
        var ml = new MLContext(seed: 1);
        IDataView tenDistinct = Items(ml, [.. Enumerable.Range(0, 10).Select(i => $"t{i}"), "t0", "t1", "None", ""]);
        IDataView sixFrequent = Items(ml, [.. Enumerable.Range(0, 6).SelectMany(i => new[] { $"f{i}", $"f{i}" }), .. Enumerable.Range(0, 30).Select(i => $"r{i}")]);

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item").Fit(tenDistinct);
        var filtered = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", minCount: 2).Fit(sixFrequent);

        Assert.AreEqual(40, sut.GetBucketCount("ItemId"), "4 x 10 distinct tokens; outliers are not tokens");
        Assert.AreEqual(24, filtered.GetBucketCount("ItemId"), "4 x 6 tokens with count >= 2; the 30 rare ones do not count");
    }

    [TestMethod]
    public void HashBucketingTest_AutoSizingCollidesForAboutTwentyTwoPercentOfTokens()
    {
        const int distinct = 20_000;
        int buckets = HashBucketingEstimator.AutoBucketCount(distinct);
        int[] load = new int[buckets];
        uint[] bucketOf = [.. Enumerable.Range(0, distinct).Select(i => MurmurHash3.HashUtf8($"item_{i}", HashBucketingEstimator.Defaults.Seed) % (uint)buckets)];
        foreach (uint b in bucketOf)
            load[b]++;

        double sut = bucketOf.Count(b => load[b] > 1) / (double)distinct;

        Assert.AreEqual(1 - Math.Exp(-0.25), sut, 0.015, $"share of tokens that share a bucket: {sut:P1}");
    }

    [TestMethod]
    public void HashBucketingTest_MissingAndOutlierTokensMapToOov()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "a", "", "  ", "None", "NaN", "NULL", "unknown", " a ");

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 11).Fit(data);

        uint a = (uint)Expected("a", 11);
        CollectionAssert.AreEqual(new uint[] { a, 1, 1, 1, 1, 1, 1, a }, ItemIds(sut, data));
        Assert.AreEqual(Vocabulary.OovIndex, sut.GetBucket("ItemId", "null"));

        IDataView floats = ml.Data.LoadFromEnumerable(new[] { new NumberRow { Price = float.NaN } });
        var byFloat = ml.Ctr().Transforms.HashToBuckets("PriceId", "Price", numBuckets: 11).Fit(floats);
        Assert.AreEqual(1u, byFloat.Transform(floats).GetColumn<uint>("PriceId").Single(), "NaN is missing");
    }

    [TestMethod]
    public void HashBucketingTest_CustomOutlierTokensAndFoldCase()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "Apple", "APPLE", "apple", "-", "None");

        var sut = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("ItemId", "Item") { NumBuckets = 13, FoldCase = true, OutlierTokens = ["-"] }).Fit(data);
        var kept = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 13).Fit(data);

        uint apple = (uint)Expected("apple", 13);
        CollectionAssert.AreEqual(new uint[] { apple, apple, apple, 1, (uint)Expected("none", 13) }, ItemIds(sut, data));
        Assert.AreEqual(Expected("Apple", 13), kept.GetBucket("ItemId", "Apple"), "without folding the spelling is hashed as is");
    }

    [TestMethod]
    public void HashBucketingTest_VectorColumnSharesHashSpaceWithScalar()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("i1", ["i2", "i3"]), ("i2", ["i1"]), ("i9", []));

        var sut = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", NumBuckets = 101, MinCount = 2 },
            new HashBucketingEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item", NumBuckets = 101, MinCount = 2 }).Fit(data);

        Assert.AreEqual(2, sut.GetCount("HistoryIds", "i1"), "counts from both columns add up");
        IDataView output = sut.Transform(data);
        var rows = ml.Data.CreateEnumerable<Output>(output, reuseRowObject: false).ToArray();
        uint i1 = (uint)Expected("i1", 101), i2 = (uint)Expected("i2", 101);
        CollectionAssert.AreEqual(new uint[] { i1, i2, 1 }, rows.Select(r => r.ItemId).ToArray());
        CollectionAssert.AreEqual(new uint[] { i2, 1 }, rows[0].HistoryIds, "i3 is seen once");
        CollectionAssert.AreEqual(new uint[] { i1 }, rows[1].HistoryIds);
        Assert.AreEqual(0, rows[2].HistoryIds.Length, "an empty sequence stays empty");

        Assert.AreEqual(new KeyDataViewType(typeof(uint), 102), output.Schema["ItemId"].Type);
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 102), ((VectorDataViewType)output.Schema["HistoryIds"].Type).ItemType);
        Assert.IsNull(output.Schema["ItemId"].Annotations.Schema.GetColumnOrNull("KeyValues"), "buckets have no text");
        Assert.IsTrue(output.Schema["ItemId"].TryGetCategoricalFeature(out CategoricalFeature item));
        Assert.IsTrue(output.Schema["HistoryIds"].TryGetCategoricalFeature(out CategoricalFeature history));
        Assert.AreEqual(new CategoricalFeature("ItemId", "item", 103, 1, 0, IsSequence: false), item);
        Assert.AreEqual(new CategoricalFeature("HistoryIds", "item", 103, 1, 0, IsSequence: true), history);
    }

    [TestMethod]
    public void HashBucketingTest_VocabularyNameDefaultsToOutputColumn()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "a");

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 3).Fit(data);

        Assert.IsTrue(sut.Transform(data).Schema["ItemId"].TryGetCategoricalFeature(out CategoricalFeature feature));
        Assert.AreEqual(new CategoricalFeature("ItemId", "ItemId", 5, 1, 0, IsSequence: false), feature);
    }

    [TestMethod]
    public void HashBucketingTest_LoadedModelWorksInPredictionEngine()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a", ["b", "a"]), ("b", []), ("c", []));
        var model = ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", NumBuckets = 1000, MinCount = 2 },
            new HashBucketingEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item", NumBuckets = 1000, MinCount = 2 }).Fit(data);

        ITransformer loaded = EstimatorChecks.SaveAndLoad(model, data.Schema);
        var sut = new MLContext(seed: 3).Model.CreatePredictionEngine<Row, Output>(loaded);

        Output output = sut.Predict(new Row { Item = "b", History = ["a", "zzz", "c", " b "] });
        Assert.AreEqual((uint)Expected("b", 1000), output.ItemId);
        CollectionAssert.AreEqual(new uint[] { (uint)Expected("a", 1000), 1, 1, (uint)Expected("b", 1000) }, output.HistoryIds);
    }

    [TestMethod]
    public void HashBucketingTest_CorruptCountInModelFileThrowsFormatException()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "corrupt-me", "corrupt-me", "other");
        var model = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 7, minCount: 2).Fit(data);
        // A counted token is saved as a length-prefixed string followed by its Int64 count.
        byte[] token = [10, .. Encoding.UTF8.GetBytes("corrupt-me")];

        using MemoryStream corrupted = ModelZip.SaveAndPatch(model, data.Schema, "CTRHASHB",
            [.. token, .. BitConverter.GetBytes(2L)], [.. token, .. BitConverter.GetBytes(-3L)]);

        var sut = Errors.Find<FormatException>(() => new MLContext(seed: 2).Model.Load(corrupted, out _));
        StringAssert.Contains(sut.Message, "gives token 'corrupt-me' a count of -3");
    }

    [TestMethod]
    public void HashBucketingTest_CarriesTheSequenceWeightPairing()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new { History = "a|b", Dwell = "1|2" }, new { History = "b", Dwell = "3" } });
        var pipeline = ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell")
            .Append(ml.Ctr().Transforms.HashToBuckets("ItemIds", "Items", numBuckets: 5));

        var promised = pipeline.GetOutputSchema(SchemaShape.Create(data.Schema));
        IDataView sut = pipeline.Fit(data).Transform(data);

        Assert.AreEqual("ItemsWeights", sut.Schema["ItemIds"].GetSequenceWeightColumn());
        Assert.IsTrue(promised.Single(c => c.Name == "ItemIds").Annotations.TryFindColumn(CtrAnnotations.SequenceWeights, out _), "the schema promise carries it too");
        Assert.IsNull(ml.Ctr().Transforms.HashToBuckets("Id", "History", numBuckets: 5).Fit(data).Transform(data).Schema["Id"].GetSequenceWeightColumn());
    }

    [TestMethod]
    public void HashBucketingTest_SchemaErrorsNameTheColumn()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(new[] { new BoolRow { Item = true } });

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "X").Fit(data));
        var missingShape = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "X").GetOutputSchema(SchemaShape.Create(data.Schema)));
        var wrongType = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "Item").GetOutputSchema(SchemaShape.Create(data.Schema)));
        var wrongTypeFit = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "Item", numBuckets: 5).Fit(data));

        StringAssert.Contains(missing.Message, "Could not find input column 'X'");
        StringAssert.Contains(missingShape.Message, "Could not find input column 'X'");
        StringAssert.Contains(wrongType.Message, "Schema mismatch for input column 'Item': expected Text, Key or numeric");
        StringAssert.Contains(wrongTypeFit.Message, "Schema mismatch for input column 'Item': expected Text, Key or numeric");
    }

    [TestMethod]
    public void HashBucketingTest_TransformChecksTheSchemaToo()
    {
        var ml = new MLContext(seed: 1);
        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 5).Fit(Items(ml, "a"));
        IDataView wrong = ml.Data.LoadFromEnumerable(new[] { new BoolRow { Item = true } });

        var error = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sut.Transform(wrong));

        StringAssert.Contains(error.Message, "Schema mismatch for input column 'Item': expected Text, Key or numeric");
    }

    [TestMethod]
    public void HashBucketingTest_BadOptionsNameTheOption()
    {
        var ml = new MLContext(seed: 1);

        var zeroBuckets = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "Item", numBuckets: 0));
        var tooManyBuckets = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "Item", numBuckets: int.MaxValue));
        var zeroMinCount = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets("Id", "Item", minCount: 0));
        var shared = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.HashToBuckets(
            new HashBucketingEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item", NumBuckets = 10 },
            new HashBucketingEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item", NumBuckets = 11 }));
        var unknown = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() =>
            ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 3).Fit(Items(ml, "a")).GetBucketCount("Nope"));

        StringAssert.Contains(zeroBuckets.Message, "NumBuckets of column 'Id' must be from 1 to");
        StringAssert.Contains(tooManyBuckets.Message, "NumBuckets of column 'Id' must be from 1 to");
        StringAssert.Contains(zeroMinCount.Message, "MinCount of column 'Id' must be at least 1");
        StringAssert.Contains(shared.Message, "'ItemId' and 'HistoryIds' share hash space 'item'");
        StringAssert.Contains(unknown.Message, "produces no column 'Nope'");
    }

    [TestMethod]
    public void HashBucketingTest_OneBucket()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Items(ml, "a", "b", "");

        var sut = ml.Ctr().Transforms.HashToBuckets("ItemId", "Item", numBuckets: 1).Fit(data);

        CollectionAssert.AreEqual(new uint[] { 2, 2, 1 }, ItemIds(sut, data));
    }
}
