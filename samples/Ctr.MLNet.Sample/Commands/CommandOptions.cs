using System;
using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.IO;

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
        catch (ArgumentException e)
        {
            error.WriteLine($"error: {WithoutParameterName(e)}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            error.WriteLine($"error: {e.Message}");
        }
        return 1;
    }

    private static string WithoutParameterName(ArgumentException e)
    {
        string suffix = e.ParamName is null ? "" : $" (Parameter '{e.ParamName}')";
        return suffix.Length > 0 && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    public static string Number(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
