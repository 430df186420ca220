using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML.Trainers.FastTree;

namespace Ctr.MLNet.Torch;

/// <summary>
/// A FastTree ensemble laid out in flat arrays and walked straight from each row's key indices and numeric values,
/// without the sparse one-hot vector ML.NET builds for it and the binary searches its sparse walk does per node. The
/// margins are the floats ML.NET's own scoring gives (<c>InternalTreeEnsemble.GetOutput</c>, Microsoft.ML.FastTree
/// 6.0): each tree's leaf value summed in tree order in double from 0, a tree without splits adding 0, the sum cast to
/// float; <c>TreeWeights</c> and <c>Bias</c> are not applied, as ML.NET does not apply them. A numeric split goes left
/// when <c>value &lt;= threshold</c> (so NaN goes right), a categorical split goes right when any of its features is
/// above 0. FastTree's trainer leaves no per-node default for missing values (only LightGBM's converted trees carry
/// them), so NaN is used as it is.
/// </summary>
internal sealed class FlatTreeEnsemble
{
    private readonly Node[] _nodes;
    private readonly CategoricalTest[] _tests;
    private readonly ulong[] _bits;
    private readonly double[] _leaves;
    private readonly int[] _roots;

    private FlatTreeEnsemble(Node[] nodes, CategoricalTest[] tests, ulong[] bits, double[] leaves, int[] roots, int oneHotParts, int numericWidth)
    {
        _nodes = nodes;
        _tests = tests;
        _bits = bits;
        _leaves = leaves;
        _roots = roots;
        OneHotParts = oneHotParts;
        NumericWidth = numericWidth;
    }

    /// <summary>One-hot parts of the feature vector: <see cref="Score"/> takes one hot feature index (or -1) per part.</summary>
    public int OneHotParts { get; }

    /// <summary>Floats of the numeric parts together: <see cref="Score"/> takes them in feature order.</summary>
    public int NumericWidth { get; }

    /// <summary>
    /// Lays out <paramref name="trees"/>, which read a feature vector made of <paramref name="parts"/> in order, or
    /// returns null when a tree does something this layout cannot reproduce exactly (a child or feature index out of
    /// range, categorical features missing, unsorted or outside the range ML.NET's sparse walk searches).
    /// </summary>
    public static FlatTreeEnsemble? TryCreate(RegressionTreeEnsemble trees, IReadOnlyList<TreeInputPart> parts)
    {
        ArgumentNullException.ThrowIfNull(trees);
        ArgumentNullException.ThrowIfNull(parts);
        var starts = new int[parts.Count]; // first feature index of each part
        var inputs = new int[parts.Count]; // its one-hot part number, or its first numeric slot
        int featureCount = 0, oneHot = 0, numeric = 0;
        for (int p = 0; p < parts.Count; p++)
        {
            starts[p] = featureCount;
            featureCount = checked(featureCount + parts[p].Width);
            inputs[p] = parts[p].IsOneHot ? oneHot++ : (numeric += parts[p].Width) - parts[p].Width;
        }
        int PartOf(int feature)
        {
            int at = Array.BinarySearch(starts, feature);
            return at >= 0 ? at : ~at - 1;
        }

        var nodes = new List<Node>();
        var tests = new List<CategoricalTest>();
        var bits = new List<ulong>();
        var leaves = new List<double>();
        var roots = new int[trees.Trees.Count];
        for (int t = 0; t < trees.Trees.Count; t++)
        {
            RegressionTree tree = trees.Trees[t];
            int nodeBase = nodes.Count, leafBase = leaves.Count;
            if (tree.NumberOfNodes == 0)
            {
                roots[t] = ~leafBase; // ML.NET adds 0 for a tree without splits, not its one leaf value
                leaves.Add(0.0);
                continue;
            }
            bool IsChild(int child) => child >= 0 ? child < tree.NumberOfNodes : ~child < tree.NumberOfLeaves;
            int Child(int child) => child >= 0 ? nodeBase + child : ~(leafBase + ~child);
            for (int n = 0; n < tree.NumberOfNodes; n++)
            {
                if (!IsChild(tree.LeftChild[n]) || !IsChild(tree.RightChild[n]))
                    return null;
                var node = new Node { Left = Child(tree.LeftChild[n]), Right = Child(tree.RightChild[n]), Threshold = tree.NumericalSplitThresholds[n] };
                if (tree.CategoricalSplitFlags[n])
                {
                    int first = tests.Count;
                    if (!AddCategoricalTests(tree.GetCategoricalSplitFeaturesAt(n), tree.GetCategoricalCategoricalSplitFeatureRangeAt(n)))
                        return null;
                    if (tests.Count - first == 1 && tests[first].Input >= 0)
                    {
                        // The usual case, kept in the node: features of one one-hot part.
                        CategoricalTest test = tests[first];
                        (node.Kind, node.Input, node.Low, node.High, node.Bits) = (NodeKind.OneHotSet, test.Input, test.Low, test.High, test.Bits);
                        tests.RemoveAt(first);
                    }
                    else
                    {
                        (node.Kind, node.Low, node.High) = (NodeKind.Categorical, first, tests.Count);
                    }
                }
                else
                {
                    int feature = tree.NumericalSplitFeatureIndexes[n];
                    if (feature < 0 || feature >= featureCount)
                        return null;
                    int p = PartOf(feature);
                    (node.Kind, node.Input, node.Low) = parts[p].IsOneHot
                        ? (NodeKind.OneHotValue, inputs[p], feature)
                        : (NodeKind.Numeric, inputs[p] + feature - starts[p], 0);
                }
                nodes.Add(node);
            }
            leaves.AddRange(tree.LeafValues);
            roots[t] = nodeBase;
        }
        return new FlatTreeEnsemble([.. nodes], [.. tests], [.. bits], [.. leaves], roots, oneHot, numeric);

        // A categorical node goes right when any of its features is above 0: per one-hot part, whether the hot feature
        // is in a bit set over the node's features of that part; per numeric feature, its value.
        bool AddCategoricalTests(IReadOnlyList<int> features, IReadOnlyList<int> range)
        {
            if (features.Count == 0)
                return false; // ML.NET's walk fails on such a node; leave the model to it
            for (int i = 0; i < features.Count; i++)
            {
                if (features[i] < 0 || features[i] >= featureCount || (i > 0 && features[i] <= features[i - 1]))
                    return false; // ML.NET's sparse walk binary-searches them
            }
            // ML.NET's sparse walk looks only inside the range; its dense walk at every feature. They agree when the
            // range holds them all.
            if (range.Count != 2 || range[0] > features[0] || range[1] < features[^1])
                return false;
            for (int i = 0; i < features.Count;)
            {
                int p = PartOf(features[i]);
                if (!parts[p].IsOneHot)
                {
                    tests.Add(new CategoricalTest { Input = ~(inputs[p] + features[i] - starts[p]) });
                    i++;
                    continue;
                }
                int end = i;
                while (end < features.Count && features[end] < starts[p] + parts[p].Width)
                    end++;
                int low = features[i], high = features[end - 1];
                var test = new CategoricalTest { Input = inputs[p], Low = low, High = high, Bits = bits.Count };
                bits.AddRange(new ulong[(high - low) / 64 + 1]);
                for (int k = i; k < end; k++)
                    bits[test.Bits + (features[k] - low) / 64] |= 1UL << ((features[k] - low) % 64);
                tests.Add(test);
                i = end;
            }
            return true;
        }
    }

