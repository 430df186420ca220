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
    /// Loads the columns of <paramref name="inputSchema"/> that the file has, by header name. Columns the model
    /// reads but the file lacks are an error naming both; columns the file has but the model ignores are
    /// returned in <paramref name="ignored"/>.
    /// </summary>
    public static IDataView Load(MLContext ml, string path, DataViewSchema inputSchema, IEnumerable<string> required, out IReadOnlyList<string> ignored)
    {
        if (!File.Exists(path))
            throw new InvalidOperationException($"Data file '{path}' does not exist.");
        IReadOnlyList<string> header = CsvFeatureData.ReadHeader(path);
        var columns = new List<TextLoader.Column>();
        foreach (DataViewSchema.Column column in inputSchema)
        {
            int index = header.ToList().IndexOf(column.Name);
            if (index < 0)
                continue;
            DataKind kind = column.Type is TextDataViewType ? DataKind.String
                : column.Type.RawType == typeof(float) ? DataKind.Single
                : column.Type.RawType == typeof(bool) ? DataKind.Boolean
                : column.Type.RawType == typeof(double) ? DataKind.Double
                : throw new InvalidOperationException($"The model reads column '{column.Name}' as {column.Type}, which a CSV file cannot give.");
            columns.Add(new TextLoader.Column(column.Name, kind, index));
        }
        string[] missing = [.. required.Where(name => !header.Contains(name))];
        if (missing.Length > 0)
            throw new InvalidOperationException($"'{path}' lacks column(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} that the model needs.");
        ignored = [.. header.Where(name => inputSchema.GetColumnOrNull(name) is null)];
        var loader = ml.Data.CreateTextLoader(new TextLoader.Options
        {
            Columns = [.. columns],
            HasHeader = true,
            Separators = [','],
            AllowQuoting = true,
            MissingRealsAsNaNs = true,
        });
        return loader.Load(path);
    }
}
