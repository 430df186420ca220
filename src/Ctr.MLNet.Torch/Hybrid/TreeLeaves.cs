using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The structure of a fitted tree ensemble, enough to tell which leaf of each tree a feature vector reaches: the
/// leaves as ids (He et al. 2014, "Practical lessons from predicting clicks on ads at Facebook"). Leaves are numbered
/// over the whole ensemble, tree after tree, so tree t's leaf l is <c>LeafStart(t) + l</c>. A node follows ML.NET's
/// own walk (Microsoft.ML.FastTree 6.0, <c>InternalRegressionTree.GetLeaf</c>): a numeric split goes left when
/// <c>value &lt;= threshold</c> (so NaN goes right), a categorical split goes right when any of its features is above 0,
/// and a tree without splits has one leaf.
/// </summary>
internal sealed class TreeLeaves
{
    private readonly int[] _roots;      // per tree: its first node, or ~(its only leaf) for a tree without splits
    private readonly int[] _left;       // per node: a node index, or ~(global leaf)
    private readonly int[] _right;
    private readonly int[] _feature;    // per node: the numeric split's feature, or -1 - (first of its categorical features)
    private readonly float[] _threshold;
    private readonly int[] _categorical; // the categorical nodes' features, each node's list ended by -1

    private TreeLeaves(int featureCount, int[] roots, int[] left, int[] right, int[] feature, float[] threshold, int[] categorical, int leafCount)
    {
        FeatureCount = featureCount;
        _roots = roots;
        _left = left;
        _right = right;
        _feature = feature;
        _threshold = threshold;
        _categorical = categorical;
        LeafCount = leafCount;
    }

    /// <summary>Width of the feature vector the trees read.</summary>
    public int FeatureCount { get; }

    /// <summary>Trees, so ids per row.</summary>
    public int TreeCount => _roots.Length;

    /// <summary>Leaves over every tree: the ids are 0 … LeafCount − 1.</summary>
    public int LeafCount { get; }

    /// <summary>Lays out <paramref name="trees"/>, which read vectors of <paramref name="featureCount"/> floats.</summary>
    public static TreeLeaves Create(RegressionTreeEnsemble trees, int featureCount)
    {
        var (roots, left, right, feature, threshold, categorical) = (new List<int>(), new List<int>(), new List<int>(), new List<int>(), new List<float>(), new List<int>());
        int leaves = 0;
        foreach (RegressionTree tree in trees.Trees)
        {
            if (tree.NumberOfNodes == 0)
            {
                roots.Add(~leaves++);
                continue;
            }
            int nodeBase = left.Count;
            // Read checks that a child node comes after its parent, as FastTree numbers them: check it here too.
            int Child(int child, int parent) => child >= 0 ? nodeBase + CheckIndex(child, parent + 1, tree.NumberOfNodes) : ~(leaves + CheckIndex(~child, 0, tree.NumberOfLeaves));
            for (int n = 0; n < tree.NumberOfNodes; n++)
            {
                left.Add(Child(tree.LeftChild[n], n));
                right.Add(Child(tree.RightChild[n], n));
                threshold.Add(tree.NumericalSplitThresholds[n]);
                if (tree.CategoricalSplitFlags[n])
                {
                    feature.Add(-1 - categorical.Count);
                    categorical.AddRange(tree.GetCategoricalSplitFeaturesAt(n).Select(f => CheckIndex(f, 0, featureCount)));
                    categorical.Add(-1);
                }
                else
                {
                    feature.Add(CheckIndex(tree.NumericalSplitFeatureIndexes[n], 0, featureCount));
                }
            }
            roots.Add(nodeBase);
            leaves += tree.NumberOfLeaves;
        }
        return new TreeLeaves(featureCount, [.. roots], [.. left], [.. right], [.. feature], [.. threshold], [.. categorical], leaves);
    }

