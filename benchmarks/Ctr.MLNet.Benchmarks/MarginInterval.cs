using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Torch;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// How precisely a test set measures one model's AUC margin over another: a paired bootstrap over the test rows (both
/// models scored on the same resampled rows, so what they share cancels), the margin being the mean over the first
/// model's seeds. A margin smaller than the interval's half-width is not resolved by that test set.
/// </summary>
internal sealed record MarginInterval(double Margin, double Sd, double Low, double High, double[] Draws)
{
    public const int Resamples = 2000;

    public static MarginInterval Bootstrap(float[] labels, IReadOnlyList<float[]> model, float[] baseline, int seed = 1)
    {
        double Margin(Func<float[], float[]> rows) => model.Average(p => BinaryMetrics.Auc(rows(labels), rows(p))) - BinaryMetrics.Auc(rows(labels), rows(baseline));

        var random = new Random(seed);
        var margins = new double[Resamples];
        var picked = new int[labels.Length];
        for (int b = 0; b < Resamples; b++)
        {
            for (int i = 0; i < picked.Length; i++)
                picked[i] = random.Next(labels.Length);
            margins[b] = Margin(values => [.. picked.Select(i => values[i])]);
        }
        return FromDraws(Margin(values => values), margins);
    }

    /// <summary>The margin averaged over test sets drawn apart (e.g. successive periods): the b-th draws averaged, as independent resamples combine.</summary>
    public static MarginInterval Mean(IReadOnlyList<MarginInterval> parts) =>
        FromDraws(parts.Average(p => p.Margin), [.. Enumerable.Range(0, Resamples).Select(b => parts.Average(p => p.Draws[b]))]);

    private static MarginInterval FromDraws(double margin, double[] draws)
    {
        double mean = draws.Average();
        double sd = Math.Sqrt(draws.Sum(m => (m - mean) * (m - mean)) / (draws.Length - 1));
        double[] sorted = [.. draws.Order()];
        return new MarginInterval(margin, sd, sorted[(int)(0.025 * sorted.Length)], sorted[(int)(0.975 * sorted.Length) - 1], draws);
    }
}
