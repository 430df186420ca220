using System;

namespace Ctr.MLNet.Torch;

/// <summary>AUC and log loss as scikit-learn computes them (<c>roc_auc_score</c>, <c>log_loss</c> with natural log).</summary>
public static class BinaryMetrics
{
    /// <summary>Area under the ROC curve; tied scores count one half. NaN when only one class is present.</summary>
    public static double Auc(ReadOnlySpan<float> labels, ReadOnlySpan<float> scores)
    {
        if (labels.Length != scores.Length)
            throw new ArgumentException($"{labels.Length} labels but {scores.Length} scores.");
        int n = labels.Length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
            order[i] = i;
        float[] keys = scores.ToArray();
        Array.Sort(keys, order);

        // Mann-Whitney U: the sum of the positives' ranks, ties given their average rank.
        double rankSum = 0;
        long positives = 0;
        for (int i = 0; i < n;)
        {
            int j = i;
            while (j + 1 < n && keys[j + 1] == keys[i])
                j++;
            double averageRank = (i + j + 2) / 2.0;
            for (int k = i; k <= j; k++)
            {
                if (labels[order[k]] > 0.5f)
                {
                    rankSum += averageRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0)
            return double.NaN;
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>Mean negative log-likelihood (natural log), probabilities clipped to [1e-15, 1 − 1e-15].</summary>
    public static double LogLoss(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities)
    {
        if (labels.Length != probabilities.Length)
            throw new ArgumentException($"{labels.Length} labels but {probabilities.Length} probabilities.");
        const double Epsilon = 1e-15;
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            double p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            sum -= labels[i] > 0.5f ? Math.Log(p) : Math.Log(1 - p);
        }
        return labels.Length == 0 ? double.NaN : sum / labels.Length;
    }
}
