using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// them), so NaN is used as it is. One row is walked with a branch per node; rows scored together are walked tree
/// after tree, several at once, through a second layout of the same nodes in which every split is one branch-free set
/// test (<see cref="Split"/>), and give each row the same float.
/// </summary>
internal sealed class FlatTreeEnsemble
{
    private readonly Node[] _nodes;
    private readonly CategoricalTest[] _tests;
    private readonly ulong[] _bits;
    private readonly double[] _leaves;
    private readonly int[] _roots;
    private readonly Split[]? _splits; // the block walk's form of the nodes (see LayOutSplits)
    private readonly ulong[] _splitBits;
    private readonly int[] _splitRoots;
    private readonly float[][] _cuts; // per numeric slot, the thresholds that bin its values

    private FlatTreeEnsemble(Node[] nodes, CategoricalTest[] tests, ulong[] bits, double[] leaves, int[] roots, int oneHotParts, int numericWidth)
    {
        _nodes = nodes;
        _tests = tests;
        _bits = bits;
        _leaves = leaves;
        _roots = roots;
        OneHotParts = oneHotParts;
        NumericWidth = numericWidth;
        (_splits, _splitBits, _splitRoots, _cuts) = LayOutSplits(nodes, bits, roots, leaves.Length, oneHotParts, numericWidth);
    }

    /// <summary>One-hot parts of the feature vector: a row is one hot feature index (or -1) per part.</summary>
    public int OneHotParts { get; }

    /// <summary>Floats of the numeric parts together: a row has them in feature order.</summary>
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

    /// <summary>Rows a block walk packs and sums at once: their packed rows and sums stay in L1 while every tree is walked.</summary>
    private const int BlockRows = 64;

    /// <summary>
    /// Rows walked through a tree together: on the default model eight ran at 2.3-3.2× the one-row walk's rows/s, four
    /// at 2.2-2.4× (benchmarks/results/serving-trees-block-walk.md and runs before it).
    /// </summary>
    private const int Lanes = 8;

    /// <summary>
    /// The margins of several rows, as <see cref="Score(ReadOnlySpan{int}, ReadOnlySpan{float})"/> gives each, bit for
    /// bit: <paramref name="hot"/> holds <see cref="OneHotParts"/> ints per row and <paramref name="numbers"/>
    /// <see cref="NumericWidth"/> floats per row, row after row; <paramref name="margins"/> gets one float per row.
    /// Tree after tree over a block of rows, eight rows through a tree at once without a branch on the way they take,
    /// so their dependent loads overlap and a tree's splits stay in cache; each row's leaf values are still summed in
    /// tree order. Three to seven rows left over go through as eight (the last repeated), one or two take the one-row
    /// walk, whose predicted branches serve a lone row best.
    /// </summary>
    public void Score(ReadOnlySpan<int> hot, ReadOnlySpan<float> numbers, Span<float> margins)
    {
        int count = margins.Length, width = _cuts.Length + OneHotParts + 1;
        if (hot.Length != count * OneHotParts || numbers.Length != count * NumericWidth)
            throw new ArgumentException($"{count} rows need {count * OneHotParts} hot features and {count * NumericWidth} numbers, got {hot.Length} and {numbers.Length}.", nameof(margins));
        int walked = _splits is null ? 0 : count % Lanes >= 3 ? count : count / Lanes * Lanes;
        if (walked > 0)
        {
            int[] packed = ArrayPool<int>.Shared.Rent(Math.Min(walked + Lanes - 1, BlockRows) * width);
            Span<double> sums = stackalloc double[BlockRows];
            for (int first = 0; first < walked; first += BlockRows)
            {
                int rows = Math.Min(BlockRows, walked - first), lanes = (rows + Lanes - 1) / Lanes * Lanes;
                for (int r = 0; r < lanes; r++)
                {
                    int at = Math.Min(first + r, count - 1);
                    Pack(hot.Slice(at * OneHotParts, OneHotParts), numbers.Slice(at * NumericWidth, NumericWidth), packed.AsSpan(r * width, width));
                }
                WalkInLanes(packed.AsSpan(0, lanes * width), width, sums[..lanes]);
                for (int r = 0; r < rows; r++)
                    margins[first + r] = (float)sums[r];
            }
            ArrayPool<int>.Shared.Return(packed);
        }
        for (int r = walked; r < count; r++)
            margins[r] = Score(hot.Slice(r * OneHotParts, OneHotParts), numbers.Slice(r * NumericWidth, NumericWidth));
    }

