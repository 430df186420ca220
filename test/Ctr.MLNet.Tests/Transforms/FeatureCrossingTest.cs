using System;
using System.IO;
using System.Linq;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class FeatureCrossingTest
{
    public sealed class Row
    {
        public string User { get; set; } = "";

        public string Device { get; set; } = "";

        public string Hour { get; set; } = "";
    }

    public sealed class Wrong
    {
        public string User { get; set; } = "";

        public float Device { get; set; }

        public string Hour { get; set; } = "";
    }

    private static readonly Row[] Rows =
    [
        new() { User = "u1", Device = "mobile", Hour = "3" },
        new() { User = " u1 ", Device = "mobile", Hour = "3.0" },
        new() { User = "u1", Device = "desktop", Hour = "4" },
        new() { User = "u2", Device = "mobile", Hour = "3" },
        new() { User = "u2", Device = "", Hour = "3" },
        new() { User = "u2", Device = "None", Hour = "4" },
    ];

    [TestMethod]
    public void FeatureCrossingTest_JoinsTheNormalizedPartsAndMissingPartsGiveAMissingCross()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(Rows);

        var sut = ml.Ctr().Transforms.CrossFeatures("UserDevice", "User", "Device")
            .Append(ml.Ctr().Transforms.CrossFeatures(new FeatureCrossingEstimator.ColumnOptions("UserDeviceHour", "User", "Device", "Hour")));
        IDataView output = sut.Fit(data).Transform(data);

        string[] pairs = [.. output.GetColumn<string>("UserDevice")];
        string[] triples = [.. output.GetColumn<string>("UserDeviceHour")];
        CollectionAssert.AreEqual(new[] { "u1\u001Fmobile", "u1\u001Fmobile", "u1\u001Fdesktop", "u2\u001Fmobile", "", "" }, pairs);
        Assert.AreEqual(triples[0], triples[1], "trimmed, and 3.0 = 3 as the vocabularies read it");
        Assert.AreNotEqual(triples[0], triples[2]);
    }

    [TestMethod]
    public void FeatureCrossingTest_WorkoutSavesAndLoadsWithAVocabularyAndInANewProcess()
    {
        var ml = new MLContext(seed: 1);
        IDataView data = ml.Data.LoadFromEnumerable(Rows);
        IDataView invalid = ml.Data.LoadFromEnumerable(new[] { new Wrong { User = "u1", Device = 1, Hour = "3" } });

        EstimatorChecks.Workout(ml.Ctr().Transforms.CrossFeatures("UserDevice", "User", "Device"), data, invalid);
        var pipeline = ml.Ctr().Transforms.CrossFeatures("UserDevice", "User", "Device").Append(ml.Ctr().Transforms.MapToVocabulary("UserDevice"));
        ITransformer model = pipeline.Fit(data);
        uint[] ids = [.. model.Transform(data).GetColumn<uint>("UserDevice")];
        Assert.AreEqual(ids[0], ids[1]);
        Assert.AreEqual(1u, ids[4], "a missing part maps the cross to OOV");
        Assert.AreEqual(4, ids.Distinct().Count(), "three pairs seen and OOV");
        model.Transform(data).Schema["UserDevice"].TryGetCategoricalFeature(out CategoricalFeature feature);
        Assert.AreEqual(5, feature.Size, "padding, OOV and three pairs");

        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "cross.zip");
        ml.Model.Save(model, data.Schema, path);
        CollectionAssert.AreEqual(EstimatorChecks.Rows(model.Transform(data)), ChildProcess.TransformInNewProcess(path, data, ml));
    }

    [TestMethod]
    public void FeatureCrossingTest_SpecCrossIsComputedRoundTripsAndTrains()
    {
        const string json = """
            {
              "label": "click",
              "features": [
                { "name": "user", "dtype": "categorical" },
                { "name": "device", "dtype": "categorical", "fold_case": true },
                { "name": "user_x_device", "dtype": "categorical", "cross": ["user", "device"], "emb_dim": 4 },
                { "name": "device_x_user", "dtype": "categorical", "cross": ["device", "user"], "hash_buckets": 64 }
              ]
            }
            """;
        FeatureSpec sut = FeatureSpec.FromJson(json);
        using var directory = new TemporaryDirectory();
        string csv = Path.Combine(directory.Path, "data.csv");
        File.WriteAllLines(csv, ["click,user,device", .. Enumerable.Range(0, 400).Select(i => $"{(i % 3 == 0 ? 1 : 0)},u{i % 7},{(i % 2 == 0 ? "mobile" : "Desktop")}")]);
        var ml = new MLContext(seed: 1);

        Assert.AreEqual(sut, FeatureSpec.FromJson(sut.ToJson()), "cross round-trips through JSON");
        IDataView data = sut.LoadCsv(ml, csv);
        IDataView output = sut.BuildPipeline(ml).Fit(data).Transform(data);

        Assert.IsTrue(output.Schema["user_x_device"].TryGetCategoricalFeature(out CategoricalFeature vocabulary));
        Assert.AreEqual(14 + 2, vocabulary.Size, "7 users × 2 devices, padding and OOV");
        Assert.IsTrue(output.Schema["device_x_user"].TryGetCategoricalFeature(out CategoricalFeature hashed));
        Assert.AreEqual(64 + 2, hashed.Size);
        Assert.AreEqual(4, sut.EmbeddingDims["user_x_device"]);
    }

    [TestMethod]
    public void FeatureCrossingTest_InvalidCrossesNameTheProblem()
    {
        static string Error(string features) =>
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => FeatureSpec.FromJson($$"""{ "label": "click", "features": [ { "name": "a", "dtype": "categorical" }, { "name": "l", "dtype": "categorical", "islist": true }, {{features}} ] }""")).Message;

        StringAssert.Contains(Error("""{ "name": "x", "dtype": "categorical", "cross": ["a", "b"] }"""), "cross names 'b', which is not a feature of the spec");
        StringAssert.Contains(Error("""{ "name": "x", "dtype": "categorical", "cross": ["a"] }"""), "two or more");
        StringAssert.Contains(Error("""{ "name": "x", "dtype": "categorical", "cross": ["a", "l"] }"""), "'l', which is not a plain categorical feature");
        StringAssert.Contains(Error("""{ "name": "x", "dtype": "numeric", "cross": ["a", "a"] }"""), "cross applies to categorical features only");
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new MLContext().Ctr().Transforms.CrossFeatures("x", "a"));
    }
}
