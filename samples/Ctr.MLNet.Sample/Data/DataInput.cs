using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Data;

/// <summary>
/// The one place the verbs pick a reader by path: a folder or a <c>.parquet</c> file is Parquet (a folder of
/// partitions reads as one view), anything else is CSV.
/// </summary>
public static class DataInput
{
    /// <summary>What the data options say the verbs take.</summary>
    public const string Description = "CSV file (header row, comma-separated, empty field = missing), .parquet file, or folder of Parquet files (Hive partition keys become columns)";

    /// <summary>Loads <paramref name="path"/> for a feature spec (see <see cref="FeatureSpec.LoadData"/>).</summary>
    public static IFileDataSource Load(MLContext ml, FeatureSpec spec, string path, out CsvColumns columns, BadRowPolicy badRows) =>
        spec.LoadData(ml, Require(path), out columns, badRows: badRows);

    /// <summary>Infers a feature spec from <paramref name="path"/> (see <see cref="FeatureSpecInference.FromFile"/>).</summary>
    public static FeatureSpec InferSpec(string path, string? label, char listSeparator, BadRowPolicy badRows) =>
        FeatureSpecInference.FromFile(Require(path), label, listSeparator, badRows: badRows);

    /// <summary>
    /// Loads the <paramref name="required"/> columns of a saved model's <paramref name="inputSchema"/> from
    /// <paramref name="path"/>, by name; see <see cref="CsvInput.Load"/>. From Parquet a list column gives a vector,
    /// from CSV delimited text: the model's sequence parsing takes either. <paramref name="model"/> gives CSV list and
    /// weight columns their checks (see <see cref="CsvInput.Load"/>).
    /// </summary>
    public static IFileDataSource Load(MLContext ml, string path, DataViewSchema inputSchema, IEnumerable<string> required, out IReadOnlyList<string> ignored,
        BadRowPolicy badRows = BadRowPolicy.Error, string? label = null, ITransformer? model = null)
    {
        if (!ParquetDataSource.IsParquet(path))
            return CsvInput.Load(ml, path, inputSchema, required, out ignored, badRows, label, model);
        ArgumentNullException.ThrowIfNull(ml);
        var needed = required.ToHashSet();
        var columns = new List<ParquetDataSource.Column>();
        foreach (DataViewSchema.Column column in inputSchema)
        {
            if (!needed.Contains(column.Name))
                continue;
            ParquetColumnKind kind = column.Type switch
            {
                TextDataViewType or VectorDataViewType { ItemType: TextDataViewType } => ParquetColumnKind.Text,
                VectorDataViewType { ItemType: NumberDataViewType } => ParquetColumnKind.Weights,
                BooleanDataViewType => ParquetColumnKind.Boolean,
                _ when column.Type.RawType == typeof(float) => column.Name == label ? ParquetColumnKind.Label : ParquetColumnKind.Single,
                _ => throw new InvalidOperationException($"The model reads column '{column.Name}' as {column.Type}, which a Parquet file cannot give."),
            };
            columns.Add(new ParquetDataSource.Column(column.Name, kind, column.Name == label ? "the model needs it as the label" : "the model needs it"));
        }
        ParquetDataSource data = ParquetDataSource.Load(Require(path), new ParquetDataSource.Options { Columns = [.. columns], BadRows = badRows });
        ignored = [.. data.Header.Where(name => inputSchema.GetColumnOrNull(name) is null)];
        return data;
    }

    private static string Require(string path) => InputFiles.RequireFile(path, "Data");
}
