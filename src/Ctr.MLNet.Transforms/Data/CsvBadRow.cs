using System;
using System.Globalization;

namespace Ctr.MLNet.Transforms;

/// <summary>What to do with a data row that cannot be read as its columns say.</summary>
public enum BadRowPolicy
{
    /// <summary>Stop with a <see cref="CsvBadRowException"/> naming the file, the line and the column.</summary>
    Error,

    /// <summary>Leave the row out and count it (<see cref="CsvDataSource.Summary"/>).</summary>
    Skip,
}

/// <summary>
/// A data row of a CSV file that could not be read: where it is and why. File-level problems (an empty file, a
/// missing header column) are not bad rows; they are always errors.
/// </summary>
/// <param name="Path">The file, as it was given.</param>
/// <param name="Line">1-based line where the row starts.</param>
/// <param name="Column">1-based position of the offending field in the row.</param>
/// <param name="ColumnName">The header's name for that position; null past the header's last column.</param>
/// <param name="Problem">What is wrong, e.g. <c>'abc' is not a number</c>.</param>
/// <param name="Fix">What to do about it, e.g. <c>fix the value or leave it empty for a missing value</c>.</param>
/// <param name="Skippable">False when <see cref="BadRowPolicy.Skip"/> cannot skip the row either: the header row, when
/// it runs on past the row length limit. A data row that does is skipped as its first line alone.</param>
public sealed record CsvBadRow(string Path, long Line, int Column, string? ColumnName, string Problem, string Fix, bool Skippable = true)
{
    /// <summary>"train.csv line 17, column 'price' (3)".</summary>
    public string Location => ColumnName is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Path} line {Line}, column {Column}")
        : string.Create(CultureInfo.InvariantCulture, $"{Path} line {Line}, column '{ColumnName}' ({Column})");

    /// <summary>The full error: location, problem, fix, and how to skip such rows.</summary>
    /// <param name="skipHint">How the caller skips bad rows, e.g. <c>pass --bad-rows skip</c>.</param>
    public string Describe(string skipHint) => Skippable
        ? $"{Location}: {Problem}; {Fix}, or {skipHint} to skip such rows."
        : $"{Location}: {Problem}; {Fix}. The header row cannot be skipped.";

    /// <summary>Location and problem, without the advice: the short form for a summary line.</summary>
    public override string ToString() => $"{Location}: {Problem}";
}

/// <summary>A bad row of a data file (CSV or Parquet) read with <see cref="BadRowPolicy.Error"/>.</summary>
public abstract class DataBadRowException : FormatException
{
    /// <summary>Creates the exception with its full message.</summary>
    protected DataBadRowException(string message)
        : base(message)
    {
    }

    /// <summary>The full error (location, problem, fix), with <paramref name="skipHint"/> as the caller's way to skip such rows.</summary>
    public abstract string Describe(string skipHint);
}

/// <summary>A bad row of a CSV file read with <see cref="BadRowPolicy.Error"/>.</summary>
public sealed class CsvBadRowException : DataBadRowException
{
    /// <summary>The hint of <see cref="Exception.Message"/>: the library's own way to skip bad rows.</summary>
    public const string DefaultSkipHint = "set BadRowPolicy.Skip";

    /// <summary>Creates the exception for <paramref name="badRow"/>.</summary>
    public CsvBadRowException(CsvBadRow badRow)
        : base((badRow ?? throw new ArgumentNullException(nameof(badRow))).Describe(DefaultSkipHint)) => BadRow = badRow;

    /// <summary>Where and why.</summary>
    public CsvBadRow BadRow { get; }

    /// <inheritdoc/>
    public override string Describe(string skipHint) => BadRow.Describe(skipHint);
}
