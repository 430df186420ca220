using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>
/// Smoke test for the TorchSharp native stack. On Linux distributions whose libstdc++ predates GCC 13
/// (e.g. Debian 12) libLibTorchSharp.so only loads after build/TorchNativeFix.targets has patched the
/// copy in the output directory, so a failure here (TypeInitializationException from TorchSharp.torch)
/// usually means that fix did not run.
/// </summary>
[TestClass]
public sealed class TorchNativeLoadTest
{
    [TestMethod]
    public void TorchNativeLoadTest_TensorAndOptimizerStep()
    {
        using DisposeScope scope = NewDisposeScope();
        manual_seed(20240601);

        // First touch of torch: loads libtorch and libLibTorchSharp.
        Tensor values = tensor(new float[] { 1f, 2f, 3f, 4f });
        Assert.AreEqual(10f, values.sum().item<float>(), 1e-6f);

        // y = x·w + b, learned by a 4 -> 1 linear layer.
        Tensor x = randn(32, 4);
        Tensor w = tensor(new float[] { 1.5f, -2f, 0.5f, 3f }).reshape(4, 1);
        Tensor y = x.matmul(w) + 0.25f;

        using Linear model = nn.Linear(4, 1);
        Tensor[] before = model.parameters().Select(p => p.detach().clone()).ToArray();
        using Adam optimizer = optim.Adam(model.parameters(), lr: 0.05);

        optimizer.zero_grad();
        Tensor loss = nn.functional.mse_loss(model.forward(x), y);
        loss.backward();
        optimizer.step();
        float lossBefore = loss.item<float>();

        float lossAfter;
        using (no_grad())
        {
            lossAfter = nn.functional.mse_loss(model.forward(x), y).item<float>();
        }

        Assert.IsTrue(float.IsFinite(lossBefore), $"loss before the step is {lossBefore}");
        Assert.IsTrue(float.IsFinite(lossAfter), $"loss after the step is {lossAfter}");
        Assert.IsLessThan(lossBefore, lossAfter, $"loss did not decrease: {lossBefore} -> {lossAfter}");

        Tensor[] after = model.parameters().Select(p => p.detach()).ToArray();
        Assert.HasCount(before.Length, after);
        Assert.HasCount(2, after); // weight and bias
        for (int i = 0; i < after.Length; i++)
        {
            float maxChange = (after[i] - before[i]).abs().max().item<float>();
            Assert.IsGreaterThan(0f, maxChange, $"parameter {i} did not change in the optimizer step");
        }
    }
}
