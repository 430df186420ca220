using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Commands;

/// <summary><c>evaluate</c>: AUC and log loss of a saved model on a labelled CSV.</summary>
public static class EvaluateCommand
{
    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<string> model = new("--model") { Description = "Model zip written by train.", Required = true, HelpName = "ZIP" };
        Option<string> data = new("--data") { Description = "Labelled data with the training file's columns: CSV, .parquet or a folder of Parquet files.", Required = true, HelpName = "FILE|DIR" };
        Option<string?> groupColumn = new("--group-column") { Description = "Column identifying the user (or other group) for gAUC, e.g. user_id.", HelpName = "NAME" };
        Option<BadRowPolicy> badRows = CommandOptions.BadRows();
        var command = new Command("evaluate", "Score a labelled CSV with a saved model and print AUC, log loss (natural log), gAUC, calibration, ECE and normalized entropy.") { model, data, groupColumn, badRows };
        command.SetAction(parse => CommandOptions.Run(parse, output =>
        {
            output.WriteLine(Run(parse.GetRequiredValue(model), parse.GetRequiredValue(data), parse.GetValue(badRows), parse.InvocationConfiguration.Error, parse.GetValue(groupColumn)));
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Evaluates and returns the JSON line: <c>auc</c>, <c>logloss</c>, <c>gauc</c> (with <paramref name="groupColumn"/>),
    /// <c>calibration</c>, <c>ece</c>, <c>normalized_entropy</c> (null where undefined, see <see cref="BinaryMetrics"/>),
    /// <c>rows</c>, <c>rows_per_s</c>, <c>bad_rows_skipped</c>; the skipped rows, if any, are reported on <paramref name="error"/>.
    /// </summary>
    public static string Run(string modelPath, string dataPath, BadRowPolicy badRows = BadRowPolicy.Error, TextWriter? error = null, string? groupColumn = null)
    {
        var ml = new MLContext(seed: 1);
        LoadedModel loaded = ModelFiles.Load(ml, modelPath);
        string label = loaded.Network.LabelColumnName;
        // Checked here: once the data loads, a missing column is one "the model needs".
        if (groupColumn is not null && !ColumnsOf(InputFiles.RequireFile(dataPath, "Data")).Contains(groupColumn))
            throw new InvalidOperationException($"--group-column '{groupColumn}' is not a column of '{dataPath}'; name one of its header's columns, e.g. the user id.");
        DataViewSchema inputSchema = WithGroupColumn(loaded.InputSchema, groupColumn);
        IFileDataSource data = DataInput.Load(ml, dataPath, inputSchema, inputSchema.Select(c => c.Name), out _, badRows, label, loaded.Model);

        var clock = Stopwatch.StartNew();
        IDataView scored = loaded.Model.Transform(data);
        float[] labels = [.. LabelValues(scored, label)];
        float[] probabilities = Probabilities.RequireFinite([.. scored.GetColumn<float>("Probability")], modelPath);
        double seconds = clock.Elapsed.TotalSeconds;
        CtrEvaluation evaluation = BinaryMetrics.Evaluate<string>(labels, probabilities, groupColumn is null ? [] : GroupValues(data, groupColumn));
        long badRowsSkipped = CommandOptions.ReportBadRows(error ?? TextWriter.Null, data);
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            int clicks = labels.Count(l => l == 1f);
            string noRows = badRowsSkipped > 0 ? $"every row of the file was skipped as bad ({badRowsSkipped})" : "the file has no data rows";
            CommandOptions.WriteMetric(json, "auc", BinaryMetrics.Auc(labels, probabilities),
                labels.Length == 0 ? noRows : $"all {labels.Length} rows have label {(clicks == 0 ? 0 : 1)}; AUC needs rows of both classes");
            CommandOptions.WriteMetric(json, "logloss", BinaryMetrics.LogLoss(labels, probabilities), noRows);
            WriteMetric(json, "gauc", evaluation.GroupAuc);
            WriteMetric(json, "calibration", evaluation.Calibration);
            WriteMetric(json, "ece", evaluation.ExpectedCalibrationError);
            WriteMetric(json, "normalized_entropy", evaluation.NormalizedEntropy);
            json.WriteNumber("rows", labels.Length);
            json.WriteNumber("rows_per_s", Math.Round(labels.Length / Math.Max(seconds, 1e-9)));
            json.WriteNumber("bad_rows_skipped", badRowsSkipped);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A CSV file's header, or the columns and partition keys of a Parquet file or folder.</summary>
    private static IEnumerable<string> ColumnsOf(string path) =>
        ParquetDataSource.IsParquet(path) ? ParquetDataSource.Load(path, new ParquetDataSource.Options()).Header : CsvFeatureData.ReadHeader(path);

    private static void WriteMetric(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
            json.WriteNumber(name, Math.Round(value, 6));
        else
            json.WriteNull(name);
    }

    /// <summary>The model's input columns, plus <paramref name="groupColumn"/> read as text when the model does not read it.</summary>
    private static DataViewSchema WithGroupColumn(DataViewSchema inputSchema, string? groupColumn)
    {
        if (groupColumn is null || inputSchema.GetColumnOrNull(groupColumn) is not null)
            return inputSchema;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(inputSchema);
        builder.AddColumn(groupColumn, TextDataViewType.Instance);
        return builder.ToSchema();
    }

    private static string[] GroupValues(IDataView data, string groupColumn)
    {
        DataViewSchema.Column column = data.Schema[groupColumn];
        return column.Type switch
        {
            TextDataViewType => [.. data.GetColumn<ReadOnlyMemory<char>>(column).Select(v => v.ToString())],
            _ when column.Type.RawType == typeof(float) => [.. data.GetColumn<float>(column).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))],
            _ => [.. data.GetColumn<bool>(column).Select(v => v ? "1" : "0")],
        };
    }

    private static float[] LabelValues(IDataView scored, string label)
    {
        DataViewSchema.Column column = scored.Schema[label];
        float[] values = column.Type.RawType == typeof(bool)
            ? [.. scored.GetColumn<bool>(column).Select(b => b ? 1f : 0f)]
            : [.. scored.GetColumn<float>(column)];
        int bad = Array.FindIndex(values, v => v is not (0f or 1f));
        if (bad >= 0)
            throw new InvalidOperationException($"Row {bad + 1}: label column '{label}' holds {values[bad]}; labels must be 0 or 1.");
        return values;
    }
}
