using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;

namespace Ctr.MLNet.Benchmarks.Harness;

/// <summary>One timed run: wall time, the peak resident set during it, and managed memory.</summary>
/// <param name="Seconds">Wall time of the run.</param>
/// <param name="PeakRssBytes">Peak resident set size (VmHWM) during the run, reset just before it where Linux allows.</param>
/// <param name="ManagedAfterBytes">Managed heap right after the run (<see cref="GC.GetTotalMemory(bool)"/> without a collection).</param>
/// <param name="AllocatedBytes">Managed bytes allocated during the run.</param>
public sealed record Run(double Seconds, long PeakRssBytes, long ManagedAfterBytes, long AllocatedBytes);

/// <summary>Several runs of the same thing; medians are what the tables show, every run is listed too.</summary>
public sealed class Measurement
{
    public Measurement(string name, IReadOnlyList<Run> runs)
    {
        Name = name;
        Runs = runs;
    }

    public string Name { get; }

    public IReadOnlyList<Run> Runs { get; }

    public double MedianSeconds => Stats.Median(Runs.Select(r => r.Seconds));

    /// <summary>Largest peak over the runs (memory does not get noisier by repetition, so the max is the honest one).</summary>
    public long PeakRssBytes => Runs.Max(r => r.PeakRssBytes);

    public long ManagedAfterBytes => Runs.Max(r => r.ManagedAfterBytes);

    public long MedianAllocatedBytes => (long)Stats.Median(Runs.Select(r => (double)r.AllocatedBytes));

    /// <summary><paramref name="rows"/> per second at the median time.</summary>
    public double RowsPerSecond(long rows) => rows / MedianSeconds;

    /// <summary>Every run's rows/s, e.g. "812k, 790k, 805k".</summary>
    public string AllRowsPerSecond(long rows) => string.Join(", ", Runs.Select(r => Format.Rate(rows / r.Seconds)));

    /// <summary>Every run's seconds, e.g. "1.23, 1.19, 1.25".</summary>
    public string AllSeconds() => string.Join(", ", Runs.Select(r => r.Seconds.ToString("0.00", CultureInfo.InvariantCulture)));
}

/// <summary>Times actions: a full blocking GC before each run, the peak RSS reset, a Stopwatch around the action.</summary>
public static class Measure
{
    /// <summary>Runs <paramref name="action"/> <paramref name="repeats"/> times.</summary>
    public static Measurement Repeat(string name, int repeats, Action action) =>
        Repeat(name, repeats, () =>
        {
            action();
            return 0;
        }, out _);

    /// <summary>Runs <paramref name="action"/> <paramref name="repeats"/> times; <paramref name="last"/> is the last run's result.</summary>
    public static Measurement Repeat<T>(string name, int repeats, Func<T> action, out T last)
    {
        var runs = new List<Run>(repeats);
        last = default!;
        for (int i = 0; i < repeats; i++)
        {
            runs.Add(Once(action, out T result));
            last = result;
        }
        var measurement = new Measurement(name, runs);
        Console.Error.WriteLine($"  {name}: {measurement.AllSeconds()} s (peak RSS {Format.Megabytes(measurement.PeakRssBytes)} MB)");
        return measurement;
    }

    /// <summary>One measured run of <paramref name="action"/>.</summary>
    public static Run Once<T>(Func<T> action, out T result)
    {
        Memory.CollectAll();
        Memory.ResetPeak();
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var stopwatch = Stopwatch.StartNew();
        result = action();
        stopwatch.Stop();
        long allocatedDuring = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        return new Run(stopwatch.Elapsed.TotalSeconds, Memory.PeakRss(), GC.GetTotalMemory(forceFullCollection: false), allocatedDuring);
    }
}

/// <summary>Process memory: peak RSS (Linux VmHWM, resettable through /proc/self/clear_refs) and managed heap.</summary>
public static class Memory
{
    private static bool? _canReset;

    /// <summary>Whether <see cref="ResetPeak"/> works here (Linux ≥ 4.0); otherwise peaks are since process start.</summary>
    public static bool CanResetPeak
    {
        get
        {
            _canReset ??= TryReset();
            return _canReset.Value;
        }
    }

    public static void CollectAll()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>Sets the kernel's peak RSS (VmHWM) back to the current RSS, so the next peak is the next section's.</summary>
    public static void ResetPeak()
    {
        if (CanResetPeak)
            TryReset();
    }

    /// <summary>Peak resident set size in bytes (<see cref="Process.PeakWorkingSet64"/>, i.e. VmHWM on Linux).</summary>
    public static long PeakRss()
    {
        using Process process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>Current resident set size in bytes.</summary>
    public static long CurrentRss()
    {
        using Process process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static bool TryReset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }
}

public static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.OrderBy(v => v)];
        if (sorted.Length == 0)
            return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}

/// <summary>Number formats of the tables (invariant culture).</summary>
public static class Format
{
    /// <summary>Rows per second, e.g. "1.23M", "812k", "950".</summary>
    public static string Rate(double value) => value switch
    {
        double.NaN => "n/a",
        >= 10e6 => (value / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + "M",
        >= 1e6 => (value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (value / 1e3).ToString("0", CultureInfo.InvariantCulture) + "k",
        >= 1e3 => (value / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };

    public static string Megabytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0", CultureInfo.InvariantCulture);

    public static string Seconds(double seconds) => seconds.ToString(seconds < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    public static string Metric(double value) => double.IsNaN(value) ? "n/a" : value.ToString("0.0000", CultureInfo.InvariantCulture);

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>"200k", "1M", "1.5M".</summary>
    public static string RowsLabel(long rows) => rows switch
    {
        >= 1_000_000 when rows % 1_000_000 == 0 => (rows / 1_000_000).ToString(CultureInfo.InvariantCulture) + "m",
        >= 1_000 when rows % 1_000 == 0 => (rows / 1_000).ToString(CultureInfo.InvariantCulture) + "k",
        _ => rows.ToString(CultureInfo.InvariantCulture),
    };
}
