using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>Options shared by several verbs, with their checks, and the error handling every verb uses.</summary>
internal static class CommandOptions
{
    public static Option<int> Rows(string description, int minimum) => Check(
        new Option<int>("--rows") { Description = description, Required = true, HelpName = "N" },
        value => value >= minimum ? null : $"--rows must be at least {minimum}, got {value}.");

    public static Option<int> Seed() => new("--seed") { Description = "World seed: the same seed gives the same users, items and parameters.", DefaultValueFactory = _ => 1, HelpName = "S" };

    public static Option<string> Out(string description) => Check(
        new Option<string>("--out") { Description = description, Required = true, HelpName = "DIR" },
        value => string.IsNullOrWhiteSpace(value) ? "--out must not be empty." : null);

    /// <summary>
    /// A one-character option. System.CommandLine 2.0 has no parser for <see cref="char"/> (every value, the default
    /// included, failed to parse), so this one reads the single token itself.
    /// </summary>
    public static Option<char> Character(string name, string description, char defaultValue) => new(name)
    {
        Description = description,
        HelpName = "C",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (value.Length == 1)
                return value[0];
            result.AddError($"{name} must be one character, got '{Printable(value)}'.");
            return defaultValue;
        },
    };

    /// <summary>
    /// An optional whole number (<paramref name="what"/>, e.g. "rows"); absent means <paramref name="absent"/>. Parsed here
    /// because System.CommandLine's own message for a nullable option names the type System.Nullable`1[System.Int32].
    /// </summary>
    public static Option<int?> OptionalCount(string name, string description, string helpName, string what, string absent) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int count))
                return count;
            result.AddError($"{name} must be a whole number of {what}, got '{Printable(value)}'; leave it out for {absent}.");
            return null;
        },
    };

    /// <summary>
    /// Gives every whole-number and decimal option of every verb of <paramref name="root"/> that has no parser of its own
    /// one that reads the invariant culture (0.3, never 0,3, whatever the machine's language) and names what it takes:
    /// System.CommandLine's own parser follows the current culture and its message names the CLR type (System.Int32).
    /// </summary>
    public static RootCommand WithInvariantNumbers(RootCommand root)
    {
        foreach (Option option in root.Subcommands.SelectMany(verb => verb.Options))
        {
            switch (option)
            {
                case Option<int> { CustomParser: null } whole:
                    whole.CustomParser = result => Number(result, whole.Name, "a whole number", (string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v));
                    break;
                case Option<long> { CustomParser: null } large:
                    large.CustomParser = result => Number(result, large.Name, "a whole number", (string s, out long v) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v));
                    break;
                case Option<double> { CustomParser: null } real:
                    real.CustomParser = result => Number(result, real.Name, "a number such as 0.5", (string s, out double v) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out v));
                    break;
            }
        }
        return root;
    }

    private delegate bool TryParse<T>(string text, out T value);

    private static T Number<T>(ArgumentResult result, string name, string what, TryParse<T> parse)
    {
        string text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
        if (parse(text, out T value))
            return value;
        result.AddError($"{name} must be {what}, got '{Printable(text)}'.");
        return default!;
    }

    /// <summary>
    /// <c>--threads</c> of the verbs that train, at most 256 as serve's <c>--scoring-threads</c>: libtorch starts every
    /// thread asked for, and 100,000 made train start one after another (over a thousand in 15 s) instead of training.
    /// </summary>
    public static Option<int?> Threads() => Check(
        OptionalCount("--threads", "Torch threads (default 1, the fastest at CTR batch sizes on a shared machine).", "T", "threads", "the default of 1"),
        v => v is null or (>= 1 and <= 256) ? null : $"--threads must be between 1 and 256, got {v}.");

    /// <summary>
    /// Writes a metric, rounded to 6 decimals; an undefined one (NaN) is <c>null</c>, with <c>NAME_undefined</c> giving
    /// <paramref name="reason"/>, since JSON has no NaN.
    /// </summary>
    public static void WriteMetric(System.Text.Json.Utf8JsonWriter json, string name, double value, string reason)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, Math.Round(value, 6));
            return;
        }
        json.WriteNull(name);
        json.WriteString($"{name}_undefined", reason);
    }

    /// <summary>
    /// <paramref name="text"/> with control characters (a NUL byte of a binary file, an escape sequence) written as
    /// <c>\uXXXX</c>, so an error message never sends them raw to a terminal.
    /// </summary>
    public static string Printable(string text)
    {
        if (!text.AsSpan().ContainsAny(s_controls))
            return text;
        var builder = new System.Text.StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            if (char.IsControl(c) && c is not '\n')
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else
                builder.Append(c);
        }
        return builder.ToString();
    }

    private static readonly System.Buffers.SearchValues<char> s_controls = System.Buffers.SearchValues.Create(
        [.. Enumerable.Range(0, 32).Where(c => c != '\n').Select(c => (char)c), .. Enumerable.Range(0x7F, 0x21).Select(c => (char)c)]);

    /// <summary>How the hint of a bad-row error tells the user to skip such rows.</summary>
    public const string SkipHint = "pass --bad-rows skip";

    /// <summary><c>--bad-rows error|skip</c> of the verbs that read CSV files.</summary>
    public static Option<BadRowPolicy> BadRows() => new("--bad-rows")
    {
        Description = "What to do with a row that cannot be read (wrong field count, broken quoting, not UTF-8, a field over 1 MiB or a line "
            + "over 8 Mi characters, text or NaN/Infinity in a numeric column, a label other than 0/1, list weights that are not one finite "
            + "number of 0 or more per list element): 'error' (the default) stops, naming its file, line and column; 'skip' leaves it out, "
            + "counts it and reports the first one. An empty field is a missing value, not a bad row.",
        // No DefaultValueFactory: the default is Error, and help would print it capitalized.
        HelpName = "error|skip",
        CustomParser = result =>
        {
            string value = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (value.Equals("error", StringComparison.OrdinalIgnoreCase))
                return BadRowPolicy.Error;
            if (value.Equals("skip", StringComparison.OrdinalIgnoreCase))
                return BadRowPolicy.Skip;
            result.AddError($"--bad-rows must be error or skip, got '{value}'.");
            return BadRowPolicy.Error;
        },
    };

    /// <summary>
    /// Writes one line per file that had rows skipped (count and the first one) to <paramref name="error"/> and
    /// returns the total, each file counted once however many times it was read.
    /// </summary>
    public static long ReportBadRows(TextWriter error, params IEnumerable<IFileDataSource> sources)
    {
        long total = 0;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (IFileDataSource source in sources)
        {
            if (!seen.Add(Path.GetFullPath(source.Path)) || source.ReadSummary is not { BadRowsSkipped: > 0 } summary)
                continue;
            error.WriteLine(Printable($"warning: skipped {summary.BadRowsSkipped} bad row(s) of {source.Path}; the first: {summary.FirstBadRow}"));
            total += summary.BadRowsSkipped;
        }
        return total;
    }

    public static Option<T> Check<T>(Option<T> option, Func<T, string?> check)
    {
        option.Validators.Add(result =>
        {
            T value;
            try
            {
                value = result.GetValueOrDefault<T>();
            }
            catch (InvalidOperationException)
            {
                return; // not a T at all: System.CommandLine reports that already
            }
            string? error = check(value);
            if (error is not null)
                result.AddError(error);
        });
        return option;
    }

    /// <summary>
    /// Runs a verb's work: a failure prints <c>error: message</c> on standard error (no stack trace) and
    /// returns 1; the run's output goes to <paramref name="parseResult"/>'s output writer.
    /// </summary>
    public static int Run(ParseResult parseResult, Func<TextWriter, int> action)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output;
        TextWriter error = parseResult.InvocationConfiguration.Error;
        try
        {
            return action(output);
        }
        catch (Exception e) when (Find<DataBadRowException>(e) is DataBadRowException bad)
        {
            // ML.NET may wrap what a cursor throws; the bad row is what the user needs to see.
            error.WriteLine(Printable($"error: {bad.Describe(SkipHint)}"));
        }
        catch (Exception e) when (Reportable(e) is Exception reported)
        {
            error.WriteLine(Printable($"error: {(reported is ArgumentException argument ? WithoutParameterName(argument) : reported.Message)}"));
        }
        return 1;
    }

    /// <summary>
    /// The error the user is shown, or null for one that is a bug. A wrapper ML.NET put around an error while its
    /// cursors ran ("Splitter/consolidator worker encountered exception ...") gives way to the error it wraps, whose
    /// message names the file, row or column.
    /// </summary>
    private static Exception? Reportable(Exception e)
    {
        if (e.Source?.StartsWith("Microsoft.ML", StringComparison.Ordinal) == true && e.InnerException is { } inner && Reportable(inner) is { } wrapped)
            return wrapped;
        return e is ArgumentException or IOException or UnauthorizedAccessException or InvalidOperationException or FormatException ? e : null;
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is T found)
                return found;
            if (e is AggregateException { InnerExceptions.Count: > 0 } aggregate)
                return Find<T>(aggregate.InnerExceptions[0]);
        }
        return null;
    }

    private static string WithoutParameterName(ArgumentException e)
    {
        string suffix = e.ParamName is null ? "" : $" (Parameter '{e.ParamName}')";
        return suffix.Length > 0 && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    public static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