    private static int CheckIndex(int index, int low, int count) =>
        index >= low && index < count ? index : throw new InvalidOperationException($"The tree ensemble refers to index {index} outside {low}..{count - 1}; it cannot be laid out as leaves.");

    /// <summary>Writes each tree's leaf for <paramref name="features"/> (dense, <see cref="FeatureCount"/> wide) to <paramref name="leaves"/>.</summary>
    public void Find(ReadOnlySpan<float> features, Span<int> leaves)
    {
        for (int t = 0; t < _roots.Length; t++)
        {
            int at = _roots[t];
            while (at >= 0)
            {
                int f = _feature[at];
                bool right = f >= 0 ? !(features[f] <= _threshold[at]) : AnyAboveZero(features, -1 - f);
                at = right ? _right[at] : _left[at];
            }
            leaves[t] = ~at;
        }
    }

    private bool AnyAboveZero(ReadOnlySpan<float> features, int first)
    {
        for (int i = first; _categorical[i] >= 0; i++)
        {
            if (features[_categorical[i]] > 0)
                return true;
        }
        return false;
    }

    // Binary format
    //   int: feature count, int: trees T, int: nodes N, int: leaves L, int: categorical list length C
    //   T ints: roots; N × (int left, int right, int feature, float threshold); C ints: categorical lists
    internal void Write(BinaryWriter writer)
    {
        writer.Write(FeatureCount);
        writer.Write(_roots.Length);
        writer.Write(_left.Length);
        writer.Write(LeafCount);
        writer.Write(_categorical.Length);
        foreach (int root in _roots)
            writer.Write(root);
        for (int n = 0; n < _left.Length; n++)
        {
            writer.Write(_left[n]);
            writer.Write(_right[n]);
            writer.Write(_feature[n]);
            writer.Write(_threshold[n]);
        }
        foreach (int f in _categorical)
            writer.Write(f);
    }

    /// <summary>Reads what <see cref="Write"/> wrote, checking every index so a damaged file cannot walk out of range.</summary>
    internal static TreeLeaves Read(BinaryReader reader)
    {
        int featureCount = reader.ReadInt32(), trees = reader.ReadInt32(), nodes = reader.ReadInt32(), leaves = reader.ReadInt32(), categoricalLength = reader.ReadInt32();
        if (featureCount < 1 || trees is < 1 or > 1 << 20 || nodes is < 0 or > 1 << 26 || leaves < trees || leaves > nodes + trees || categoricalLength is < 0 or > 1 << 28)
            throw new FormatException($"The model file's tree leaves have impossible sizes ({featureCount} features, {trees} trees, {nodes} nodes, {leaves} leaves); the file is corrupt.");
        int[] roots = ReadInts(reader, trees);
        var (left, right, feature, threshold) = (new int[nodes], new int[nodes], new int[nodes], new float[nodes]);
        for (int n = 0; n < nodes; n++)
            (left[n], right[n], feature[n], threshold[n]) = (reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadSingle());
        int[] categorical = ReadInts(reader, categoricalLength);
        // A child node comes after its parent (as FastTree numbers them), so a walk always ends.
        bool Child(int child, int parent) => child >= 0 ? child > parent && child < nodes : ~child < leaves;
        bool valid = roots.All(r => Child(r, -1))
            && Enumerable.Range(0, nodes).All(n => Child(left[n], n) && Child(right[n], n))
            && feature.All(f => f >= 0 ? f < featureCount : -1 - f < categoricalLength)
            && categorical.All(f => f < featureCount) && (categoricalLength == 0 || categorical[^1] == -1);
        if (!valid)
            throw new FormatException("The model file's tree leaves refer to nodes, leaves or features that do not exist; the file is corrupt.");
        return new TreeLeaves(featureCount, roots, left, right, feature, threshold, categorical, leaves);
    }

    private static int[] ReadInts(BinaryReader reader, int count)
    {
        var values = new int[count];
        for (int i = 0; i < count; i++)
            values[i] = reader.ReadInt32();
        return values;
    }
}
