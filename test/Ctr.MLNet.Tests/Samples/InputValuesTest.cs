using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Tasks;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Tests.Helpers;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

/// <summary>
/// Unusual input values (unseen categories, empty and over-long histories, a row with every feature missing, extreme
/// numbers and weights) against a model the train verb wrote: every path gives the same finite probability, whether
/// batched Transform, PredictionEngine, the predict verb on a CSV file or serve's POST /{name}/predict.
/// </summary>
[TestClass]
public sealed class InputValuesTest
{
    /// <summary>A row of the model's input, named as the CSV columns: text for categoricals and lists, Single for numbers.</summary>
    public sealed class Row
    {
        public float click { get; set; }

        public string user_id { get; set; } = "";

        public string item_id { get; set; } = "";

        public string device { get; set; } = "";

        public float price { get; set; } = float.NaN;

        public float age { get; set; } = float.NaN;

        public string hist_item_ids { get; set; } = "";

        public string hist_weights { get; set; } = "";
    }

    public sealed class Prediction
    {
        public float Probability { get; set; }
    }

    private const int MaxLength = 5;

    private const string Spec = """
        {"label": "click", "list_separator": "|", "features": [
          {"name": "user_id", "dtype": "categorical", "min_freq": 2, "emb_dim": 8},
          {"name": "item_id", "dtype": "categorical", "min_freq": 2, "emb_dim": 8},
          {"name": "device", "dtype": "categorical"},
          {"name": "price", "dtype": "numeric", "log1p": true},
          {"name": "age", "dtype": "numeric"},
          {"name": "hist_item_ids", "dtype": "categorical", "islist": true, "maxlen": 5, "weight_col": "hist_weights", "share_vocab": "item_id"}
        ]}
        """;

    private static readonly string[] Columns = ["click", "user_id", "item_id", "device", "price", "age", "hist_item_ids", "hist_weights"];