    /// <summary>
    /// A row as the splits read it: per numeric slot its bin (how many of the slot's cuts the value is not at or
    /// below, NaN above them all), then the hot features, then 0 for the splits that always go right.
    /// </summary>
    private void Pack(ReadOnlySpan<int> hot, ReadOnlySpan<float> numbers, Span<int> row)
    {
        for (int s = 0; s < _cuts.Length; s++)
        {
            float[] cuts = _cuts[s];
            float value = numbers[s];
            int low = 0, high = cuts.Length; // the first cut the value is at or below
            while (low < high)
            {
                int middle = (low + high) >>> 1;
                if (value <= cuts[middle])
                    high = middle;
                else
                    low = middle + 1;
            }
            row[s] = low;
        }
        hot.CopyTo(row[_cuts.Length..]);
        row[^1] = 0;
    }

    private void WalkInLanes(Span<int> packed, int width, Span<double> sums)
    {
        sums.Clear();
        int leafStart = _nodes.Length;
        ref Split splits = ref MemoryMarshal.GetArrayDataReference(_splits!);
        ref ulong bits = ref MemoryMarshal.GetArrayDataReference(_splitBits);
        foreach (int root in _splitRoots)
        {
            ref int row0 = ref MemoryMarshal.GetReference(packed);
            for (int r = 0; r < sums.Length; r += Lanes)
            {
                ref int row1 = ref Unsafe.Add(ref row0, width);
                ref int row2 = ref Unsafe.Add(ref row1, width);
                ref int row3 = ref Unsafe.Add(ref row2, width);
                ref int row4 = ref Unsafe.Add(ref row3, width);
                ref int row5 = ref Unsafe.Add(ref row4, width);
                ref int row6 = ref Unsafe.Add(ref row5, width);
                ref int row7 = ref Unsafe.Add(ref row6, width);
                int a0 = root, a1 = root, a2 = root, a3 = root, a4 = root, a5 = root, a6 = root, a7 = root;
                // A leaf leads back to itself, so a row at its leaf steps in place until all eight are at theirs.
                while (((a0 - leafStart) | (a1 - leafStart) | (a2 - leafStart) | (a3 - leafStart) | (a4 - leafStart) | (a5 - leafStart) | (a6 - leafStart) | (a7 - leafStart)) < 0)
                {
                    a0 = Step(ref splits, ref bits, a0, ref row0);
                    a1 = Step(ref splits, ref bits, a1, ref row1);
                    a2 = Step(ref splits, ref bits, a2, ref row2);
                    a3 = Step(ref splits, ref bits, a3, ref row3);
                    a4 = Step(ref splits, ref bits, a4, ref row4);
                    a5 = Step(ref splits, ref bits, a5, ref row5);
                    a6 = Step(ref splits, ref bits, a6, ref row6);
                    a7 = Step(ref splits, ref bits, a7, ref row7);
                }
                sums[r] += _leaves[a0 - leafStart];
                sums[r + 1] += _leaves[a1 - leafStart];
                sums[r + 2] += _leaves[a2 - leafStart];
                sums[r + 3] += _leaves[a3 - leafStart];
                sums[r + 4] += _leaves[a4 - leafStart];
                sums[r + 5] += _leaves[a5 - leafStart];
                sums[r + 6] += _leaves[a6 - leafStart];
                sums[r + 7] += _leaves[a7 - leafStart];
                row0 = ref Unsafe.Add(ref row7, width);
            }
        }
    }

    /// <summary>
    /// The split or leaf after <paramref name="at"/> for the packed row at <paramref name="row"/>, without a branch on
    /// the way taken: right when bit <c>value - Key + 1</c> of the words from <c>Bits</c> is set, every value outside
    /// <c>Key</c> … <c>Key + Span - 1</c> landing on bit 0, which is clear. Slots and words were checked where they
    /// were laid out, so no bounds are checked here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Step(ref Split splits, ref ulong bits, int at, ref int row)
    {
        ref Split split = ref Unsafe.Add(ref splits, at);
        uint offset = (uint)(Unsafe.Add(ref row, split.Slot) - split.Key);
        uint bit = (offset + 1) & (uint)((long)((ulong)offset - split.Span) >> 63);
        int right = (int)(Unsafe.Add(ref bits, split.Bits + (int)(bit / 64)) >> (int)(bit % 64)) & 1;
        return Unsafe.Add(ref split.Left, right);
    }

