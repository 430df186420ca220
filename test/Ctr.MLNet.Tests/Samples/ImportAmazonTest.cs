using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Text.Json;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Microsoft.ML;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed class ImportAmazonTest
{
    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        int code = Program.CreateRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }

    [TestMethod]
    public void ImportAmazonTest_ReviewsBecomeClicksWithLatestFirstHistoriesAndSampledNegatives()
    {
        using var directory = new TemporaryDirectory();
        string reviews = Path.Combine(directory.Path, "reviews.json"), meta = Path.Combine(directory.Path, "meta.json"), csv = Path.Combine(directory.Path, "amazon.csv");
        // User A reviews B1, B2, B3 (written out of time order); user C reviews B2 then B4. B5 is reviewed by D only.
        File.WriteAllLines(reviews,
        [
            """{"reviewerID": "A", "asin": "B3", "overall": 5.0, "unixReviewTime": 300, "reviewText": "great, really"}""",
            """{"reviewerID": "A", "asin": "B1", "overall": 4.0, "unixReviewTime": 100}""",
            """{"reviewerID": "C", "asin": "B2", "overall": 3.0, "unixReviewTime": 150}""",
            """{"reviewerID": "A", "asin": "B2", "overall": 2.0, "unixReviewTime": 200}""",
            "",
            """{"reviewerID": "C", "asin": "B4", "overall": 5.0, "unixReviewTime": 250}""",
            """{"reviewerID": "D", "asin": "B5", "overall": 1.0, "unixReviewTime": 50}""",
        ]);
        File.WriteAllLines(meta,
        [
            """{"asin": "B1", "title": "Lens", "price": 19.99, "brand": "Acme, Inc.", "categories": [["Electronics", "Camera", "Lenses"]]}""",
            """{"asin": "B2", "price": "$5.50", "category": ["Electronics", "Cables"]}""",
            """{"asin": "B3", "brand": "Zed"}""",
        ]);

        var (code, output) = Invoke("import-amazon", "--reviews", reviews, "--meta", meta, "--out", csv, "--negatives", "2", "--seed", "3", "--max-history", "2");

        Assert.AreEqual(0, code, output);
        using JsonDocument summary = JsonDocument.Parse(output.Trim().Split('\n')[^1]);
        Assert.AreEqual(6, summary.RootElement.GetProperty("reviews").GetInt32());
        Assert.AreEqual(18, summary.RootElement.GetProperty("rows").GetInt32(), "each review and two negatives");
        var ml = new Microsoft.ML.MLContext(seed: 1);
        FeatureSpec spec = FeatureSpecInference.FromCsv(csv);
        Assert.AreEqual("label", spec.Label);
        var data = CsvDataSource.Load(csv, new CsvDataSource.Options
        {
            Columns = [.. ImportAmazonCommand.Columns.Select(c => new CsvDataSource.Column(c, c is "label" ? CsvColumnKind.Label : c is "unixReviewTime" or "price" ? CsvColumnKind.Single : CsvColumnKind.Text))],
        });
        var rows = data.Preview(maxRows: 100).RowView.Select(r => r.Values.ToDictionary(v => v.Key, v => Convert.ToString(v.Value, System.Globalization.CultureInfo.InvariantCulture)!)).ToList();
        Assert.HasCount(18, rows);
        CollectionAssert.AreEqual(rows.Select(r => float.Parse(r["unixReviewTime"], System.Globalization.CultureInfo.InvariantCulture)).ToArray(), rows.Select(r => float.Parse(r["unixReviewTime"], System.Globalization.CultureInfo.InvariantCulture)).Order().ToArray(), "rows in time order");

        var clicksOfA = rows.Where(r => r["reviewerID"] == "A" && r["label"] == "1").ToList();
        CollectionAssert.AreEqual(new[] { "B1", "B2", "B3" }, clicksOfA.Select(r => r["asin"]).ToArray());
        CollectionAssert.AreEqual(new[] { "", "B1", "B2|B1" }, clicksOfA.Select(r => r["his_asin_seq"]).ToArray(), "earlier items, latest first");
        var negativesOfA = rows.Where(r => r["reviewerID"] == "A" && r["label"] == "0").ToList();
        Assert.HasCount(6, negativesOfA);
        Assert.IsTrue(negativesOfA.All(r => r["asin"] is "B4" or "B5"), "never an item A reviewed");
        Assert.IsTrue(negativesOfA.All(r => clicksOfA.Any(c => c["unixReviewTime"] == r["unixReviewTime"] && c["his_asin_seq"] == r["his_asin_seq"])), "a negative shares its review's time and history");

        var b1 = rows.First(r => r["asin"] == "B1");
        Assert.AreEqual("Acme, Inc.", b1["brand"]);
        Assert.AreEqual("Lenses", b1["categories"]);
        Assert.AreEqual(19.99f, float.Parse(b1["price"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.AreEqual("Cables", rows.First(r => r["asin"] == "B2")["categories"]);
        Assert.AreEqual(5.5f, float.Parse(rows.First(r => r["asin"] == "B2")["price"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.IsTrue(float.IsNaN(float.Parse(rows.First(r => r["asin"] == "B4")["price"], System.Globalization.CultureInfo.InvariantCulture)), "no metadata: missing");
    }

    [TestMethod]
    public void ImportAmazonTest_ABadLineIsNamed()
    {
        using var directory = new TemporaryDirectory();
        string reviews = Path.Combine(directory.Path, "reviews.json"), meta = Path.Combine(directory.Path, "meta.json");
        File.WriteAllLines(reviews, ["""{"reviewerID": "A", "asin": "B1", "unixReviewTime": 1}""", """{"reviewerID": "A", "asin": "B2"}"""]);
        File.WriteAllLines(meta, ["{'asin': 'B1'}"]);

        var (noTime, noTimeOutput) = Invoke("import-amazon", "--reviews", reviews, "--meta", Path.Combine(directory.Path, "empty.json"), "--out", Path.Combine(directory.Path, "x.csv"));
        File.WriteAllText(Path.Combine(directory.Path, "empty.json"), "");
        var (missingTime, missingTimeOutput) = Invoke("import-amazon", "--reviews", reviews, "--meta", Path.Combine(directory.Path, "empty.json"), "--out", Path.Combine(directory.Path, "x.csv"));
        var (python, pythonOutput) = Invoke("import-amazon", "--reviews", reviews, "--meta", meta, "--out", Path.Combine(directory.Path, "x.csv"));

        Assert.AreEqual(1, noTime);
        StringAssert.Contains(noTimeOutput, "empty.json' does not exist");
        Assert.AreEqual(1, missingTime);
        StringAssert.Contains(missingTimeOutput, "reviews.json line 2: 'unixReviewTime' must be a whole number");
        Assert.AreEqual(1, python);
        StringAssert.Contains(pythonOutput, "meta.json line 1: not a JSON object");
        Assert.IsFalse(File.Exists(Path.Combine(directory.Path, "x.csv")));
    }

    [TestMethod]
    public void ImportAmazonTest_OutIsNeitherAnInputNorAFolder()
    {
        // The CSV replaced the reviews it was made from, and a folder was found only after every line was read.
        using var directory = new TemporaryDirectory();
        string reviews = Path.Combine(directory.Path, "reviews.json"), meta = Path.Combine(directory.Path, "meta.json");
        File.WriteAllLines(reviews, ["""{"reviewerID": "A", "asin": "B1", "unixReviewTime": 1}""", """{"reviewerID": "A", "asin": "B2", "unixReviewTime": 2}"""]);
        File.WriteAllLines(meta, ["""{"asin": "B1"}"""]);
        string[] before = File.ReadAllLines(reviews);

        var (reviewsCode, reviewsOutput) = Invoke("import-amazon", "--reviews", reviews, "--meta", meta, "--out", reviews);
        var (metaCode, metaOutput) = Invoke("import-amazon", "--reviews", reviews, "--meta", meta, "--out", meta);
        var (folderCode, folderOutput) = Invoke("import-amazon", "--reviews", reviews, "--meta", meta, "--out", directory.Path);

        Assert.AreEqual(1, reviewsCode, reviewsOutput);
        StringAssert.Contains(reviewsOutput, $"error: --out '{reviews}' is also the --reviews file; writing it would overwrite that input.");
        CollectionAssert.AreEqual(before, File.ReadAllLines(reviews), "the reviews are kept");
        Assert.AreEqual(1, metaCode, metaOutput);
        StringAssert.Contains(metaOutput, $"error: --out '{meta}' is also the --meta file");
        Assert.AreEqual(1, folderCode, folderOutput);
        StringAssert.Contains(folderOutput, $"error: --out '{directory.Path}' is a directory; give the path of a file in it.");
    }
}
