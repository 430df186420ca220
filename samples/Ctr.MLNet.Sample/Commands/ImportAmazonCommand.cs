using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Transforms;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>
/// <c>import-amazon</c>: the public Amazon product reviews (a reviews file and a metadata file, JSON lines) as our click
/// CSV, prepared as the Python reference's notebook does: every review is a click on its item, with the reviewer's
/// earlier items as a latest-first history, and each review gets sampled negatives (items the reviewer never reviewed,
/// same history and time).
/// </summary>
public static class ImportAmazonCommand
{
    /// <summary>Columns of the CSV written, in order.</summary>
    public static readonly string[] Columns = ["label", "reviewerID", "asin", "unixReviewTime", "price", "brand", "categories", "his_asin_seq"];

    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<string> reviews = new("--reviews") { Description = "Reviews, JSON lines with reviewerID, asin, unixReviewTime (e.g. reviews_Electronics_5.json).", Required = true, HelpName = "FILE" };
        Option<string> meta = new("--meta") { Description = "Item metadata, JSON lines with asin and optionally price, brand, categories or category.", Required = true, HelpName = "FILE" };
        Option<string> output = new("--out") { Description = "CSV to write (label, reviewerID, asin, unixReviewTime, price, brand, categories, his_asin_seq).", Required = true, HelpName = "FILE.csv" };
        Option<int> negatives = CommandOptions.Check(new Option<int>("--negatives") { Description = "Sampled negatives per review.", DefaultValueFactory = _ => 1, HelpName = "N" },
            v => v >= 0 ? null : $"--negatives must be 0 or more, got {v}.");
        Option<int> maxHistory = CommandOptions.Check(new Option<int>("--max-history") { Description = "Longest history kept (the latest items).", DefaultValueFactory = _ => 50, HelpName = "N" },
            v => v >= 1 ? null : $"--max-history must be at least 1, got {v}.");
        Option<int> seed = new("--seed") { Description = "Seed of the negative sampling.", DefaultValueFactory = _ => 1, HelpName = "S" };
        var command = new Command("import-amazon", "Turn Amazon review and metadata files (JSON lines) into a click CSV with latest-first histories and sampled negatives.")
        {
            reviews, meta, output, negatives, maxHistory, seed,
        };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            writer.WriteLine(Run(parse.GetRequiredValue(reviews), parse.GetRequiredValue(meta), parse.GetRequiredValue(output),
                parse.GetValue(negatives), parse.GetValue(maxHistory), parse.GetValue(seed)));
            return 0;
        }));
        return command;
    }

    private sealed record Review(string User, string Item, long Time, int Line);

    private sealed record Item(string Price, string Brand, string Category);

    /// <summary>Writes the CSV (atomically) and returns the JSON summary line.</summary>
    public static string Run(string reviewsPath, string metaPath, string outputPath, int negatives = 1, int maxHistory = 50, int seed = 1)
    {
        // Before the files are read: the CSV replaced an input given as --out, and a folder failed after the reading.
        InputFiles.RequireWritable(outputPath, "--out", ("--reviews", reviewsPath), ("--meta", metaPath));
        Dictionary<string, Item> items = ReadMeta(metaPath);
        List<Review> reviews = ReadReviews(reviewsPath);
        if (reviews.Count == 0)
            throw new InvalidOperationException($"{reviewsPath} holds no reviews.");
        string[] catalogue = [.. reviews.Select(r => r.Item).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (negatives > 0 && catalogue.Length < 2)
            throw new InvalidOperationException($"{reviewsPath} reviews only one item; negatives need at least two. Pass --negatives 0 to write clicks only.");

        // Each user's reviews in time order (file order on ties): the history of a review is everything before it.
        var rows = new List<(long Time, int Line, string Csv)>();
        var random = new Random(seed);
        long positives = 0, sampled = 0;
        foreach (IGrouping<string, Review> user in reviews.GroupBy(r => r.User, StringComparer.Ordinal))
        {
            Review[] ordered = [.. user.OrderBy(r => r.Time).ThenBy(r => r.Line)];
            var reviewed = ordered.Select(r => r.Item).ToHashSet(StringComparer.Ordinal);
            for (int i = 0; i < ordered.Length; i++)
            {
                Review review = ordered[i];
                string history = string.Join('|', Enumerable.Range(0, Math.Min(i, maxHistory)).Select(k => ordered[i - 1 - k].Item));
                rows.Add((review.Time, review.Line, Row(1, review, review.Item, history, items)));
                positives++;
                for (int n = 0; n < negatives && reviewed.Count < catalogue.Length; n++)
                {
                    string negative;
                    do
                        negative = catalogue[random.Next(catalogue.Length)];
                    while (reviewed.Contains(negative));
                    rows.Add((review.Time, review.Line, Row(0, review, negative, history, items)));
                    sampled++;
                }
            }
        }

        var csv = new StringBuilder(string.Join(',', Columns)).Append('\n');
        // Time order, so that the last rows are the latest (a time split or ValidationTimeColumnName works as is).
        foreach (var row in rows.OrderBy(r => r.Time).ThenBy(r => r.Line))
            csv.Append(row.Csv).Append('\n');
        byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(csv.ToString());
        AtomicFile.Write(outputPath, stream => stream.Write(bytes));
        return $$"""{"reviews":{{reviews.Count}},"users":{{reviews.Select(r => r.User).Distinct().Count()}},"items":{{catalogue.Length}},"rows":{{rows.Count}},"positives":{{positives}},"negatives":{{sampled}},"out":{{JsonSerializer.Serialize(Path.GetFullPath(outputPath))}}}""";
    }

    private static string Row(int label, Review review, string item, string history, Dictionary<string, Item> items)
    {
        Item meta = items.GetValueOrDefault(item) ?? new Item("", "", "");
        return string.Join(',', label.ToString(CultureInfo.InvariantCulture), Quote(review.User), Quote(item), review.Time.ToString(CultureInfo.InvariantCulture),
            meta.Price, Quote(meta.Brand), Quote(meta.Category), Quote(history));
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";

    private static List<Review> ReadReviews(string path)
    {
        var reviews = new List<Review>();
        ForEachObject(path, (line, json) =>
        {
            string user = RequiredString(json, "reviewerID", path, line);
            string item = RequiredString(json, "asin", path, line);
            if (!json.TryGetProperty("unixReviewTime", out JsonElement time) || !time.TryGetInt64(out long seconds))
                throw new FormatException($"{path} line {line}: 'unixReviewTime' must be a whole number of seconds; fix the line or remove it.");
            reviews.Add(new Review(user, item, seconds, line));
        });
        return reviews;
    }

    private static Dictionary<string, Item> ReadMeta(string path)
    {
        var items = new Dictionary<string, Item>(StringComparer.Ordinal);
        ForEachObject(path, (line, json) =>
        {
            string asin = RequiredString(json, "asin", path, line);
            string price = json.TryGetProperty("price", out JsonElement p) && p.ValueKind == JsonValueKind.Number
                ? p.GetDouble().ToString("R", CultureInfo.InvariantCulture)
                : p.ValueKind == JsonValueKind.String && double.TryParse(p.GetString()!.TrimStart('$'), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed)
                    ? parsed.ToString("R", CultureInfo.InvariantCulture) : "";
            string brand = json.TryGetProperty("brand", out JsonElement b) && b.ValueKind == JsonValueKind.String ? b.GetString()!.Trim() : "";
            items[asin] = new Item(price, brand, Category(json));
        });
        return items;
    }

    /// <summary>The most specific category: the last of the first path (<c>categories</c>, 2014 files) or of the list (<c>category</c>, 2018 files).</summary>
    private static string Category(JsonElement json)
    {
        if (json.TryGetProperty("categories", out JsonElement paths) && paths.ValueKind == JsonValueKind.Array && paths.GetArrayLength() > 0
            && paths[0] is { ValueKind: JsonValueKind.Array } first && first.GetArrayLength() > 0 && first[first.GetArrayLength() - 1].ValueKind == JsonValueKind.String)
            return first[first.GetArrayLength() - 1].GetString()!;
        if (json.TryGetProperty("category", out JsonElement list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0
            && list[list.GetArrayLength() - 1].ValueKind == JsonValueKind.String)
            return list[list.GetArrayLength() - 1].GetString()!;
        return "";
    }

    private static string RequiredString(JsonElement json, string name, string path, int line) =>
        json.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String && value.GetString()!.Length > 0
            ? value.GetString()!
            : throw new FormatException($"{path} line {line}: '{name}' is missing or not a string; fix the line or remove it.");

    private static void ForEachObject(string path, Action<int, JsonElement> action)
    {
        if (!File.Exists(path))
            throw new InvalidOperationException($"File '{path}' does not exist.");
        int line = 0;
        foreach (string text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
                continue;
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                throw new FormatException($"{path} line {line}: not a JSON object ({e.Message}); the files must be JSON lines, one object per line.", e);
            }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw new FormatException($"{path} line {line}: expected a JSON object, got {document.RootElement.ValueKind}.");
                action(line, document.RootElement);
            }
        }
    }
}
