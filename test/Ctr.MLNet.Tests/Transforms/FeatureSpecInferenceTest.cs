using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
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
public sealed class FeatureSpecInferenceTest
{
    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public void FeatureSpecInferenceTest_LabelIsTheGivenColumnOrTheFirstUsualName()
    {
        using var dir = new TemporaryDirectory();
        string path = WriteCsv(dir, ["id", "y", "Clicked", "a"], Enumerable.Range(0, 20).Select(i => new[] { $"r{i}", $"{i % 2}", $"{i % 3 % 2}", $"a{i % 4}" }));

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);
        FeatureSpec given = FeatureSpecInference.FromCsv(path, label: "y");

        Assert.AreEqual("Clicked", sut.Label, "clicked comes before y, ignoring case");
        CollectionAssert.AreEqual(new[] { "id", "y", "a" }, sut.Features.Select(f => f.Name).ToArray());
        Assert.AreEqual("y", given.Label);
        CollectionAssert.Contains(given.Features.Select(f => f.Name).ToArray(), "Clicked");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FeatureSpecInference.FromCsv(path, label: "target")).Message, "'target'");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_NoUsualLabelNameNeedsTheLabelGiven()
    {
        using var dir = new TemporaryDirectory();
        string path = WriteCsv(dir, ["target", "a"], [["1", "x"], ["0", "y"]]);

        ArgumentOutOfRangeException sut = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FeatureSpecInference.FromCsv(path));

        StringAssert.Contains(sut.Message, "click, clicked, label, y");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_ListNeedsFivePercentOfNonEmptyValuesWithTheSeparator()
    {
        using var dir = new TemporaryDirectory();
        // 100 non-empty values each (plus empty ones, which do not count): 5 lists in "five", 4 in "four".
        var rows = Enumerable.Range(0, 150).Select(i => new[]
        {
            $"{i % 2}",
            i >= 100 ? "" : i < 5 ? $"t{i}|t{i + 1}" : $"t{i % 7}",
            i >= 100 ? "" : i < 4 ? $"t{i}|t{i + 1}" : $"t{i % 7}",
        });
        string path = WriteCsv(dir, ["click", "five", "four"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.IsTrue(Feature(sut, "five").IsList);
        Assert.IsFalse(Feature(sut, "four").IsList);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "five").Dtype);
        Assert.IsNull(Feature(sut, "five").MaxLen, "maxlen is not inferred");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_NumericListOfTheSameLengthsBecomesTheWeightColumn()
    {
        using var dir = new TemporaryDirectory();
        var rows = Enumerable.Range(0, 200).Select(i =>
        {
            int n = i % 4;
            string items = string.Join('|', Enumerable.Range(i, n).Select(k => $"i{k % 30}"));
            string scores = string.Join('|', Enumerable.Range(0, n).Select(k => (k * 0.5).ToString(CultureInfo.InvariantCulture)));
            string cates = string.Join('|', Enumerable.Range(i, n).Select(k => $"c{k % 7}"));
            // 3 rows in 200 (1.5%) disagree in length with both text lists: below the 99% agreement.
            string ratings = string.Join('|', Enumerable.Range(0, i % 50 == 0 && i > 0 ? n + 1 : n).Select(k => $"{k + 1}"));
            return new[] { $"{i % 2}", items, cates, scores, ratings };
        });
        string path = WriteCsv(dir, ["click", "hist", "hist_cates", "hist_scores", "hist_ratings"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.AreEqual("hist_scores", Feature(sut, "hist").WeightCol);
        Assert.IsFalse(sut.Features.Any(f => f.Name == "hist_scores"), "a weight column is not a feature");
        Assert.IsTrue(Feature(sut, "hist_ratings").IsList, "a numeric list whose lengths disagree stays a list feature");
        Assert.IsNull(Feature(sut, "hist_ratings").WeightCol);
        Assert.IsNull(Feature(sut, "hist_cates").WeightCol, "hist_ratings does not pair with the free text list either");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_WeightOrDwellInTheNamePairsEvenWhenLengthsDisagree()
    {
        using var dir = new TemporaryDirectory();
        var rows = Enumerable.Range(0, 100).Select(i =>
        {
            int n = 1 + i % 3;
            string items = string.Join('|', Enumerable.Range(i, n).Select(k => $"i{k % 30}"));
            string dwell = string.Join('|', Enumerable.Range(0, i % 10 == 0 ? n + 1 : n).Select(k => Inv($"{k + 0.5}")));
            return new[] { $"{i % 2}", items, dwell };
        });
        string path = WriteCsv(dir, ["click", "hist", "hist_Dwell"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.AreEqual("hist_Dwell", Feature(sut, "hist").WeightCol);
        Assert.HasCount(1, sut.Features);
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_ListSharesTheVocabularyOfAScalarColumnHoldingHalfItsElements()
    {
        using var dir = new TemporaryDirectory();
        var rows = Enumerable.Range(0, 100).Select(i => new[]
        {
            $"{i % 2}",
            $"item{i % 40}",
            // Elements 1 and 2 of 2 come from item_id's values: 100% overlap.
            $"item{(i + 3) % 40}|item{(i + 7) % 40}",
            // 1 of 2 elements from item_id: 50% overlap, shared.
            $"item{(i + 1) % 40}|other{i}",
            // 1 of 3 elements from item_id: 33%, not shared.
            $"item{i % 40}|x{i}|y{i}",
        });
        string path = WriteCsv(dir, ["click", "item_id", "hist_items", "half", "third"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.AreEqual("item_id", Feature(sut, "hist_items").ShareVocab);
        Assert.AreEqual("item_id", Feature(sut, "half").ShareVocab);
        Assert.IsNull(Feature(sut, "third").ShareVocab);
        Assert.IsNull(Feature(sut, "hist_items").EmbDim, "a sharing list takes its owner's embedding");
        Assert.AreEqual(Feature(sut, "item_id").MinFreq, Feature(sut, "hist_items").MinFreq);
        // item_id's vocabulary: item0 … item39 and other0 … other99 from "half" = 140 values → 2·⌈log2 141⌉ = 16.
        Assert.AreEqual(16, Feature(sut, "item_id").EmbDim);
        Assert.AreEqual(16, EmbeddingDims(sut)["item_id"]);
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_NumbersAreNumericExceptSmallIntegerCodesAndHexIds()
    {
        using var dir = new TemporaryDirectory();
        var random = new Random(7);
        var rows = Enumerable.Range(0, 200).Select(i => new[]
        {
            $"{i % 2}",
            (random.NextDouble() * 100).ToString("R", CultureInfo.InvariantCulture),        // price: numeric
            $"{i % 24}",                                                                     // hour: 24 integer codes
            $"{i % 25}",                                                                     // 25 integers: numeric
            $"{i % 24}.5",                                                                   // 24 non-integers: numeric
            i % 5 == 0 ? $"{1000 + i}e{i % 9:000}" : $"{10_000_000 + i * 7919}",            // 8-digit hex ids that all parse
            i % 50 == 0 ? "n/a" : $"{i}",                                                   // 2% text: still numeric
            i % 33 == 0 ? "n/a" : $"{i}",                                                   // 3% text: categorical
            $"{random.Next():x8}",                                                           // hashed ids
            i % 2 == 0 ? "" : Inv($"{i * 1.5}"),                                             // half empty: numeric
        });
        string path = WriteCsv(dir, ["click", "price", "hour", "count", "half_hours", "hex_id", "two_pct", "three_pct", "hashed", "sparse"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(sut, "price").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "hour").Dtype, "integers with at most 24 distinct values are codes");
        Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(sut, "count").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(sut, "half_hours").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "hex_id").Dtype, "fixed-width hex ids like 1005e05 parse but are not numbers");
        Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(sut, "two_pct").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "three_pct").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "hashed").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(sut, "sparse").Dtype, "empty values do not count");
        FeatureColumnSpec price = Feature(sut, "price");
        Assert.AreEqual(FeatureColumnSpec.ZScore, price.Norm);
        Assert.IsNull(price.Fill, "missing values take the mean");
        Assert.IsNull(price.EmbDim);
        Assert.AreEqual(1, price.MinFreq);
        Assert.AreEqual(10, Feature(sut, "hour").EmbDim, "24 values: 2·⌈log2 25⌉ = 10");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_HeavyTailsGetLog1p()
    {
        using var dir = new TemporaryDirectory();
        var rows = Enumerable.Range(0, 1000).Select(i => new[]
        {
            $"{i % 2}",
            $"{i * 2}",                              // max 1998 > 1000: heavy
            $"{i - 500}",                            // negative minimum: never log1p
            i >= 980 ? "100" : $"{i % 3}.5",         // max 100, p99 = 100 > 50 × max(p50, 1): heavy
            Inv($"{i / 1.01}"),                      // max 989, p99 979 < 50 × p50 494: not heavy
            i >= 990 ? "60" : "0.5",                 // spikes in the top 1% only: p99 = 0.5, not heavy
        });
        string path = WriteCsv(dir, ["click", "big", "signed", "spiky", "uniform", "rare_spikes"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.IsTrue(Feature(sut, "big").Log1p);
        Assert.IsFalse(Feature(sut, "signed").Log1p);
        Assert.IsTrue(Feature(sut, "spiky").Log1p);
        Assert.IsFalse(Feature(sut, "uniform").Log1p);
        Assert.IsFalse(Feature(sut, "rare_spikes").Log1p);
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_CardinalitySetsMinFreqEmbDimAndHashing()
    {
        using var dir = new TemporaryDirectory();
        // 2,001 rows: "wide" has 2,001 distinct values, "narrow" 1,000, "three" 3; "huge" lists 100 distinct elements
        // a row, 200,100 in all.
        var rows = Enumerable.Range(0, 2001).Select(i => new[]
        {
            $"{i % 2}",
            $"w{i}",
            $"n{i % 1000}",
            $"t{i % 3}",
            string.Join('|', Enumerable.Range(i * 100, 100).Select(k => $"h{k}")),
        });
        string path = WriteCsv(dir, ["click", "wide", "narrow", "three", "huge"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.AreEqual(2, Feature(sut, "wide").MinFreq, "D > 1000");
        Assert.AreEqual(22, Feature(sut, "wide").EmbDim, "2·⌈log2 2002⌉ = 22");
        Assert.IsNull(Feature(sut, "wide").HashBuckets);
        Assert.AreEqual(1, Feature(sut, "narrow").MinFreq, "D = 1000");
        Assert.AreEqual(20, Feature(sut, "narrow").EmbDim, "2·⌈log2 1001⌉ = 20");
        Assert.AreEqual(4, Feature(sut, "three").EmbDim, "at least 4");
        FeatureColumnSpec huge = Feature(sut, "huge");
        Assert.AreEqual(0, huge.HashBuckets, "D > 200,000 hashes with automatic sizing");
        Assert.AreEqual(2, huge.MinFreq);
        Assert.AreEqual(32, huge.EmbDim, "at most 32");
    }

    [TestMethod]
    [DataRow(0L, 4)]
    [DataRow(1L, 4)]
    [DataRow(3L, 4)]
    [DataRow(4L, 6)]
    [DataRow(7L, 6)]
    [DataRow(8L, 8)]
    [DataRow(5520L, 26)]
    [DataRow(65_535L, 32)]
    [DataRow(long.MaxValue, 32)]
    public void FeatureSpecInferenceTest_EmbeddingDimIsTwiceTheBitLengthClamped(long distinct, int expected)
    {
        int sut = FeatureSpecInference.EmbeddingDimFor(distinct);

        Assert.AreEqual(expected, sut);
        Assert.AreEqual(Math.Clamp(2 * (int)Math.Ceiling(Math.Log2(distinct + 1.0)), 4, 32), sut);
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_OnlyTheSampledRowsCount()
    {
        using var dir = new TemporaryDirectory();
        var rows = Enumerable.Range(0, 100).Select(i => new[] { $"{i % 2}", i < 50 ? Inv($"{i * 1.5}") : $"s{i}" });
        string path = WriteCsv(dir, ["click", "mixed"], rows);

        Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(FeatureSpecInference.FromCsv(path, sampleRows: 50), "mixed").Dtype);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(FeatureSpecInference.FromCsv(path), "mixed").Dtype);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FeatureSpecInference.FromCsv(path, sampleRows: 0));
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_MalformedRowNamesTheFileAndTheLine()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "bad.csv");
        File.WriteAllText(path, "click,a,b\n1,x,2\n\n0,\"y,z\",3\n1,w\n");

        FormatException sut = Assert.Throws<FormatException>(() => FeatureSpecInference.FromCsv(path));

        StringAssert.Contains(sut.Message, path);
        StringAssert.Contains(sut.Message, "line 5", "blank lines and quoted separators are not errors");
        StringAssert.Contains(sut.Message, "2 fields but the header has 3");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_EmptyFileIsAFormatException()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "empty.csv");
        File.WriteAllText(path, "");

        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => FeatureSpecInference.FromCsv(path)).Message, "empty");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_FromDataViewAppliesTheSameRules()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(3);
        IDataView data = ml.Data.LoadFromEnumerable(Enumerable.Range(0, 300).Select(i => new SampleRow
        {
            Label = i % 2,
            Price = i % 10 == 0 ? float.NaN : (float)(random.NextDouble() * 5000),
            Hour = i % 24,
            Item = $"item{i % 50}",
            History = string.Join('|', Enumerable.Range(i, i % 4).Select(k => $"item{k % 50}")),
        }));

        FeatureSpec sut = FeatureSpecInference.FromDataView(data, "Label");

        Assert.AreEqual("Label", sut.Label);
        Assert.AreEqual(new FeatureColumnSpec("Price", FeatureColumnSpec.Numeric) { Norm = FeatureColumnSpec.ZScore, Log1p = true }, Feature(sut, "Price"));
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "Hour").Dtype);
        Assert.AreEqual("Item", Feature(sut, "History").ShareVocab);
        Assert.IsTrue(Feature(sut, "History").IsList);
        ITransformer model = sut.BuildPipeline(ml).Fit(data);
        Assert.IsTrue(model.Transform(data).Schema["Hour"].TryGetCategoricalFeature(out _), "a numeric-typed code maps through a vocabulary");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FeatureSpecInference.FromDataView(data, "click"));
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_InferredSpecRoundTripsThroughJsonAndFits()
    {
        using var dir = new TemporaryDirectory();
        var random = new Random(11);
        var rows = Enumerable.Range(0, 500).Select(i =>
        {
            int n = random.Next(0, 6);
            int[] history = [.. Enumerable.Range(0, n).Select(_ => random.Next(60))];
            return new[]
            {
                $"{(random.NextDouble() < 0.3 ? 1 : 0)}",
                $"u{random.Next(80)}",
                $"i{random.Next(60)}",
                string.Join('|', history.Select(h => $"i{h}")),
                string.Join('|', history.Select(_ => (random.NextDouble() * 30).ToString("F1", CultureInfo.InvariantCulture))),
                random.Next(10) == 0 ? "" : (random.NextDouble() * random.NextDouble() * 20_000).ToString("F2", CultureInfo.InvariantCulture),
                $"{random.Next(24)}",
            };
        });
        string path = WriteCsv(dir, ["clicked", "user_id", "item_id", "hist_item_ids", "hist_dwell", "price", "hour"], rows);
        var ml = new MLContext(seed: 1);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);
        FeatureSpec edited = FeatureSpec.FromJson(sut.ToJson());
        IDataView data = edited.LoadCsv(ml, path);
        IDataView output = edited.BuildPipeline(ml).Fit(data).Transform(data);

        Assert.AreEqual(sut, edited);
        Assert.AreEqual("clicked", sut.Label);
        FeatureColumnSpec history = Feature(sut, "hist_item_ids");
        Assert.AreEqual("hist_dwell", history.WeightCol);
        Assert.AreEqual("item_id", history.ShareVocab);
        Assert.IsTrue(Feature(sut, "price").Log1p);
        CollectionAssert.AreEqual(new[] { "price" }, sut.NumericColumnNames.ToArray());
        Assert.AreEqual("hist_dwell", output.Schema["hist_item_ids"].GetSequenceWeightColumn());
        Assert.IsTrue(output.Schema["hour"].TryGetCategoricalFeature(out _), "hour is an integer code");
    }

    [TestMethod]
    public void FeatureSpecInferenceTest_Criteo10k()
    {
        string path = CriteoPath();
        var watch = Stopwatch.StartNew();

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        watch.Stop();
        TestContext.WriteLine($"Inference on criteo_10k.csv: {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.AreEqual("label", sut.Label);
        string[] numeric = [.. Enumerable.Range(1, 13).Select(i => $"I{i}")];
        // I10 holds 6 distinct integers (0 … 6) in these rows, so the "at most 24 integer codes" rule makes it categorical.
        foreach (string name in numeric.Where(n => n != "I10"))
            Assert.AreEqual(FeatureColumnSpec.Numeric, Feature(sut, name).Dtype, name);
        Assert.AreEqual(FeatureColumnSpec.Categorical, Feature(sut, "I10").Dtype, "I10 is a small integer code");
        CollectionAssert.AreEquivalent(new[] { "I3", "I5", "I6", "I7", "I9" }, sut.Features.Where(f => f.Log1p).Select(f => f.Name).ToArray(),
            "heavy tails: max > 1000 with min ≥ 0 (I2 has negative values)");
        for (int i = 1; i <= 26; i++)
        {
            FeatureColumnSpec c = Feature(sut, $"C{i}");
            Assert.AreEqual(FeatureColumnSpec.Categorical, c.Dtype, c.Name);
            Assert.IsFalse(c.IsList, c.Name);
            Assert.IsNull(c.HashBuckets, c.Name);
            Assert.IsTrue(c.EmbDim is >= 4 and <= 32, c.Name);
        }
        Assert.HasCount(39, sut.Features);

        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.TakeRows(sut.LoadCsv(ml, path), 8000);
        ITransformer model = sut.BuildPipeline(ml).Fit(train);
        IDataView output = model.Transform(train);
        Assert.IsTrue(output.Schema["C1"].TryGetCategoricalFeature(out _));
        Assert.IsTrue(output.GetColumn<float>("I5").Take(100).All(float.IsFinite));
        Assert.AreEqual(sut, FeatureSpec.FromJson(sut.ToJson()));
    }

    /// <summary>The shared Criteo sample, found by walking up from the test binaries to the folder holding shared/data/criteo-10k.</summary>
    [TestMethod]
    public void FeatureSpecInferenceTest_CaseVariantsTurnOnFoldCase()
    {
        using var dir = new TemporaryDirectory();
        string[] devices = ["Mobile", "mobile", "desktop", "tablet"];
        // 400 distinct ids of which 2 differ only in case (0.5%): chance, not a casing problem.
        var rows = Enumerable.Range(0, 800).Select(i => new[]
        {
            $"{i % 2}",
            devices[i % devices.Length],
            i == 1 ? "Id0" : $"id{i % 400}",
            $"Tag{i % 5}|tag{i % 3}",
            $"t{i % 9}|t{i % 4}",
        });
        string path = WriteCsv(dir, ["click", "device", "user", "tags", "plain_tags"], rows);

        FeatureSpec sut = FeatureSpecInference.FromCsv(path);

        Assert.IsTrue(Feature(sut, "device").FoldCase, "Mobile and mobile are one device");
        Assert.IsFalse(Feature(sut, "user").FoldCase, "one case pair among 400 ids");
        Assert.IsTrue(Feature(sut, "tags").FoldCase, "list elements too");
        Assert.IsFalse(Feature(sut, "plain_tags").FoldCase);
        Assert.AreEqual(sut, FeatureSpec.FromJson(sut.ToJson()), "fold_case round-trips");
    }

    private static string CriteoPath()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", "criteo-10k", "criteo_10k.csv");
            if (File.Exists(candidate))
                return candidate;
        }
        Assert.Inconclusive("shared/data/criteo-10k/criteo_10k.csv was not found in any folder above the test binaries; the Criteo inference test needs the shared data folder next to the repository (../shared).");
        return null!;
    }

    private static FeatureColumnSpec Feature(FeatureSpec spec, string name) =>
        spec.Features.SingleOrDefault(f => f.Name == name) ?? throw new AssertFailedException($"No feature '{name}' in {spec.ToJson()}");

    private static string Inv(FormattableString text) => FormattableString.Invariant(text);

    private static Dictionary<string, int> EmbeddingDims(FeatureSpec spec) => spec.EmbeddingDims.ToDictionary();

    private static string WriteCsv(TemporaryDirectory dir, string[] header, IEnumerable<string[]> rows)
    {
        var text = new StringBuilder();
        text.Append(string.Join(',', header)).Append('\n');
        foreach (string[] row in rows)
            text.Append(string.Join(',', row)).Append('\n');
        string path = Path.Combine(dir.Path, $"data{Guid.NewGuid():N}.csv");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private sealed class SampleRow
    {
        public float Label { get; set; }

        public float Price { get; set; }

        public float Hour { get; set; }

        public string Item { get; set; } = "";

        public string History { get; set; } = "";
    }
}
