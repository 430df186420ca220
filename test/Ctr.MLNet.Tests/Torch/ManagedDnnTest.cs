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