    /// <summary>
    /// The nodes as <see cref="Split"/>s of one form (node n at n, leaf l at the node count + l), the bit sets they
    /// test, each tree's first split, and the cuts that bin each numeric slot: every threshold of the slot's numeric
    /// splits, sorted, so <c>value &lt;= threshold</c> is <c>bin &lt;= the cut's index</c> and a numeric split the set
    /// of bins above it. A split on a one-hot feature, of either kind, becomes the set it amounts to; a split that
    /// always goes one way tests the row's constant 0. Null splits when a categorical split spans several parts or
    /// numeric features (the trainer's one-hot columns make none): then every row takes the one-row walk.
    /// </summary>
    private static (Split[]? Splits, ulong[] Bits, int[] Roots, float[][] Cuts) LayOutSplits(Node[] nodes, ulong[] nodeBits, int[] roots, int leafCount, int oneHotParts, int numericWidth)
    {
        if (nodes.Any(n => n.Kind == NodeKind.Categorical))
            return (null, [], [], []);
        var cuts = new float[numericWidth][];
        for (int slot = 0; slot < numericWidth; slot++)
        {
            float[] sorted = [.. nodes.Where(n => n.Kind == NodeKind.Numeric && n.Input == slot && !float.IsNaN(n.Threshold)).Select(n => n.Threshold).Order()];
            cuts[slot] = [.. sorted.Where((t, i) => i == 0 || t != sorted[i - 1])]; // -0 and 0 are one cut, as <= sees them
        }
        int zero = numericWidth + oneHotParts; // the row's constant 0
        var bits = new List<ulong> { 0, 0b10 }; // all clear: the empty set; bit 1: the set of 0 alone
        int ones = bits.Count; // bits 1 and up, shared by the numeric splits
        bits.Add(~1UL);
        bits.AddRange(Enumerable.Repeat(~0UL, cuts.Select(c => c.Length).DefaultIfEmpty().Max() / 64));
        int Index(int child) => child >= 0 ? child : nodes.Length + ~child;
        var splits = new Split[nodes.Length + leafCount];
        for (int n = 0; n < nodes.Length; n++)
        {
            Node node = nodes[n];
            int hot = numericWidth + node.Input;
            float threshold = node.Threshold;
            var split = new Split { Left = Index(node.Left), Right = Index(node.Right) };
            switch (node.Kind)
            {
                case NodeKind.Numeric when float.IsNaN(threshold):
                case NodeKind.OneHotValue when !(0f <= threshold):
                    (split.Slot, split.Span, split.Bits) = (zero, 1u, 1); // right whatever the value
                    break;
                case NodeKind.Numeric:
                    // Right when the bin is above the cut's index: bins index + 1 … Length.
                    float[] slotCuts = cuts[node.Input];
                    int index = Array.FindIndex(slotCuts, t => t == threshold);
                    (split.Slot, split.Key, split.Span, split.Bits) = (node.Input, index + 1, (uint)(slotCuts.Length - index), ones);
                    break;
                case NodeKind.OneHotValue when 1f <= threshold:
                    (split.Slot, split.Key) = (hot, node.Low); // left whatever the value: the empty set
                    break;
                case NodeKind.OneHotValue:
                    // The feature is 0 or 1 and goes right when it is 1: the set of that feature alone.
                    (split.Slot, split.Key, split.Span, split.Bits) = (hot, node.Low, 1u, 1);
                    break;
                default: // OneHotSet
                    (split.Slot, split.Key, split.Span, split.Bits) = (hot, node.Low, (uint)(node.High - node.Low + 1), bits.Count);
                    var words = new ulong[split.Span / 64 + 1];
                    for (int k = 0; k < split.Span; k++)
                        words[(k + 1) / 64] |= (nodeBits[node.Bits + k / 64] >> (k % 64) & 1) << ((k + 1) % 64);
                    bits.AddRange(words);
                    break;
            }
            splits[n] = split;
        }
        for (int l = nodes.Length; l < splits.Length; l++)
            splits[l] = new Split { Left = l, Right = l }; // slot 0 (there is always the constant), the empty set
        return (splits, [.. bits], [.. roots.Select(Index)], cuts);
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

    /// <summary>
    /// A node as the block walk reads it: right when the packed row's value at <c>Slot</c> is in the set whose bit
    /// <c>value - Key + 1</c> is in the words from <c>Bits</c> (values <c>Key</c> … <c>Key + Span - 1</c>; bit 0 is
    /// clear). The children are adjacent, so the one taken is <c>Left</c> plus the test's outcome.
    /// </summary>
    private struct Split
    {
        public int Slot;
        public int Key;
        public uint Span;
        public int Bits;
        public int Left;
        public int Right;
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
