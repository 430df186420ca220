using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using Parquet;
using Parquet.Schema;
using Ctr.MLNet.Planted;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>Writes small Parquet files for tests with Parquet.Net, the library the reader uses.</summary>
public static class ParquetTestFiles
{
    /// <summary>A column: its field and one value per row (null for a null; a list column takes arrays).</summary>
    public sealed record Column(Field Field, IReadOnlyList<object?> Values);

    /// <summary>A list column whose element is required, so a null row is an empty list.</summary>
    public static ListField List<T>(string name) => new(name, new DataField("element", typeof(T), isNullable: false));

    /// <summary>Writes <paramref name="columns"/> to <paramref name="path"/> in row groups of <paramref name="rowGroupRows"/> rows.</summary>
    public static void Write(string path, int rowGroupRows, params Column[] columns) => Write(path, rowGroupRows, null, columns);

    /// <summary>Writes <paramref name="columns"/> with the codec and encoding hints of <paramref name="options"/>.</summary>
    public static void Write(string path, int rowGroupRows, ParquetOptions? options, params Column[] columns)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        int rows = columns[0].Values.Count;
        var schema = new ParquetSchema(columns.Select(c => c.Field));
        using FileStream stream = File.Create(path);
        ParquetWriter writer = ParquetWriter.CreateAsync(schema, stream, options).GetAwaiter().GetResult();
        try
        {
            WriteGroups(writer, schema, rows, rowGroupRows, columns);
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void WriteGroups(ParquetWriter writer, ParquetSchema schema, int rows, int rowGroupRows, Column[] columns)
    {
        for (int start = 0; start < rows || start == 0; start += rowGroupRows)
        {
            int count = Math.Min(rowGroupRows, rows - start);
            using ParquetRowGroupWriter group = writer.CreateRowGroup();
            for (int c = 0; c < columns.Length; c++)
            {
                DataField field = schema.DataFields[c];
                IEnumerable<object?> values = columns[c].Values.Skip(start).Take(count);
                if (columns[c].Field is ListField)
                    WriteList(group, field, values);
                else
                    WriteScalar(group, field, [.. values]);
            }
            if (rows == 0)
                break;
        }
    }

    private static void WriteScalar(ParquetRowGroupWriter group, DataField field, object?[] values)
    {
        Type type = field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
            group.WriteAsync(field, values.Select(v => (string?)v).ToArray()).GetAwaiter().GetResult();
        else if (type == typeof(int))
            Typed<int>(group, field, values);
        else if (type == typeof(long))
            Typed<long>(group, field, values);
        else if (type == typeof(float))
            Typed<float>(group, field, values);
        else if (type == typeof(double))
            Typed<double>(group, field, values);
        else if (type == typeof(bool))
            Typed<bool>(group, field, values);
        else if (type == typeof(decimal))
            Typed<decimal>(group, field, values);
        else if (type == typeof(DateTime))
            Typed<DateTime>(group, field, values);
        else
            throw new NotSupportedException(type.Name);
    }

    private static void Typed<T>(ParquetRowGroupWriter group, DataField field, object?[] values) where T : struct
    {
        if (field.IsNullable)
            group.WriteAsync<T>(field, values.Select(v => v is null ? (T?)null : (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture)).ToArray().AsMemory()).GetAwaiter().GetResult();
        else
            group.WriteAsync<T>(field, values.Select(v => (T)Convert.ChangeType(v!, typeof(T), CultureInfo.InvariantCulture)).ToArray().AsMemory()).GetAwaiter().GetResult();
    }

    private static void WriteList(ParquetRowGroupWriter group, DataField field, IEnumerable<object?> rows)
    {
        var repetitions = new List<int>();
        var values = new List<object?>();
        foreach (object? row in rows)
        {
            var items = ((System.Collections.IEnumerable?)row)?.Cast<object?>().ToArray() ?? [];
            if (items.Length == 0)
            {
                repetitions.Add(0);
                values.Add(null);
                continue;
            }
            for (int i = 0; i < items.Length; i++)
            {
                repetitions.Add(i == 0 ? 0 : 1);
                values.Add(items[i]);
            }
        }
        int[] levels = [.. repetitions];
        if (field.ClrType == typeof(string) || field.ClrType == typeof(ReadOnlyMemory<char>))
            group.WriteAsync(field, values.Select(v => (string?)v).ToArray(), levels).GetAwaiter().GetResult();
        else if (field.ClrType == typeof(float))
            group.WriteAsync<float>(field, values.Select(v => v is null ? (float?)null : Convert.ToSingle(v, CultureInfo.InvariantCulture)).ToArray().AsMemory(), levels).GetAwaiter().GetResult();
        else if (field.ClrType == typeof(double))
            group.WriteAsync<double>(field, values.Select(v => v is null ? (double?)null : Convert.ToDouble(v, CultureInfo.InvariantCulture)).ToArray().AsMemory(), levels).GetAwaiter().GetResult();
        else if (field.ClrType == typeof(long))
            group.WriteAsync<long>(field, values.Select(v => v is null ? (long?)null : Convert.ToInt64(v, CultureInfo.InvariantCulture)).ToArray().AsMemory(), levels).GetAwaiter().GetResult();
        else
            throw new NotSupportedException(field.ClrType.Name);
    }

    /// <summary>
    /// Writes a planted CSV (see <c>PlantedDataset</c>) as typed Parquet, as a warehouse would export it: click an
    /// int, hour a long, price and age nullable doubles, the history a list of strings and a list of floats.
    /// </summary>
    public static void FromPlantedCsv(string csvPath, string parquetPath, int rowGroupRows = 1000)
    {
        string[] lines = File.ReadAllLines(csvPath);
        string[] header = lines[0].Split(',');
        string[][] rows = [.. lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))];
        object?[] Col(string name, Func<string, object?> parse)
        {
            int i = Array.IndexOf(header, name);
            return [.. rows.Select(r => parse(r[i]))];
        }
        static object? Number(string s) => s.Length == 0 ? null : double.Parse(s, CultureInfo.InvariantCulture);
        var columns = new List<Column>();
        foreach (string name in header)
        {
            columns.Add(name switch
            {
                "click" => new Column(new DataField<int>(name), Col(name, s => int.Parse(s, CultureInfo.InvariantCulture))),
                "hour" => new Column(new DataField<long>(name), Col(name, s => long.Parse(s, CultureInfo.InvariantCulture))),
                "price" or "age" => new Column(new DataField<double?>(name), Col(name, Number)),
                "hist_item_ids" => new Column(List<string>(name), Col(name, s => s.Length == 0 ? Array.Empty<string>() : s.Split('|'))),
                "hist_weights" => new Column(List<float>(name), Col(name, s => s.Length == 0 ? Array.Empty<float>() : s.Split('|').Select(w => float.Parse(w, CultureInfo.InvariantCulture)).ToArray())),
                _ => new Column(new DataField<string>(name), Col(name, s => s)),
            });
        }
        Write(parquetPath, rowGroupRows, [.. columns]);
    }
}
