using System;
using System.Collections.Immutable;
using System.IO;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// How <see cref="FeatureSpec.LoadCsv(Microsoft.ML.MLContext, string, out CsvColumns, bool, BadRowPolicy)"/> matched a file's header
/// to a spec, so that a command line can say which columns it ignores.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="Header">The column names of its header row, in file order.</param>
/// <param name="Loaded">The columns loaded (label first when loaded, then the spec's columns and weight columns in spec order).</param>
/// <param name="Ignored">The header's columns the spec does not use, in file order; they are not loaded.</param>
public sealed record CsvColumns(string Path, ImmutableArray<string> Header, ImmutableArray<string> Loaded, ImmutableArray<string> Ignored);

/// <summary>
/// Reading the comma-separated files of <see cref="FeatureSpec.LoadCsv(Microsoft.ML.MLContext, string, bool, BadRowPolicy)"/> and
/// <see cref="FeatureSpecInference.FromCsv"/>: a header row, ',' between fields, fields optionally quoted, UTF-8 (read with Sep by <see cref="CsvDataSource"/>).
/// </summary>
public static class CsvFeatureData
{
    /// <summary>The field separator.</summary>
    public const char Separator = ',';

    /// <summary>The column names of the header row of <paramref name="path"/>, trimmed and unquoted, in file order.</summary>
    /// <param name="path">The CSV file.</param>
    /// <exception cref="FormatException">The file is empty or its header row is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ImmutableArray<string> ReadHeader(string path)
    {
        using CsvRowReader reader = CsvRowReader.Open(path, CsvDataSource.Options.Defaults.MaxFieldLength);
        return reader.Header;
    }
}
