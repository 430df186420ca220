using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class FlatTreeEnsembleTest
{
    /// <summary>
    /// Rows where users and items matter through their ids and x1, x2 through a cut; with <paramref name="oddities"/>,
    /// also users and items never seen in training, empty items, x1 missing (NaN) and, with <paramref name="missingX2"/>,
    /// x2 missing.
    /// </summary>
    private static List<UserItemRow> Generate(int count, int seed, bool oddities, bool missingX2 = false)
    {
        var random = new Random(seed);
        var rows = new List<UserItemRow>(count);
        for (int i = 0; i < count; i++)
        {
            int u = random.Next(40), v = random.Next(30);
            float x1 = (float)(random.NextDouble() * 2 - 1), x2 = (float)(random.NextDouble() * 2 - 1);
            double logit = -1 + (u % 3 == 0 ? 1.5 : 0) - (v % 4 == 0 ? 1.2 : 0) + (x1 > 0.3 && x2 < 0 ? 2 : 0);
            var row = new UserItemRow { Label = random.NextDouble() < 1 / (1 + Math.Exp(-logit)), User = $"u{u}", Item = $"i{v}", X1 = x1, X2 = x2 };
            if (oddities)
            {
                switch (i % 7)
                {
                    case 1: row.User = $"new{i}"; break;
                    case 2: row.Item = ""; break;
                    case 3: row.X1 = float.NaN; break;
                    case 4: row.X2 = missingX2 ? float.NaN : row.X2; break;
                    case 5: (row.User, row.Item, row.X2) = ($"new{i}", $"new{i}", missingX2 ? float.NaN : row.X2); break;
                }
            }
            rows.Add(row);
        }
        return rows;
    }

    private static IEstimator<ITransformer> Features(MLContext ml) =>
        ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("UserId", "User"),
                new VocabularyEstimator.ColumnOptions("ItemId", "Item"))
            .Append(ml.Ctr().Transforms.Normalize("X1")) // fills its NaN
            .Append(ml.Transforms.Concatenate("Numbers", "X1", "X2"));

    private static (ITransformer Model, IDataView Rows) SavedAndLoaded(Func<MLContext, IDataView, IDataView, ITransformer> fit, bool missingX2)
    {
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(Generate(3_000, seed: 1, oddities: false));
        IDataView valid = ml.Data.LoadFromEnumerable(Generate(600, seed: 2, oddities: false));
        ITransformer model = fit(ml, train, valid);
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "model.zip");
        ml.Model.Save(model, train.Schema, path);
        var fresh = new MLContext(seed: 7);
        return (fresh.Model.Load(path, out _), fresh.Data.LoadFromEnumerable(Generate(700, seed: 3, oddities: true, missingX2)));
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    private static FastTreeBinaryModelParameters Trees(ITransformer model) =>
        (FastTreeBinaryModelParameters)((CalibratedModelParametersBase)Flatten(model).OfType<ISingleFeaturePredictionTransformer<object>>().Single().Model).SubModel;

    /// <summary>
    /// Checks what the rows of <paramref name="scored"/> exercise in <paramref name="trees"/>: categorical splits whose
    /// features some rows have and others not, and numeric splits on x1 and x2 (the vector's last two features).
    /// </summary>
    private static void CheckCoverage(FastTreeBinaryModelParameters trees, IDataView scored)
    {
        var categorical = new List<HashSet<int>>();
        var numeric = new HashSet<int>();
        foreach (RegressionTree tree in trees.TrainedTreeEnsemble.Trees)
        {
            for (int n = 0; n < tree.NumberOfNodes; n++)
            {
                if (tree.CategoricalSplitFlags[n])
                    categorical.Add([.. tree.GetCategoricalSplitFeaturesAt(n)]);
                else
                    numeric.Add(tree.NumericalSplitFeatureIndexes[n]);
            }
        }
        float[][] vectors = [.. scored.GetColumn<VBuffer<float>>(TreeFeatures).Select(v => v.DenseValues().ToArray())]; // the buffers are reused
        int width = vectors[0].Length;
        int split = categorical.Count(set =>
        {
            int hitting = vectors.Count(v => set.Any(feature => v[feature] > 0));
            return hitting > 0 && hitting < vectors.Length;
        });
        Assert.IsGreaterThan(0, split, $"of {categorical.Count} categorical splits, one that sends some rows each way");
        Assert.IsTrue(numeric.Contains(width - 2) && numeric.Contains(width - 1), "numeric splits on x1 and x2");
    }

    private const string TreeFeatures = "Ctr.TreeFeatures";

    [TestMethod]
    public void FlatTreeEnsembleTest_HybridMarginsAndProbabilitiesAreMLNetsBitForBit()
    {
        (ITransformer model, IDataView rows) = SavedAndLoaded((ml, train, valid) =>
        {
            ITransformer features = Features(ml).Fit(train);
            var options = new HybridCtrTrainer.Options
            {
                Network = new TorchCtrTrainer.Options
                {
                    NumericColumnNames = ["Numbers"],
                    Epochs = 1,
                    BatchSize = 256,
                    Threads = 1,
                    Model = new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4 },
                },
                NumberOfNetworks = 1,
                NumberOfTrees = 30,
                NumberOfLeaves = 8,
                MinimumExampleCountPerLeaf = 20,
            };
            return features.Append(ml.BinaryClassification.Trainers.TorchCtrWithTrees(options).Fit(features.Transform(train), features.Transform(valid)));
        }, missingX2: false); // the networks refuse NaN, so only x1's, filled, is in these rows
        PreparedCtrScorer sut = PreparedCtrScorer.TryCreate(model, rows.Schema) ?? throw new AssertFailedException("a hybrid as train saves it is prepared");
        Assert.IsTrue(sut.EvaluatesTrees, "the trees are walked by the scorer, not read from ML.NET's transforms");

        var probabilities = new float[700];
        Assert.AreEqual(700, sut.Score(rows, probabilities));
        float[] margins = sut.TreeMargins(700).ToArray();

        IDataView offline = model.Transform(rows);
        float[] expected = [.. offline.GetColumn<float>(HybridCtrTrainer.TreeScoreColumnName)];
        for (int i = 0; i < 700; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(margins[i]), $"row {i}: margin {expected[i]:R} from ML.NET, {margins[i]:R} here");
        CollectionAssert.AreEqual(offline.GetColumn<float>("Probability").ToArray(), probabilities);
        Assert.IsGreaterThan(20, margins.Distinct().Count(), "rows get different margins");
        CheckCoverage(Trees(model), offline);
    }

    /// <summary>
    /// FastTree on the hybrid's kind of vector, with a raw x2 whose NaN reaches the trees (no network refuses it), and
    /// items keyed by ML.NET's MapValueToKey, whose key 0 for a value not seen in training makes its one-hot part all 0.
    /// </summary>
    private static (ITransformer Model, IDataView Rows) TreesWithMissingNumbers() => SavedAndLoaded((ml, train, _) =>
    {
        IEstimator<ITransformer> trees = Features(ml)
            .Append(ml.Transforms.Conversion.MapValueToKey("ItemKey", "Item"))
            .Append(ml.Transforms.Conversion.MapKeyToVector("Ctr.Tree.UserId", "UserId"))
            .Append(ml.Transforms.Conversion.MapKeyToVector("Ctr.Tree.ItemId", "ItemKey"))
            .Append(ml.Transforms.Concatenate(TreeFeatures, "Ctr.Tree.UserId", "Ctr.Tree.ItemId", "Numbers"))
            .Append(ml.BinaryClassification.Trainers.FastTree(new FastTreeBinaryTrainer.Options
            {
                FeatureColumnName = TreeFeatures,
                NumberOfTrees = 30,
                NumberOfLeaves = 8,
                MinimumExampleCountPerLeaf = 20,
                CategoricalSplit = true,
                NumberOfThreads = 1,
            }))
            .Append(ml.Transforms.CopyColumns("Margin", "Score"));
        return trees.Fit(train);
    }, missingX2: true);

    /// <summary>
    /// The flat trees of <paramref name="model"/> (its tree steps end in a copy of their score to <c>Margin</c>), every
    /// row's inputs as the block reader reads them, and the margins it gives for all the rows together.
    /// </summary>
    private static (PreparedTrees.Evaluator Trees, int[] Hot, float[] Numbers, float[] Margins) ReadTreeInputs(ITransformer model, IDataView rows)
    {
        List<ITransformer> steps = [.. Flatten(model)];
        PreparedTrees found = PreparedTrees.TryFind(steps, steps.Count, "Margin") ?? throw new AssertFailedException("the tree steps are found");
        IRowToRowMapper before = ((ITransformer)new TransformerChain<ITransformer>([.. steps.Take(found.Start)])).GetRowToRowMapper(rows.Schema);
        PreparedTrees.Evaluator trees = found.TryBind(before.OutputSchema, out var produced) ?? throw new AssertFailedException("the trees are laid out");
        CollectionAssert.IsSubsetOf(new[] { "Ctr.Tree.UserId", TreeFeatures, "Score", "Margin" }, produced.ToArray());
        using DataViewRowCursor cursor = rows.GetRowCursor(rows.Schema);
        using DataViewRow row = before.GetRow(cursor, trees.Parts.Select(p => before.OutputSchema[p.ColumnName]));
        PreparedTrees.BlockReader reader = trees.Bind(row);
        int count = 0;
        while (cursor.MoveNext())
            reader.Read(count++);
        var margins = new float[count];
        reader.Score(margins);
        return (trees, reader.Hot(count).ToArray(), reader.Numbers(count).ToArray(), margins);
    }

    [TestMethod]
    public void FlatTreeEnsembleTest_MissingNumbersGoWhereMLNetSendsThem()
    {
        (ITransformer model, IDataView rows) = TreesWithMissingNumbers();
        float[] margins = ReadTreeInputs(model, rows).Margins;

        IDataView offline = model.Transform(rows);
        float[] expected = [.. offline.GetColumn<float>("Margin")];
        Assert.HasCount(expected.Length, margins);
        for (int i = 0; i < expected.Length; i++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[i]), BitConverter.SingleToInt32Bits(margins[i]), $"row {i}: margin {expected[i]:R} from ML.NET, {margins[i]:R} here");
        Assert.IsGreaterThan(50, offline.GetColumn<VBuffer<float>>("Numbers").Count(v => float.IsNaN(v.GetItemOrDefault(1))), "rows with x2 missing");
        Assert.IsGreaterThan(20, expected.Distinct().Count(), "rows get different margins");
        CheckCoverage(Trees(model), offline);
    }

    [TestMethod]
    public void FlatTreeEnsembleTest_BlockWalkGivesEachRowTheOneRowWalksMarginBitForBit()
    {
        (ITransformer model, IDataView rows) = TreesWithMissingNumbers();
        (PreparedTrees.Evaluator trees, int[] hot, float[] numbers, _) = ReadTreeInputs(model, rows);
        IDataView offline = model.Transform(rows);
        float[] expected = [.. offline.GetColumn<float>("Margin")];
        CheckCoverage(Trees(model), offline);
        Assert.IsGreaterThan(50, hot.Count(h => h == -1), "rows with a one-hot part all 0 (an item not seen in training)");
        Assert.IsTrue(numbers.Any(float.IsNaN), "rows with a number missing");
        // The same trees with three more that have no split (and a leaf value ML.NET does not add) among them.
        RegressionTreeEnsemble padded = WithTreesWithoutSplits(Trees(model).TrainedTreeEnsemble, 0, 7, 30);
        Assert.AreEqual(3, padded.Trees.Count(t => t.NumberOfNodes == 0));
        FlatTreeEnsemble withoutSplits = FlatTreeEnsemble.TryCreate(padded, trees.Parts) ?? throw new AssertFailedException("trees without splits are laid out");

        int count = expected.Length, parts = trees.Ensemble.OneHotParts, width = trees.Ensemble.NumericWidth;
        foreach (FlatTreeEnsemble sut in (FlatTreeEnsemble[])[trees.Ensemble, withoutSplits])
        {
            var oneRow = new float[count];
            for (int r = 0; r < count; r++)
                oneRow[r] = sut.Score(hot.AsSpan(r * parts, parts), numbers.AsSpan(r * width, width));
            for (int r = 0; r < count; r++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[r]), BitConverter.SingleToInt32Bits(oneRow[r]), $"row {r}: margin {expected[r]:R} from ML.NET, {oneRow[r]:R} from the one-row walk");
            // Blocks of one row, fewer than the rows walked together, as many, a whole number of them plus 2 and plus 5, and more.
            foreach (int size in (int[])[1, 3, 8, 10, 13, 100, count])
            {
                var margins = new float[size];
                for (int first = 0; first < count; first += size)
                {
                    int rowsHere = Math.Min(size, count - first);
                    sut.Score(hot.AsSpan(first * parts, rowsHere * parts), numbers.AsSpan(first * width, rowsHere * width), margins.AsSpan(0, rowsHere));
                    for (int r = 0; r < rowsHere; r++)
                        Assert.AreEqual(BitConverter.SingleToInt32Bits(oneRow[first + r]), BitConverter.SingleToInt32Bits(margins[r]), $"blocks of {size}, row {first + r}: {oneRow[first + r]:R} from the one-row walk, {margins[r]:R} from the block walk");
                }
            }
        }
    }

    [TestMethod]
    public void FlatTreeEnsembleTest_NumbersAtAndAroundTheThresholdsGoWhereMLNetSendsThem()
    {
        (ITransformer model, IDataView rows) = TreesWithMissingNumbers();
        (PreparedTrees.Evaluator trees, int[] realHot, _, _) = ReadTreeInputs(model, rows);
        RegressionTreeEnsemble ensemble = Trees(model).TrainedTreeEnsemble;
        int parts = trees.Ensemble.OneHotParts, width = trees.Ensemble.NumericWidth, features = trees.Parts.Sum(p => p.Width);
        Assert.AreEqual(2, width);
        // Every value a threshold of x1 or x2 sits at, its neighbours, and the floats at the edges.
        var values = new List<float> { 0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1e38f, -1e38f, float.MaxValue, float.MinValue, float.Epsilon, -float.Epsilon, 1e-40f, -1e-40f };
        foreach (RegressionTree tree in ensemble.Trees)
        {
            for (int n = 0; n < tree.NumberOfNodes; n++)
            {
                if (!tree.CategoricalSplitFlags[n] && tree.NumericalSplitFeatureIndexes[n] >= features - width)
                    values.AddRange([tree.NumericalSplitThresholds[n], MathF.BitIncrement(tree.NumericalSplitThresholds[n]), MathF.BitDecrement(tree.NumericalSplitThresholds[n])]);
            }
        }
        Assert.IsGreaterThan(30, values.Count, "thresholds on x1 and x2");
        var random = new Random(5);
        int count = values.Count * 2;
        var hot = new int[count * parts];
        var numbers = new float[count * width];
        for (int r = 0; r < count; r++)
        {
            realHot.AsSpan(r % (realHot.Length / parts) * parts, parts).CopyTo(hot.AsSpan(r * parts));
            numbers[r * width + r % 2] = values[r / 2];
            numbers[r * width + 1 - r % 2] = values[random.Next(values.Count)];
        }
        // ML.NET's own walk (InternalTreeEnsemble.GetOutput(in VBuffer<float>), internal, so called by reflection).
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        object internalEnsemble = typeof(TreeEnsembleModelParameters).GetProperty("TrainedEnsemble", Any)!.GetValue(Trees(model))!;
        MethodInfo getOutput = internalEnsemble.GetType().GetMethods(Any).Single(m => m.Name == "GetOutput" && m.GetParameters() is [{ ParameterType: var type }] && type == typeof(VBuffer<float>).MakeByRefType());
        var expected = new float[count];
        var dense = new float[features];
        for (int r = 0; r < count; r++)
        {
            Array.Clear(dense);
            foreach (int h in hot.AsSpan(r * parts, parts))
            {
                if (h >= 0)
                    dense[h] = 1;
            }
            numbers.AsSpan(r * width, width).CopyTo(dense.AsSpan(features - width));
            var vector = new VBuffer<float>(features, dense);
            object[] arguments = [vector];
            expected[r] = (float)(double)getOutput.Invoke(internalEnsemble, arguments)!;
        }
        foreach (int size in (int[])[1, 3, 8, 13, count])
        {
            var margins = new float[size];
            for (int first = 0; first < count; first += size)
            {
                int rowsHere = Math.Min(size, count - first);
                trees.Ensemble.Score(hot.AsSpan(first * parts, rowsHere * parts), numbers.AsSpan(first * width, rowsHere * width), margins.AsSpan(0, rowsHere));
                for (int r = 0; r < rowsHere; r++)
                    Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[first + r]), BitConverter.SingleToInt32Bits(margins[r]), $"blocks of {size}, row {first + r} (x1 {numbers[(first + r) * width]:R}, x2 {numbers[(first + r) * width + 1]:R}): {expected[first + r]:R} from ML.NET's trees, {margins[r]:R} here");
            }
        }
    }

    /// <summary>
    /// <paramref name="trees"/> with a tree without splits (its one leaf worth 0.37) inserted before each index of
    /// <paramref name="at"/>. ML.NET's types for it have internal constructors only, so they are called by reflection.
    /// </summary>
    private static RegressionTreeEnsemble WithTreesWithoutSplits(RegressionTreeEnsemble trees, params int[] at)
    {
        const BindingFlags Any = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic;
        Type internalTree = typeof(RegressionTree).Assembly.GetType("Microsoft.ML.Trainers.FastTree.InternalRegressionTree", throwOnError: true)!;
        List<RegressionTree> list = [.. trees.Trees];
        foreach (int index in at.OrderDescending())
        {
            // A new tree has one leaf; training then sets its raw thresholds, as here.
            object leaf = Activator.CreateInstance(internalTree, Any, null, [2], null)!;
            internalTree.GetProperty("RawThresholds", Any)!.SetValue(leaf, new float[1]);
            internalTree.GetMethod("SetLeafValue", Any)!.Invoke(leaf, [0, 0.37]);
            list.Insert(index, (RegressionTree)Activator.CreateInstance(typeof(RegressionTree), Any, null, [leaf], null)!);
        }
        return (RegressionTreeEnsemble)Activator.CreateInstance(typeof(RegressionTreeEnsemble), Any, null, [list, list.Select(_ => 1.0), 0.0], null)!;
    }
}
