using System;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Weights that combine a network's logit (the mean logit of an ensemble's networks) and a tree ensemble's margin into
/// one logit, and the validation AUCs of the two parts and of the blend.
/// </summary>
/// <param name="Intercept">Added to the blended logit.</param>
/// <param name="NetworkWeight">Multiplies the network's logit.</param>
/// <param name="TreeWeight">Multiplies the trees' margin (0 without trees).</param>
/// <param name="NetworkValidAuc">The network alone on the rows the weights were fitted on.</param>
/// <param name="TreesValidAuc">The trees alone on those rows (NaN without trees).</param>
/// <param name="BlendValidAuc">The blend on those rows.</param>
/// <param name="BlendValidLogLoss">The blend's log loss (natural log) on those rows.</param>
public sealed record LogitBlend(double Intercept, double NetworkWeight, double TreeWeight, double NetworkValidAuc, double TreesValidAuc, double BlendValidAuc,
    double BlendValidLogLoss)
{
    /// <summary>The blended logit of one row.</summary>
    public float Score(float networkLogit, float treeMargin) =>
        (float)(Intercept + NetworkWeight * networkLogit + TreeWeight * treeMargin);

    /// <summary>The network logit of an ensemble: the mean of its networks' logits (summed in order, in double).</summary>
    public static float MeanLogit(ReadOnlySpan<float> logits)
    {
        if (logits.Length == 1)
            return logits[0];
        double sum = 0;
        foreach (float logit in logits)
            sum += logit;
        return (float)(sum / logits.Length);
    }

    /// <summary>
    /// A logistic regression of <paramref name="labels"/> on the two scores (Newton's method, a tiny ridge for
    /// stability), so the weights also calibrate the blend. Without trees (<paramref name="treeMargins"/> empty) it is a
    /// calibration of the network's logit alone.
    /// </summary>
    public static LogitBlend Fit(ReadOnlySpan<float> networkLogits, ReadOnlySpan<float> treeMargins, ReadOnlySpan<float> labels)
    {
        int n = labels.Length;
        bool hasTrees = !treeMargins.IsEmpty;
        if (!hasTrees)
            treeMargins = new float[n]; // a zero column: the ridge keeps its weight at 0
        if (networkLogits.Length != n || treeMargins.Length != n)
            throw new ArgumentException("The scores and labels must have one value per row.");
        double positives = 0;
        foreach (float y in labels)
            positives += y;
        if (positives == 0 || positives == n)
            throw new ArgumentException($"Fitting the blend needs validation rows of both classes; the {n} rows have {(positives == 0 ? "no clicks" : "only clicks")}.");

        // w = (intercept, network, trees); start from the network alone.
        double[] w = [0, 1, 0];
        const double Ridge = 1e-6;
        for (int iteration = 0; iteration < 50; iteration++)
        {
            var gradient = new double[3];
            var hessian = new double[3, 3];
            for (int i = 0; i < n; i++)
            {
                double x1 = networkLogits[i], x2 = treeMargins[i];
                double p = 1 / (1 + Math.Exp(-(w[0] + w[1] * x1 + w[2] * x2)));
                double r = p - labels[i], s = Math.Max(p * (1 - p), 1e-12);
                ReadOnlySpan<double> x = [1, x1, x2];
                for (int a = 0; a < 3; a++)
                {
                    gradient[a] += r * x[a];
                    for (int b = 0; b < 3; b++)
                        hessian[a, b] += s * x[a] * x[b];
                }
            }
            for (int a = 1; a < 3; a++)
            {
                gradient[a] += Ridge * n * w[a];
                hessian[a, a] += Ridge * n;
            }
            double[] step = Solve3(hessian, gradient);
            double change = 0;
            for (int a = 0; a < 3; a++)
            {
                w[a] -= step[a];
                change = Math.Max(change, Math.Abs(step[a]));
            }
            if (change < 1e-10)
                break;
        }
        var blend = new LogitBlend(w[0], w[1], w[2], double.NaN, double.NaN, double.NaN, double.NaN);
        var blended = new float[n];
        var probabilities = new float[n];
        for (int i = 0; i < n; i++)
        {
            blended[i] = blend.Score(networkLogits[i], treeMargins[i]);
            probabilities[i] = TorchCtrTransformer.Sigmoid(blended[i]);
        }
        return blend with
        {
            NetworkValidAuc = BinaryMetrics.Auc(labels, networkLogits),
            TreesValidAuc = hasTrees ? BinaryMetrics.Auc(labels, treeMargins) : double.NaN,
            BlendValidAuc = BinaryMetrics.Auc(labels, blended),
            BlendValidLogLoss = BinaryMetrics.LogLoss(labels, probabilities),
        };
    }

    /// <summary>Solves the 3×3 system <paramref name="a"/> x = <paramref name="b"/> (Gaussian elimination with pivoting).</summary>
    private static double[] Solve3(double[,] a, double[] b)
    {
        var m = new double[3, 4];
        for (int r = 0; r < 3; r++)
        {
            for (int c = 0; c < 3; c++)
                m[r, c] = a[r, c];
            m[r, 3] = b[r];
        }
        for (int col = 0; col < 3; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < 3; r++)
            {
                if (Math.Abs(m[r, col]) > Math.Abs(m[pivot, col]))
                    pivot = r;
            }
            for (int c = 0; c < 4; c++)
                (m[col, c], m[pivot, c]) = (m[pivot, c], m[col, c]);
            for (int r = 0; r < 3; r++)
            {
                if (r == col)
                    continue;
                double factor = m[r, col] / m[col, col];
                for (int c = col; c < 4; c++)
                    m[r, c] -= factor * m[col, c];
            }
        }
        return [m[0, 3] / m[0, 0], m[1, 3] / m[1, 1], m[2, 3] / m[2, 2]];
    }
}
