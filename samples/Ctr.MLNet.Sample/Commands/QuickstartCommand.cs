using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Transforms;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>
/// <c>quickstart</c>: the whole job on data the project generates itself: <c>generate</c>, <c>train</c> (spec
/// inferred; the last 10% of the training rows validate) and <c>evaluate</c> on the held-out test file, ending with
/// the model's AUC beside the oracle's.
/// </summary>
public static class QuickstartCommand
{
    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<int> rows = CommandOptions.Rows("Rows to generate (80% train, 20% test; the test rows come last in time).", minimum: 1000);
        Option<string> output = CommandOptions.Out("Directory for train.csv, test.csv, oracle.json and model.zip.");
        Option<int> seed = CommandOptions.Seed();
        Option<int> epochs = CommandOptions.Check(new Option<int>("--epochs") { Description = "Most epochs to train.", DefaultValueFactory = _ => new Torch.TorchCtrTrainer.Options().Epochs, HelpName = "N" },
            v => v >= 1 ? null : $"--epochs must be at least 1, got {v}.");
        Option<int?> threads = CommandOptions.Threads();
        var command = new Command("quickstart", "Generate planted data, train a model on it, evaluate it on the test split and compare with the oracle.")
        {
            rows, output, seed, epochs, threads,
        };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            string directory = parse.GetRequiredValue(output);
            PlantedDatasetReport data = PlantedDataset.Generate(new GenerateSettings(directory, parse.GetValue(rows), parse.GetValue(seed)));
            writer.WriteLine($"generated {data.Train.Rows} train and {data.Test.Rows} test rows in {directory}");
            string test = Path.Combine(directory, "test.csv"), model = Path.Combine(directory, "model.zip");
            // Early stopping watches the last 10% of the training rows (in time order), never the test rows.
            (string fit, string valid) = SplitLast(Path.Combine(directory, "train.csv"), fraction: 0.1);
            TrainCommand.Run(new TrainSettings(fit, valid, model) { Epochs = parse.GetValue(epochs), Threads = parse.GetValue(threads), Seed = parse.GetValue(seed) }, writer);
            using JsonDocument evaluation = JsonDocument.Parse(EvaluateCommand.Run(model, test));
            writer.WriteLine(SummaryJson(evaluation.RootElement, data));
            return 0;
        }));
        return command;
    }

    /// <summary>Writes the first rows of a CSV to <c>fit.csv</c> and the last <paramref name="fraction"/> to <c>valid.csv</c>, header kept in both.</summary>
    private static (string Fit, string Valid) SplitLast(string path, double fraction)
    {
        string[] lines = File.ReadAllLines(path);
        int rows = lines.Length - 1, validRows = Math.Max(1, (int)(rows * fraction));
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string fit = Path.Combine(directory, "fit.csv"), valid = Path.Combine(directory, "valid.csv");
        WriteLines(fit, lines.Take(1 + rows - validRows));
        WriteLines(valid, lines.Take(1).Concat(lines.Skip(1 + rows - validRows)));
        return (fit, valid);
    }

    private static void WriteLines(string path, IEnumerable<string> lines) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), leaveOpen: true);
            foreach (string line in lines)
                writer.WriteLine(line);
        });

    private static string SummaryJson(JsonElement evaluation, PlantedDatasetReport data)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("test_auc", evaluation.GetProperty("auc").GetDouble());
            json.WriteNumber("test_logloss", evaluation.GetProperty("logloss").GetDouble());
            json.WriteNumber("oracle_test_auc", Math.Round(data.Test.Auc, 6));
            json.WriteNumber("oracle_test_logloss", Math.Round(data.Test.LogLoss, 6));
            json.WriteNumber("train_rows", data.Train.Rows);
            json.WriteNumber("test_rows", data.Test.Rows);
            json.WriteNumber("scoring_rows_per_s", evaluation.GetProperty("rows_per_s").GetDouble());
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