    private static IEnumerable<(string What, Row Row)> EdgeRows(Row known)
    {
        string longHistory = string.Join('|', Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? $"unseen{i}" : known.hist_item_ids.Split('|')[0]));
        yield return ("a typical row", known);
        yield return ("unseen user, item and device", new Row { user_id = "never-seen-user", item_id = "brand-new-item", device = "toaster", price = 10, age = 30 });
        yield return ("empty history", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = known.price, age = known.age });
        yield return ($"history of 200, longer than maxlen {MaxLength}", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = known.price, age = known.age, hist_item_ids = longHistory, hist_weights = string.Join('|', Enumerable.Repeat("1.5", 200)) });
        yield return ($"its first {MaxLength} elements", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = known.price, age = known.age, hist_item_ids = string.Join('|', longHistory.Split('|').Take(MaxLength)), hist_weights = string.Join('|', Enumerable.Repeat("1.5", MaxLength)) });
        yield return ("history of unseen items only", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = 5, age = 40, hist_item_ids = "zzz|yyy", hist_weights = "1|2" });
        yield return ("every feature missing", new Row());
        yield return ("numbers 1e38", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = 1e38f, age = 1e38f });
        yield return ("numbers -1e38", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = -1e38f, age = -1e38f });
        yield return ("float.MaxValue and a huge count", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = float.MaxValue, age = 4e9f });
        yield return ("weights of 1e38", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = 1, age = 1, hist_item_ids = known.item_id + "|" + known.item_id, hist_weights = "1e38|1e38" });
        yield return ("weights all zero", new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = 1, age = 1, hist_item_ids = known.item_id + "|zzz", hist_weights = "0|0" });
    }

    private static string Csv(float value) => float.IsNaN(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string Field(Row row, string column) => column switch
    {
        "click" => Csv(row.click),
        "user_id" => row.user_id,
        "item_id" => row.item_id,
        "device" => row.device,
        "price" => Csv(row.price),
        "age" => Csv(row.age),
        "hist_item_ids" => row.hist_item_ids,
        _ => row.hist_weights,
    };

    private static JsonNode? Json(Row row, string column)
    {
        float? number = column switch { "price" => row.price, "age" => row.age, "click" => row.click, _ => null };
        if (number is float value)
            return float.IsNaN(value) ? null : JsonValue.Create(value);
        return Field(row, column);
    }

    [TestMethod]
    public async Task InputValuesTest_EdgeValuesGiveTheSameFiniteProbabilityOnEveryPath()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 2000, Seed: 4));
        string train = Path.Combine(directory.Path, "train.csv"), valid = Path.Combine(directory.Path, "test.csv");
        string spec = Path.Combine(directory.Path, "spec.json"), model = Path.Combine(directory.Path, "model.zip");
        File.WriteAllText(spec, Spec);
        var trainOutput = new StringWriter();
        int trainCode = Program.CreateRootCommand().Parse(["train", "--train", train, "--valid", valid, "--spec", spec, "--model", model, "--epochs", "1", "--batch-size", "128", "--threads", "1"])
            .Invoke(new InvocationConfiguration { Output = trainOutput, Error = trainOutput });
        Assert.AreEqual(0, trainCode, trainOutput.ToString());
        string[] header = File.ReadLines(valid).First().Split(',');
        string[] first = File.ReadLines(valid).Skip(1).First(l => !l.EndsWith(",,", StringComparison.Ordinal)).Split(',');
        string Get(string name) => first[Array.IndexOf(header, name)];
        var known = new Row
        {
            user_id = Get("user_id"), item_id = Get("item_id"), device = Get("device"), hist_item_ids = Get("hist_item_ids"), hist_weights = Get("hist_weights"),
            price = float.Parse(Get("price"), CultureInfo.InvariantCulture), age = float.Parse(Get("age"), CultureInfo.InvariantCulture),
        };
        (string What, Row Row)[] cases = [.. EdgeRows(known)];
        Row[] rows = [.. cases.Select(c => c.Row)];

        // Batched Transform and PredictionEngine on the loaded zip.
        var ml = new MLContext(seed: 1);
        ITransformer loaded = ml.Model.Load(model, out _);
        float[] batched = [.. Microsoft.ML.Data.ColumnCursorExtensions.GetColumn<float>(loaded.Transform(ml.Data.LoadFromEnumerable(rows)), "Probability")];
        var engine = ml.Model.CreatePredictionEngine<Row, Prediction>(loaded);
        float[] single = [.. rows.Select(r => engine.Predict(r).Probability)];

        // The predict verb on the same rows as a CSV file.
        string csv = Path.Combine(directory.Path, "edge.csv"), predictions = Path.Combine(directory.Path, "predictions.csv");
        File.WriteAllLines(csv, [string.Join(',', Columns), .. rows.Select(r => string.Join(',', Columns.Select(c => Field(r, c))))]);
        PredictCommand.Run(model, csv, predictions);
        float[] verb = [.. File.ReadLines(predictions).Skip(1).Select(l => float.Parse(l, CultureInfo.InvariantCulture))];

        // serve: POST /m/predict with the rows as JSON.
        float[] served;
        await using (ServeHandle server = await ServeCommand.StartAsync(new ServeSettings([new ModelSource("m", model)], "http://127.0.0.1:0"), TextWriter.Null))
        {
            using var client = new HttpClient { BaseAddress = server.BaseAddress };
            string body = new JsonObject { ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject(Columns.Skip(1).Select(c => KeyValuePair.Create(c, Json(r, c)))))]) }.ToJsonString();
            using HttpResponseMessage response = await client.PostAsync("/m/predict", new StringContent(body, Encoding.UTF8, "application/json"));
            string text = await response.Content.ReadAsStringAsync();
            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, text);
            served = [.. JsonDocument.Parse(text).RootElement.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle())];

            // Weights whose sum passes Single's range would pool the history to zeros: a 400 naming the column instead.
            string overflow = new JsonObject { ["rows"] = new JsonArray(new JsonObject(Columns.Skip(1).Select(c => KeyValuePair.Create(c, c == "hist_weights" ? JsonValue.Create("3e38|3e38") : Json(rows[^2], c))))) }.ToJsonString();
            using HttpResponseMessage rejected = await client.PostAsync("/m/predict", new StringContent(overflow, Encoding.UTF8, "application/json"));
            string reason = await rejected.Content.ReadAsStringAsync();
            Assert.AreEqual(HttpStatusCode.BadRequest, rejected.StatusCode, reason);
            StringAssert.Contains(reason, "the weights in column 'hist_weights' add up to more than 3.4E+38");
        }
        var overflowRow = new Row { user_id = known.user_id, item_id = known.item_id, device = known.device, price = 1, age = 1, hist_item_ids = known.item_id + "|" + known.item_id, hist_weights = "3e38|3e38" };
        var error = Errors.Find<InvalidOperationException>(() => loaded.Transform(ml.Data.LoadFromEnumerable([overflowRow])).GetColumn<float>("Probability").ToArray());
        StringAssert.Contains(error.Message, "Row 1: the weights in column 'hist_weights' add up to more than 3.4E+38; scale them down");

        Assert.HasCount(rows.Length, batched);
        Assert.HasCount(rows.Length, verb);
        Assert.HasCount(rows.Length, served);
        for (int i = 0; i < rows.Length; i++)
        {
            string what = cases[i].What;
            // Finite, and a probability; 1e38 in a numeric feature without "clip" saturates it to 0, on every path alike.
            Assert.IsTrue(batched[i] is >= 0 and <= 1, $"{what}: batched Transform gives {batched[i]}");
            Assert.AreEqual(batched[i], single[i], 1e-6f, $"{what}: PredictionEngine");
            Assert.AreEqual(batched[i], verb[i], 1e-6f, $"{what}: predict verb");
            Assert.AreEqual(batched[i], served[i], 1e-6f, $"{what}: serve");
        }
        Assert.AreNotEqual(batched[0], batched[1], "the model tells a typical row from an unseen one");
        Assert.AreEqual(batched[4], batched[3], "a history longer than maxlen counts as its first maxlen elements");
        Assert.AreNotEqual(batched[2], batched[3], "the history counts");
    }
}
