using System;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Sample.Models;
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
        Option<string> data = new("--data") { Description = "CSV with the training file's feature columns (the label may be absent).", Required = true, HelpName = "FILE" };
        Option<string> output = new("--out") { Description = "File to write: a 'probability' header, then one probability per input row.", Required = true, HelpName = "FILE" };
        var command = new Command("predict", "Write one click probability per row of a CSV file, in the same order.") { model, data, output };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            int rows = Run(parse.GetRequiredValue(model), parse.GetRequiredValue(data), parse.GetRequiredValue(output));
            writer.WriteLine($"{{\"rows\":{rows},\"out\":{System.Text.Json.JsonSerializer.Serialize(Path.GetFullPath(parse.GetRequiredValue(output)))}}}");
            return 0;
        }));
        return command;
    }

    /// <summary>Predicts every row and writes the probabilities; returns the row count.</summary>
    public static int Run(string modelPath, string dataPath, string outputPath)
    {
        var ml = new MLContext(seed: 1);
        LoadedModel loaded = ModelFiles.Load(ml, modelPath);
        string label = loaded.Network.LabelColumnName;
        IDataView data = CsvInput.Load(ml, dataPath, loaded.InputSchema, loaded.InputSchema.Select(c => c.Name).Where(n => n != label), out _);
        string temporary = outputPath + ".tmp";
        int rows = 0;
        using (var writer = new StreamWriter(temporary))
        {
            writer.WriteLine("probability");
            foreach (float probability in loaded.Model.Transform(data).GetColumn<float>("Probability"))
            {
                writer.WriteLine(probability.ToString("R", CultureInfo.InvariantCulture));
                rows++;
            }
        }
        File.Move(temporary, outputPath, overwrite: true);
        return rows;
    }
}
