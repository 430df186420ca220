using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Data;

/// <summary>Reads a CSV file (header row, comma-separated) with the columns and types a saved model expects.</summary>
public static class CsvInput
{
    /// <summary>
    /// Loads the <paramref name="required"/> columns of <paramref name="inputSchema"/>, by header name, with
    /// <see cref="CsvDataSource"/>: the same reading and the same bad-row checks as <see cref="FeatureSpec.LoadCsv(MLContext, string, bool, BadRowPolicy)"/>.
    /// A required column the file lacks is an error naming both; other columns are not read (a label column in a
    /// file to predict cannot make a row bad), and those the model does not know are returned in <paramref name="ignored"/>.
    /// </summary>
    /// <param name="ml">The context the data is for.</param>
    /// <param name="path">The CSV file.</param>
    /// <param name="inputSchema">The model's input columns.</param>
    /// <param name="required">The columns the file must have.</param>
    /// <param name="ignored">The file's columns the model does not read.</param>
    /// <param name="badRows">What to do with a row that cannot be read.</param>
    /// <param name="label">The label column, read as 0 or 1 and never empty; null when there is none to check.</param>
    /// <param name="model">The pipeline that reads the file: its list and weight columns get the same checks as in
    /// training (a bad weight is a bad row, named and skippable); null to read them as plain text.</param>
    public static CsvDataSource Load(MLContext ml, string path, DataViewSchema inputSchema, IEnumerable<string> required, out IReadOnlyList<string> ignored,
        BadRowPolicy badRows = BadRowPolicy.Error, string? label = null, ITransformer? model = null)
    {
        ArgumentNullException.ThrowIfNull(ml);
        InputFiles.RequireFile(path, "Data");
        IReadOnlyList<string> header = CsvFeatureData.ReadHeader(path);
        var needed = required.ToHashSet();
        var lists = new Dictionary<string, SequenceParsingEstimator.ColumnOptions>();
        foreach (SequenceParsingTransformer parser in Transformers(model).OfType<SequenceParsingTransformer>())
        {
            foreach (SequenceParsingEstimator.ColumnOptions list in parser.Columns)
                lists.TryAdd(list.InputColumnName, list);
        }
        var weights = lists.Values.Where(l => l.WeightColumnName is not null).ToDictionary(l => l.WeightColumnName!, l => l.InputColumnName);
        var columns = new List<CsvDataSource.Column>();
        foreach (DataViewSchema.Column column in inputSchema)
        {
            if (!needed.Contains(column.Name))
                continue;
            // A model trained on Parquet reads lists as vectors; from CSV they come as delimited text, which its sequence parsing splits.
            CsvColumnKind kind = column.Type is TextDataViewType or VectorDataViewType ? CsvColumnKind.Text
                : column.Type.RawType == typeof(float) ? (column.Name == label ? CsvColumnKind.Label : CsvColumnKind.Single)
                : column.Type.RawType == typeof(bool) ? CsvColumnKind.Boolean
                : throw new InvalidOperationException($"The model reads column '{column.Name}' as {column.Type}, which a CSV file cannot give.");
            columns.Add(new CsvDataSource.Column(column.Name, kind, column.Name == label ? "the model needs it as the label" : "the model needs it")
            {
                ListSeparator = kind == CsvColumnKind.Text && lists.TryGetValue(column.Name, out var list) ? list.Separator : null,
                WeightsOf = kind == CsvColumnKind.Text && weights.TryGetValue(column.Name, out string? of) && needed.Contains(of) ? of : null,
            });
        }
        ignored = [.. header.Where(name => inputSchema.GetColumnOrNull(name) is null)];
        return CsvDataSource.Load(path, new CsvDataSource.Options { Columns = [.. columns], BadRows = badRows });
    }

    private static IEnumerable<ITransformer> Transformers(ITransformer? model)
    {
        if (model is null)
            yield break;
        yield return model;
        if (model is IEnumerable<ITransformer> chain)
        {
            foreach (ITransformer part in chain)
            {
                foreach (ITransformer inner in Transformers(part))
                    yield return inner;
            }
        }
    }
}
