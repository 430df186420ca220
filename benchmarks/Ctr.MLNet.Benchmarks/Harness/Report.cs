using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;

namespace Ctr.MLNet.Benchmarks.Harness;

/// <summary>
/// A Markdown report: printed to standard output as it grows and rewritten to
/// <c>benchmarks/results/&lt;name&gt;.md</c> after every addition (not before the first), so a run cut short keeps
/// what it measured.
/// The header holds the exact command line, the machine, the .NET version and the torch thread count.
/// </summary>
public sealed class Report
{
    private readonly StringBuilder _text = new();
    private readonly string _path;
    private string? _pending;

    public Report(string name, string title, IReadOnlyList<string> args)
    {
        _path = Path.Combine(RepositoryRoot(), "benchmarks", "results", name + ".md");
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _text.AppendLine($"# {title}").AppendLine();
        Line($"- Command: `dotnet run -c Release --project benchmarks/Ctr.MLNet.Benchmarks -- {string.Join(' ', args)}`");
        Line($"- Date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}");
        Line($"- Machine: {Environment.ProcessorCount} logical cores ({CpuModel()}), {TotalMemoryGiB()} GiB RAM, {OsRelease()} (kernel {Environment.OSVersion.Version}), {RuntimeInformation.OSArchitecture}");
        Line($"- .NET: {RuntimeInformation.FrameworkDescription}, {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")} GC, ML.NET {AssemblyVersion(typeof(Microsoft.ML.MLContext))}, TorchSharp {AssemblyVersion(typeof(TorchSharp.torch))}, LightGBM package {AssemblyVersion(typeof(Microsoft.ML.Trainers.LightGbm.LightGbmBinaryTrainer))}");
        Line($"- Torch threads: {TorchThreads.Describe()}");
        Line($"- Load average at start (1/5/15 min): {LoadAverage()} — this machine is shared and noisy; compare numbers within one run, not across runs.");
        Line($"- Peak RSS: {(Memory.CanResetPeak ? "reset before each measured section (/proc/self/clear_refs), so it is that section's peak" : "since process start (reset not available)")}; every run starts after a full blocking GC.");
        // Not written yet: a run refused for its options leaves the committed file of that name as it was.
        _text.AppendLine();
    }

    /// <summary>Where the file is written.</summary>
    public string FilePath => _path;

    public Report Heading(string text, int level = 2)
    {
        _text.AppendLine($"{new string('#', level)} {text}").AppendLine();
        Console.Out.WriteLine($"{new string('#', level)} {text}");
        Console.Out.WriteLine();
        Flush();
        return this;
    }

    public Report Paragraph(string text)
    {
        _text.AppendLine(text).AppendLine();
        Console.Out.WriteLine(text);
        Console.Out.WriteLine();
        Flush();
        return this;
    }

    public Report Table(Table table)
    {
        _pending = null;
        string markdown = table.ToMarkdown();
        _text.AppendLine(markdown);
        Console.Out.WriteLine(markdown);
        Flush();
        return this;
    }

    /// <summary>Shows <paramref name="table"/> at the end of the file, marked unfinished, until the next addition replaces it.</summary>
    public Report Partial(Table table)
    {
        _pending = table.ToMarkdown() + Environment.NewLine + "(unfinished: the run is still going or was cut short)" + Environment.NewLine;
        Flush();
        return this;
    }

    /// <summary>Ends the report with the load average and total time.</summary>
    public void Finish(TimeSpan elapsed)
    {
        Paragraph($"Total time {elapsed.TotalMinutes:0.0} min; load average at end: {LoadAverage()}.");
        Console.Error.WriteLine($"wrote {_path}");
    }

    private void Line(string text)
    {
        _text.AppendLine(text);
        Console.Out.WriteLine(text);
    }

    private void Flush() => File.WriteAllText(_path, _text.ToString() + (_pending ?? ""));

    /// <summary>The directory holding Ctr.MLNet.sln, searched upwards from the working directory, then from the binary.</summary>
    public static string RepositoryRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Ctr.MLNet.sln")))
                    return dir.FullName;
            }
        }
        return Directory.GetCurrentDirectory();
    }

    public static string LoadAverage()
    {
        try
        {
            string[] parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return string.Join(" / ", parts.Take(3));
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static string CpuModel()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    private static string TotalMemoryGiB()
    {
        long bytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return (bytes / (1024.0 * 1024 * 1024)).ToString("0", CultureInfo.InvariantCulture);
    }

    private static string OsRelease()
    {
        try
        {
            string? line = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            return line is null ? "unknown" : line["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static string AssemblyVersion(Type type)
    {
        string? informational = type.Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion;
        return informational is null ? type.Assembly.GetName().Version?.ToString() ?? "?" : informational.Split('+')[0];
    }
}

/// <summary>A Markdown table; cells are text.</summary>
public sealed class Table
{
    private readonly string[] _headers;
    private readonly List<string[]> _rows = [];

    public Table(params string[] headers) => _headers = headers;

    public Table Add(params string[] cells)
    {
        if (cells.Length != _headers.Length)
            throw new ArgumentException($"{cells.Length} cells for {_headers.Length} columns.");
        _rows.Add(cells);
        return this;
    }

    public int Count => _rows.Count;

    public string ToMarkdown()
    {
        var text = new StringBuilder();
        text.Append("| ").Append(string.Join(" | ", _headers)).AppendLine(" |");
        text.Append('|').Append(string.Join("|", _headers.Select(_ => "---"))).AppendLine("|");
        foreach (string[] row in _rows)
            text.Append("| ").Append(string.Join(" | ", row.Select(c => c.Replace("|", "\\|", StringComparison.Ordinal)))).AppendLine(" |");
        return text.ToString();
    }
}

/// <summary>libtorch's intra-op thread count (process-wide).</summary>
public static class TorchThreads
{
    private static readonly int Default = TorchSharp.torch.get_num_threads();

    /// <summary>The count libtorch chose at start-up (one per core unless OMP/MKL variables say otherwise).</summary>
    public static int AtStartup => Default;

    public static int Current => TorchSharp.torch.get_num_threads();

    public static void Set(int threads) => TorchSharp.torch.set_num_threads(threads);

    public static string Describe() =>
        $"{Default} at start-up (libtorch default; OMP_NUM_THREADS={Environment.GetEnvironmentVariable("OMP_NUM_THREADS") ?? "unset"}); sections that set it say so";
}
