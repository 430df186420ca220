using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;

namespace Ctr.MLNet.Benchmarks.Ceiling;

/// <summary>
/// <c>ceiling</c>: the well-specified model's test AUC and log loss beside the oracle's, per seed and mean ± sd,
/// on the same planted splits as <c>trainer</c>. The learnable ceiling a generic network is measured against.
/// </summary>
public static class CeilingBenchmark
{
    private const double ValidFraction = 0.1;
    private const double TestFraction = 0.2;

    public static void Run(Args args, Report report)
    {
        int[] sizes = args.Ints("rows", [200_000, 1_000_000]);
        int[] seeds = args.Ints("seeds", [1, 2, 3]);
        var options = new CeilingOptions
        {
            PriorScale = args.Double("prior-scale", 1.0),
            LearningRate = args.Double("learning-rate", new CeilingOptions().LearningRate),
            LearningRateDecay = args.Double("decay", new CeilingOptions().LearningRateDecay),
            BatchSize = args.Int("batch-size", new CeilingOptions().BatchSize),
        };
        args.CheckAllUsed();
        TorchThreads.Set(1);

        report.Paragraph(
            $"Data: `PlantedSplit.Draw(seed, rows, rows × {TestFraction}, {ValidFraction})` — day 0 of world `seed` in time order: training rows (the last " +
            $"{ValidFraction:P0} for early stopping), then the test rows. Oracle = the planted true probabilities of the test rows.\n\n" +
            "Well-specified model (`Ceiling/WellSpecifiedModel.cs`): the generator's click model with free parameters — intercept, user/item/brand/category biases, " +
            "u·v (K = 8), β·v·h̄ (dwell-weighted mean of the history items' vectors, the same v), device effect + per-device hour cosine and sine, " +
            "price slope × (ln price − category mean), per-category age slope; v = category centroid + item offset. " +
            "Fitted by MAP (Gaussian priors at the generator's scales × prior scale) on the training rows only, from the logged fields alone; " +
            "ids not seen in training share an unknown row. " +
            $"Adam, learning rate {Format.Number(options.LearningRate)} × {Format.Number(options.LearningRateDecay)} per epoch, batches of {options.BatchSize}, prior scale {Format.Number(options.PriorScale)}, " +
            $"early stopping on validation log loss (patience {options.Patience}, best epoch kept), 1 torch thread. " +
            "AUC and log loss (natural log) from `Ctr.MLNet.Torch.BinaryMetrics` on the test rows.");

        foreach (int rows in sizes)
        {
            report.Heading($"{Format.Count(rows)} training rows");
            var table = new Table("Seed", "Oracle AUC", "Ceiling AUC", "Oracle log loss", "Ceiling log loss", "Captured of oracle lift", "Epochs (best)", "Fit time (s)", "Validation log loss per epoch");
            var results = new List<(double OracleAuc, double Auc, double OracleLogLoss, double LogLoss, double Seconds)>();
            foreach (int seed in seeds)
            {
                PlantedSplit split = PlantedSplit.Draw(seed, rows, (int)Math.Round(rows * TestFraction), ValidFraction);
                float[] labels = [.. split.Test.Select(r => r.Label ? 1f : 0f)];
                float[] truth = [.. split.Test.Select(r => r.TrueProbability)];
                CeilingResult fit = WellSpecifiedModel.FitAndScore(split.Train, split.Valid, split.Test, seed, options);
                var r = (BinaryMetrics.Auc(labels, truth), BinaryMetrics.Auc(labels, fit.Probabilities),
                    BinaryMetrics.LogLoss(labels, truth), BinaryMetrics.LogLoss(labels, fit.Probabilities), fit.FitSeconds);
                results.Add(r);
                table.Add(seed.ToString(CultureInfo.InvariantCulture), Format.Metric(r.Item1), Format.Metric(r.Item2), Format.Metric(r.Item3), Format.Metric(r.Item4),
                    Lift(r.Item2, r.Item1), $"{fit.Epochs} ({fit.BestEpoch})", Format.Seconds(fit.FitSeconds),
                    string.Join(" ", fit.ValidLogLoss.Select(l => l.ToString("0.0000", CultureInfo.InvariantCulture))));
                report.Partial(table);
            }
            table.Add("mean ± sd", MeanSd(results.Select(r => r.OracleAuc)), MeanSd(results.Select(r => r.Auc)), MeanSd(results.Select(r => r.OracleLogLoss)),
                MeanSd(results.Select(r => r.LogLoss)), Lift(results.Average(r => r.Auc), results.Average(r => r.OracleAuc)), "",
                Format.Seconds(results.Average(r => r.Seconds)), "");
            report.Table(table);
        }
    }

    /// <summary>(AUC − 0.5) / (oracle AUC − 0.5): how much of the reachable lift over chance the model takes.</summary>
    private static string Lift(double auc, double oracleAuc) => ((auc - 0.5) / (oracleAuc - 0.5)).ToString("0.000", CultureInfo.InvariantCulture);

    private static string MeanSd(IEnumerable<double> values)
    {
        double[] v = [.. values];
        double mean = v.Average();
        double sd = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return string.Create(CultureInfo.InvariantCulture, $"{mean:0.0000} ± {sd:0.0000}");
    }
}
