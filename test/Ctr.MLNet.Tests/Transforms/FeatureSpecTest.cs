using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class FeatureSpecTest
{
    private const string Csv = """
        click,user_id,item_id,hist_item_ids,hist_dwell,price,age,hour,extra
        1,u1,i1,i2|i3|i4|i5,1.5|2|3|4,10.5,30,7,x
        0,u2,i2,i1,0.5,,41,8,y
        1,u1,i3,,,1200,25,7,z
        0,u3,i2,i6|i1,2|1,3,52,9,x
        1,u2,i4,i2,1,99.5,33,23,y
        0,u1,i1,"i4|i2",5|6,7,29,0,x
        """;

    /// <summary>Every option of the spec format, on features of every kind.</summary>
    private static FeatureSpec FullSpec() => new("click",
    [
        new FeatureColumnSpec("user_id", FeatureColumnSpec.Categorical) { EmbDim = 8, FoldCase = true },
        new FeatureColumnSpec("item_id", FeatureColumnSpec.Categorical) { EmbDim = 16, MaxVocab = 1000 },
        new FeatureColumnSpec("hist_item_ids", FeatureColumnSpec.Categorical) { IsList = true, MaxLen = 3, WeightCol = "hist_dwell", ShareVocab = "item_id" },
        new FeatureColumnSpec("price", FeatureColumnSpec.Numeric) { Norm = FeatureColumnSpec.ZScore, Log1p = true, Clip = 5, Fill = 0 },
        new FeatureColumnSpec("age", FeatureColumnSpec.Numeric) { Buckets = 4, EmbDim = 4 },
        new FeatureColumnSpec("hour", FeatureColumnSpec.Categorical) { HashBuckets = 16, MinFreq = 1 },
    ]);

    private static FeatureSpec Spec(string featuresJson, string label = "click") =>
        FeatureSpec.FromJson($$"""{ "label": "{{label}}", "features": {{featuresJson}} }""");

    [TestMethod]
    public void FeatureSpecTest_JsonRoundTripKeepsEveryFieldAndOmitsNulls()
    {
        FeatureSpec spec = FullSpec() with { ListSeparator = ';', Trees = 0, Networks = 2 };

        string json = spec.ToJson();
        FeatureSpec sut = FeatureSpec.FromJson(json);

        Assert.AreEqual(spec, sut);
        Assert.AreEqual(json, sut.ToJson());
        Assert.DoesNotContain("null", json, "null options are left out");
        StringAssert.Contains(json, "\"list_separator\": \";\"");
        StringAssert.Contains(json, "\"weight_col\": \"hist_dwell\"");
        StringAssert.Contains(json, "\"share_vocab\": \"item_id\"");
        StringAssert.Contains(json, "\"emb_dim\": 16");
        StringAssert.Contains(json, "\"max_vocab\": 1000");
        StringAssert.Contains(json, "\"hash_buckets\": 16");
        StringAssert.Contains(json, "\"islist\": true");
        StringAssert.Contains(json, "\"maxlen\": 3");
        StringAssert.Contains(json, "\"fold_case\": true");
        StringAssert.Contains(json, "\"norm\": \"zscore\"");
        StringAssert.Contains(json, "\"log1p\": true");
        StringAssert.Contains(json, "\"clip\": 5");
        StringAssert.Contains(json, "\"fill\": 0");
        StringAssert.Contains(json, "\"buckets\": 4");
        StringAssert.Contains(json, "\"trees\": 0");
        StringAssert.Contains(json, "\"networks\": 2");
        Assert.AreNotEqual(spec, spec with { Trees = 1 }, "trees is part of the spec");
        Assert.AreNotEqual(spec, spec with { Networks = null }, "networks is part of the spec");
        string price = json[json.IndexOf("\"price\"", StringComparison.Ordinal)..json.IndexOf("\"age\"", StringComparison.Ordinal)];
        Assert.DoesNotContain("min_freq", price, "min_freq is written for categorical features only");
        Assert.DoesNotContain("islist", price, "false flags are left out");
    }

    [TestMethod]
    public void FeatureSpecTest_FromJsonReadsHandWrittenSpecsWithDefaults()
    {
        FeatureSpec sut = FeatureSpec.FromJson("""
            {
              // written by hand
              "label": "click",
              "features": [
                { "name": "item_id", "dtype": "categorical", "min_freq": 2 },
                { "name": "price", "dtype": "numeric" },
              ],
            }
            """);

        Assert.AreEqual('|', sut.ListSeparator);
        Assert.IsNull(sut.Trees, "train's default");
        Assert.IsNull(sut.Networks, "train's default");
        Assert.AreEqual(new FeatureColumnSpec("item_id", FeatureColumnSpec.Categorical) { MinFreq = 2 }, sut.Features[0]);
        Assert.AreEqual(new FeatureColumnSpec("price", FeatureColumnSpec.Numeric), sut.Features[1]);
        Assert.AreEqual("FeatureSpec { Label = click, Features = [item_id, price] }", sut.ToString());
    }

    [TestMethod]
    [DataRow("{", "not valid")]
    [DataRow("null", "expected a JSON object")]
    [DataRow("""{ "label": "click", "features": [ { "name": "a", "dtype": "categorical", "emb_dimm": 4 } ] }""", "emb_dimm")]
    [DataRow("""{ "label": "click", "features": [ { "name": "a", "dtype": "categorical", "min_freq": "two" } ] }""", "min_freq")]
    [DataRow("""{ "label": "click", "features": [ null ] }""", "null entry")]
    [DataRow("""{ "label": "click", "features": [ { "name": "p", "dtype": "numeric", "clip": "high" } ] }""", "The feature spec is not valid: '$.features[0].clip' (line 1) must be a number.")]
    [DataRow("{ \"label\": \"click\",\n \"features\": [ { \"name\": \"a\", \"dtype\": \"categorical\", \"emb_dim\": 4.5 } ] }", "'$.features[0].emb_dim' (line 2) must be a whole number.")]
    [DataRow("""{ "label": "click", "features": [ { "name": "a", "dtype": "categorical", "islist": "yes" } ] }""", "'$.features[0].islist' (line 1) must be true or false.")]
    [DataRow("""{ "label": "click", "features": { "name": "a" } }""", "'$.features' (line 1) must be an array.")]
    public void FeatureSpecTest_MalformedJsonIsAFormatException(string json, string expected)
    {
        FormatException sut = Assert.ThrowsExactly<FormatException>(() => FeatureSpec.FromJson(json));

        StringAssert.Contains(sut.Message, expected);
    }

    [TestMethod]
    [DataRow("""[{ "name": "price", "dtype": "numeric", "norm": "z" }]""", "Feature 'price': norm must be zscore or minmax, got 'z'.")]
    [DataRow("""[{ "name": "a", "dtype": "text" }]""", "Feature 'a': dtype must be categorical or numeric, got 'text'.")]
    [DataRow("""[{ "name": "a" }]""", "Feature 'a': dtype must be categorical or numeric, got null.")]
    [DataRow("""[{ "dtype": "numeric" }]""", "Feature #1: name is required.")]
    [DataRow("""[{ "name": "a", "dtype": "numeric" }, { "name": "a", "dtype": "categorical" }]""", "Feature 'a': the name is given more than once.")]
    [DataRow("""[{ "name": "click", "dtype": "numeric" }]""", "Feature 'click': the label cannot also be a feature.")]
    [DataRow("""[{ "name": "h", "dtype": "categorical", "islist": true, "share_vocab": "item_id" }]""", "Feature 'h': share_vocab names 'item_id', which is not a feature of the spec.")]
    [DataRow("""[{ "name": "h", "dtype": "categorical", "islist": true, "share_vocab": "h" }]""", "Feature 'h': share_vocab cannot name the feature itself.")]
    [DataRow("""[{ "name": "p", "dtype": "numeric" }, { "name": "h", "dtype": "categorical", "share_vocab": "p" }]""", "Feature 'h': share_vocab names 'p', which is not categorical.")]
    [DataRow("""[{ "name": "a", "dtype": "categorical" }, { "name": "b", "dtype": "categorical", "share_vocab": "a" }, { "name": "c", "dtype": "categorical", "share_vocab": "b" }]""", "Feature 'c': share_vocab names 'b', which itself shares 'a''s vocabulary")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "min_freq": 2 }, { "name": "h", "dtype": "categorical", "islist": true, "share_vocab": "a", "min_freq": 3 }]""", "Feature 'h': min_freq is 3 but the shared vocabulary of 'a' has min_freq 2")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "emb_dim": 8 }, { "name": "h", "dtype": "categorical", "islist": true, "share_vocab": "a", "emb_dim": 4 }]""", "Feature 'h': emb_dim is 4 but the shared vocabulary of 'a' has emb_dim 8")]
    [DataRow("""[{ "name": "item_id", "dtype": "categorical", "weight_col": "w" }]""", "Feature 'item_id': weight_col applies to lists only")]
    [DataRow("""[{ "name": "h", "dtype": "categorical", "islist": true, "weight_col": "dwell" }, { "name": "dwell", "dtype": "numeric" }]""", "Feature 'h': weight_col 'dwell' is also listed as a feature")]
    [DataRow("""[{ "name": "h", "dtype": "categorical", "islist": true, "weight_col": "click" }]""", "Feature 'h': weight_col cannot be the label 'click'.")]
    [DataRow("""[{ "name": "h", "dtype": "categorical", "islist": true, "weight_col": "w" }, { "name": "g", "dtype": "categorical", "islist": true, "weight_col": "w" }]""", "Feature 'g': weight_col 'w' is already the weight column of 'h'.")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "maxlen": 5 }]""", "Feature 'a': maxlen applies to lists only")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "islist": true, "maxlen": 0 }]""", "Feature 'a': maxlen must be at least 1, got 0.")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "min_freq": 0 }]""", "Feature 'a': min_freq must be at least 1, got 0.")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "hash_buckets": -1 }]""", "Feature 'a': hash_buckets must be 0 (automatic)")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "hash_buckets": 8, "max_vocab": 10 }]""", "Feature 'a': max_vocab and hash_buckets exclude each other")]
    [DataRow("""[{ "name": "a", "dtype": "categorical", "log1p": true }]""", "Feature 'a': log1p applies to numeric features only.")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "min_freq": 2 }]""", "Feature 'p': min_freq applies to categorical features only.")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "hash_buckets": 8 }]""", "Feature 'p': hash_buckets applies to categorical features only.")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "islist": true }]""", "Feature 'p': numeric lists are not supported")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "emb_dim": 4 }]""", "Feature 'p': emb_dim applies to categorical features and to numeric features with buckets only.")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "buckets": 1 }]""", "Feature 'p': buckets must be from 2 to")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "buckets": 8, "log1p": true }]""", "Feature 'p': log1p does not apply with buckets")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "clip": 0 }]""", "Feature 'p': clip must be a finite number above 0 with zscore, got 0.")]
    [DataRow("""[{ "name": "p", "dtype": "numeric", "norm": "minmax", "clip": -1 }]""", "Feature 'p': clip must be a finite number of 0 or more with minmax, got -1.")]
    [DataRow("""[]""", "features is required")]
    public void FeatureSpecTest_InvalidValuesNameTheFeatureAndTheField(string features, string expected)
    {
        ArgumentOutOfRangeException sut = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => Spec(features));

        StringAssert.Contains(sut.Message, expected);
    }

    [TestMethod]
    [DataRow(-1, null, "trees must be at least 0, got -1.")]
    [DataRow(null, 0, "networks must be in 1..64, got 0.")]
    [DataRow(null, 65, "networks must be in 1..64, got 65.")]
    public void FeatureSpecTest_TreesAndNetworksAreChecked(int? trees, int? networks, string expected)
    {
        var sut = new FeatureSpec("click", [new FeatureColumnSpec("a", FeatureColumnSpec.Categorical)]) { Trees = trees, Networks = networks };

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(sut.Validate).Message, expected);
    }

    [TestMethod]
    public void FeatureSpecTest_SpecsBuiltInCodeAreValidatedBeforeBuilding()
    {
        var sut = new FeatureSpec("", [new FeatureColumnSpec("a", FeatureColumnSpec.Categorical)]);

        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sut.BuildPipeline(new MLContext(1))).Message, "label is required");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new FeatureSpec("click", default).Validate());
    }

    [TestMethod]
    public void FeatureSpecTest_NumericColumnNamesAndEmbeddingDimsFeedTheTrainer()
    {
        FeatureSpec sut = FullSpec();

        CollectionAssert.AreEqual(new[] { "price" }, sut.NumericColumnNames.ToArray(), "bucketized numerics become key columns");
        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["user_id"] = 8, ["item_id"] = 16, ["age"] = 4 }, sut.EmbeddingDims.ToDictionary());
    }

    [TestMethod]
    public void FeatureSpecTest_EmbeddingDimOfASharedVocabularyComesFromAnyFeatureSharingIt()
    {
        FeatureSpec sut = Spec("""[{ "name": "a", "dtype": "categorical" }, { "name": "h", "dtype": "categorical", "islist": true, "share_vocab": "a", "emb_dim": 12 }]""");

        CollectionAssert.AreEquivalent(new Dictionary<string, int> { ["a"] = 12 }, sut.EmbeddingDims.ToDictionary());
    }

    [TestMethod]
    public void FeatureSpecTest_LoadCsvMapsColumnsByNameAndReportsTheIgnoredOnes()
    {
        using var dir = new TemporaryDirectory();
        string path = Write(dir, "data.csv", Csv);
        var ml = new MLContext(seed: 1);

        IDataView sut = FullSpec().LoadCsv(ml, path, out CsvColumns columns);

        CollectionAssert.AreEqual(new[] { "extra" }, columns.Ignored.ToArray());
        CollectionAssert.AreEqual(new[] { "click", "user_id", "item_id", "hist_item_ids", "hist_dwell", "price", "age", "hour" }, columns.Loaded.ToArray());
        Assert.IsNull(sut.Schema.GetColumnOrNull("extra"));
        Assert.AreEqual(NumberDataViewType.Single, sut.Schema["click"].Type);
        Assert.AreEqual(NumberDataViewType.Single, sut.Schema["price"].Type);
        Assert.AreEqual(TextDataViewType.Instance, sut.Schema["hist_dwell"].Type);
        float[] prices = [.. sut.GetColumn<float>("price")];
        Assert.AreEqual(6, prices.Length);
        Assert.IsTrue(float.IsNaN(prices[1]), "an empty numeric field is NaN");
        CollectionAssert.AreEqual(new[] { "i1", "i2", "i3", "i2", "i4", "i1" }, sut.GetColumn<ReadOnlyMemory<char>>("item_id").Select(v => v.ToString()).ToArray());
        Assert.AreEqual("i4|i2", sut.GetColumn<ReadOnlyMemory<char>>("hist_item_ids").Last().ToString(), "quoted fields are unquoted");
    }

    [TestMethod]
    public void FeatureSpecTest_LoadCsvNamesTheFileAndTheMissingColumn()
    {
        using var dir = new TemporaryDirectory();
        string path = Write(dir, "data.csv", Csv);
        var ml = new MLContext(seed: 1);
        FeatureSpec spec = FullSpec() with { Features = [.. FullSpec().Features, new FeatureColumnSpec("country", FeatureColumnSpec.Categorical)] };

        ArgumentOutOfRangeException sut = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => spec.LoadCsv(ml, path));

        StringAssert.Contains(sut.Message, path);
        StringAssert.Contains(sut.Message, "'country'");
    }

    [TestMethod]
    public void FeatureSpecTest_LoadCsvWithoutLabelLoadsScoringData()
    {
        using var dir = new TemporaryDirectory();
        string path = Write(dir, "score.csv", string.Join('\n', Csv.Split('\n').Select(l => l[(l.IndexOf(',') + 1)..])));
        var ml = new MLContext(seed: 1);

        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FullSpec().LoadCsv(ml, path));
        IDataView sut = FullSpec().LoadCsv(ml, path, hasLabel: false);

        Assert.IsNull(sut.Schema.GetColumnOrNull("click"));
        Assert.AreEqual(6, sut.GetColumn<float>("price").Count());
    }

    [TestMethod]
    public void FeatureSpecTest_BuildPipelineFitsInPlaceAndSurvivesSaveAndLoad()
    {
        using var dir = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        IDataView data = FullSpec().LoadCsv(ml, Write(dir, "data.csv", Csv));
        IEstimator<ITransformer> sut = FullSpec().BuildPipeline(ml);

        ITransformer model = sut.Fit(data);
        IDataView output = model.Transform(data);

        EstimatorChecks.AssertSchemaMatchesShape(sut.GetOutputSchema(SchemaShape.Create(data.Schema)), output.Schema);
        foreach (string key in new[] { "user_id", "item_id", "hist_item_ids", "age", "hour" })
            Assert.IsInstanceOfType<KeyDataViewType>(output.Schema[key].Type.GetItemType(), $"'{key}' is replaced in place by its key column");
        Assert.AreEqual(NumberDataViewType.Single, output.Schema["price"].Type);
        Assert.AreEqual(NumberDataViewType.Single, output.Schema["click"].Type, "the label passes through");
        Assert.AreEqual(NumberDataViewType.Single, output.Schema["hist_dwell"].Type.GetItemType());
        Assert.IsTrue(output.Schema["hour"].TryGetCategoricalFeature(out CategoricalFeature hour));
        Assert.AreEqual(18, hour.Size, "16 buckets, padding and OOV");
        float[] prices = [.. output.GetColumn<float>("price")];
        Assert.IsTrue(prices.All(float.IsFinite), "missing prices are filled");

        ITransformer loaded = EstimatorChecks.SaveAndLoad(model, data.Schema);
        EstimatorChecks.AssertSameData(output, loaded.Transform(data));
    }

    [TestMethod]
    public void FeatureSpecTest_SharedVocabularyGivesOneIndexSpace()
    {
        using var dir = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        IDataView data = FullSpec().LoadCsv(ml, Write(dir, "data.csv", Csv));

        IDataView sut = FullSpec().BuildPipeline(ml).Fit(data).Transform(data);

        Assert.IsTrue(sut.Schema["item_id"].TryGetCategoricalFeature(out CategoricalFeature item));
        Assert.IsTrue(sut.Schema["hist_item_ids"].TryGetCategoricalFeature(out CategoricalFeature history));
        Assert.AreEqual("item_id", item.Vocabulary);
        Assert.AreEqual("item_id", history.Vocabulary);
        Assert.AreEqual(item.Size, history.Size);
        Assert.AreEqual(7, item.Size, "i1 … i4 and i6 from both columns (i5 is cut by maxlen), padding and OOV");
        uint[] items = [.. sut.GetColumn<uint>("item_id")];
        uint[][] histories = [.. sut.GetColumn<VBuffer<uint>>("hist_item_ids").Select(v => v.DenseValues().ToArray())];
        Assert.AreEqual(items[1], histories[0][0], "i2 has the same index in both columns");
        Assert.AreEqual(items[0], histories[1][0], "i1 has the same index in both columns");
        Assert.AreNotEqual(1u, histories[3][0], "i6, seen only in a history, is in the shared vocabulary, not OOV");
    }

    [TestMethod]
    public void FeatureSpecTest_WeightColumnIsParsedInPlaceAndPairedWithItsList()
    {
        using var dir = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        IDataView data = FullSpec().LoadCsv(ml, Write(dir, "data.csv", Csv));

        IDataView sut = FullSpec().BuildPipeline(ml).Fit(data).Transform(data);

        Assert.AreEqual("hist_dwell", sut.Schema["hist_item_ids"].GetSequenceWeightColumn());
        float[][] weights = [.. sut.GetColumn<VBuffer<float>>("hist_dwell").Select(v => v.DenseValues().ToArray())];
        uint[][] ids = [.. sut.GetColumn<VBuffer<uint>>("hist_item_ids").Select(v => v.DenseValues().ToArray())];
        CollectionAssert.AreEqual(new[] { 1.5f, 2f, 3f }, weights[0], "weights truncated with their elements to maxlen 3");
        Assert.HasCount(3, ids[0]);
        Assert.IsEmpty(ids[2], "an empty list stays empty");
        Assert.IsEmpty(weights[2]);
        for (int row = 0; row < ids.Length; row++)
            Assert.HasCount(ids[row].Length, weights[row]);
    }

    [TestMethod]
    public void FeatureSpecTest_FitStreamsWithOnePassPerLearningEstimator()
    {
        using var dir = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        var data = new CursorCountingDataView(FullSpec().LoadCsv(ml, Write(dir, "data.csv", Csv)));
        IEstimator<ITransformer> sut = FullSpec().BuildPipeline(ml);

        ITransformer model = sut.Fit(data);

        // Learning estimators of FullSpec: vocabulary counts, normalization statistics, quantile samples. Hashing
        // 'hour' into a fixed 16 buckets with min_freq 1 needs no pass, and sequence parsing learns nothing.
        Assert.AreEqual(3, data.CursorsOpened, "one pass per learning estimator");
        data.CursorsOpened = 0;
        _ = model.Transform(data);
        Assert.AreEqual(0, data.CursorsOpened, "Transform is lazy");
    }

    [TestMethod]
    public void FeatureSpecTest_AutomaticHashBucketsAndMinFreqTakeOneMorePass()
    {
        using var dir = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        FeatureSpec spec = Spec("""[{ "name": "hour", "dtype": "categorical", "hash_buckets": 0, "min_freq": 2 }, { "name": "user_id", "dtype": "categorical" }]""");
        var data = new CursorCountingDataView(spec.LoadCsv(ml, Write(dir, "data.csv", Csv)));

        IDataView sut = spec.BuildPipeline(ml).Fit(data).Transform(data);

        Assert.AreEqual(2, data.CursorsOpened, "vocabulary counts and hash counts");
        Assert.IsTrue(sut.Schema["hour"].TryGetCategoricalFeature(out CategoricalFeature hour));
        Assert.AreEqual(18, hour.Size, "automatic sizing gives at least 16 buckets");
        uint[] hours = [.. sut.GetColumn<uint>("hour")];
        Assert.AreEqual(1u, hours[1], "hour 8, seen once, is below min_freq 2");
    }

    private static string Write(TemporaryDirectory dir, string name, string text)
    {
        string path = Path.Combine(dir.Path, name);
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        return path;
    }

    /// <summary>Passes everything through and counts the cursors opened on it: one per pass over the data.</summary>
    private sealed class CursorCountingDataView(IDataView source) : IDataView
    {
        public int CursorsOpened { get; set; }

        public bool CanShuffle => source.CanShuffle;

        public DataViewSchema Schema => source.Schema;

        public long? GetRowCount() => source.GetRowCount();

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
        {
            CursorsOpened++;
            return source.GetRowCursor(columnsNeeded, rand);
        }

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        {
            CursorsOpened++;
            return source.GetRowCursorSet(columnsNeeded, n, rand);
        }
    }
}
