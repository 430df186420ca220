using System;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class SequenceParsingTest
{
    private sealed class Row
    {
        public string History { get; set; } = "";

        public string Dwell { get; set; } = "";
    }

    private sealed class VectorRow
    {
        [VectorType]
        public string[] History { get; set; } = [];

        [VectorType]
        public float[] Dwell { get; set; } = [];
    }

    private sealed class Output
    {
        [VectorType]
        public string[] Items { get; set; } = [];

        [VectorType]
        public float[] ItemsWeights { get; set; } = [];
    }

    private static IDataView Load(MLContext ml, params (string History, string Dwell)[] rows) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new Row { History = r.History, Dwell = r.Dwell }));

    private static Output[] Parse(MLContext ml, IEstimator<ITransformer> sut, IDataView data) =>
        [.. ml.Data.CreateEnumerable<Output>(sut.Fit(data).Transform(data), reuseRowObject: false)];

    [TestMethod]
    public void SequenceParsingTest_ModelZipGivesSameOutputInNewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a|b|c", "1|2|3"), ("", ""), ("c", "0.5"), ("x|y", "0.25|4"));
        var sut = ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell", maxLength: 2).Fit(data);

        EstimatorChecks.AssertSameOutputInNewProcess(sut, data);
    }

    [TestMethod]
    public void SequenceParsingTest_Workout()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a|b", "1|2"), ("", ""), ("c", "0.5"));
        IDataView invalid = ml.Data.LoadFromEnumerable(new[] { new { History = 3f, Dwell = "1" } });

        EstimatorChecks.Workout(ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell", maxLength: 5), data, invalid);
    }

    [TestMethod]
    public void SequenceParsingTest_TruncationKeepsTheLatestElementsWithTheirWeights()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("i5|i4|i3|i2|i1", "5|4|3|2|1"));

        Output[] sut = Parse(ml, ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell", maxLength: 3), data);

        CollectionAssert.AreEqual(new[] { "i5", "i4", "i3" }, sut[0].Items, "latest first, the first elements kept");
        CollectionAssert.AreEqual(new[] { 5f, 4f, 3f }, sut[0].ItemsWeights, "weights truncated with their elements");
    }

    [TestMethod]
    public void SequenceParsingTest_EmptySequencesStayEmpty()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("", ""), ("  ", " "), ("a||b", "1|2|3"));

        Output[] sut = Parse(ml, ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell"), data);

        Assert.IsEmpty(sut[0].Items);
        Assert.IsEmpty(sut[0].ItemsWeights);
        Assert.IsEmpty(sut[1].Items);
        CollectionAssert.AreEqual(new[] { "a", "", "b" }, sut[2].Items, "an empty element stays in place (it maps to OOV)");
    }

    [TestMethod]
    public void SequenceParsingTest_WeightLengthMismatchNamesRowAndLengths()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a|b", "1|2"), ("a|b|c", "1|2"));
        var model = ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell").Fit(data);

        var error = Errors.Find<InvalidOperationException>(() => model.Transform(data).GetColumn<float[]>("ItemsWeights").ToArray());
        var notNumber = Errors.Find<FormatException>(() =>
            ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell").Fit(data).Transform(Load(ml, ("a", "x"))).GetColumn<float[]>("ItemsWeights").ToArray());

        StringAssert.Contains(error.Message, "Row 2: sequence column 'History' has 3 elements but weight column 'Dwell' has 2 weights");
        StringAssert.Contains(notNumber.Message, "Row 1: weight 1 of column 'Dwell' is 'x', not a number");
    }

    [TestMethod]
    public void SequenceParsingTest_VectorInputsAndCustomSeparator()
    {
        var ml = new MLContext(seed: 1);
        IDataView vectors = ml.Data.LoadFromEnumerable(new[] { new VectorRow { History = ["x", "y", "z"], Dwell = [1, 2, 3] } });
        IDataView semicolons = Load(ml, ("x;y", "1;2"));

        Output[] fromVectors = Parse(ml, ml.Ctr().Transforms.ParseSequence(new SequenceParsingEstimator.ColumnOptions("Items", "History") { WeightColumnName = "Dwell", MaxLength = 2 }), vectors);
        Output[] fromText = Parse(ml, ml.Ctr().Transforms.ParseSequence("Items", "History", "Dwell", separator: ';'), semicolons);

        CollectionAssert.AreEqual(new[] { "x", "y" }, fromVectors[0].Items);
        CollectionAssert.AreEqual(new[] { 1f, 2f }, fromVectors[0].ItemsWeights);
        CollectionAssert.AreEqual(new[] { "x", "y" }, fromText[0].Items);
    }

    [TestMethod]
    public void SequenceParsingTest_VocabularyCarriesTheWeightPairingToTheTrainer()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = Load(ml, ("a|b", "1|2"), ("b", "3"));
        var pipeline = ml.Ctr().Transforms.ParseSequence("Items", "History", weightColumnName: "Dwell")
            .Append(ml.Ctr().Transforms.MapToVocabulary("ItemIds", "Items"));

        var promised = pipeline.GetOutputSchema(SchemaShape.Create(data.Schema));
        IDataView sut = pipeline.Fit(data).Transform(data);

        Assert.AreEqual("ItemsWeights", sut.Schema["ItemIds"].GetSequenceWeightColumn());
        Assert.IsTrue(promised.Single(c => c.Name == "ItemIds").Annotations.TryFindColumn(CtrAnnotations.SequenceWeights, out _), "the schema promise carries it too");
        Assert.IsNull(ml.Ctr().Transforms.MapToVocabulary("Id", "History").Fit(data).Transform(data).Schema["Id"].GetSequenceWeightColumn());
    }
}
