using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

public sealed partial record FeatureSpec
{
    /// <summary>Loads a CSV file for this spec; see <see cref="LoadCsv(MLContext, string, out CsvColumns, bool)"/>.</summary>
    /// <param name="mlContext">The context whose <c>Data</c> catalog creates the loader.</param>
    /// <param name="path">The CSV file: a header row, ',' separated, fields optionally quoted.</param>
    /// <param name="hasLabel">Whether to load the label (false for data to score without one).</param>
    public IDataView LoadCsv(MLContext mlContext, string path, bool hasLabel = true) => LoadCsv(mlContext, path, out _, hasLabel);

    /// <summary>
    /// Loads a CSV file for this spec with ML.NET's <see cref="TextLoader"/> (header row, ',' separator, quoting
    /// allowed), mapping the spec's columns <b>by name</b> from the file's header: categorical, list and weight
    /// columns as Text, numeric columns as Single (an empty field is NaN), the label as Single. Columns the spec
    /// does not use are not loaded; <paramref name="columns"/> lists them.
    /// </summary>
    /// <remarks>
    /// Only the header is read here. The returned view is lazy: every cursor streams the file from disk, so fitting
    /// <see cref="BuildPipeline"/> on it holds statistics, not rows.
    /// </remarks>
    /// <param name="mlContext">The context whose <c>Data</c> catalog creates the loader.</param>
    /// <param name="path">The CSV file: a header row, ',' separated, fields optionally quoted.</param>
    /// <param name="columns">The header, the columns loaded, and the columns ignored.</param>
    /// <param name="hasLabel">Whether to load the label (false for data to score without one).</param>
    /// <exception cref="System.ArgumentOutOfRangeException">A column of the spec (or the label, with
    /// <paramref name="hasLabel"/>) is missing from the header or appears in it twice; the message names the file and
    /// the column. Also when the spec is invalid.</exception>
    /// <exception cref="System.FormatException">The file is empty.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    public IDataView LoadCsv(MLContext mlContext, string path, out CsvColumns columns, bool hasLabel = true)
    {
        System.ArgumentNullException.ThrowIfNull(mlContext);
        Validate();
        ImmutableArray<string> header = CsvFeatureData.ReadHeader(path);

        var wanted = new List<(string Name, DataKind Kind)>();
        if (hasLabel)
            wanted.Add((Label, DataKind.Single));
        foreach (FeatureColumnSpec feature in Features)
        {
            wanted.Add((feature.Name, feature.IsNumeric ? DataKind.Single : DataKind.String));
            if (feature.WeightCol is string weights)
                wanted.Add((weights, DataKind.String));
        }

        var loaderColumns = new List<TextLoader.Column>();
        foreach ((string name, DataKind kind) in wanted)
        {
            int index = header.IndexOf(name);
            if (index < 0)
                CtrThrow.ArgumentOutOfRange(nameof(path), $"The CSV file '{path}' has no column '{name}' in its header; the feature spec needs it.");
            if (header.LastIndexOf(name) != index)
                CtrThrow.ArgumentOutOfRange(nameof(path), $"The CSV file '{path}' has column '{name}' twice in its header; the feature spec cannot tell which one to load.");
            loaderColumns.Add(new TextLoader.Column(name, kind, index));
        }
        var loaded = wanted.Select(w => w.Name).ToHashSet();
        columns = new CsvColumns(path, header, [.. wanted.Select(w => w.Name)], [.. header.Where(h => !loaded.Contains(h))]);

        TextLoader loader = mlContext.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = [.. loaderColumns],
            Separators = [CsvFeatureData.Separator],
            HasHeader = true,
            AllowQuoting = true,
            AllowSparse = false,
            MissingRealsAsNaNs = true,
        });
        return loader.Load(path);
    }
}
