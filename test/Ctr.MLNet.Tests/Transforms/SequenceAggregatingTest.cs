using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class SequenceAggregatingTest
{
    private sealed class Row
    {
        public string Prices { get; set; } = "";
    }

    private sealed class VectorRow
    {
        [VectorType]
        public float[] Prices { get; set; } = [];
    }

    private sealed class FixedVectorRow
    {
        [VectorType(4)]
        public float[] Prices { get; set; } = [];
    }

    private sealed class LabelledRow
    {
        public bool Label { get; set; }

        public string Prices { get; set; } = "";
    }

    private sealed class Output
    {
        [VectorType(5)]
        public float[] Stats { get; set; } = [];
    }

    private static IDataView Load(MLContext ml, params string[] rows) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Prices = r }));

    private static float[][] Aggregate(MLContext ml, IEstimator<ITransformer> sut, IDataView data) =>
        [.. ml.Data.CreateEnumerable<Output>(sut.Fit(data).Transform(data), reuseRowObject: false).Select(o => o.Stats)];

    /// <summary>The expected [count, sum, mean, min, max], computed here independently of the transform.</summary>
    private static float[] Expected(params float[] kept) => kept.Length == 0
        ? [0, 0, 0, 0, 0]
        : [kept.Length, (float)kept.Sum(v => (double)v), (float)kept.Average(v => (double)v), kept.Min(), kept.Max()];

    private static float[] Numbers(string text) => [.. text.Split('|').Select(t => float.Parse(t, CultureInfo.InvariantCulture))];

    [TestMethod]
    public void SequenceAggregatingTest_ModelZipGivesSameOutputInNewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, "12.5|3|0.7", "", "-4", "1|2|3|4|5|6");
        var sut = ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 4).Fit(data);

        EstimatorChecks.AssertSameOutputInNewProcess(sut, data);
    }

    [TestMethod]
    public void SequenceAggregatingTest_Workout()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, "12.5|3|0.7", "", "-4", "1|2|3|4|5|6");
        IDataView invalid = ml.Data.LoadFromEnumerable(new[] { new { Prices = 3f } });

        ITransformer loaded = EstimatorChecks.Workout(ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 4), data, invalid);

        float[][] sut = [.. loaded.Transform(data).GetColumn<float[]>("Stats")];
        CollectionAssert.AreEqual(Expected(1, 2, 3, 4), sut[3], "the loaded model keeps MaxLength");
    }

    [TestMethod]
    public void SequenceAggregatingTest_EachAggregateMatchesAnIndependentComputation()
    {
        var ml = new MLContext(seed: 1);
        string[] rows = ["12.5|3|0.7", "-4", " 2.25 | -1e3 |7|7 ", "0.1|0.2|0.3", "-1|-2|-3"];

        float[][] sut = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices"), Load(ml, rows));

        for (int i = 0; i < rows.Length; i++)
        {
            float[] values = [.. rows[i].Split('|').Select(t => float.Parse(t.Trim(), CultureInfo.InvariantCulture))];
            CollectionAssert.AreEqual(Expected(values), sut[i], $"row {i + 1}: '{rows[i]}'");
        }
        CollectionAssert.AreEqual(new[] { 3f, 16.2f, 5.4f, 0.7f, 12.5f }, sut[0], "count, sum, mean, min, max");
    }

    [TestMethod]
    public void SequenceAggregatingTest_TruncationKeepsTheLatestElements()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, "5|40|3|2|100", "9|8", "1|2|3|bad");

        float[][] sut = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 3), data);

        CollectionAssert.AreEqual(Expected(5, 40, 3), sut[0], "latest first: the first three elements are kept, 100 is dropped");
        CollectionAssert.AreEqual(Expected(9, 8), sut[1], "a shorter sequence is kept whole");
        CollectionAssert.AreEqual(Expected(1, 2, 3), sut[2], "a dropped element is not read");
    }

    [TestMethod]
    public void SequenceAggregatingTest_EmptySequenceGivesZeros()
    {
        var ml = new MLContext(seed: 1);
        IDataView text = Load(ml, "", "   ");
        IDataView vectors = ml.Data.LoadFromEnumerable(new[] { new VectorRow { Prices = [] } });

        float[][] fromText = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices"), text);
        float[][] fromVector = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices"), vectors);

        CollectionAssert.AreEqual(new float[5], fromText[0]);
        CollectionAssert.AreEqual(new float[5], fromText[1], "an all-blank string is empty too");
        CollectionAssert.AreEqual(new float[5], fromVector[0]);
    }

    [TestMethod]
    public void SequenceAggregatingTest_VectorInputAndCustomSeparator()
    {
        var ml = new MLContext(seed: 1);
        IDataView variable = ml.Data.LoadFromEnumerable(new[] { new VectorRow { Prices = [2.5f, -1, 8, 30] }, new VectorRow { Prices = [7] } });
        IDataView fixedSize = ml.Data.LoadFromEnumerable(new[] { new FixedVectorRow { Prices = [0, 6, 0, 1] } });
        IDataView semicolons = Load(ml, "1.5;2;-3");

        float[][] fromVariable = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence(new SequenceAggregatingEstimator.ColumnOptions("Stats", "Prices") { MaxLength = 3 }), variable);
        float[][] fromFixed = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 2), fixedSize);
        float[][] fromText = Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", separator: ';'), semicolons);

        CollectionAssert.AreEqual(Expected(2.5f, -1, 8), fromVariable[0]);
        CollectionAssert.AreEqual(Expected(7), fromVariable[1]);
        CollectionAssert.AreEqual(Expected(0, 6), fromFixed[0]);
        CollectionAssert.AreEqual(Expected(1.5f, 2, -3), fromText[0]);
        CollectionAssert.AreEqual(Aggregate(ml, ml.Ctr().Transforms.AggregateSequence("Stats", "Prices"), Load(ml, "2.5|-1|8"))[0], fromVariable[0],
            "text and vector inputs with the same numbers agree");
    }

    [TestMethod]
    public void SequenceAggregatingTest_SeveralColumnsAndInPlace()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, "4|1|9");

        IDataView sut = ml.Ctr().Transforms.AggregateSequence(
                new SequenceAggregatingEstimator.ColumnOptions("Stats", "Prices"),
                new SequenceAggregatingEstimator.ColumnOptions("Prices") { MaxLength = 1 })
            .Fit(data).Transform(data);

        CollectionAssert.AreEqual(Expected(4, 1, 9), sut.GetColumn<float[]>("Stats").Single());
        CollectionAssert.AreEqual(Expected(4), sut.GetColumn<float[]>("Prices").Single(), "the output replaces its input column");
    }

    [TestMethod]
    public void SequenceAggregatingTest_OutputIsAFixedSizeVectorWithSlotNames()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, "1|2");
        var estimator = ml.Ctr().Transforms.AggregateSequence("Stats", "Prices");

        DataViewSchema.Column sut = estimator.Fit(data).Transform(data).Schema["Stats"];
        SchemaShape.Column promised = estimator.GetOutputSchema(SchemaShape.Create(data.Schema)).Single(c => c.Name == "Stats");

        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single, 5), sut.Type);
        VBuffer<ReadOnlyMemory<char>> names = default;
        sut.GetSlotNames(ref names);
        CollectionAssert.AreEqual(new[] { "count", "sum", "mean", "min", "max" }, names.DenseValues().Select(n => n.ToString()).ToArray());
        CollectionAssert.AreEqual(names.DenseValues().Select(n => n.ToString()).ToArray(), SequenceAggregatingEstimator.SlotNames.ToArray());
        Assert.AreEqual(SchemaShape.Column.VectorKind.Vector, promised.Kind);
        Assert.IsTrue(promised.Annotations.TryFindColumn(AnnotationUtils.Kinds.SlotNames, out _), "the schema promise carries the slot names");
    }

    [TestMethod]
    public void SequenceAggregatingTest_BadElementNamesRowColumnAndElement()
    {
        var ml = new MLContext(seed: 1);
        var sut = ml.Ctr().Transforms.AggregateSequence("Stats", "Prices");

        FormatException Error(IDataView data) => Errors.Find<FormatException>(() => sut.Fit(data).Transform(data).GetColumn<float[]>("Stats").ToArray());
        var notNumber = Error(Load(ml, "1|2", "3|x|4"));
        var emptyElement = Error(Load(ml, "1||2"));
        var infinite = Error(Load(ml, "1|2|1e39"));
        var nan = Error(ml.Data.LoadFromEnumerable(new[] { new VectorRow { Prices = [1] }, new VectorRow { Prices = [1] }, new VectorRow { Prices = [2, float.NaN] } }));

        StringAssert.Contains(notNumber.Message, "Row 2: element 2 of column 'Prices' is 'x', not a number");
        StringAssert.Contains(emptyElement.Message, "Row 1: element 2 of column 'Prices' is '', not a number");
        StringAssert.Contains(infinite.Message, "Row 1: element 3 of column 'Prices' is Infinity; elements must be finite numbers");
        StringAssert.Contains(nan.Message, "Row 3: element 2 of column 'Prices' is NaN; elements must be finite numbers");
    }

    [TestMethod]
    public void SequenceAggregatingTest_SchemaErrorsUseMLNetWording()
    {
        var ml = new MLContext(seed: 1);
        IDataView numbers = ml.Data.LoadFromEnumerable(new[] { new { Prices = 3f } });
        IDataView texts = ml.Data.LoadFromEnumerable(new[] { new { Prices = new[] { "1", "2" } } });
        var sut = ml.Ctr().Transforms.AggregateSequence("Stats", "Prices");

        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.AggregateSequence("Stats", "X").Fit(numbers));
        var missingShape = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.AggregateSequence("Stats", "X").GetOutputSchema(SchemaShape.Create(numbers.Schema)));
        var scalar = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sut.Fit(numbers));
        var scalarShape = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sut.GetOutputSchema(SchemaShape.Create(numbers.Schema)));
        var textVector = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sut.Fit(texts));
        var onTransform = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => sut.Fit(Load(ml, "1")).Transform(numbers));
        var maxLength = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 0));

        StringAssert.Contains(missing.Message, "Could not find input column 'X'");
        StringAssert.Contains(missingShape.Message, "Could not find input column 'X'");
        StringAssert.Contains(scalar.Message, "Schema mismatch for input column 'Prices': expected Text or a vector of Single, got Single");
        StringAssert.Contains(scalarShape.Message, "Schema mismatch for input column 'Prices': expected Text or a vector of Single, got Single");
        StringAssert.Contains(textVector.Message, "Schema mismatch for input column 'Prices': expected Text or a vector of Single, got Vector<String");
        StringAssert.Contains(onTransform.Message, "Schema mismatch for input column 'Prices': expected Text or a vector of Single");
        StringAssert.Contains(maxLength.Message, "MaxLength of column 'Stats' must be at least 1 or null, got 0");
    }

    [TestMethod]
    public void SequenceAggregatingTest_PredictionEngineAfterLoadInNewContext()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, "1|2");
        ITransformer loaded = EstimatorChecks.SaveAndLoad(ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 2).Fit(data), data.Schema);

        var sut = new MLContext(seed: 3).Model.CreatePredictionEngine<Row, Output>(loaded);

        CollectionAssert.AreEqual(Expected(12.5f, 3), sut.Predict(new Row { Prices = "12.5|3|0.7" }).Stats);
        CollectionAssert.AreEqual(new float[5], sut.Predict(new Row { Prices = "" }).Stats);
        CollectionAssert.AreEqual(Expected(Numbers("-2|8")), sut.Predict(new Row { Prices = "-2|8" }).Stats);
    }

    [TestMethod]
    public void SequenceAggregatingTest_TrainerTakesTheOutputAsNumericColumns()
    {
        var ml = new MLContext(seed: 1);
        var random = new Random(7);
        List<LabelledRow> rows = [.. Enumerable.Range(0, 200).Select(i => new LabelledRow
        {
            Label = i % 2 == 0,
            Prices = string.Join("|", Enumerable.Range(0, random.Next(0, 6)).Select(_ => (random.NextDouble() * 10).ToString("F2", CultureInfo.InvariantCulture))),
        })];
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Ctr().Transforms.AggregateSequence("Stats", "Prices", maxLength: 4)
            .Append(ml.BinaryClassification.Trainers.TorchCtr(new TorchCtrTrainer.Options
            {
                NumericColumnNames = ["Stats"],
                Epochs = 1,
                BatchSize = 64,
                Threads = 1,
                Model = new CtrModelOptions { HiddenUnits = [4], EmbeddingDim = 4 },
            }));

        var model = pipeline.Fit(data);
        float[] sut = [.. model.Transform(data).GetColumn<float>("Probability")];

        Assert.HasCount(rows.Count, sut);
        Assert.IsTrue(sut.All(p => p is > 0f and < 1f), "every probability is finite and in (0, 1)");
        (model as IDisposable)?.Dispose();
    }
}
