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
public sealed class PreparedCtrScorerTest
{
    private static List<UserItemRow> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<UserItemRow>(count);
        for (int i = 0; i < count; i++)
        {
            int u = random.Next(200), v = random.Next(100);
            float x1 = (float)(random.NextDouble() * 2 - 1), x2 = (float)(random.NextDouble() * 2 - 1);
            double logit = -1 + (u % 7) * 0.2 - (v % 5) * 0.3 + (x1 > 0.3 && x2 < 0 ? 2 : 0);
            // Unseen users and items too: the vocabulary's out-of-vocabulary row.
            rows.Add(new UserItemRow { Label = random.NextDouble() < 1 / (1 + Math.Exp(-logit)), User = $"u{u + (i % 13 == 0 ? 1000 : 0)}", Item = $"i{v}", X1 = x1, X2 = x2 });
        }
        return rows;
    }

    private static IEstimator<ITransformer> Features(MLContext ml) =>
        ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("UserId", "User"),
                new VocabularyEstimator.ColumnOptions("ItemId", "Item"))
            .Append(ml.Ctr().Transforms.Normalize("X1"))
            .Append(ml.Transforms.Concatenate("Numbers", "X1", "X2"));

    private static TorchCtrTrainer.Options Network() => new()
    {
        NumericColumnNames = ["Numbers"],
        Epochs = 1,
        BatchSize = 256,
        Threads = 1,
        Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 4 },
    };

    /// <summary>The model saved and loaded in a new context, as a server loads it, and the rows to score.</summary>
    private static (ITransformer Model, IDataView Rows) SavedAndLoaded(Func<MLContext, IDataView, IDataView, ITransformer> fit)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Generate(2_000, seed: 1));
        IDataView valid = ml.Data.LoadFromEnumerable(Generate(500, seed: 2));
        ITransformer model = fit(ml, train, valid);
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "model.zip");
        ml.Model.Save(model, train.Schema, path);
        var fresh = new MLContext(seed: 7);
        ITransformer loaded = fresh.Model.Load(path, out _);
        return (loaded, fresh.Data.LoadFromEnumerable(Generate(300, seed: 3)));
    }

    private static float[] Offline(ITransformer model, IDataView rows) => [.. model.Transform(rows).GetColumn<float>("Probability")];

    /// <summary>
    /// Scores <paramref name="rows"/> in calls of varied sizes through one scorer, as a server does, and checks each call
    /// against the chain's batched scoring of the same rows: the same floats. (The managed forward gives a row the same
    /// floats in a pass of any size, so the callers also compare the calls with one pass over all rows.)
    /// </summary>
    private static float[] InCalls(PreparedCtrScorer sut, ITransformer model, IDataView rows)
    {
        var ml = new MLContext(seed: 1);
        int count = (int)rows.GetRowCount()!;
        var probabilities = new float[count];
        int at = 0;
        foreach (int size in new[] { 1, 7, 64, 1, 2, 100, 300 })
        {
            if (at == count)
                break;
            int take = Math.Min(size, count - at);
            IDataView part = ml.Data.TakeRows(at == 0 ? rows : ml.Data.SkipRows(rows, at), take);
            Assert.AreEqual(take, sut.Score(part, probabilities.AsSpan(at)));
            CollectionAssert.AreEqual(Offline(model, part), probabilities[at..(at + take)], $"rows {at + 1} to {at + take}");
            at += take;
        }
        Assert.AreEqual(count, at);
        return probabilities;
    }

    /// <summary>Every <paramref name="step"/>th row from <paramref name="first"/> scored alone gets the float it got in a pass over all rows.</summary>
    private static void EachAloneGivesItsFloat(PreparedCtrScorer scorer, IDataView rows, float[] inPass, int first, int step)
    {
        var ml = new MLContext(seed: 1);
        for (int at = first; at < inPass.Length; at += step)
        {
            var one = new float[1];
            Assert.AreEqual(1, scorer.Score(ml.Data.TakeRows(ml.Data.SkipRows(rows, at), 1), one));
            Assert.AreEqual(inPass[at], one[0], $"row {at} alone");
        }
    }

    private static void AreClose(float[] expected, float[] actual, float tolerance)
    {
        Assert.HasCount(expected.Length, actual);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(expected[i], actual[i], tolerance, $"row {i}");
    }

    [TestMethod]
    public void PreparedCtrScorerTest_EnsembleWithTreesGivesTheChainsFloats()
    {
        (ITransformer model, IDataView rows) = SavedAndLoaded((ml, train, valid) =>
        {
            ITransformer features = Features(ml).Fit(train);
            var options = new HybridCtrTrainer.Options { Network = Network(), NumberOfNetworks = 2, NumberOfTrees = 10, NumberOfLeaves = 4, MinimumExampleCountPerLeaf = 20 };
            TransformerChain<ITransformer> hybrid = ml.BinaryClassification.Trainers.TorchCtrWithTrees(options).Fit(features.Transform(train), features.Transform(valid));
            return features.Append(hybrid);
        });

        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema) ?? throw new AssertFailedException("an ensemble with trees, as train saves it, is prepared");
        float[] actual = InCalls(sut, model, rows);

        float[] offline = Offline(model, rows);
        CollectionAssert.AreEqual(offline, actual, "calls of 1 to 100 rows give the floats of one pass over all rows");
        Assert.IsGreaterThan(10, offline.Distinct().Count(), "rows get different probabilities");
        CollectionAssert.AreEqual(actual, InCalls(sut, model, rows), "and again: the kept buffers carry nothing over");
    }

    [TestMethod]
    public void PreparedCtrScorerTest_SingleNetworkGivesTheChainsFloats()
    {
        (ITransformer model, IDataView rows) = SavedAndLoaded((ml, train, valid) =>
            Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Network())).Fit(train));

        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema) ?? throw new AssertFailedException("a pipeline ending in a network is prepared");

        CollectionAssert.AreEqual(Offline(model, rows), InCalls(sut, model, rows));
    }

    /// <summary>Visits with a history whose items carry a brand and a category; some histories are empty, some items unseen.</summary>
    private static List<HistoryAttributesTest.Visit> Visits(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            int item = random.Next(i % 17 == 0 ? 80 : 60), user = random.Next(30);
            return new HistoryAttributesTest.Visit
            {
                Click = random.NextDouble() < (item % 4 == user % 4 ? 0.6 : 0.2),
                User = $"u{user}",
                Item = $"i{item}",
                Brand = $"b{item % 8}",
                Category = $"c{item % 4}",
                Device = $"d{random.Next(3)}",
                History = [.. Enumerable.Range(0, random.Next(0, 6)).Select(_ => $"i{random.Next(70)}")],
            };
        })];
    }

    [TestMethod]
    [DataRow(SequencePooling.Mean, true)]
    [DataRow(SequencePooling.Sum, false)]
    public void PreparedCtrScorerTest_HistoryWithProjectedAttributesGivesTheChainsFloats(SequencePooling pooling, bool batchNorm)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Visits(1_500, seed: 1));
        var options = new TorchCtrTrainer.Options
        {
            LabelColumnName = "Click",
            Epochs = 1,
            BatchSize = 128,
            Threads = 1,
            Model = new CtrModelOptions
            {
                HiddenUnits = [16, 8],
                EmbeddingDim = 4,
                // Attribute tables narrower than the items': their embeddings are projected.
                EmbeddingDims = System.Collections.Immutable.ImmutableDictionary<string, int>.Empty.Add("item", 6).Add("CategoryId", 3),
                HistoryAttributes = ["BrandId", "CategoryId"],
                Pooling = pooling,
                BatchNorm = batchNorm,
            },
        };
        ITransformer model = HistoryAttributesTest.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);
        IDataView rows = ml.Data.LoadFromEnumerable(Visits(300, seed: 2));

        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema) ?? throw new AssertFailedException("a pipeline ending in a network is prepared");

        TorchCtrTransformer network = ((IEnumerable<ITransformer>)model).OfType<TorchCtrTransformer>().Single();
        Assert.IsNotNull(network.ManagedForScoring, "the network is scored in managed code");
        float[] offline = Offline(model, rows);
        CollectionAssert.AreEqual(offline, InCalls(sut, model, rows));
        Assert.IsGreaterThan(10, offline.Distinct().Count(), "rows get different probabilities");
        // The projections summed into the fused table, not applied to each pooled attribute: other roundings, close.
        var byModules = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, prepareNetworks: false)!.Score(rows, byModules));
        AreClose(byModules, offline, tolerance: 2e-6f);
        var dnn = (DnnCtrModel)network.Model;
        Assert.IsNull(dnn.ManagedForScoring(network.Layout, maxTableBytes: 100), "tables larger than the limit are not copied: the module's forward scores");
        ManagedDnn fused = dnn.ManagedForScoring(network.Layout, maxTableBytes: 1 << 20, maxFoldedTableBytes: 0) ?? throw new AssertFailedException("tables of a few kB are copied");
        Assert.IsTrue(fused.FusesHistories, "the history is pooled from one fused table");
        Assert.IsTrue(dnn.ManagedForScoring(network.Layout, maxTableBytes: fused.TableBytes, maxFoldedTableBytes: 0)!.FusesHistories, "the limit holds the fused tables");
        ManagedDnn unfused = dnn.ManagedForScoring(network.Layout, maxTableBytes: fused.TableBytes - 1, maxFoldedTableBytes: 0) ?? throw new AssertFailedException("the tables alone fit one byte less");
        Assert.IsFalse(unfused.FusesHistories, "the fused tables count in the limit: without room for them the history is pooled table by table");
        Assert.IsLessThan(fused.TableBytes, unfused.TableBytes);
        // The tables folded into the first layer count in it too: with no room left, nothing is folded.
        ManagedDnn folded = dnn.ManagedForScoring(network.Layout, maxTableBytes: 1 << 20)!;
        Assert.IsGreaterThan(0, folded.FoldedFields, "small tables are folded by default");
        Assert.IsGreaterThan(fused.TableBytes, folded.TableBytes);
        Assert.AreEqual(0, dnn.ManagedForScoring(network.Layout, maxTableBytes: fused.TableBytes)!.FoldedFields, "no room to fold");
    }

    /// <summary>A shopper: a candidate with a brand, a category and a price, two histories of items (one weighted) and searches of their own vocabulary.</summary>
    public sealed class Shopper
    {
        public bool Click { get; set; }

        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        public string Brand { get; set; } = "";

        public string Category { get; set; } = "";

        public float Price { get; set; }

        [VectorType]
        public string[] History { get; set; } = [];

        [VectorType]
        public float[] HistoryWeights { get; set; } = [];

        [VectorType]
        public string[] Cart { get; set; } = [];

        [VectorType]
        public string[] Searches { get; set; } = [];
    }

    /// <summary>
    /// Shoppers whose histories hold up to <paramref name="longest"/> items (empty ones too); when <paramref name="hostile"/>,
    /// every tenth row is made of ids training never saw, and some histories of unseen items only.
    /// </summary>
    private static List<Shopper> Shoppers(int count, int seed, int longest, bool hostile)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i =>
        {
            bool unseen = hostile && i % 10 == 3;
            int item = random.Next(60), user = random.Next(30);
            string Item(int id) => unseen || hostile && i % 10 == 7 ? $"new{id}" : $"i{id}";
            string[] history = [.. Enumerable.Range(0, random.Next(0, longest + 1)).Select(_ => Item(random.Next(70)))];
            return new Shopper
            {
                Click = random.NextDouble() < (item % 4 == user % 4 ? 0.6 : 0.2),
                User = unseen ? $"new{user}" : $"u{user}",
                Item = unseen ? $"new{item}" : $"i{item}",
                Brand = unseen ? "new" : $"b{item % 8}",
                Category = unseen ? "new" : $"c{item % 4}",
                Price = (float)(item % 10 + random.NextDouble()),
                History = history,
                HistoryWeights = [.. history.Select(_ => (float)random.NextDouble())],
                Cart = [.. Enumerable.Range(0, random.Next(0, 3)).Select(_ => Item(random.Next(70)))],
                Searches = [.. Enumerable.Range(0, random.Next(0, 4)).Select(_ => unseen ? "new" : $"s{random.Next(20)}")],
            };
        })];
    }

    private static IEstimator<ITransformer> ShopperFeatures(MLContext ml) =>
        ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("UserId", "User"),
                new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("CartIds", "Cart") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("SearchIds", "Searches"),
                new VocabularyEstimator.ColumnOptions("BrandId", "Brand"),
                new VocabularyEstimator.ColumnOptions("CategoryId", "Category"))
            .Append(ml.Ctr().Transforms.Normalize("Price"));

    private static IEnumerable<TorchCtrTransformer> Networks(ITransformer model) => model switch
    {
        TorchCtrTransformer network => [network],
        IEnumerable<ITransformer> chain => chain.SelectMany(Networks),
        _ => [],
    };

    /// <summary>Two networks with histories, their items' attributes and searches, blended, saved and loaded in a new context.</summary>
    private static ITransformer EnsembleSavedAndLoaded(MLContext ml, IDataView train)
    {
        ITransformer features = ShopperFeatures(ml).Fit(train);
        IDataView keyed = features.Transform(train);
        var options = new HybridCtrTrainer.Options { Network = Configuration("ThreeSequencesMean"), NumberOfNetworks = 2, NumberOfTrees = 0 };
        ITransformer model = features.Append(ml.BinaryClassification.Trainers.TorchCtrWithTrees(options).Fit(keyed, keyed));
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "model.zip");
        ml.Model.Save(model, train.Schema, path);
        return new MLContext(seed: 7).Model.Load(path, out _);
    }

    /// <summary>Each configuration's columns (its name says what it leaves out or adds) and network options.</summary>
    private static TorchCtrTrainer.Options Configuration(string name)
    {
        var options = new TorchCtrTrainer.Options
        {
            LabelColumnName = "Click",
            CategoricalColumnNames = ["UserId", "ItemId", "BrandId", "CategoryId", "HistoryIds"],
            NumericColumnNames = ["Price"],
            Epochs = 1,
            BatchSize = 128,
            Threads = 1,
            Model = new CtrModelOptions { HiddenUnits = [16, 8], EmbeddingDim = 4, Dropout = 0, HistoryAttributes = ["BrandId", "CategoryId"] },
        };
        return name switch
        {
            "NoNumerics" => options with { NumericColumnNames = [], CategoricalColumnNames = ["UserId", "ItemId", "BrandId"], Model = options.Model with { HistoryAttributes = [] } },
            "NumericsOnly" => options with { CategoricalColumnNames = [], Model = options.Model with { HistoryAttributes = [] } },
            "AttributesPicked" => options with { Model = options.Model with { HistoryAttributes = null } },
            "HistoryAlone" => options with { CategoricalColumnNames = ["HistoryIds"], NumericColumnNames = [], Model = options.Model with { HistoryAttributes = [] } },
            "HistoryWithoutAttributes" => options with { Model = options.Model with { HistoryAttributes = [] } },
            "ThreeSequencesSum" => options with
            {
                CategoricalColumnNames = ["UserId", "ItemId", "BrandId", "CategoryId", "HistoryIds", "CartIds", "SearchIds"],
                Model = options.Model with { Pooling = SequencePooling.Sum, BatchNorm = false },
            },
            "ThreeSequencesMean" => options with { CategoricalColumnNames = ["UserId", "ItemId", "BrandId", "CategoryId", "SearchIds", "HistoryIds", "CartIds"] },
            "WeightedMean" => options with { SequenceWeights = System.Collections.Immutable.ImmutableDictionary<string, string>.Empty.Add("HistoryIds", "HistoryWeights") },
            "NoHiddenLayer" => options with { Model = options.Model with { HiddenUnits = [] } },
            "OneLayerDropout" => options with { Model = options.Model with { HiddenUnits = [8], Dropout = 0.5 } },
            "DropoutWithoutBatchNorm" => options with { Model = options.Model with { Dropout = 0.3, BatchNorm = false } },
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such configuration"),
        };
    }

    [TestMethod]
    [DataRow("NoNumerics")]
    [DataRow("NumericsOnly")]
    [DataRow("HistoryAlone")]
    [DataRow("HistoryWithoutAttributes")]
    [DataRow("AttributesPicked")]
    [DataRow("ThreeSequencesSum")]
    [DataRow("ThreeSequencesMean")]
    [DataRow("WeightedMean")]
    [DataRow("NoHiddenLayer")]
    [DataRow("OneLayerDropout")]
    [DataRow("DropoutWithoutBatchNorm")]
    [DataRow("EnsembleSavedAndLoaded")]
    public void PreparedCtrScorerTest_OtherNetworksGiveTheChainsFloats(string configuration)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Shoppers(1_500, seed: 1, longest: 5, hostile: false));
        ITransformer model = configuration == "EnsembleSavedAndLoaded" ? EnsembleSavedAndLoaded(ml, train)
            : ShopperFeatures(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Configuration(configuration))).Fit(train);
        // Histories up to eight times longer than training's, rows of unseen ids only, histories of unseen items only.
        IDataView rows = ml.Data.LoadFromEnumerable(Shoppers(300, seed: 2, longest: 40, hostile: true));

        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema) ?? throw new AssertFailedException("a pipeline ending in a network is prepared");

        TorchCtrTransformer[] networks = [.. Networks(model)];
        Assert.HasCount(configuration == "EnsembleSavedAndLoaded" ? 2 : 1, networks);
        foreach (TorchCtrTransformer network in networks)
            Assert.IsNotNull(network.ManagedForScoring, "every network is scored in managed code");
        // Calls of 1 to 100 rows give the floats of one pass over all 300 rows, through the chain and through the scorer.
        float[] offline = Offline(model, rows);
        CollectionAssert.AreEqual(offline, InCalls(sut, model, rows));
        var all = new float[300];
        Assert.AreEqual(300, sut.Score(rows, all));
        CollectionAssert.AreEqual(offline, all);
        Assert.IsTrue(all.All(float.IsFinite), "unseen ids, empty and long histories give finite probabilities");
        Assert.IsGreaterThan(10, offline.Distinct().Count(), "rows get different probabilities");
        // The modules' own forward (libtorch) sums in other orders, and a sum that cancels (a long history's pooled
        // embedding, its dot with the candidate) keeps those differences. Measured: at most 6e-8 apart (2 ULPs) for one
        // network, up to 4.8e-7 (16 ULPs) for the blended pair, whose model changes with the torch seed's state.
        var byModules = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, prepareNetworks: false)!.Score(rows, byModules));
        AreClose(byModules, all, tolerance: 2e-6f);
        // Histories pooled table by table (the tables too large to add fused ones): the sums in another order, close;
        // and as independent of the rows scored with them.
        PreparedCtrScorer unfused = PreparedCtrScorer.TryCreate(model, rows.Schema, n => ((DnnCtrModel)n.Model).ManagedForScoring(n.Layout, fuseHistories: false))!;
        var byTables = new float[300];
        Assert.AreEqual(300, unfused.Score(rows, byTables));
        AreClose(byModules, byTables, tolerance: 2e-6f);
        EachAloneGivesItsFloat(unfused, rows, byTables, first: 5, step: 37);
        // The small tables (brand, category) folded into the first layer by default; unfolded, each embedding goes
        // through the layer's multiply-adds with the rest of the input: the same products summed in another order.
        foreach (TorchCtrTransformer network in networks.Where(n => n.Layout.Categorical.Length > 0))
            Assert.IsGreaterThan(0, network.ManagedForScoring!.FoldedFields, "tables of a few ids are folded");
        PreparedCtrScorer unfolded = PreparedCtrScorer.TryCreate(model, rows.Schema, n => ((DnnCtrModel)n.Model).ManagedForScoring(n.Layout, maxFoldedTableBytes: 0))!;
        var byInputs = new float[300];
        Assert.AreEqual(300, unfolded.Score(rows, byInputs));
        AreClose(byModules, byInputs, tolerance: 2e-6f);
        EachAloneGivesItsFloat(unfolded, rows, byInputs, first: 3, step: 41);
    }

    /// <summary>
    /// Shapes at the managed forward's edges: row widths of 1, 15, 16, 17, 64 and 65 floats (around the 512-bit vector
    /// of pooling and the 32-wide panels), tables of one and two rows, every scalar field folded into a first layer that
    /// is the logit layer (it keeps only the history and the price, or nothing at all).
    /// </summary>
    [TestMethod]
    [DataRow(1, 17, 16, false)]
    [DataRow(15, 64, 1, false)]
    [DataRow(65, 16, 17, true)]
    [DataRow(16, 65, 64, true)]
    public void PreparedCtrScorerTest_EdgeWidthsAndTinyTablesGiveTheModulesFloats(int dim, int itemDim, int searchDim, bool categoricalsOnly)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Shoppers(800, seed: 1, longest: 5, hostile: false));
        IEstimator<ITransformer> features = ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("UserId", "User"),
                new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("SearchIds", "Searches"),
                new VocabularyEstimator.ColumnOptions("BrandId", "Brand") { MinCount = 1_000_000 }, // every brand unknown: one row
                new VocabularyEstimator.ColumnOptions("CategoryId", "Category") { MaxSize = 1 })
            .Append(ml.Ctr().Transforms.Normalize("Price"));
        var options = new TorchCtrTrainer.Options
        {
            LabelColumnName = "Click",
            CategoricalColumnNames = categoricalsOnly ? ["UserId", "ItemId", "BrandId", "CategoryId"] : ["UserId", "ItemId", "BrandId", "CategoryId", "HistoryIds", "SearchIds"],
            NumericColumnNames = categoricalsOnly ? [] : ["Price"],
            Epochs = 1,
            BatchSize = 128,
            Threads = 1,
            Model = new CtrModelOptions
            {
                HiddenUnits = [],
                EmbeddingDim = dim,
                EmbeddingDims = System.Collections.Immutable.ImmutableDictionary<string, int>.Empty.Add("item", itemDim).Add("SearchIds", searchDim),
                HistoryAttributes = [],
            },
        };
        ITransformer model = features.Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);
        IDataView rows = ml.Data.LoadFromEnumerable(Shoppers(300, seed: 2, longest: 40, hostile: true));
        TorchCtrTransformer network = Networks(model).Single();
        Assert.AreEqual(2, network.Layout.Tables.Single(t => t.Name == "BrandId").Size, "padding and unknown: a table of two rows");
        Assert.AreEqual(3, network.Layout.Tables.Single(t => t.Name == "CategoryId").Size, "and one of three");
        ManagedDnn managed = network.ManagedForScoring ?? throw new AssertFailedException("scored in managed code");
        Assert.AreEqual(4, managed.FoldedFields, "every scalar field is folded");

        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema)!;
        var all = new float[300];
        Assert.AreEqual(300, sut.Score(rows, all));
        Assert.IsTrue(all.All(float.IsFinite));
        Assert.IsGreaterThan(10, all.Distinct().Count(), "rows get different probabilities");
        var byModules = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, prepareNetworks: false)!.Score(rows, byModules));
        AreClose(byModules, all, tolerance: 2e-6f);
        var unfolded = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, n => ((DnnCtrModel)n.Model).ManagedForScoring(n.Layout, maxFoldedTableBytes: 0))!.Score(rows, unfolded));
        AreClose(byModules, unfolded, tolerance: 2e-6f);
        EachAloneGivesItsFloat(sut, rows, all, first: 1, step: 29);
    }

    /// <summary>
    /// Ids the reader would refuse reaching the managed forward in a block: negative, past a table, or so large that the
    /// id times a row's width wraps to a row inside the table (0 for int.MinValue). The rows ahead are prefetched before
    /// they are read: that stays silent, and reading them throws ArgumentOutOfRangeException, never a wrong row's floats.
    /// </summary>
    [TestMethod]
    public void PreparedCtrScorerTest_IdsOutsideTheTablesAreRefusedByTheManagedForward()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Shoppers(600, seed: 1, longest: 5, hostile: false));
        TorchCtrTransformer network = Networks(ShopperFeatures(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Configuration("WeightedMean"))).Fit(train)).Single();
        var dnn = (DnnCtrModel)network.Model;
        ManagedDnn folded = network.ManagedForScoring!;
        ManagedDnn unfolded = dnn.ManagedForScoring(network.Layout, maxFoldedTableBytes: 0)!;
        ManagedDnn tableByTable = dnn.ManagedForScoring(network.Layout, fuseHistories: false, maxFoldedTableBytes: 0)!;
        Assert.IsGreaterThan(0, folded.FoldedFields);
        Assert.AreEqual(0, unfolded.FoldedFields);

        const int Rows = 10;
        Ctr.MLNet.Torch.Data.FeatureBlock Block(int field, int sequence, int bad)
        {
            var block = new Ctr.MLNet.Torch.Data.FeatureBlock(network.Layout, Rows);
            for (int r = 0; r < Rows; r++)
            {
                block.AddRow();
                for (int f = 0; f < block.CategoricalWidth; f++)
                    block.Categorical[r * block.CategoricalWidth + f] = r % 2;
                for (int s = 0; s < block.Sequences.Length; s++)
                {
                    var column = block.Sequences[s];
                    int start = column.Append(r, 3);
                    for (int e = 0; e < 3; e++)
                    {
                        column.Ids[start + e] = e + 1;
                        if (column.Weights is not null)
                            column.Weights[start + e] = 0.5f;
                    }
                }
            }
            // Row 7: prefetched while row 3 is read, then read.
            if (field >= 0)
                block.Categorical[7 * block.CategoricalWidth + field] = bad;
            if (sequence >= 0)
                block.Sequences[sequence].Ids[block.Sequences[sequence].Offsets[7] + 1] = bad;
            return block;
        }
        int[] rows = [.. Enumerable.Range(0, Rows)];
        var logits = new float[Rows];
        foreach (ManagedDnn managed in new[] { folded, unfolded, tableByTable })
        {
            managed.Score(Block(-1, -1, 0), rows, logits);
            Assert.IsTrue(logits.All(float.IsFinite), "ids inside the tables score");
            foreach (int bad in new[] { -1, int.MinValue, 1 << 27, 1 << 30, int.MaxValue, 5_000 })
            {
                for (int f = 0; f < network.Layout.Categorical.Length; f++)
                    Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => managed.Score(Block(f, -1, bad), rows, logits), $"field {f}, id {bad}, {managed.FoldedFields} folded");
                for (int s = 0; s < network.Layout.Sequences.Length; s++)
                    Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => managed.Score(Block(-1, s, bad), rows, logits), $"history {s}, id {bad}, fused {managed.FusesHistories}");
            }
        }
    }

    /// <summary>
    /// Infinite and NaN floats in the rows of folded tables: the rows holding those ids are NaN whether their tables are
    /// folded or not (a folded row's sums carry the infinity as the layer's would), and every other row keeps its floats.
    /// </summary>
    [TestMethod]
    public void PreparedCtrScorerTest_NonFiniteEmbeddingsInFoldedTablesGiveNaNOnlyToTheirRows()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Shoppers(600, seed: 1, longest: 5, hostile: false));
        ITransformer model = ShopperFeatures(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Configuration("NoNumerics"))).Fit(train);
        TorchCtrTransformer network = Networks(model).Single();
        var dnn = (DnnCtrModel)network.Model;
        IDataView rows = ml.Data.LoadFromEnumerable(Shoppers(300, seed: 2, longest: 5, hostile: true));
        var before = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema)!.Score(rows, before));
        using (TorchSharp.torch.no_grad())
        {
            // Every table's row 2 (brand b?, user u?, item i?): +∞ in one float, NaN in another of the user's.
            foreach ((string name, TorchSharp.Modules.Parameter weight) in dnn.named_parameters().Where(p => p.name.StartsWith("embedding.", StringComparison.Ordinal)))
            {
                weight[2, 0] = TorchSharp.torch.tensor(float.PositiveInfinity);
                if (name.Contains("UserId", StringComparison.Ordinal))
                    weight[3, 1] = TorchSharp.torch.tensor(float.NaN);
            }
        }
        ManagedDnn folded = dnn.ManagedForScoring(network.Layout)!;
        Assert.AreEqual(network.Layout.Categorical.Length, folded.FoldedFields);
        var byFolded = new float[300];
        var byInputs = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, n => folded)!.Score(rows, byFolded));
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, n => ((DnnCtrModel)n.Model).ManagedForScoring(n.Layout, maxFoldedTableBytes: 0))!.Score(rows, byInputs));
        Assert.IsGreaterThan(10, byFolded.Count(float.IsNaN), "rows holding the rows changed");
        for (int i = 0; i < 300; i++)
        {
            Assert.AreEqual(float.IsNaN(byInputs[i]), float.IsNaN(byFolded[i]), $"row {i}: unfolded {byInputs[i]}, folded {byFolded[i]}");
            if (!float.IsNaN(byFolded[i]))
            {
                Assert.AreEqual(before[i], byFolded[i], $"row {i} keeps its floats");
                Assert.AreEqual(byInputs[i], byFolded[i], 2e-6f, $"row {i}");
            }
        }
    }

    /// <summary>A pass of several chunks split over two threads gives each row the floats one thread gives it.</summary>
    [TestMethod]
    public void PreparedCtrScorerTest_TwoThreadsGiveTheFloatsOfOne()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Shoppers(800, seed: 1, longest: 5, hostile: false));
        ITransformer model = ShopperFeatures(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Configuration("ThreeSequencesMean"))).Fit(train);
        IDataView rows = ml.Data.LoadFromEnumerable(Shoppers(1_000, seed: 2, longest: 40, hostile: true));
        Assert.IsGreaterThan(0, Networks(model).Single().ManagedForScoring!.FoldedFields);
        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema)!;
        int before = TorchSharp.torch.get_num_threads();
        try
        {
            var one = new float[1_000];
            var two = new float[1_000];
            TorchSharp.torch.set_num_threads(1);
            Assert.AreEqual(1_000, sut.Score(rows, one));
            TorchSharp.torch.set_num_threads(2);
            for (int pass = 0; pass < 5; pass++)
            {
                Assert.AreEqual(1_000, sut.Score(rows, two));
                CollectionAssert.AreEqual(one, two, $"pass {pass}");
            }
            CollectionAssert.AreEqual(one, Offline(model, rows), "batched scoring on two threads");
        }
        finally
        {
            TorchSharp.torch.set_num_threads(before);
        }
    }

    [TestMethod]
    public void PreparedCtrScorerTest_OverflowingSumsGiveNaNAsTheModulesDo()
    {
        // Weights a million times larger and numbers of 1e30, which the reader accepts (they are finite): the layers'
        // sums pass Single's range. The fused multiply-adds kept the first infinity (+∞ plus an exact -1e39 is +∞), so
        // rows the modules scored NaN got plausible probabilities (such as the output bias's alone).
        (ITransformer model, _) = SavedAndLoaded((ml, train, valid) =>
        {
            TransformerChain<TorchCtrTransformer> fitted = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Network())).Fit(train);
            using (TorchSharp.torch.no_grad())
            {
                foreach ((string name, TorchSharp.Modules.Parameter weight) in fitted.LastTransformer.Model.named_parameters())
                {
                    if (name.StartsWith("mlp.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal) && weight.dim() == 2)
                        weight.mul_(1e6f);
                }
            }
            return fitted;
        });
        List<UserItemRow> generated = Generate(300, seed: 3);
        for (int i = 0; i < generated.Count; i += 3)
            generated[i].X2 = i % 2 == 0 ? 1e30f : -1e30f;
        IDataView rows = new MLContext(seed: 1).Data.LoadFromEnumerable(generated);

        float[] offline = Offline(model, rows);
        var byModules = new float[300];
        Assert.AreEqual(300, PreparedCtrScorer.TryCreate(model, rows.Schema, prepareNetworks: false)!.Score(rows, byModules));

        Assert.IsGreaterThan(50, byModules.Count(float.IsNaN), "the modules' sums overflow");
        for (int i = 0; i < offline.Length; i++)
        {
            Assert.AreEqual(float.IsNaN(byModules[i]), float.IsNaN(offline[i]), $"row {i}: modules {byModules[i]}, managed {offline[i]}");
            if (!float.IsNaN(offline[i]))
                Assert.AreEqual(byModules[i], offline[i], 2e-6f, $"row {i}");
        }
    }

    public sealed class Scored
    {
        public float Probability { get; set; }
    }

    [TestMethod]
    public void PreparedCtrScorerTest_DisposedNetworkRefusesToScore()
    {
        var ml = new MLContext(seed: 1);
        List<UserItemRow> generated = Generate(500, seed: 1);
        IDataView rows = ml.Data.LoadFromEnumerable(generated);
        TransformerChain<TorchCtrTransformer> model = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Network())).Fit(rows);
        PreparedCtrScorer scorer = PreparedCtrScorer.TryCreate(model, rows.Schema)!;
        PredictionEngine<UserItemRow, Scored> engine = ml.Model.CreatePredictionEngine<UserItemRow, Scored>(model);
        Assert.IsTrue(float.IsFinite(engine.Predict(generated[0]).Probability));

        model.LastTransformer.Dispose();

        // The managed forward's copy of the weights outlived the module: the scorer kept scoring, and Transform failed
        // only at its first row, with TorchSharp's "Cannot access a disposed object."
        void IsRefused(Action score, string what)
        {
            var e = Assert.ThrowsExactly<ObjectDisposedException>(score, what);
            Assert.Contains("load the model zip again", e.Message, what);
        }
        IsRefused(() => model.Transform(rows), "Transform");
        IsRefused(() => scorer.Score(rows, new float[500]), "a scorer prepared before");
        IsRefused(() => PreparedCtrScorer.TryCreate(model, rows.Schema), "preparing a scorer");
        IsRefused(() => engine.Predict(generated[1]), "a prediction engine made before");
    }

    [TestMethod]
    public void PreparedCtrScorerTest_OtherChainsAreNotPrepared()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Generate(500, seed: 1));
        ITransformer features = Features(ml).Fit(train);
        var network = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Network())).Fit(train);
        // A step after the network that the scorer does not know: its output could be anything.
        ITransformer after = network.Append(ml.Transforms.CopyColumns("Probability", "Score").Fit(network.Transform(train)));

        Assert.IsNull(PreparedCtrScorer.TryCreate(features, train.Schema), "no network");
        Assert.IsNull(PreparedCtrScorer.TryCreate(after, train.Schema), "a copy over Probability after the network");
        Assert.IsNotNull(PreparedCtrScorer.TryCreate(network, train.Schema));
    }

    [TestMethod]
    public void PreparedCtrScorerTest_ViewOfAnotherSchemaIsRefused()
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Generate(500, seed: 1));
        ITransformer network = Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(Network())).Fit(train);
        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(network, train.Schema)!;
        IDataView other = ml.Data.LoadFromEnumerable(new[] { new { User = "u1", Item = "i1" } });

        Assert.ThrowsExactly<ArgumentException>(() => sut.Score(other, new float[1]));
    }
}
