using System;
using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Commands;

/// <summary><c>predict</c>: one click probability per input row, in input order.</summary>
public static class PredictCommand
{
    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<string> model = new("--model") { Description = "Model zip written by train.", Required = true, HelpName = "ZIP" };
        Option<string> data = new("--data") { Description = "Data with the training file's feature columns (the label may be absent): CSV, .parquet or a folder of Parquet files.", Required = true, HelpName = "FILE|DIR" };
        Option<string> output = new("--out") { Description = "File to write: a 'probability' header, then one probability per input row (an empty line for a row skipped with --bad-rows skip, so the lines stay aligned with the input).", Required = true, HelpName = "FILE" };
        Option<BadRowPolicy> badRows = CommandOptions.BadRows();
        var command = new Command("predict", "Write one click probability per row of a CSV file, in the same order.") { model, data, output, badRows };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            (int rows, long skipped) = Run(parse.GetRequiredValue(model), parse.GetRequiredValue(data), parse.GetRequiredValue(output), parse.GetValue(badRows), parse.InvocationConfiguration.Error);
            writer.WriteLine($"{{\"rows\":{rows},\"bad_rows_skipped\":{skipped},\"out\":{System.Text.Json.JsonSerializer.Serialize(Path.GetFullPath(parse.GetRequiredValue(output)))}}}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Predicts every row and writes the probabilities, an empty line for each row skipped as bad; returns the rows
    /// predicted and the rows skipped (reported on <paramref name="error"/>).
    /// </summary>
    public static (int Rows, long BadRowsSkipped) Run(string modelPath, string dataPath, string outputPath, BadRowPolicy badRows = BadRowPolicy.Error, TextWriter? error = null)
    {
        InputFiles.RequireFile(dataPath, "Data");
        InputFiles.RequireWritable(outputPath, "--out", ("--data", dataPath), ("--model", modelPath));
        var ml = new MLContext(seed: 1);
        LoadedModel loaded = ModelFiles.Load(ml, modelPath);
        string label = loaded.Network.LabelColumnName;
        IFileDataSource data = DataInput.Load(ml, dataPath, loaded.InputSchema, loaded.InputSchema.Select(c => c.Name).Where(n => n != label), out _, badRows, model: loaded.Model);
        // Skipped rows are known once the file is read through, so the probabilities wait in memory (4 bytes a row).
        float[] probabilities = Probabilities.RequireFinite([.. loaded.Model.Transform(data).GetColumn<float>("Probability")], modelPath);
        long skipped = CommandOptions.ReportBadRows(error ?? TextWriter.Null, data);
        ImmutableArray<long> gaps = data.ReadSummary?.SkippedRows ?? [];
        AtomicFile.Write(outputPath, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            writer.WriteLine("probability");
            long row = 0;
            int gap = 0;
            foreach (float probability in probabilities)
            {
                for (; gap < gaps.Length && gaps[gap] == row; gap++, row++)
                    writer.WriteLine();
                writer.WriteLine(probability.ToString("R", CultureInfo.InvariantCulture));
                row++;
            }
            for (; gap < gaps.Length; gap++)
                writer.WriteLine();
        });
        return (probabilities.Length, skipped);
    }
}
