using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class TargetEncodingTest
{
    private sealed class Row
    {
        public bool Label { get; set; }

        public string Color { get; set; } = "";

        public string Shop { get; set; } = "";
    }

    /// <summary>
    /// 40 rows: red clicks 3 of 10, blue 8 of 10, green 0 of 19, and one row of a colour seen once (violet, a click);
    /// shops cycle through four.
    /// </summary>
    private static List<Row> Rows()
    {
        var rows = new List<Row>();
        void Add(string color, int count, int clicks)
        {
            for (int i = 0; i < count; i++)
                rows.Add(new Row { Color = color, Label = i < clicks, Shop = $"s{rows.Count % 4}" });
        }
        Add("red", 10, 3);
        Add("blue", 10, 8);
        Add("green", 19, 0);
        Add("violet", 1, 1);
        return rows;
    }

    private static (MLContext Ml, IDataView Keys) Keyed(List<Row> rows)
    {
        var ml = new MLContext(seed: 1);
        IDataView raw = ml.Data.LoadFromEnumerable(rows);
        IDataView keys = ml.Ctr().Transforms.MapToVocabulary(new VocabularyEstimator.ColumnOptions("ColorId", "Color"), new VocabularyEstimator.ColumnOptions("ShopId", "Shop"))
            .Fit(raw).Transform(raw);
        return (ml, keys);
    }

    private static (TargetEncodingTransformer Scoring, TargetEncodingTransformer Training) Fit(MLContext ml, IDataView keys, double smoothing) =>
        TargetEncodingTransformer.Fit(ml, keys, ["ColorId", "ShopId"], "Label", HybridCtrTrainer.TargetEncodingColumnName, smoothing);

    private static float[][] Encoded(ITransformer encoding, IDataView keys) =>
        [.. encoding.Transform(keys).GetColumn<VBuffer<float>>(HybridCtrTrainer.TargetEncodingColumnName).Select(v => v.DenseValues().ToArray())];

    [TestMethod]
    public void TargetEncodingTest_RatesAreSmoothedClickRatesOfTheTrainingRowsAndUnseenIdsGetThePrior()
    {
        List<Row> rows = Rows();
        var (ml, keys) = Keyed(rows);
        var (scoring, _) = Fit(ml, keys, smoothing: 2);
        uint[] colors = [.. keys.GetColumn<uint>("ColorId")];
        double prior = 12.0 / 40;

        Assert.AreEqual(prior, scoring.Prior, 1e-6);
        Assert.AreEqual((3 + 2 * prior) / (10 + 2), scoring.RateOf(0, colors[0]), 1e-6, "red: 3 clicks in 10 rows, 2 rows at the prior");
        Assert.AreEqual((8 + 2 * prior) / (10 + 2), scoring.RateOf(0, colors[10]), 1e-6, "blue");
        Assert.AreEqual((0 + 2 * prior) / (19 + 2), scoring.RateOf(0, colors[20]), 1e-6, "green");
        Assert.AreEqual((1 + 2 * prior) / (1 + 2), scoring.RateOf(0, colors[39]), 1e-6, "violet, seen once");
        Assert.AreEqual(scoring.Prior, scoring.RateOf(0, 1_000_000), "an id beyond the table");
        float[][] encoded = Encoded(scoring, keys);
        Assert.AreEqual(scoring.RateOf(0, colors[10]), encoded[10][0]);
        Assert.AreEqual(scoring.RateOf(1, keys.GetColumn<uint>("ShopId").ElementAt(10)), encoded[10][1]);
    }

    [TestMethod]
    public void TargetEncodingTest_ATrainingRowNeverSeesItsOwnLabel()
    {
        List<Row> rows = Rows();
        var (ml, keys) = Keyed(rows);
        var (scoring, training) = Fit(ml, keys, smoothing: 2);
        uint[] colors = [.. keys.GetColumn<uint>("ColorId")], shops = [.. keys.GetColumn<uint>("ShopId")];
        int[] folds = [.. colors.Select((c, i) => TargetEncodingTransformer.Fold([c, shops[i]]))];
        float[][] encoded = Encoded(training, keys);
        double prior = 12.0 / 40;

        for (int i = 0; i < rows.Count; i++)
        {
            // The rate of the row's colour over the rows of the other folds only.
            int[] others = [.. Enumerable.Range(0, rows.Count).Where(j => colors[j] == colors[i] && folds[j] != folds[i])];
            double expected = (others.Count(j => rows[j].Label) + 2 * prior) / (others.Length + 2);
            Assert.AreEqual(expected, encoded[i][0], 1e-6, $"row {i}");
        }
        Assert.AreEqual(prior, encoded[39][0], 1e-6, "the one violet row, a click, is encoded as the prior, not as its own label");
        Assert.IsTrue(folds.Distinct().Count() > 1, "the rows spread over the folds");
        Assert.AreNotEqual(scoring.RateOf(0, colors[39]), encoded[39][0]);
        Assert.ThrowsExactly<InvalidOperationException>(() => ml.Model.Save(training, keys.Schema, new MemoryStream()));
    }

    [TestMethod]
    public void TargetEncodingTest_SavesInTheZipAndLoadsInANewContextWithTheSameOutputs()
    {
        var (ml, keys) = Keyed(Rows());
        var (scoring, _) = Fit(ml, keys, smoothing: 10);
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "encoding.zip");
        ml.Model.Save(scoring, keys.Schema, path);

        var loaded = (TargetEncodingTransformer)new MLContext(seed: 7).Model.Load(path, out _);

        Assert.AreEqual(scoring.Prior, loaded.Prior);
        Assert.AreEqual(scoring.Smoothing, loaded.Smoothing);
        CollectionAssert.AreEqual(scoring.InputColumnNames.ToArray(), loaded.InputColumnNames.ToArray());
        float[][] before = Encoded(scoring, keys), after = Encoded(loaded, keys);
        for (int i = 0; i < before.Length; i++)
            CollectionAssert.AreEqual(before[i], after[i], $"row {i}");
    }
}
