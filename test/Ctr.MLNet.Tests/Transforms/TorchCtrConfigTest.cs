using System;
using Ctr.MLNet.Transforms;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

/// <summary>The Python reference's (torchctr) feature configs load as a <see cref="FeatureSpec"/>, field by field.</summary>
[TestClass]
public sealed class TorchCtrConfigTest
{
    [TestMethod]
    public void TorchCtrConfigTest_EveryFieldMaps()
    {
        const string json = """
            {
              "category_case_sensitive": false,
              "category_min_freq": 3,
              "category_outliers": ["None", "unknown"],
              "category_oov": "other",
              "numerical_fillna": "mean",
              "list_maxlen": 30,
              "list_padding_value": 0,
              "feat_configs": [
                { "name": "user_id", "dtype": "category", "emb_dim": 16, "hash_buckets": 1000 },
                { "name": "item_id", "dtype": "category", "emb_dim": 8, "min_freq": 2, "case_sensitive": true },
                { "name": "brand", "dtype": "category", "hash_buckets": "auto", "oov": "other" },
                { "name": "hist_item_ids", "dtype": "category", "islist": true, "maxlen": 50, "weight_col": "hist_weights", "emb_dim": 8 },
                { "name": "tags", "dtype": "category", "islist": true },
                { "name": "price", "dtype": "numerical", "norm": "std", "fillna": 0 },
                { "name": "rating", "dtype": "numerical", "norm": "[0,1]", "mean": 3.2, "std": 1.1, "min": 1, "max": 5, "cnt": 900 },
                { "name": "age", "dtype": "numerical", "hash_buckets": 10, "emb_dim": 4 },
                { "name": "user_x_brand", "dtype": "category", "cross": ["user_id", "brand"], "emb_dim": 8 }
              ]
            }
            """;

        FeatureSpec sut = FeatureSpec.FromTorchCtrJson(json, label: "click");

        FeatureSpec expected = new("click",
        [
            new("user_id", FeatureColumnSpec.Categorical) { EmbDim = 16, HashBuckets = 1000, MinFreq = 3, FoldCase = true },
            new("item_id", FeatureColumnSpec.Categorical) { EmbDim = 8, MinFreq = 2 },
            new("brand", FeatureColumnSpec.Categorical) { HashBuckets = 0, MinFreq = 3, FoldCase = true },
            new("hist_item_ids", FeatureColumnSpec.Categorical) { IsList = true, MaxLen = 50, WeightCol = "hist_weights", EmbDim = 8, MinFreq = 3, FoldCase = true },
            new("tags", FeatureColumnSpec.Categorical) { IsList = true, MaxLen = 30, MinFreq = 3, FoldCase = true },
            new("price", FeatureColumnSpec.Numeric) { Norm = FeatureColumnSpec.ZScore, Fill = 0 },
            new("rating", FeatureColumnSpec.Numeric) { Norm = FeatureColumnSpec.MinMax },
            new("age", FeatureColumnSpec.Numeric) { Buckets = 10, EmbDim = 4 },
            new("user_x_brand", FeatureColumnSpec.Categorical) { Cross = ["user_id", "brand"], EmbDim = 8, MinFreq = 3, FoldCase = true },
        ]) { ListSeparator = ',' };
        Assert.AreEqual(expected.ToJson(), sut.ToJson());
        Assert.AreEqual(expected, sut);
    }

    [TestMethod]
    public void TorchCtrConfigTest_WhatCannotBeHonouredIsAnErrorNamingIt()
    {
        static string Error(string json) => Assert.ThrowsExactly<FormatException>(() => FeatureSpec.FromTorchCtrJson(json, "click")).Message;

        StringAssert.Contains(Error("""[{ "name": "p", "dtype": "numerical", "expr": "pl.col('x') + 1" }]"""), "torchctr feature 'p': 'expr'");
        StringAssert.Contains(Error("""[{ "name": "p", "dtype": "numerical", "islist": true }]"""), "torchctr feature 'p': numerical lists are not supported");
        StringAssert.Contains(Error("""[{ "name": "p", "dtype": "numerical", "norm": "std", "fillna": "min" }]"""), "torchctr feature 'p': fillna \"min\"");
        StringAssert.Contains(Error("""[{ "name": "c", "dtype": "category", "outliers": ["N/A"] }]"""), "torchctr feature 'c': outliers 'N/A' are not supported");
        StringAssert.Contains(Error("""[{ "name": "c", "dtype": "category", "fillna": "missing" }]"""), "torchctr feature 'c': fillna \"missing\" is not supported");
        StringAssert.Contains(Error("""[{ "name": "c", "dtype": "category", "colour": 1 }]"""), "torchctr feature 'c': field 'colour' is not supported");
        StringAssert.Contains(Error("""[{ "name": "c", "dtype": "text" }]"""), "dtype must be 'category' or 'numerical', got 'text'");
        StringAssert.Contains(Error("""{ "category_colour": 1, "feat_configs": [] }"""), "global setting 'category_colour' is not supported");
        StringAssert.Contains(Error("""[{ "name": "x", "dtype": "category", "cross": ["a", "b"] }]"""), "cross names 'a'");
    }
}
