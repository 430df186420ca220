using System;
using System.Linq;
using Ctr.MLNet.Torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

[TestClass]
public sealed class ManagedDnnTest
{
    /// <summary>Sums where the bias, the norm or ReLU meet their edge cases: zeros of both signs, NaN, infinities, overflow, subnormals.</summary>
    private static readonly float[] Edges =
        [0f, -0f, 1f, -1f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.MaxValue, -float.MaxValue, float.Epsilon, -float.Epsilon, 1e-39f, -1e-39f, 3.4e38f, -3.4e38f];

    [TestMethod]
    [DataRow(1)]
    [DataRow(8)]
    [DataRow(10)]
    [DataRow(16)]
    [DataRow(18)]
    [DataRow(30)]
    [DataRow(33)]
    [DataRow(64)]
    [DataRow(65)]
    public void PoolingGivesEachFloatTheFusedMultiplyAddsInElementOrder(int dim)
    {
        const int Rows = 23;
        var random = new Random(dim);
        float[] table = [.. Enumerable.Range(0, Rows * dim).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        table[5 * dim] = float.NaN; // carried to the sum of its lane only
        for (int trial = 0; trial < 50; trial++)
        {
            // The last rows often: their vectors would reach past the table's end.
            int[] items = [.. Enumerable.Range(0, random.Next(0, 12)).Select(_ => random.Next(3) == 0 ? Rows - 1 - random.Next(2) : random.Next(Rows))];
            float[] weights = trial % 2 == 0 ? [] : [.. items.Select(_ => (float)random.NextDouble() * 3)];
            int[]? map = trial % 5 == 4 ? [.. Enumerable.Range(0, Rows).Select(i => (i * 7) % Rows)] : null;
            bool skipsPadding = trial % 3 != 0;
            var expected = new float[dim];
            for (int e = 0; e < items.Length; e++)
            {
                int id = map is null ? items[e] : map[items[e]];
                if (id == 0 && skipsPadding)
                    continue;
                for (int j = 0; j < dim; j++)
                    expected[j] = MathF.FusedMultiplyAdd(table[id * dim + j], weights.Length == 0 ? 1f : weights[e], expected[j]);
            }
            float[] pooled = [.. Enumerable.Repeat(7f, dim)]; // overwritten, not added to
            ManagedDnn.Pool(table, dim, items, weights, map, skipsPadding, pooled);
            for (int j = 0; j < dim; j++)
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected[j]), BitConverter.SingleToInt32Bits(pooled[j]), $"trial {trial}, float {j} of items {string.Join(",", items)}");
        }
    }

    [TestMethod]
    public void PoolingSumsTablesSmallerThanAVector()
    {
        float[] table = [1f, 2f, 3f, 4f, 5f, 6f]; // two rows of 3: no row has a whole 16-float vector inside the table
        var pooled = new float[3];
        ManagedDnn.Pool(table, 3, [1, 0, 1], [], map: null, skipsPadding: false, pooled);
        CollectionAssert.AreEqual(new[] { 9f, 12f, 15f }, pooled);
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ManagedDnn.Pool(table, 3, [2], [], null, false, pooled));
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(15)]
    [DataRow(16)]
    [DataRow(17)]
    [DataRow(64)]
    [DataRow(65)]
    public void PoolingRefusesIdsOutsideTheTable(int dim)
    {
        const int Rows = 9;
        float[] table = [.. Enumerable.Range(0, Rows * dim).Select(i => (float)i)];
        var pooled = new float[dim];
        // Negative, past the last row, and so large that the id times the width wraps (to a negative offset, or to 0).
        foreach (int id in new[] { -1, -Rows, Rows, Rows + 3, int.MaxValue, int.MinValue, int.MinValue + 1 })
        {
            foreach (bool skipsPadding in new[] { true, false })
            {
                Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ManagedDnn.Pool(table, dim, [1, id], [], null, skipsPadding, pooled), $"id {id}");
                Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ManagedDnn.Pool(table, dim, [id, Rows - 1], [0.5f, 2f], null, skipsPadding, pooled), $"id {id}, weighted");
            }
        }
        // The ids inside it still pool: the first and last rows.
        ManagedDnn.Pool(table, dim, [0, Rows - 1], [], null, skipsPadding: false, pooled);
        for (int j = 0; j < dim; j++)
            Assert.AreEqual(j + (float)((Rows - 1) * dim + j), pooled[j]);
    }

    [TestMethod]
    [DataRow(1)]
    [DataRow(3)]
    [DataRow(64)]
    [DataRow(67)]
    public void TheLogitLayerGivesEachRowThePanelKernelsFloats(int rows)
    {
        const int Inputs = 37;
        var random = new Random(rows);
        float[] weight = [.. Enumerable.Range(0, Inputs).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] x = [.. Enumerable.Range(0, rows * Inputs).Select(i => i % 11 == 0 ? 0f : (float)(random.NextDouble() * 4 - 2))];
        x[(rows - 1) * Inputs + 3] = float.NaN; // the last row's
        // One output takes the dot; two (the second all zero weights) the panel kernels, whose first lane is the same sum.
        var logit = new ManagedDnn.Dense(Inputs, 1, weight, [0.25f], null, null, relu: false);
        var panels = new ManagedDnn.Dense(Inputs, 2, [.. weight, .. new float[Inputs]], [0.25f, 0f], null, null, relu: false);
        var byDot = new float[rows * logit.Padded];
        var byPanels = new float[rows * panels.Padded];
        logit.Apply(x, Inputs, rows, byDot);
        panels.Apply(x, Inputs, rows, byPanels);
        for (int r = 0; r < rows; r++)
            Assert.AreEqual(BitConverter.SingleToInt32Bits(byPanels[r * panels.Padded]), BitConverter.SingleToInt32Bits(byDot[r * logit.Padded]), $"row {r}");
        Assert.IsTrue(float.IsNaN(byDot[(rows - 1) * logit.Padded]), "a NaN input is carried to its row's logit");
        Assert.IsTrue(rows == 1 || float.IsFinite(byDot[0]), "and to no other row's");
    }

    [TestMethod]
    [DataRow(true, true)]
    [DataRow(true, false)]
    [DataRow(false, true)]
    [DataRow(false, false)]
    public void TheVectorFinishGivesEachOutputTheBitsOfTheScalarOne(bool norm, bool relu)
    {
        const int Outputs = 96; // three panels
        var random = new Random(7);
        float Pick() => random.Next(4) == 0 ? Edges[random.Next(Edges.Length)] : (float)(random.NextDouble() * 8 - 4);
        float[] bias = [.. Enumerable.Range(0, Outputs).Select(_ => Pick())];
        float[]? scale = norm ? [.. Enumerable.Range(0, Outputs).Select(_ => random.Next(5) == 0 ? 1e30f : Pick())] : null;
        float[]? shift = norm ? [.. Enumerable.Range(0, Outputs).Select(_ => Pick())] : null;
        var layer = new ManagedDnn.Dense(inputs: 1, Outputs, new float[Outputs], bias, scale, shift, relu);

        for (int trial = 0; trial < 200; trial++)
        {
            float[] sums = [.. Enumerable.Range(0, Outputs).Select(_ => Pick())];
            float[] finished = [.. sums];
            layer.Finish(finished);
            for (int j = 0; j < Outputs; j++)
            {
                float expected = layer.FinishOne(sums[j], j);
                Assert.AreEqual(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(finished[j]), $"output {j}: sum {sums[j]}, bias {bias[j]}: {expected} against {finished[j]}");
            }
        }
        // The scalar form itself: ReLU as MathF.Max (−0 to +0, NaN kept), an overflow is NaN.
        var plain = new ManagedDnn.Dense(inputs: 1, 32, new float[32], new float[32], null, null, relu);
        Assert.AreEqual(BitConverter.SingleToInt32Bits(0f), BitConverter.SingleToInt32Bits(plain.FinishOne(-0f, 0)), "−0 + a zero bias is +0");
        Assert.IsTrue(float.IsNaN(plain.FinishOne(float.PositiveInfinity, 0)));
        Assert.AreEqual(relu ? 0f : -2f, plain.FinishOne(-2f, 0));
    }
}