    /// <summary>
    /// The ensemble's margin for one row: <paramref name="hot"/> holds, per one-hot part, the feature index that is 1
    /// (or -1 when the part is all 0); <paramref name="numbers"/> the numeric parts' floats.
    /// </summary>
    public float Score(ReadOnlySpan<int> hot, ReadOnlySpan<float> numbers)
    {
        Node[] nodes = _nodes;
        double sum = 0;
        foreach (int root in _roots)
        {
            int at = root;
            while (at >= 0)
            {
                ref readonly Node node = ref nodes[at];
                bool right = node.Kind switch
                {
                    NodeKind.OneHotSet => InSet(hot[node.Input], node.Low, node.High, node.Bits),
                    NodeKind.Numeric => !(numbers[node.Input] <= node.Threshold),
                    NodeKind.OneHotValue => !((hot[node.Input] == node.Low ? 1f : 0f) <= node.Threshold),
                    _ => AnyAboveZero(node.Low, node.High, hot, numbers),
                };
                at = right ? node.Right : node.Left;
            }
            sum += _leaves[~at];
        }
        return (float)sum;
    }

    /// <summary>Whether <paramref name="feature"/> (-1 for none) is in the bit set over features low..high.</summary>
    private bool InSet(int feature, int low, int high, int bits)
    {
        uint offset = (uint)(feature - low);
        return offset <= (uint)(high - low) && (_bits[bits + (int)(offset / 64)] & (1UL << (int)(offset % 64))) != 0;
    }

    private bool AnyAboveZero(int first, int end, ReadOnlySpan<int> hot, ReadOnlySpan<float> numbers)
    {
        for (int i = first; i < end; i++)
        {
            ref readonly CategoricalTest test = ref _tests[i];
            if (test.Input < 0 ? numbers[~test.Input] > 0f : InSet(hot[test.Input], test.Low, test.High, test.Bits))
                return true;
        }
        return false;
    }

    private enum NodeKind : byte
    {
        OneHotSet, // a categorical split on features of one one-hot part
        Numeric,
        OneHotValue, // a numeric split on a one-hot feature
        Categorical, // any other categorical split
    }

    private struct Node
    {
        public int Left; // a node index, or ~leaf
        public int Right;
        public int Input; // OneHotSet, OneHotValue: the one-hot part; Numeric: the numeric slot
        public int Low; // OneHotSet: the set's first feature; OneHotValue: the feature; Categorical: the first test
        public int High; // OneHotSet: the set's last feature; Categorical: the end of its tests
        public int Bits; // OneHotSet: where its bit set starts
        public float Threshold;
        public NodeKind Kind;
    }

    private struct CategoricalTest
    {
        public int Input;
        public int Low;
        public int High;
        public int Bits;
    }
}

/// <summary>One input of a tree ensemble's feature vector: a key column one-hot (its key count wide) or a numeric column.</summary>
/// <param name="ColumnName">The key column (one-hot) or the float column (numeric).</param>
/// <param name="Width">Features it takes in the vector (at least 1).</param>
/// <param name="IsOneHot">A key column made one-hot, its key k (1-based) the feature k - 1, key 0 none.</param>
internal sealed record TreeInputPart(string ColumnName, int Width, bool IsOneHot);
