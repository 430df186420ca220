using System;
using System.CommandLine;
using System.IO;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Planted;

namespace Ctr.MLNet.Sample.Commands;

/// <summary><c>generate</c>: planted CTR data (train.csv, test.csv) and the oracle's scores (oracle.json).</summary>
public static class GenerateCommand
{
    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<int> rows = CommandOptions.Rows("Rows to generate in total (train + test).", minimum: 2);
        Option<int> seed = CommandOptions.Seed();
        Option<string> output = CommandOptions.Out("Directory for train.csv, test.csv and oracle.json (created if needed).");
        Option<int> day = CommandOptions.Check(
            new Option<int>("--day") { Description = "Day to draw: the same world, new rows, with items and users born on that day.", DefaultValueFactory = _ => 0, HelpName = "D" },
            value => value >= 0 ? null : $"--day must be 0 or more, got {value}.");
        Option<double> testFraction = CommandOptions.Check(
            new Option<double>("--test-fraction") { Description = "Share of the rows, the last of the day, written to test.csv.", DefaultValueFactory = _ => 0.2, HelpName = "F" },
            value => value > 0 && value < 1 ? null : $"--test-fraction must be between 0 and 1 (exclusive), got {CommandOptions.Number(value)}.");

        var command = new Command("generate", "Generate synthetic CTR data from a planted logistic model, so the best possible AUC is known.")
        {
            rows, seed, output, day, testFraction,
        };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            var settings = new GenerateSettings(parse.GetRequiredValue(output), parse.GetValue(rows), parse.GetValue(seed), parse.GetValue(day), parse.GetValue(testFraction));
            PlantedDatasetReport report = PlantedDataset.Generate(settings);
            writer.WriteLine($"wrote {report.Train.Rows} train and {report.Test.Rows} test rows to {Path.GetFullPath(settings.OutputDirectory)} in {report.Seconds:0.00} s");
            writer.WriteLine($"oracle: test AUC {report.Test.Auc:0.0000}, log loss {report.Test.LogLoss:0.0000}, CTR {report.Test.Ctr:0.0000} (train AUC {report.Train.Auc:0.0000})");
            writer.WriteLine(SummaryJson(report));
            return 0;
        }));
        return command;
    }

    /// <summary>The single JSON line the verb ends with.</summary>
    public static string SummaryJson(PlantedDatasetReport report)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("rows", report.Settings.Rows);
            json.WriteNumber("train_rows", report.Train.Rows);
            json.WriteNumber("test_rows", report.Test.Rows);
            json.WriteNumber("seed", report.Settings.Seed);
            json.WriteNumber("day", report.Settings.Day);
            json.WriteNumber("seconds", Math.Round(report.Seconds, 3));
            json.WriteNumber("rows_per_s", Math.Round(report.Settings.Rows / report.Seconds));
            json.WriteNumber("oracle_test_auc", Math.Round(report.Test.Auc, 6));
            json.WriteNumber("oracle_test_logloss", Math.Round(report.Test.LogLoss, 6));
            json.WriteNumber("test_ctr", Math.Round(report.Test.Ctr, 6));
            json.WriteString("out", Path.GetFullPath(report.Settings.OutputDirectory));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
