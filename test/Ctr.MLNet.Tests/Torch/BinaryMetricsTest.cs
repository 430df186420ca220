using System;
using System.Linq;
using Ctr.MLNet.Torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Torch;

/// <summary>Each metric against values worked out by hand on eight rows.</summary>
[TestClass]
public sealed class BinaryMetricsTest
{
    // Row:          0     1     2     3     4     5     6     7
    private static readonly bool[] s_labels = [true, false, true, false, true, false, false, true];
    private static readonly double[] s_p = [0.95, 0.15, 0.45, 0.65, 0.85, 0.45, 0.25, 0.75];
    private static readonly string[] s_users = ["u1", "u1", "u1", "u1", "u2", "u2", "u2", "u3"];

    private static float[] Labels => [.. s_labels.Select(l => l ? 1f : 0f)];

    private static float[] Probabilities => [.. s_p.Select(p => (float)p)];

    [TestMethod]
    public void BinaryMetricsTest_AucCountsPairsAndTiesHalf()
    {
        // Positives .95 .45 .85 .75 against negatives .15 .65 .45 .25: .95, .85 and .75 beat all four;
        // .45 beats .15 and .25 and ties .45 (one half). (4 + 2.5 + 4 + 4) / 16.
        const double Want = 14.5 / 16;

        Assert.AreEqual(Want, BinaryMetrics.Auc(s_labels, s_p), 1e-12);
        Assert.AreEqual(Want, BinaryMetrics.Auc(Labels, Probabilities), 1e-12);
    }

    [TestMethod]
    public void BinaryMetricsTest_LogLossIsTheMeanNegativeLogLikelihood()
    {
        double want = -(Math.Log(0.95) + Math.Log(0.85) + Math.Log(0.45) + Math.Log(0.35) + Math.Log(0.85) + Math.Log(0.55) + Math.Log(0.75) + Math.Log(0.75)) / 8;

        Assert.AreEqual(want, BinaryMetrics.LogLoss(s_labels, s_p), 1e-12);
        Assert.AreEqual(want, BinaryMetrics.LogLoss(Labels, Probabilities), 1e-6);
        Assert.AreEqual(-Math.Log(1e-15), BinaryMetrics.LogLoss([true], [0.0]), 1e-9, "probabilities are clipped to [1e-15, 1 - 1e-15]");
    }

    [TestMethod]
    public void BinaryMetricsTest_GroupAucWeightsUsersByImpressionsAndSkipsOneClassUsers()
    {
        // u1 (4 rows): positives .95 .45 against negatives .15 .65: .95 beats both, .45 beats .15 → 3/4.
        // u2 (3 rows): positive .85 beats .45 and .25 → 1. u3 (1 row, clicks only) is skipped.
        // (4 · 3/4 + 3 · 1) / 7; the unweighted mean would be 7/8.
        const double Want = 6.0 / 7;

        Assert.AreEqual(Want, BinaryMetrics.GroupAuc(s_labels, s_p, s_users.AsSpan()), 1e-12);
        Assert.AreEqual(Want, BinaryMetrics.GroupAuc(Labels, Probabilities, s_users.AsSpan()), 1e-12);
        Assert.IsTrue(double.IsNaN(BinaryMetrics.GroupAuc(s_labels, s_p, s_labels.Select((_, i) => i).ToArray().AsSpan())), "every user of one row: no user has an AUC");
    }

    [TestMethod]
    public void BinaryMetricsTest_CalibrationIsMeanPredictedOverObservedRate()
    {
        // Σp = 4.5 over 8 rows = 0.5625; 4 clicks of 8 = 0.5.
        Assert.AreEqual(0.5625 / 0.5, BinaryMetrics.Calibration(s_labels, s_p), 1e-12);
        Assert.AreEqual(1.125, BinaryMetrics.Calibration(Labels, Probabilities), 1e-6);
    }

