using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Transforms;
using Microsoft.ML;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>
/// <c>fit-stats</c> and <c>merge-stats</c>: the feature statistics of one shard, fitted where the shard lives, and
/// their exact merge, which <c>train --stats</c> turns into the fitted feature pipeline without reading the data again.
/// </summary>
public static class StatsCommands
{
    /// <summary>The <c>fit-stats</c> verb.</summary>
    public static Command CreateFit()
    {
        Option<string> spec = new("--spec") { Description = "Feature spec JSON; every shard must be fitted with the same one (write it once with train --print-spec).", Required = true, HelpName = "spec.json" };
        Option<string> data = new("--data") { Description = $"The shard: {DataInput.Description}.", Required = true, HelpName = "FILE|DIR" };
        Option<string> output = new("--out") { Description = "Statistics file to write (replaced only once it is complete).", Required = true, HelpName = "stats.bin" };
        Option<BadRowPolicy> badRows = CommandOptions.BadRows();
        var command = new Command("fit-stats", "Fit the feature statistics of one shard of the data (vocabulary counts, numeric moments, quantile samples) for merge-stats.")
        {
            spec, data, output, badRows,
        };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            writer.WriteLine(Fit(parse.GetRequiredValue(spec), parse.GetRequiredValue(data), parse.GetRequiredValue(output), parse.GetValue(badRows), parse.InvocationConfiguration.Error));
            return 0;
        }));
        return command;
    }

    /// <summary>The <c>merge-stats</c> verb.</summary>
    public static Command CreateMerge()
    {
        Argument<string[]> inputs = new("stats") { Description = "Statistics files written by fit-stats (or merge-stats), one or more.", Arity = ArgumentArity.OneOrMore };
        Option<string> output = new("--out") { Description = "Merged statistics file to write; train --stats builds the fitted feature pipeline from it.", Required = true, HelpName = "merged.bin" };
        var command = new Command("merge-stats", "Merge the statistics of shards exactly: counts summed before min_freq and max_vocab, moments by Chan's update, quantile samples by their weights.")
        {
            inputs, output,
        };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            writer.WriteLine(Merge(parse.GetRequiredValue(inputs), parse.GetRequiredValue(output)));
            return 0;
        }));
        return command;
    }

    /// <summary>Fits and saves one shard's statistics; returns the JSON line (<c>rows</c>, <c>bad_rows_skipped</c>, <c>seconds</c>, <c>out</c>).</summary>
    public static string Fit(string specPath, string dataPath, string outputPath, BadRowPolicy badRows = BadRowPolicy.Error, TextWriter? error = null)
    {
        var clock = Stopwatch.StartNew();
        InputFiles.RequireFile(specPath, "Spec");
        InputFiles.RequireFile(dataPath, "Data");
        InputFiles.RequireWritable(outputPath, "--out", ("--spec", specPath), ("--data", dataPath));
        FeatureSpec spec = FeatureSpec.FromJson(File.ReadAllText(specPath));
        var ml = new MLContext(seed: 1);
        IFileDataSource data = DataInput.Load(ml, spec, dataPath, out _, badRows);
        FeatureStatistics statistics = FeatureStatistics.Fit(ml, spec, data);
        statistics.Save(outputPath);
        long skipped = CommandOptions.ReportBadRows(error ?? TextWriter.Null, data);
        return Json(json =>
        {
            json.WriteNumber("rows", data.ReadSummary?.Rows ?? 0);
            json.WriteNumber("bad_rows_skipped", skipped);
            json.WriteNumber("seconds", Math.Round(clock.Elapsed.TotalSeconds, 3));
            json.WriteString("out", Path.GetFullPath(outputPath));
        });
    }

    /// <summary>Merges statistics files and saves the result; returns the JSON line (<c>shards</c>, <c>vocabularies</c>, <c>out</c>).</summary>
    public static string Merge(string[] inputPaths, string outputPath)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string path in inputPaths)
        {
            InputFiles.RequireFile(path, "Statistics");
            string full = Path.GetFullPath(File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path);
            if (!seen.TryAdd(full, path))
                throw new InvalidOperationException($"Statistics file '{path}' is given twice (also as '{seen[full]}'); merging it twice would count its shard twice, so give each file once.");
        }
        InputFiles.RequireWritable(outputPath, "--out", [.. inputPaths.Select(p => ("statistics", (string?)p))]);
        FeatureStatistics[] parts = [.. inputPaths.Select(FeatureStatistics.Load)];
        for (int i = 1; i < parts.Length; i++)
        {
            if (!parts[i].Spec.Equals(parts[0].Spec))
                throw new InvalidOperationException($"{inputPaths[i]} was fitted with another feature spec than {inputPaths[0]}; fit every shard with the same --spec file.");
        }
        if (FeatureStatistics.FindRepeatedShard(parts) is (int first, int second))
        {
            throw new InvalidOperationException($"{inputPaths[first]} and {inputPaths[second]} both hold the statistics of one shard (the same rows fitted twice, or a merged file "
                + "and a shard already in it); merging them would count those rows twice. Give each shard once.");
        }
        var ml = new MLContext(seed: 1);
        FeatureStatistics merged = FeatureStatistics.Merge(ml, parts);
        merged.Save(outputPath);
        return Json(json =>
        {
            json.WriteNumber("shards", merged.Shards);
            json.WriteStartObject("vocabularies");
            foreach (string name in merged.VocabularyNames)
                json.WriteNumber(name, merged.GetTermCounts(name).Count);
            json.WriteEndObject();
            json.WriteString("out", Path.GetFullPath(outputPath));
        });
    }

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
