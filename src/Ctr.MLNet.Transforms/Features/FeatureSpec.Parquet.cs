using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;

namespace Ctr.MLNet.Transforms;

public sealed partial record FeatureSpec
{
    /// <summary>
    /// Loads a Parquet file or a folder of them for this spec as a <see cref="ParquetDataSource"/>, mapping the spec's
    /// columns <b>by name</b> (partition keys included): categorical features as Text, list features as a vector of
    /// Text when the column is a list (else Text, split by <see cref="ListSeparator"/>), weight columns as a vector of
    /// Single when a list, numeric features as Single (null and NaN are missing), the label as Single 0 or 1.
    /// </summary>
    /// <param name="mlContext">The context the data is for.</param>
    /// <param name="path">A <c>.parquet</c> file or a folder of them.</param>
    /// <param name="columns">The header, the columns loaded, and the columns ignored.</param>
    /// <param name="hasLabel">Whether to load the label (false for data to score without one).</param>
    /// <param name="badRows">What to do with a row that cannot be read: stop with an error naming it, or skip it.</param>
    /// <exception cref="System.ArgumentOutOfRangeException">A column of the spec is missing from a file or has a type it
    /// cannot load as; the message names the file and the column.</exception>
    /// <exception cref="System.FormatException">A file is not Parquet, or a folder holds none.</exception>
    /// <exception cref="System.IO.FileNotFoundException">Nothing is at <paramref name="path"/>.</exception>
    public ParquetDataSource LoadParquet(MLContext mlContext, string path, out CsvColumns columns, bool hasLabel = true, BadRowPolicy badRows = BadRowPolicy.Error)
    {
        System.ArgumentNullException.ThrowIfNull(mlContext);
        Validate();
        var wanted = new List<ParquetDataSource.Column>();
        if (hasLabel)
            wanted.Add(new(Label, ParquetColumnKind.Label, "the feature spec needs it as the label"));
        foreach (FeatureColumnSpec feature in Features)
        {
            wanted.Add(new(feature.Name, feature.IsNumeric ? ParquetColumnKind.Single : ParquetColumnKind.Text, "the feature spec needs it"));
            if (feature.WeightCol is string weights)
                wanted.Add(new(weights, ParquetColumnKind.Weights, $"the feature spec needs it as the weights of '{feature.Name}'"));
        }
        ParquetDataSource data = ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [.. wanted], BadRows = badRows });
        var loaded = wanted.Select(w => w.Name).ToHashSet();
        columns = new CsvColumns(path, data.Header, [.. wanted.Select(w => w.Name)], [.. data.Header.Where(h => !loaded.Contains(h))]);
        return data;
    }

    /// <summary>
    /// Loads a data file for this spec, picking the reader by <paramref name="path"/>: a folder or a <c>.parquet</c>
    /// file with <see cref="LoadParquet"/>, anything else as CSV with
    /// <see cref="LoadCsv(MLContext, string, out CsvColumns, bool, BadRowPolicy)"/>.
    /// </summary>
    /// <param name="mlContext">The context the data is for.</param>
    /// <param name="path">A CSV file, a <c>.parquet</c> file or a folder of Parquet files.</param>
    /// <param name="columns">The header, the columns loaded, and the columns ignored.</param>
    /// <param name="hasLabel">Whether to load the label.</param>
    /// <param name="badRows">What to do with a row that cannot be read.</param>
    public IFileDataSource LoadData(MLContext mlContext, string path, out CsvColumns columns, bool hasLabel = true, BadRowPolicy badRows = BadRowPolicy.Error) =>
        ParquetDataSource.IsParquet(path)
            ? LoadParquet(mlContext, path, out columns, hasLabel, badRows)
            : LoadCsv(mlContext, path, out columns, hasLabel, badRows);
}
