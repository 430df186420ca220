using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using ScottPlot;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>
/// <c>train --plot</c>: draws the per-epoch training history as a PNG with two panels, loss (train loss and
/// validation log loss) above and validation AUC below, rendered headless by ScottPlot through SkiaSharp.
/// </summary>
public static class TrainingCurves
{
    /// <summary>Width of the image in pixels.</summary>
    public const int Width = 900;

    /// <summary>Height of the image in pixels (two panels stacked).</summary>
    public const int Height = 800;

    /// <summary>
    /// Writes the curves of <paramref name="history"/> to the PNG file <paramref name="path"/>, atomically (a temporary
    /// file beside it, then a rename), creating its directory when missing. Returns the full path written.
    /// </summary>
    /// <exception cref="ArgumentException">No epochs, or the path does not end in <c>.png</c>.</exception>
    /// <exception cref="InvalidOperationException">The file or its directory cannot be written; the message names it.</exception>
    public static string Save(IReadOnlyList<EpochMetrics> history, string path)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!path.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"The training curves are a PNG image: '{path}' must end in .png.", nameof(path));
        byte[] png = RenderPng(history);

        string full = Path.GetFullPath(path);
        try
        {
            AtomicFile.Write(full, stream => stream.Write(png));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"Cannot write the training curves to '{full}': directory '{Path.GetDirectoryName(full)}' cannot be written ({e.Message}).", e);
        }
        return full;
    }

    /// <summary>The PNG bytes of the two-panel plot of <paramref name="history"/>.</summary>
    /// <exception cref="ArgumentException">The history has no epochs.</exception>
    public static byte[] RenderPng(IReadOnlyList<EpochMetrics> history)
    {
        ArgumentNullException.ThrowIfNull(history);
        if (history.Count == 0)
            throw new ArgumentException("There are no epochs to plot.", nameof(history));

        string? font = SansFont();
        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        Plot loss = multiplot.GetPlot(0), auc = multiplot.GetPlot(1);

        AddSeries(loss, history, h => h.TrainLoss, "train loss", Colors.C0, LinePattern.Solid);
        AddSeries(loss, history, h => h.ValidLogLoss, "validation log loss", Colors.C1, LinePattern.Dashed);
        Style(loss, history, font, "Training curves: loss per epoch", "log loss");

        AddSeries(auc, history, h => h.ValidAuc, "validation AUC", Colors.C2, LinePattern.Solid);
        Style(auc, history, font, "Validation AUC per epoch", "AUC");

        // Both panels show the same epochs, so their x axes line up.
        multiplot.SharedAxes.ShareX(new[] { loss, auc });
        return multiplot.Render(Width, Height).GetImageBytes(ImageFormat.Png, 100);
    }

    private static void AddSeries(Plot plot, IReadOnlyList<EpochMetrics> history, Func<EpochMetrics, double> value, string label, Color color, LinePattern pattern)
    {
        // NaN marks an epoch without that metric (e.g. no validation rows); leave it out rather than break the line.
        EpochMetrics[] points = history.Where(h => double.IsFinite(value(h))).ToArray();
        if (points.Length == 0)
            return;
        var scatter = plot.Add.Scatter(points.Select(h => (double)h.Epoch).ToArray(), points.Select(value).ToArray(), color);
        scatter.LegendText = label;
        scatter.LineWidth = 2;
        scatter.LinePattern = pattern;
        scatter.MarkerSize = 7;
    }

    private static void Style(Plot plot, IReadOnlyList<EpochMetrics> history, string? font, string title, string yLabel)
    {
        if (font is not null)
            plot.Font.Set(font);
        // The same fixed padding in both panels keeps their epochs in one column whatever the tick labels' widths.
        plot.Layout.Fixed(new PixelPadding(left: 85, right: 25, bottom: 55, top: 40));
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Alignment.UpperRight);
        if (plot.GetPlottables().Any())
        {
            // Headroom above the data, where the legend sits, so it never hides the last points.
            plot.Axes.Margins(horizontal: 0.05, vertical: 0.1);
            plot.Axes.AutoScale();
            AxisLimits limits = plot.Axes.GetLimits();
            plot.Axes.SetLimitsY(limits.Bottom, limits.Top + 0.35 * (limits.Top - limits.Bottom));
        }
        else
        {
            // Every value of this panel is missing: say so instead of drawing empty axes that look like a bug.
            plot.Add.Annotation("no finite values", Alignment.MiddleCenter);
            plot.Axes.SetLimitsY(0, 1);
        }
        int first = history.Min(h => h.Epoch), last = history.Max(h => h.Epoch);
        plot.Axes.SetLimitsX(first - 0.5, last + 0.5);
    }

    /// <summary>
    /// An installed sans-serif family, or null to keep ScottPlot's choice. ScottPlot's own detection settles on
    /// DejaVu Serif on Debian, where DejaVu Sans is installed beside it.
    /// </summary>
    private static string? SansFont()
    {
        string[] installed = SkiaSharp.SKFontManager.Default.FontFamilies.ToArray();
        return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "Segoe UI" }
            .FirstOrDefault(f => installed.Contains(f, StringComparer.OrdinalIgnoreCase));
    }
}
