using System;
using System.Globalization;

namespace Ctr.MLNet.Transforms;

/// <summary>A row of a Parquet file that could not be read as its column is loaded: where it is and why.</summary>
/// <param name="Path">The file.</param>
/// <param name="RowGroup">0-based row group of the file.</param>
/// <param name="Row">1-based row within the file.</param>
/// <param name="ColumnName">The column.</param>
/// <param name="Problem">What is wrong, e.g. <c>the label is null</c>.</param>
/// <param name="Fix">What to do about it.</param>
public sealed record ParquetBadRow(string Path, int RowGroup, long Row, string ColumnName, string Problem, string Fix)
{
    /// <summary>"day/part-0.parquet row group 0, row 17, column 'price'".</summary>
    public string Location => string.Create(CultureInfo.InvariantCulture, $"{Path} row group {RowGroup}, row {Row:N0}, column '{ColumnName}'");

    /// <summary>The full error: location, problem, fix, and how to skip such rows.</summary>
    /// <param name="skipHint">How the caller skips bad rows, e.g. <c>pass --bad-rows skip</c>.</param>
    public string Describe(string skipHint) => $"{Location}: {Problem}; {Fix}, or {skipHint} to skip such rows.";

    /// <summary>Location and problem, without the advice.</summary>
    public override string ToString() => $"{Location}: {Problem}";
}

/// <summary>A bad row of a Parquet file read with <see cref="BadRowPolicy.Error"/>.</summary>
public sealed class ParquetBadRowException : DataBadRowException
{
    /// <summary>Creates the exception for <paramref name="badRow"/>.</summary>
    public ParquetBadRowException(ParquetBadRow badRow)
        : base((badRow ?? throw new ArgumentNullException(nameof(badRow))).Describe(CsvBadRowException.DefaultSkipHint)) => BadRow = badRow;

    /// <summary>Where and why.</summary>
    public ParquetBadRow BadRow { get; }

    /// <inheritdoc/>
    public override string Describe(string skipHint) => BadRow.Describe(skipHint);
}