    [TestMethod]
    public void BinaryMetricsTest_ExpectedCalibrationErrorOverTenBins()
    {
        // Bins 9: .95 vs 1 → .05; 1: .15 vs 0 → .15; 4: mean .45 vs 1/2 → .05 (2 rows); 6: .65 vs 0 → .65;
        // 8: .85 vs 1 → .15; 2: .25 vs 0 → .25; 7: .75 vs 1 → .25. (.05 + .15 + .65 + .15 + .25 + .25) / 8 + 2/8 · .05.
        const double Want = 0.2;

        Assert.AreEqual(Want, BinaryMetrics.ExpectedCalibrationError(s_labels, s_p), 1e-12);
        Assert.AreEqual(Want, BinaryMetrics.ExpectedCalibrationError(Labels, Probabilities), 1e-6);
        // Two bins: [0, .5) holds .15 .45 .45 .25 (mean .325, 1 click of 4), [.5, 1] holds .95 .65 .85 .75 (mean .8, 3 of 4).
        Assert.AreEqual(0.5 * Math.Abs(0.325 - 0.25) + 0.5 * Math.Abs(0.8 - 0.75), BinaryMetrics.ExpectedCalibrationError(s_labels, s_p, bins: 2), 1e-12);
        Assert.AreEqual(0.0, BinaryMetrics.ExpectedCalibrationError([true, false], [1.0, 0.0]), 1e-12, "1 falls into the last bin");
    }

    [TestMethod]
    public void BinaryMetricsTest_NormalizedEntropyDividesByTheBaseRateEntropy()
    {
        // A click rate of 1/2 has entropy ln 2.
        Assert.AreEqual(BinaryMetrics.LogLoss(s_labels, s_p) / Math.Log(2), BinaryMetrics.NormalizedEntropy(s_labels, s_p), 1e-12);
        // One click in four, always predicted at 1/4: log loss = entropy of the rate, NE = 1.
        Assert.AreEqual(1.0, BinaryMetrics.NormalizedEntropy([true, false, false, false], [0.25, 0.25, 0.25, 0.25]), 1e-12);
    }

    [TestMethod]
    public void BinaryMetricsTest_UndefinedValuesAreNaNNotErrors()
    {
        float[] noClicks = [0f, 0f, 0f];
        float[] p = [0.1f, 0.2f, 0.3f];

        CtrEvaluation sut = BinaryMetrics.Evaluate<string>(noClicks, p, ["a", "a", "b"]);

        Assert.IsTrue(double.IsNaN(sut.Auc));
        Assert.IsTrue(double.IsNaN(sut.GroupAuc));
        Assert.IsTrue(double.IsNaN(sut.Calibration));
        Assert.IsTrue(double.IsNaN(sut.NormalizedEntropy));
        Assert.AreEqual(-(Math.Log(0.9) + Math.Log(0.8) + Math.Log(0.7)) / 3, sut.LogLoss, 1e-6, "log loss is defined with one class");
        Assert.AreEqual(0.2, sut.ExpectedCalibrationError, 1e-6, "so is the calibration error: bins 1, 2, 3 miss by .1, .2, .3");
        CtrEvaluation empty = BinaryMetrics.Evaluate([], []);
        Assert.IsTrue(new[] { empty.Auc, empty.LogLoss, empty.GroupAuc, empty.Calibration, empty.ExpectedCalibrationError, empty.NormalizedEntropy }.All(double.IsNaN));
    }

    [TestMethod]
    public void BinaryMetricsTest_EvaluateGathersEveryMetric()
    {
        CtrEvaluation sut = BinaryMetrics.Evaluate<string>(Labels, Probabilities, s_users);

        Assert.AreEqual(8, sut.Rows);
        Assert.AreEqual(4, sut.Clicks);
        Assert.AreEqual(14.5 / 16, sut.Auc, 1e-12);
        Assert.AreEqual(6.0 / 7, sut.GroupAuc, 1e-12);
        Assert.AreEqual(1.125, sut.Calibration, 1e-6);
        Assert.AreEqual(0.2, sut.ExpectedCalibrationError, 1e-6);
        Assert.AreEqual(sut.LogLoss / Math.Log(2), sut.NormalizedEntropy, 1e-12);
        Assert.IsTrue(double.IsNaN(BinaryMetrics.Evaluate(Labels, Probabilities).GroupAuc), "no groups, no gAUC");
    }

    [TestMethod]
    public void BinaryMetricsTest_SwappedArgumentsAreAnError()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => BinaryMetrics.Auc(Probabilities, Labels));

        StringAssert.Contains(error.Message, "labels[0] is 0.95; labels must be 0 or 1 (labels come first, then scores).");
        Assert.ThrowsExactly<ArgumentException>(() => BinaryMetrics.LogLoss(Labels, Probabilities[..7]));
    }
}
