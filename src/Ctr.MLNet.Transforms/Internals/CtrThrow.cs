using System;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace Ctr.MLNet.Transforms.Internals;

/// <summary>
/// Every error of the library goes through here, with ML.NET's wording and exception types, so a user
/// reads the same messages from our transforms as from the built-in ones.
/// </summary>
[StackTraceHidden]
internal static class CtrThrow
{
    /// <summary>"Could not find input column 'X'".</summary>
    [DoesNotReturn]
    public static void ColumnNotFound(string columnName, string role = "input") =>
        throw new ArgumentOutOfRangeException("inputSchema", $"Could not find {role} column '{columnName}'");

    /// <summary>"Schema mismatch for input column 'X': expected …, got …".</summary>
    [DoesNotReturn]
    public static void SchemaMismatch(string columnName, string expected, string? actual, string role = "input") =>
        throw new ArgumentOutOfRangeException("inputSchema", $"Schema mismatch for {role} column '{columnName}': expected {expected}, got {actual}");

    [DoesNotReturn]
    public static void ArgumentOutOfRange(string paramName, string message) =>
        throw new ArgumentOutOfRangeException(paramName, message);

    [DoesNotReturn]
    public static void InvalidOperation(string message) => throw new InvalidOperationException(message);

    [DoesNotReturn]
    public static void Format(string message) => throw new FormatException(message);
}
