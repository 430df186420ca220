using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class QuantileBucketingTest
{
    private sealed class Row
    {
        public double Price { get; set; }

        public float Age { get; set; }
    }

    private sealed class TextRow
    {
        public string Price { get; set; } = "";
    }

    private sealed class Output
    {
        [KeyType(1_000)]
        public uint PriceBucket { get; set; }

        [KeyType(1_000)]
        public uint AgeBucket { get; set; }
    }

    private static IDataView Prices(MLContext ml, IEnumerable<double> prices) =>
        ml.Data.LoadFromEnumerable(prices.Select(p => new Row { Price = p, Age = (float)p }));

    private static IDataView Prices(MLContext ml, params double[] prices) => Prices(ml, (IEnumerable<double>)prices);

    private static uint[] Ids(ITransformer transformer, IDataView data, string column = "PriceBucket") =>
        [.. transformer.Transform(data).GetColumn<uint>(column)];

    /// <summary>Fraction of <paramref name="data"/> strictly below <paramref name="value"/>: the rank a left-closed boundary cuts at.</summary>
    private static double RankOf(double[] data, double value) => data.Count(x => x < value) / (double)data.Length;

    [TestMethod]
    public void QuantileBucketingTest_Workout()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, 5, 1, double.NaN, 3, 8, 2, double.NegativeInfinity, 13, 21);
        var sut = ml.Ctr().Transforms.BucketizeByQuantile(
            new QuantileBucketingEstimator.ColumnOptions("PriceBucket", "Price") { NumBuckets = 3 },
            new QuantileBucketingEstimator.ColumnOptions("AgeBucket", "Age") { NumBuckets = 4 });
        IDataView invalid = ml.Data.LoadFromEnumerable(new[] { new TextRow { Price = "3" } });

        EstimatorChecks.Workout(sut, data, invalid);
    }

    [TestMethod]
    public void QuantileBucketingTest_BucketsHoldEqualShares()
    {
        var ml = new MLContext(seed: 1);
        double[] prices = [.. Enumerable.Range(1, 100).Select(i => (double)(i * 37 % 100 + 1))];

        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 4).Fit(Prices(ml, prices));

        var boundaries = sut.GetBoundaries("PriceBucket");
        Assert.HasCount(3, boundaries);
        for (int k = 1; k <= 3; k++)
            Assert.AreEqual(k / 4.0, RankOf(prices, boundaries[k - 1]), 1.0 / prices.Length, $"boundary {k} cuts at rank k/4");
        uint[] ids = Ids(sut, Prices(ml, prices));
        CollectionAssert.AreEqual(new[] { 25, 25, 25, 25 }, ids.GroupBy(i => i).OrderBy(g => g.Key).Select(g => g.Count()).ToArray());
        CollectionAssert.AreEqual(new uint[] { 2, 3, 4, 5 }, ids.Distinct().Order().ToArray(), "buckets take ids 2 … 5");
        for (int i = 0; i < prices.Length; i++)
            Assert.AreEqual(ids[i], 2 + (uint)boundaries.Count(b => b <= prices[i]), $"value {prices[i]}");
    }

    [TestMethod]
    public void QuantileBucketingTest_ValueOnBoundaryGoesToUpperBucket()
    {
        var ml = new MLContext(seed: 1);
        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 2).Fit(Prices(ml, 1, 2, 3, 4));

        double boundary = sut.GetBoundaries("PriceBucket").Single();

        uint[] ids = Ids(sut, Prices(ml, Math.BitDecrement(boundary), boundary, Math.BitIncrement(boundary)));
        Assert.AreEqual(ids[0] + 1, ids[1], "left-closed: [b, +inf) holds b");
        Assert.AreEqual(ids[1], ids[2]);
        Assert.AreEqual(0.5, RankOf([1, 2, 3, 4], boundary), "the median splits 1, 2 | 3, 4");
    }

    [TestMethod]
    public void QuantileBucketingTest_AllValuesEqualGiveOneBucket()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, 7, 7, 7, 7, 7);

        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 5).Fit(data);

        Assert.IsEmpty(sut.GetBoundaries("PriceBucket"));
        CollectionAssert.AreEqual(new uint[] { 2, 2, 2 }, Ids(sut, Prices(ml, 7, -100, 100)));
        Assert.IsTrue(sut.Transform(data).Schema["PriceBucket"].TryGetCategoricalFeature(out CategoricalFeature feature));
        Assert.AreEqual(3, feature.Size, "padding, OOV and one bucket");
    }

    [TestMethod]
    public void QuantileBucketingTest_AllMissingGivesOovAndOneBucket()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, double.NaN, double.PositiveInfinity, double.NegativeInfinity);

        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price").Fit(data);

        Assert.IsEmpty(sut.GetBoundaries("PriceBucket"));
        CollectionAssert.AreEqual(new uint[] { 1, 1, 1 }, Ids(sut, data));
        CollectionAssert.AreEqual(new uint[] { 2, 1 }, Ids(sut, Prices(ml, 42, double.NaN)), "a finite value seen later takes the single bucket");
    }

    [TestMethod]
    public void QuantileBucketingTest_FewerDistinctValuesThanBuckets()
    {
        var ml = new MLContext(seed: 1);
        double[] prices = [.. Enumerable.Range(0, 30).Select(i => (double)(i % 3 * 10))];

        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 10).Fit(Prices(ml, prices));

        Assert.HasCount(2, sut.GetBoundaries("PriceBucket"), "three distinct values: at most three buckets, duplicates removed");
        CollectionAssert.AreEqual(new uint[] { 2, 3, 4 }, Ids(sut, Prices(ml, 0, 10, 20)), "one bucket per distinct value");
        Assert.IsTrue(sut.GetBoundaries("PriceBucket").SequenceEqual(sut.GetBoundaries("PriceBucket").Distinct().Order()), "strictly increasing");
    }

    [TestMethod]
    public void QuantileBucketingTest_MissingValuesMapToOovWithVocabularyAnnotations()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, 1, 2, 3, 4, double.NaN);
        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 2).Fit(data);

        IDataView output = sut.Transform(Prices(ml, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 1, 4));

        CollectionAssert.AreEqual(new uint[] { 1, 1, 1, 2, 3 }, output.GetColumn<uint>("PriceBucket").ToArray());
        DataViewSchema.Column column = output.Schema["PriceBucket"];
        Assert.IsTrue(column.TryGetCategoricalFeature(out CategoricalFeature feature));
        Assert.AreEqual(new CategoricalFeature("PriceBucket", "PriceBucket", 4, 1, 0, IsSequence: false), feature);
        Assert.AreEqual(new KeyDataViewType(typeof(uint), 3), column.Type, "key count = size − 1, as for a vocabulary");
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        column.GetKeyValues(ref keyValues);
        CollectionAssert.AreEqual(new[] { "__OOV__", "(-inf,3)", "[3,+inf)" }, keyValues.DenseValues().Select(v => v.ToString()).ToArray());
    }

    [TestMethod]
    public void QuantileBucketingTest_SampleKeepsBoundaryRanksWithinTheStatedBound()
    {
        var ml = new MLContext(seed: 1);
        // Sorted input: a sample that kept only the first (or last) values would be far off.
        const int n = 200_000, k = 2_000, buckets = 10;
        double[] prices = [.. Enumerable.Range(0, n).Select(i => (double)i)];
        IDataView data = Prices(ml, prices);
        // Dvoretzky–Kiefer–Wolfowitz: every rank within ε with probability 1 − 2·exp(−2kε²) = 1 − 1e-6.
        double epsilon = Math.Sqrt(Math.Log(2 / 1e-6) / (2 * k));

        var sut = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: buckets, maxSamples: k).Fit(data);
        var again = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: buckets, maxSamples: k).Fit(data);
        var otherSeed = ml.Ctr().Transforms.BucketizeByQuantile(new QuantileBucketingEstimator.ColumnOptions("PriceBucket", "Price") { NumBuckets = buckets, MaxSamples = k, Seed = 5 }).Fit(data);
        var exact = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: buckets, maxSamples: n).Fit(data);

        var boundaries = sut.GetBoundaries("PriceBucket");
        Assert.HasCount(buckets - 1, boundaries);
        for (int b = 1; b < buckets; b++)
            Assert.AreEqual(b / (double)buckets, boundaries[b - 1] / n, epsilon, $"boundary {b}");
        Assert.IsTrue(boundaries.SequenceEqual(again.GetBoundaries("PriceBucket")), "the seeded sample is reproducible");
        Assert.IsFalse(boundaries.SequenceEqual(otherSeed.GetBoundaries("PriceBucket")), "another seed draws another sample");
        for (int b = 1; b < buckets; b++)
            Assert.AreEqual(b / (double)buckets, exact.GetBoundaries("PriceBucket")[b - 1] / n, 1.0 / n, "a sample as large as the data is exact");
    }

    [TestMethod]
    public void QuantileBucketingTest_RefitKeepsBoundariesFrozen()
    {
        var ml = new MLContext(seed: 1);
        IDataView day1 = Prices(ml, Enumerable.Range(1, 100).Select(i => (double)i));
        IDataView day2 = Prices(ml, Enumerable.Range(1000, 500).Select(i => (double)i));
        var first = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 4).Fit(day1);

        var sut = first.Refit(day2);

        Assert.IsTrue(first.GetBoundaries("PriceBucket").SequenceEqual(sut.GetBoundaries("PriceBucket")), "boundaries are frozen");
        CollectionAssert.AreEqual(Ids(first, day1), Ids(sut, day1), "ids keep their meaning");
        Assert.IsTrue(Ids(sut, day2).All(id => id == 5), "new data above the range falls in the top bucket");
        var refitted = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 4).Fit(day2);
        Assert.IsFalse(refitted.GetBoundaries("PriceBucket").SequenceEqual(sut.GetBoundaries("PriceBucket")), "fitting again is how boundaries move");
        var wrong = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => first.Refit(ml.Data.LoadFromEnumerable(new[] { new TextRow() })));
        StringAssert.Contains(wrong.Message, "Schema mismatch for input column 'Price'");
    }

    [TestMethod]
    public void QuantileBucketingTest_SchemaErrorsNameTheColumn()
    {
        var ml = new MLContext(seed: 1);
        IDataView text = ml.Data.LoadFromEnumerable(new[] { new TextRow { Price = "3" } });
        IDataView data = Prices(ml, 1, 2);
        var fitted = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price").Fit(data);

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.BucketizeByQuantile("Out", "Nope").Fit(data));
        var wrongType = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.BucketizeByQuantile("Out", "Price").GetOutputSchema(SchemaShape.Create(text.Schema)));
        var transform = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => fitted.Transform(text));
        var badBuckets = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.BucketizeByQuantile("Out", "Price", numBuckets: 1));
        var badSamples = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.BucketizeByQuantile("Out", "Price", maxSamples: 0));
        var unknown = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => fitted.GetBoundaries("Nope"));

        StringAssert.Contains(missing.Message, "Could not find input column 'Nope'");
        StringAssert.Contains(wrongType.Message, "Schema mismatch for input column 'Price': expected Single or Double, got String");
        StringAssert.Contains(transform.Message, "Schema mismatch for input column 'Price'");
        StringAssert.Contains(badBuckets.Message, "NumBuckets of column 'Out' must be between 2 and");
        StringAssert.Contains(badSamples.Message, "MaxSamples of column 'Out' must be at least 1");
        StringAssert.Contains(unknown.Message, "produces no column 'Nope'");
    }

    [TestMethod]
    public void QuantileBucketingTest_LoadedModelWorksInPredictionEngine()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, 1, 2, 3, 4, 5, 6);
        var model = ml.Ctr().Transforms.BucketizeByQuantile(
            new QuantileBucketingEstimator.ColumnOptions("PriceBucket", "Price") { NumBuckets = 3 },
            new QuantileBucketingEstimator.ColumnOptions("AgeBucket", "Age") { NumBuckets = 2 }).Fit(data);
        double[] priceBoundaries = [.. model.GetBoundaries("PriceBucket")];

        ITransformer loaded = EstimatorChecks.SaveAndLoad(model, data.Schema);
        var sut = new MLContext(seed: 3).Model.CreatePredictionEngine<Row, Output>(loaded);

        Output output = sut.Predict(new Row { Price = priceBoundaries[1], Age = float.NaN });
        Assert.AreEqual(4u, output.PriceBucket, "on the second boundary: third bucket");
        Assert.AreEqual(1u, output.AgeBucket, "missing");
        Assert.AreEqual(2u, sut.Predict(new Row { Price = -1e9, Age = 1 }).PriceBucket);
    }

    [TestMethod]
    public void QuantileBucketingTest_ModelZipGivesSameOutputInNewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, 0.5, double.NaN, 3, 1e9, -2, 7, 7, 7);
        var model = ml.Ctr().Transforms.BucketizeByQuantile(
            new QuantileBucketingEstimator.ColumnOptions("PriceBucket", "Price") { NumBuckets = 4 },
            new QuantileBucketingEstimator.ColumnOptions("AgeBucket", "Age") { NumBuckets = 3 }).Fit(data);
        using var directory = new TemporaryDirectory();
        string path = System.IO.Path.Combine(directory.Path, "buckets.zip");
        ml.Model.Save(model, data.Schema, path);

        string[] sut = ChildProcess.TransformInNewProcess(path, data, ml);

        CollectionAssert.AreEqual(EstimatorChecks.Rows(model.Transform(data)), sut);
    }

    [TestMethod]
    public void QuantileBucketingTest_CorruptStateThrowsFormatException()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Prices(ml, 1.5, 2.5, 3.5, 4.5);
        var model = ml.Ctr().Transforms.BucketizeByQuantile("PriceBucket", "Price", numBuckets: 4).Fit(data);
        var boundaries = model.GetBoundaries("PriceBucket");
        Assert.HasCount(3, boundaries);
        // The last boundary drops below the first: no longer increasing.
        using var corrupt = ModelZip.SaveAndPatch(model, data.Schema, "CTRQBUCK", BitConverter.GetBytes(boundaries[2]), BitConverter.GetBytes(boundaries[0] - 1));

        var sut = Assert.ThrowsExactly<TargetInvocationException>(() => new MLContext(seed: 2).Model.Load(corrupt, out _));

        // ML.NET creates loaders by reflection, so our FormatException arrives wrapped, as a built-in's would.
        Assert.IsInstanceOfType<FormatException>(sut.InnerException);
        StringAssert.Contains(sut.InnerException.Message, "Boundary 2 of column 'PriceBucket'");
    }

    [TestMethod]
    public void QuantileBucketingTest_Version1ModelZipLoadsWithSameOutputs()
    {
        var ml = new MLContext(seed: 1);
        double[] prices = [.. Enumerable.Range(1, 50).Select(i => (double)(i * 17 % 50)), double.NaN, double.NegativeInfinity, 24.5];
        IDataView data = Prices(ml, prices);
        string zip = BackCompatFiles.Path("quantile-bucketing-v1.zip"), expected = BackCompatFiles.Path("quantile-bucketing-v1.expected.txt");
        if (BackCompatFiles.Writing)
        {
            var model = ml.Ctr().Transforms.BucketizeByQuantile(
                new QuantileBucketingEstimator.ColumnOptions("PriceBucket", "Price") { NumBuckets = 5 },
                new QuantileBucketingEstimator.ColumnOptions("AgeBucket", "Age") { NumBuckets = 3, MaxSamples = 20, Seed = 3 }).Fit(data);
            ml.Model.Save(model, data.Schema, BackCompatFiles.SourcePath("quantile-bucketing-v1.zip"));
            System.IO.File.WriteAllLines(BackCompatFiles.SourcePath("quantile-bucketing-v1.expected.txt"), EstimatorChecks.Rows(model.Transform(data)));
            Assert.Inconclusive("Wrote the back-compat files; rebuild and run again without CTR_WRITE_BACKCOMPAT.");
        }

        var sut = (QuantileBucketingTransformer)new MLContext(seed: 2).Model.Load(zip, out _);

        CollectionAssert.AreEqual(System.IO.File.ReadAllLines(expected), EstimatorChecks.Rows(sut.Transform(data)));
        double[] finite = [.. prices.Where(double.IsFinite)];
        var boundaries = sut.GetBoundaries("PriceBucket");
        Assert.HasCount(4, boundaries);
        for (int k = 1; k <= 4; k++)
            Assert.AreEqual(k / 5.0, RankOf(finite, boundaries[k - 1]), 1.0 / finite.Length, $"boundary {k}");
    }
}
