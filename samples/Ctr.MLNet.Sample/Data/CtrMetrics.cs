using System;

namespace Ctr.MLNet.Sample.Data;

/// <summary>AUC and log loss (natural log), the two numbers CTR models are compared by.</summary>
public static class CtrMetrics
{
    /// <summary>Probabilities are clipped to [ε, 1 − ε] before the log.</summary>
    public const double Epsilon = 1e-15;

    /// <summary>Area under the ROC curve; tied scores count half (average ranks). NaN without both classes.</summary>
    public static double Auc(ReadOnlySpan<double> scores, ReadOnlySpan<bool> labels)
    {
        if (scores.Length != labels.Length)
            throw new ArgumentException($"Got {scores.Length} scores but {labels.Length} labels.", nameof(labels));
        int n = scores.Length;
        double[] sorted = scores.ToArray();
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
            order[i] = i;
        Array.Sort(sorted, order);
        double positiveRankSum = 0;
        long positives = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && sorted[j + 1] == sorted[i])
                j++;
            double averageRank = (i + j) / 2.0 + 1.0;
            for (int k = i; k <= j; k++)
            {
                if (labels[order[k]])
                {
                    positiveRankSum += averageRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0)
            return double.NaN;
        return (positiveRankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Mean negative log-likelihood (natural log) of <paramref name="labels"/> under <paramref name="probabilities"/>.</summary>
    public static double LogLoss(ReadOnlySpan<double> probabilities, ReadOnlySpan<bool> labels)
    {
        if (probabilities.Length != labels.Length)
            throw new ArgumentException($"Got {probabilities.Length} probabilities but {labels.Length} labels.", nameof(labels));
        if (probabilities.Length == 0)
            return double.NaN;
        double sum = 0;
        for (int i = 0; i < probabilities.Length; i++)
        {
            double p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            sum -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        return sum / probabilities.Length;
    }
}
