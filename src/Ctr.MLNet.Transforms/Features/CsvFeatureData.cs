using System;
using System.Collections.Immutable;
using System.IO;
using nietras.SeparatedValues;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// How <see cref="FeatureSpec.LoadCsv(Microsoft.ML.MLContext, string, out CsvColumns, bool)"/> matched a file's header
/// to a spec, so that a command line can say which columns it ignores.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="Header">The column names of its header row, in file order.</param>
/// <param name="Loaded">The columns loaded (label first when loaded, then the spec's columns and weight columns in spec order).</param>
/// <param name="Ignored">The header's columns the spec does not use, in file order; they are not loaded.</param>
public sealed record CsvColumns(string Path, ImmutableArray<string> Header, ImmutableArray<string> Loaded, ImmutableArray<string> Ignored);

/// <summary>
/// Reading the comma-separated files of <see cref="FeatureSpec.LoadCsv(Microsoft.ML.MLContext, string, bool)"/> and
/// <see cref="FeatureSpecInference.FromCsv"/>: a header row, ',' between fields, fields optionally quoted (read with Sep).
/// </summary>
public static class CsvFeatureData
{
    /// <summary>The field separator.</summary>
    public const char Separator = ',';

    /// <summary>A reader that yields the header as its first row, unescapes quoted fields, and leaves field counts to us.</summary>
    internal static SepReader Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Could not find the CSV file '{path}'.", path);
        return Sep.New(Separator).Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).FromFile(path);
    }

    /// <summary>The column names of the header row of <paramref name="path"/>, trimmed and unquoted, in file order.</summary>
    /// <param name="path">The CSV file.</param>
    /// <exception cref="FormatException">The file is empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ImmutableArray<string> ReadHeader(string path)
    {
        using SepReader reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Reads the first row of <paramref name="reader"/> as the header.</summary>
    internal static ImmutableArray<string> ReadHeader(SepReader reader, string path)
    {
        if (!reader.MoveNext())
            CtrThrow.Format($"The CSV file '{path}' is empty; expected a header row with the column names.");
        SepReader.Row row = reader.Current;
        var names = ImmutableArray.CreateBuilder<string>(row.ColCount);
        for (int i = 0; i < row.ColCount; i++)
            names.Add(row[i].Span.Trim().ToString());
        return names.MoveToImmutable();
    }

    /// <summary>Whether the row is a blank line, which is skipped.</summary>
    internal static bool IsBlank(SepReader.Row row) => row.ColCount == 1 && row[0].Span.IsWhiteSpace();

    /// <summary>Throws if the row's field count differs from the header's.</summary>
    /// <exception cref="FormatException">The message names the file, the line and both counts.</exception>
    internal static void CheckFieldCount(SepReader.Row row, int expected, string path)
    {
        if (row.ColCount != expected)
            CtrThrow.Format($"{path}, line {row.LineNumberFrom}: the row has {row.ColCount} fields but the header has {expected}; the CSV file is malformed.");
    }
}
