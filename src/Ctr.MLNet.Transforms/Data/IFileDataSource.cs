using System.Collections.Immutable;
using Microsoft.ML;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// A data file (or a folder of files) read lazily as an <see cref="IDataView"/>: <see cref="CsvDataSource"/> and
/// <see cref="ParquetDataSource"/>. Every cursor reads from disk again, and bad rows are errors or skipped and counted.
/// </summary>
public interface IFileDataSource : IDataView
{
    /// <summary>The file or folder, as given.</summary>
    string Path { get; }

    /// <summary>The column names the data has, loaded or not, in file order (Parquet: then the partition keys).</summary>
    ImmutableArray<string> Header { get; }

    /// <summary>What the first cursor that read all the data found; null until one has.</summary>
    FileReadSummary? ReadSummary { get; }
}

/// <summary>What a complete pass over an <see cref="IFileDataSource"/> found.</summary>
/// <param name="Rows">Rows read (skipped rows not counted).</param>
/// <param name="BadRowsSkipped">Bad rows left out.</param>
/// <param name="FirstBadRow">Where the first row left out is and what is wrong with it, or null.</param>
/// <param name="SkippedRows">0-based indexes, among all data rows in reading order, of the rows left out.</param>
public sealed record FileReadSummary(long Rows, long BadRowsSkipped, string? FirstBadRow, ImmutableArray<long> SkippedRows);
