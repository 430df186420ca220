using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;

namespace Ctr.MLNet.Transforms;

public sealed partial record FeatureSpec
{
    /// <summary>Loads a CSV file for this spec; see <see cref="LoadCsv(MLContext, string, out CsvColumns, bool, BadRowPolicy)"/>.</summary>
    /// <param name="mlContext">The context the data is for.</param>
    /// <param name="path">The CSV file: a header row, ',' separated, fields optionally quoted, UTF-8.</param>
    /// <param name="hasLabel">Whether to load the label (false for data to score without one).</param>
    /// <param name="badRows">What to do with a row that cannot be read: stop with an error naming it, or skip it.</param>
    public CsvDataSource LoadCsv(MLContext mlContext, string path, bool hasLabel = true, BadRowPolicy badRows = BadRowPolicy.Error) =>
        LoadCsv(mlContext, path, out _, hasLabel, badRows);

    /// <summary>
    /// Loads a CSV file for this spec as a <see cref="CsvDataSource"/>, mapping the spec's columns <b>by name</b> from
    /// the file's header: categorical, list and weight columns as Text, numeric columns as Single (an empty field is
    /// NaN, the missing value), the label as Single 0 or 1. Columns the spec does not use are not loaded;
    /// <paramref name="columns"/> lists them.
    /// </summary>
    /// <remarks>
    /// Only the header is read here. The returned view is lazy: every cursor streams the file from disk, so fitting
    /// <see cref="BuildPipeline"/> on it holds statistics, not rows. A row that cannot be read (wrong field count,
    /// broken quoting, bytes that are not UTF-8, an overlong field, text or NaN in a numeric column, a label other
    /// than 0 or 1) throws a <see cref="CsvBadRowException"/> naming the file, line and column when a cursor reaches
    /// it, or is skipped and counted in <see cref="CsvDataSource.Summary"/> with <see cref="BadRowPolicy.Skip"/>.
    /// </remarks>
    /// <param name="mlContext">The context the data is for.</param>
    /// <param name="path">The CSV file: a header row, ',' separated, fields optionally quoted, UTF-8.</param>
    /// <param name="columns">The header, the columns loaded, and the columns ignored.</param>
    /// <param name="hasLabel">Whether to load the label (false for data to score without one).</param>
    /// <param name="badRows">What to do with a row that cannot be read: stop with an error naming it, or skip it.</param>
    /// <exception cref="System.ArgumentOutOfRangeException">A column of the spec (or the label, with
    /// <paramref name="hasLabel"/>) is missing from the header or appears in it twice; the message names the file and
    /// the column. Also when the spec is invalid.</exception>
    /// <exception cref="System.FormatException">The file is empty or its header row is malformed.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    public CsvDataSource LoadCsv(MLContext mlContext, string path, out CsvColumns columns, bool hasLabel = true, BadRowPolicy badRows = BadRowPolicy.Error)
    {
        System.ArgumentNullException.ThrowIfNull(mlContext);
        Validate();
        var wanted = new List<CsvDataSource.Column>();
        if (hasLabel)
            wanted.Add(new(Label, CsvColumnKind.Label, "the feature spec needs it as the label"));
        foreach (FeatureColumnSpec feature in Features.Where(f => f.Cross is null))
        {
            wanted.Add(new(feature.Name, feature.IsNumeric ? CsvColumnKind.Single : CsvColumnKind.Text, "the feature spec needs it")
            {
                ListSeparator = feature.IsList ? ListSeparator : null,
            });
            if (feature.WeightCol is string weights)
                wanted.Add(new(weights, CsvColumnKind.Text, $"the feature spec needs it as the weights of '{feature.Name}'") { WeightsOf = feature.Name });
        }
        CsvDataSource data = CsvDataSource.Load(path, new CsvDataSource.Options { Columns = [.. wanted], BadRows = badRows });
        var loaded = wanted.Select(w => w.Name).ToHashSet();
        columns = new CsvColumns(path, data.Header, [.. wanted.Select(w => w.Name)], [.. data.Header.Where(h => !loaded.Contains(h))]);
        return data;
    }
}
