using System;
using System.IO;
using Ctr.MLNet.Torch;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>
/// Shows training progress: a single redrawn status line on a terminal, plain lines (one per epoch and
/// phase change) when the output is redirected, so logs stay readable.
/// </summary>
internal sealed class ConsoleProgress(TextWriter output, bool interactive) : IProgress<TrainingProgress>
{
    private TrainingPhase? _lastPhase;
    private DateTime _lastLine = DateTime.MinValue;

    public static ConsoleProgress For(TextWriter output) =>
        new(output, ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected);

    public void Report(TrainingProgress value)
    {
        if (value.Message is not null)
        {
            Clear();
            output.WriteLine(value.Message);
            _lastPhase = value.Phase;
            return;
        }
        string line = value.Phase switch
        {
            TrainingPhase.Reading => $"reading: {value.RowsDone:N0} rows, {value.RowsPerSecond:N0} rows/s",
            TrainingPhase.Training => $"epoch {value.Epoch}/{value.Epochs} {Bar(value)} {value.RowsDone:N0}/{value.RowsTotal:N0} rows, {value.RowsPerSecond:N0} rows/s, loss {value.Loss:F4}, ETA {Eta(value.Eta)}",
            _ => $"epoch {value.Epoch}/{value.Epochs}: validating {value.RowsDone:N0} rows",
        };
        if (interactive)
        {
            output.Write("\r" + line.PadRight(Console.WindowWidth > 0 ? Math.Min(Console.WindowWidth - 1, 120) : 100));
        }
        else if (value.Phase != _lastPhase || DateTime.UtcNow - _lastLine > TimeSpan.FromSeconds(10))
        {
            output.WriteLine(line);
            _lastLine = DateTime.UtcNow;
        }
        _lastPhase = value.Phase;
    }

    private void Clear()
    {
        if (interactive)
            output.Write("\r" + new string(' ', 120) + "\r");
    }

    private static string Bar(TrainingProgress value)
    {
        double done = value.RowsTotal is long total && total > 0 ? Math.Clamp((double)value.RowsDone / total, 0, 1) : 0;
        int filled = (int)Math.Round(done * 20);
        return "[" + new string('#', filled) + new string('.', 20 - filled) + "]";
    }

    private static string Eta(TimeSpan? eta) => eta is TimeSpan t ? (t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"m\:ss")) : "?";
}
