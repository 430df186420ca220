using System;
using System.Collections.Generic;
using System.Globalization;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The metrics CTR models are compared by: AUC and log loss as scikit-learn computes them (<c>roc_auc_score</c>,
/// <c>log_loss</c> with natural log), user-level gAUC, calibration, expected calibration error and normalized
/// entropy. Every method takes the labels first; a value that is undefined for the input (one class only, no
/// rows) is <see cref="double.NaN"/>, never an exception.
/// </summary>
public static class BinaryMetrics
{
    /// <summary>Probabilities are clipped to [ε, 1 − ε] before the log.</summary>
    public const double Epsilon = 1e-15;

    /// <summary>Bins of <see cref="ExpectedCalibrationError(ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/> by default.</summary>
    public const int DefaultCalibrationBins = 10;

    /// <summary>Area under the ROC curve; tied scores count one half. NaN when only one class is present.</summary>
    /// <param name="labels">0 or 1 per row (anything else is an error: it usually means the arguments were swapped).</param>
    /// <param name="scores">Any scores ranking the rows; probabilities or logits.</param>
    public static double Auc(ReadOnlySpan<float> labels, ReadOnlySpan<float> scores) => Auc(ToBool(labels), ToDouble(scores, labels.Length));

    /// <inheritdoc cref="Auc(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    public static double Auc(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores)
    {
        CheckLengths(labels.Length, scores.Length, nameof(scores));
        int n = labels.Length;
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
            order[i] = i;
        double[] keys = scores.ToArray();
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
                if (labels[order[k]])
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

    /// <summary>Mean negative log-likelihood (natural log), probabilities clipped to [1e-15, 1 − 1e-15]. NaN without rows.</summary>
    public static double LogLoss(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities) => LogLoss(ToBool(labels), ToDouble(probabilities, labels.Length));

    /// <inheritdoc cref="LogLoss(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    public static double LogLoss(ReadOnlySpan<bool> labels, ReadOnlySpan<double> probabilities)
    {
        CheckLengths(labels.Length, probabilities.Length, nameof(probabilities));
        double sum = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            double p = Math.Clamp(probabilities[i], Epsilon, 1 - Epsilon);
            sum -= labels[i] ? Math.Log(p) : Math.Log(1 - p);
        }
        return labels.Length == 0 ? double.NaN : sum / labels.Length;
    }

    /// <summary>
    /// Group (user-level) AUC: the AUC within each group, averaged with the group's row count (impressions) as
    /// weight. Groups whose rows are all clicks or all non-clicks have no AUC and are skipped; NaN when every
    /// group is.
    /// </summary>
    public static double GroupAuc<TGroup>(ReadOnlySpan<float> labels, ReadOnlySpan<float> scores, ReadOnlySpan<TGroup> groups)
        where TGroup : notnull => GroupAuc(ToBool(labels), ToDouble(scores, labels.Length), groups);

    /// <inheritdoc cref="GroupAuc{TGroup}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{TGroup})"/>
    public static double GroupAuc<TGroup>(ReadOnlySpan<bool> labels, ReadOnlySpan<double> scores, ReadOnlySpan<TGroup> groups)
        where TGroup : notnull
    {
        CheckLengths(labels.Length, scores.Length, nameof(scores));
        CheckLengths(labels.Length, groups.Length, nameof(groups));
        var rowsOf = new Dictionary<TGroup, List<int>>();
        for (int i = 0; i < groups.Length; i++)
        {
            if (!rowsOf.TryGetValue(groups[i], out List<int>? rows))
                rowsOf.Add(groups[i], rows = []);
            rows.Add(i);
        }
        double weighted = 0;
        long weight = 0;
        foreach (List<int> rows in rowsOf.Values)
        {
            var groupLabels = new bool[rows.Count];
            var groupScores = new double[rows.Count];
            for (int k = 0; k < rows.Count; k++)
            {
                groupLabels[k] = labels[rows[k]];
                groupScores[k] = scores[rows[k]];
            }
            double auc = Auc(groupLabels, groupScores);
            if (double.IsNaN(auc))
                continue;
            weighted += auc * rows.Count;
            weight += rows.Count;
        }
        return weight == 0 ? double.NaN : weighted / weight;
    }

    /// <summary>Mean predicted probability ÷ observed click rate: 1 is calibrated, above 1 over-predicts. NaN without clicks.</summary>
    public static double Calibration(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities) => Calibration(ToBool(labels), ToDouble(probabilities, labels.Length));

    /// <inheritdoc cref="Calibration(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    public static double Calibration(ReadOnlySpan<bool> labels, ReadOnlySpan<double> probabilities)
    {
        CheckLengths(labels.Length, probabilities.Length, nameof(probabilities));
        double predicted = 0;
        long clicks = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            predicted += probabilities[i];
            clicks += labels[i] ? 1 : 0;
        }
        return clicks == 0 ? double.NaN : predicted / clicks;
    }

    /// <summary>
    /// Expected calibration error: the probabilities fall into <paramref name="bins"/> equal-width bins of [0, 1]
    /// (1 into the last); the sum over bins of (rows in bin ÷ rows) × |mean probability − click rate| in the bin.
    /// NaN without rows.
    /// </summary>
    public static double ExpectedCalibrationError(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities, int bins = DefaultCalibrationBins) =>
        ExpectedCalibrationError(ToBool(labels), ToDouble(probabilities, labels.Length), bins);

    /// <inheritdoc cref="ExpectedCalibrationError(ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/>
    public static double ExpectedCalibrationError(ReadOnlySpan<bool> labels, ReadOnlySpan<double> probabilities, int bins = DefaultCalibrationBins)
    {
        CheckLengths(labels.Length, probabilities.Length, nameof(probabilities));
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new long[bins];
        var predicted = new double[bins];
        var clicks = new long[bins];
        for (int i = 0; i < labels.Length; i++)
        {
            double p = probabilities[i];
            if (!(p is >= 0 and <= 1))
                throw new ArgumentOutOfRangeException(nameof(probabilities), $"probabilities[{i}] is {p}; probabilities must lie in [0, 1].");
            int bin = Math.Min((int)(p * bins), bins - 1);
            count[bin]++;
            predicted[bin] += p;
            clicks[bin] += labels[i] ? 1 : 0;
        }
        if (labels.Length == 0)
            return double.NaN;
        double error = 0;
        for (int b = 0; b < bins; b++)
        {
            if (count[b] > 0)
                error += (double)count[b] / labels.Length * Math.Abs(predicted[b] / count[b] - (double)clicks[b] / count[b]);
        }
        return error;
    }

    /// <summary>
    /// Normalized entropy (He et al. 2014): log loss ÷ the entropy of the base click rate, i.e. the log loss of
    /// always predicting the observed rate. Below 1 beats that constant. NaN with one class only.
    /// </summary>
    public static double NormalizedEntropy(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities) => NormalizedEntropy(ToBool(labels), ToDouble(probabilities, labels.Length));

    /// <inheritdoc cref="NormalizedEntropy(ReadOnlySpan{float}, ReadOnlySpan{float})"/>
    public static double NormalizedEntropy(ReadOnlySpan<bool> labels, ReadOnlySpan<double> probabilities)
    {
        double logLoss = LogLoss(labels, probabilities);
        long clicks = 0;
        foreach (bool label in labels)
            clicks += label ? 1 : 0;
        if (clicks == 0 || clicks == labels.Length)
            return double.NaN;
        double rate = (double)clicks / labels.Length;
        return logLoss / -(rate * Math.Log(rate) + (1 - rate) * Math.Log(1 - rate));
    }

    /// <summary>
    /// Every metric at once. <paramref name="groups"/> (e.g. user ids) gives <see cref="CtrEvaluation.GroupAuc"/>;
    /// without it that is NaN.
    /// </summary>
    public static CtrEvaluation Evaluate<TGroup>(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities, ReadOnlySpan<TGroup> groups)
        where TGroup : notnull
    {
        bool[] clicks = ToBool(labels);
        double[] p = ToDouble(probabilities, labels.Length);
        return new CtrEvaluation(
            labels.Length,
            Array.FindAll(clicks, c => c).Length,
            Auc(clicks, p),
            LogLoss(clicks, p),
            groups.IsEmpty ? double.NaN : GroupAuc(clicks, p, groups),
            Calibration(clicks, p),
            ExpectedCalibrationError(clicks, p),
            NormalizedEntropy(clicks, p));
    }

    /// <inheritdoc cref="Evaluate{TGroup}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{TGroup})"/>
    public static CtrEvaluation Evaluate(ReadOnlySpan<float> labels, ReadOnlySpan<float> probabilities) =>
        Evaluate<string>(labels, probabilities, []);

    private static void CheckLengths(int labels, int values, string name)
    {
        if (labels != values)
            throw new ArgumentException($"{labels} labels but {values} {name}.", name);
    }

    private static bool[] ToBool(ReadOnlySpan<float> labels)
    {
        var clicks = new bool[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            clicks[i] = labels[i] switch
            {
                1f => true,
                0f => false,
                _ => throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"labels[{i}] is {labels[i]}; labels must be 0 or 1 (labels come first, then scores)."), nameof(labels)),
            };
        }
        return clicks;
    }

    private static double[] ToDouble(ReadOnlySpan<float> values, int labels)
    {
        CheckLengths(labels, values.Length, "scores");
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
            result[i] = values[i];
        return result;
    }
}

/// <summary>The metrics of <see cref="BinaryMetrics.Evaluate{TGroup}"/>; NaN where a metric is undefined for the data.</summary>
/// <param name="Rows">Rows evaluated.</param>
/// <param name="Clicks">Rows labelled 1.</param>
/// <param name="Auc">Area under the ROC curve.</param>
/// <param name="LogLoss">Log loss, natural log.</param>
/// <param name="GroupAuc">Impression-weighted AUC within groups (users), groups of one class skipped.</param>
/// <param name="Calibration">Mean predicted probability ÷ observed click rate.</param>
/// <param name="ExpectedCalibrationError">Expected calibration error over 10 equal-width bins.</param>
/// <param name="NormalizedEntropy">Log loss ÷ entropy of the base click rate.</param>
public sealed record CtrEvaluation(long Rows, long Clicks, double Auc, double LogLoss, double GroupAuc, double Calibration,
    double ExpectedCalibrationError, double NormalizedEntropy);
