using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace Ctr.MLNet.Benchmarks.Harness;

/// <summary>
/// The verb's options: <c>--name value</c> pairs (or <c>--flag</c> alone); lists are comma separated.
/// Unknown options are an error, so a typo does not silently run the defaults.
/// </summary>
public sealed class Args
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public Args(IEnumerable<string> args)
    {
        string[] items = [.. args];
        for (int i = 0; i < items.Length; i++)
        {
            if (!items[i].StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{items[i]}'; options look like --rows 1000000.");
            string name = items[i][2..];
            string? value = i + 1 < items.Length && !items[i + 1].StartsWith("--", StringComparison.Ordinal) ? items[++i] : null;
            _values[name] = value;
        }
    }

    public int Int(string name, int fallback) => Get(name, fallback, s => int.Parse(s.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));

    public double Double(string name, double fallback) => Get(name, fallback, s => double.Parse(s, CultureInfo.InvariantCulture));

    public string String(string name, string fallback) => Get(name, fallback, s => s);

    public string? OptionalString(string name) => Get<string?>(name, null, s => s);

    public int? OptionalInt(string name) => Get<int?>(name, null, s => int.Parse(s.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture));

    public int[] Ints(string name, int[] fallback) =>
        Get(name, fallback, s => [.. s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => int.Parse(v.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture))]);

    public bool Flag(string name)
    {
        _used.Add(name);
        return _values.ContainsKey(name);
    }

    /// <summary>Throws if an option was given that no one asked for.</summary>
    public void CheckAllUsed()
    {
        string[] unknown = [.. _values.Keys.Where(k => !_used.Contains(k))];
        if (unknown.Length > 0)
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
    }

    private T Get<T>(string name, T fallback, Func<string, T> parse)
    {
        _used.Add(name);
        if (!_values.TryGetValue(name, out string? text))
            return fallback;
        if (text is null)
            throw new ArgumentException($"--{name} needs a value.");
        try
        {
            return parse(text);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"--{name}: cannot read '{text}'.");
        }
    }
}
