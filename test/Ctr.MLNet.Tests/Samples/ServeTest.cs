using System;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed partial class ServeTest
{
    /// <summary>A row as the train verb loads a CSV: text for categoricals and lists, Single for numbers and the label.</summary>
    public sealed class ClickRow
    {
        public float Label { get; set; }

        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        public string History { get; set; } = "";

        public string HistoryWeights { get; set; } = "";

        public float Price { get; set; }

        /// <summary>Text whose values are numbers, as the reference's <c>hour</c>: its clients send them as JSON numbers.</summary>
        public string Hour { get; set; } = "";
    }

    /// <summary>The second model's rows: no history, so it has other columns.</summary>
    public sealed class SimpleRow
    {
        public float Label { get; set; }

        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        public float Price { get; set; }
    }

    private const int MaxRows = 100;

    private static readonly string[] ColumnsA = ["User", "Item", "History", "HistoryWeights", "Price", "Hour"];
    private static TemporaryDirectory s_directory = null!;
    private static string s_pathA = null!;
    private static string s_pathB = null!;
    private static ServeHandle s_server = null!;
    private static HttpClient s_client = null!;
    private static StringWriter s_log = null!;
    private static List<ClickRow> s_rows = null!;
    private static float[] s_offlineA = null!;
    private static float[] s_offlineB = null!;
    private static string s_pathA2 = null!;
    private static float[] s_offlineA2 = null!;

    [ClassInitialize]
    public static async Task InitializeAsync(TestContext context)
    {
        s_directory = new TemporaryDirectory();
        List<ClickRow> train = Generate(800, seed: 1);
        s_rows = [.. Generate(60, seed: 2), .. EdgeRows()];

        var ml = new MLContext(seed: 1);
        IDataView trainA = ml.Data.LoadFromEnumerable(train);
        IEstimator<ITransformer> PipelineA(int seed) => ml.Ctr().Transforms.ParseSequence(new SequenceParsingEstimator.ColumnOptions("History") { WeightColumnName = "HistoryWeights", OutputWeightColumnName = "HistoryWeights" })
            .Append(ml.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("User"),
                new VocabularyEstimator.ColumnOptions("Item") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("History") { Vocabulary = "item" },
                new VocabularyEstimator.ColumnOptions("Hour")))
            .Append(ml.Ctr().Transforms.Normalize("Price"))
            .Append(ml.BinaryClassification.Trainers.TorchCtr(Quick(seed)));
        s_pathA = Path.Combine(s_directory.Path, "a.zip");
        ml.Model.Save(PipelineA(seed: 1).Fit(trainA), trainA.Schema, s_pathA);
        // The same columns, other weights: what a retrained model dropped over the served file looks like.
        s_pathA2 = Path.Combine(s_directory.Path, "a2.zip");
        ml.Model.Save(PipelineA(seed: 3).Fit(trainA), trainA.Schema, s_pathA2);

        IDataView trainB = ml.Data.LoadFromEnumerable(train.Select(Simple));
        var pipelineB = ml.Ctr().Transforms.MapToVocabulary(new VocabularyEstimator.ColumnOptions("User"), new VocabularyEstimator.ColumnOptions("Item"))
            .Append(ml.Ctr().Transforms.Normalize("Price"))
            .Append(ml.BinaryClassification.Trainers.TorchCtr(Quick(seed: 2)));
        s_pathB = Path.Combine(s_directory.Path, "b.zip");
        ml.Model.Save(pipelineB.Fit(trainB), trainB.Schema, s_pathB);

        // Offline answers: the zips loaded afresh, every row scored in one Transform.
        s_offlineA = Offline(s_pathA, ml.Data.LoadFromEnumerable(s_rows));
        s_offlineB = Offline(s_pathB, ml.Data.LoadFromEnumerable(s_rows.Select(Simple)));
        s_offlineA2 = Offline(s_pathA2, ml.Data.LoadFromEnumerable(s_rows));

        s_log = new StringWriter();
        var settings = new ServeSettings([new ModelSource("ctr-a", s_pathA), new ModelSource("ctr_b", s_pathB)], "http://127.0.0.1:0") { MaxRows = MaxRows };
        s_server = await ServeCommand.StartAsync(settings, s_log);
        s_client = new HttpClient { BaseAddress = s_server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    [ClassCleanup]
    public static async Task CleanupAsync()
    {
        s_client?.Dispose();
        if (s_server is not null)
            await s_server.StopAsync();
        s_directory?.Dispose();
    }

    private static TorchCtrTrainer.Options Quick(int seed) => new()
    {
        LabelColumnName = "Label",
        NumericColumnNames = ["Price"],
        Epochs = 1,
        BatchSize = 128,
        Threads = 1,
        Seed = seed,
        Model = new CtrModelOptions { HiddenUnits = [16], EmbeddingDim = 4 },
    };

    private static float[] Offline(string path, IDataView rows)
    {
        ITransformer model = new MLContext(seed: 5).Model.Load(path, out _);
        try
        {
            return [.. model.Transform(rows).GetColumn<float>("Probability")];
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    private static List<ClickRow> Generate(int count, int seed)
    {
        var random = new Random(seed);
        var rows = new List<ClickRow>(count);
        for (int i = 0; i < count; i++)
        {
            int user = random.Next(40), item = random.Next(30), length = random.Next(0, 5), hour = random.Next(24);
            int[] history = [.. Enumerable.Range(0, length).Select(_ => random.Next(30))];
            double logit = (item % 3 - 1) + (user % 2 == item % 2 ? 0.7 : -0.7) + 0.3 * history.Count(h => h % 2 == item % 2) + (hour < 8 ? -0.8 : 0.2);
            rows.Add(new ClickRow
            {
                Label = random.NextDouble() < 1 / (1 + Math.Exp(-logit)) ? 1 : 0,
                User = $"u{user}",
                Item = $"i{item}",
                History = string.Join('|', history.Select(h => $"i{h}")),
                HistoryWeights = string.Join('|', history.Select(_ => (random.Next(1, 30) / 10.0).ToString(System.Globalization.CultureInfo.InvariantCulture))),
                Price = random.Next(10) == 0 ? float.NaN : (float)(random.NextDouble() * 100),
                Hour = hour.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        }
        return rows;
    }

    /// <summary>Unseen ids, empty and over-long histories, missing and extreme numbers, every feature missing.</summary>
    private static IEnumerable<ClickRow> EdgeRows() =>
    [
        new() { User = "never-seen", Item = "new-item", History = "", HistoryWeights = "", Price = 12.5f },
        new() { User = "u1", Item = "i2", History = string.Join('|', Enumerable.Range(0, 200).Select(i => $"i{i % 30}")), HistoryWeights = string.Join('|', Enumerable.Repeat("1.5", 200)), Price = float.NaN },
        new() { User = "u3", Item = "i4", History = "i1|zzz", HistoryWeights = "0.5|2", Price = 1e30f },
        new() { User = "u5", Item = "i6", History = "", HistoryWeights = "", Price = -3.4e38f },
        new() { User = "", Item = "", History = "", HistoryWeights = "", Price = float.NaN },
    ];

    private static SimpleRow Simple(ClickRow row) => new() { Label = row.Label, User = row.User, Item = row.Item, Price = row.Price };

    private static JsonNode? Value(ClickRow row, string column) => column switch
    {
        "User" => row.User,
        "Item" => row.Item,
        "History" => row.History,
        "HistoryWeights" => row.HistoryWeights,
        "Hour" => row.Hour,
        _ => float.IsNaN(row.Price) ? null : JsonValue.Create(row.Price),
    };

    private static string Columnar(IEnumerable<ClickRow> rows, IEnumerable<string> columns)
    {
        var features = new JsonObject();
        foreach (string column in columns)
            features[column] = new JsonArray([.. rows.Select(r => Value(r, column))]);
        return new JsonObject { ["features"] = features }.ToJsonString();
    }

    private static string RowWise(IEnumerable<ClickRow> rows, IEnumerable<string> columns) =>
        new JsonObject { ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject(columns.Select(c => KeyValuePair.Create(c, Value(r, c)))))]) }.ToJsonString();

    private static async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? body = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content ?? (body is null ? null : new StringContent(body, Encoding.UTF8, "application/json")) };
        using HttpResponseMessage response = await s_client.SendAsync(request);
        string text = await response.Content.ReadAsStringAsync();
        Assert.AreEqual("application/json", response.Content.Headers.ContentType?.MediaType, $"{method} {path}: {(int)response.StatusCode} {text}");
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string body) => SendAsync(HttpMethod.Post, path, body);

    private static float[] Probabilities(JsonElement body) => [.. body.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle())];

    /// <summary>
    /// Served and offline probabilities of a row may differ in the last bits: the network's matrix products sum in
    /// an order that depends on how many rows share the pass (a request alone, a batch of requests, or the offline
    /// batch). The README states the bound this checks: at most <see cref="ServedUlps"/> units in the last place.
    /// </summary>
    private const int ServedUlps = 4;

    private static bool Close(float expected, float actual) =>
        float.IsFinite(actual) && Math.Abs(BitConverter.SingleToInt32Bits(expected) - BitConverter.SingleToInt32Bits(actual)) <= ServedUlps;

    private static void AreClose(float[] expected, float[] actual, string what)
    {
        Assert.HasCount(expected.Length, actual, what);
        for (int i = 0; i < expected.Length; i++)
            Assert.IsTrue(Close(expected[i], actual[i]), $"{what}: row {i}: offline {expected[i]:R}, served {actual[i]:R}, more than {ServedUlps} ulps apart");
    }

    [TestMethod]
    public void ServeTest_ModelsAreScoredThroughThePreparedScorer()
    {
        // The equality tests here then check the prepared path, not the chain it falls back to.
        using ServedModel a = ServedModel.Load("ctr-a", s_pathA);
        using ServedModel b = ServedModel.Load("ctr_b", s_pathB);

        Assert.IsTrue(a.IsPrepared, "a pipeline with a weighted history and a network");
        Assert.IsTrue(b.IsPrepared, "a pipeline with a network");
    }

    [TestMethod]
    public async Task ServeTest_ColumnarAndRowRequestsMatchOfflineTransform()
    {
        var (columnarStatus, columnar) = await PostAsync("/ctr-a/predict", Columnar(s_rows, ColumnsA));
        var (rowStatus, rows) = await PostAsync("/ctr-a/predict", RowWise(s_rows, ColumnsA));

        Assert.AreEqual(HttpStatusCode.OK, columnarStatus, columnar.ToString());
        Assert.AreEqual(HttpStatusCode.OK, rowStatus, rows.ToString());
        AreClose(s_offlineA, Probabilities(columnar), "columnar");
        AreClose(s_offlineA, Probabilities(rows), "rows");
        Assert.IsTrue(s_offlineA.Distinct().Count() > 10, "the model tells rows apart");
        float[] single = Probabilities((await PostAsync("/ctr-a/predict", RowWise(s_rows.Skip(7).Take(1), ColumnsA))).Body);
        AreClose([s_offlineA[7]], single, "one row");
        var (emptyStatus, empty) = await PostAsync("/ctr-a/predict", "{\"rows\": []}");
        Assert.AreEqual(HttpStatusCode.OK, emptyStatus);
        Assert.AreEqual(0, empty.GetProperty("probabilities").GetArrayLength());
    }

    [TestMethod]
    public async Task ServeTest_LabelExtraKeysNumbersAsTextAndMissingValuesAreAccepted()
    {
        // The label and unknown keys are ignored; a number in a text column is its text; a key a row lacks is missing.
        string body = """
            {"rows": [
              {"User": "u3", "Item": "i4", "History": "i1|zzz", "HistoryWeights": "0.5|2", "Price": 1e30, "Hour": "5", "Label": "whatever", "extra": {"deep": [1]}},
              {"User": null, "Item": null, "History": null, "HistoryWeights": null, "Price": null},
              {"User": "u1"}
            ], "request_id": 17}
            """;
        ClickRow[] expected =
        [
            new() { User = "u3", Item = "i4", History = "i1|zzz", HistoryWeights = "0.5|2", Price = 1e30f, Hour = "5" },
            new() { Price = float.NaN },
            new() { User = "u1", Price = float.NaN },
        ];
        var (status, response) = await PostAsync("/ctr-a/predict", body);
        var (numericStatus, numeric) = await PostAsync("/ctr-a/predict", """{"features": {"User": [7], "Item": [3.50], "History": [""], "HistoryWeights": [""], "Price": [3.4e38], "Hour": [13]}}""");

        Assert.AreEqual(HttpStatusCode.OK, status, response.ToString());
        AreClose(Offline(s_pathA, new MLContext().Data.LoadFromEnumerable(expected)), Probabilities(response), "rows with label, extras and missing values");
        Assert.AreEqual(HttpStatusCode.OK, numericStatus, numeric.ToString());
        float[] offline = Offline(s_pathA, new MLContext().Data.LoadFromEnumerable(new[] { new ClickRow { User = "7", Item = "3.50", Price = 3.4e38f, Hour = "13" } }));
        AreClose(offline, Probabilities(numeric), "numbers in text columns, a number near the float limit");
    }

    [TestMethod]
    public async Task ServeTest_EscapedAndNonAsciiTextAndALargeChunkedBodyMatchOffline()
    {
        // Text is decoded from the body into one buffer per request: an escaped value takes the other path, and a
        // value of multi-byte characters must not shift the values after it.
        string body = """
            {"rows": [
              {"User": "\u0075\u0031", "Item": "i\u0032", "History": ["\u0069\u0033", "i4"], "HistoryWeights": "1|2", "Price": 5, "Hour": "9"},
              {"User": "üser-ß", "Item": "i2", "History": "i1|i3", "HistoryWeights": [1, 0.5], "Price": 5, "Hour": 9},
              {"User": "u1", "Item": "i2", "History": "i1|i3", "HistoryWeights": "1|0.5", "Price": 5, "Hour": "9"}
            ]}
            """;
        ClickRow[] expected =
        [
            new() { User = "u1", Item = "i2", History = "i3|i4", HistoryWeights = "1|2", Price = 5, Hour = "9" },
            new() { User = "üser-ß", Item = "i2", History = "i1|i3", HistoryWeights = "1|0.5", Price = 5, Hour = "9" },
            new() { User = "u1", Item = "i2", History = "i1|i3", HistoryWeights = "1|0.5", Price = 5, Hour = "9" },
        ];
        // Chunked, so of unknown length, and larger than the buffer the body is first read into.
        string padded = Columnar(s_rows, ColumnsA) + new string(' ', 40_000);

        var (status, response) = await PostAsync("/ctr-a/predict", body);
        var (chunkedStatus, chunked) = await SendAsync(HttpMethod.Post, "/ctr-a/predict", content: new ChunkedContent(Encoding.UTF8.GetBytes(padded)));

        Assert.AreEqual(HttpStatusCode.OK, status, response.ToString());
        float[] offline = Offline(s_pathA, new MLContext().Data.LoadFromEnumerable(expected));
        AreClose(offline, Probabilities(response), "escaped and non-ASCII text");
        Assert.AreNotEqual(offline[0], offline[2], "the escaped row differs from the last one only in its history");
        Assert.AreEqual(HttpStatusCode.OK, chunkedStatus, chunked.ToString());
        AreClose(s_offlineA, Probabilities(chunked), "a 40 KB chunked body");
    }

    private static JsonNode? ArrayValue(ClickRow row, string column, bool numbersForText = false) => column switch
    {
        "History" => new JsonArray([.. Split(row.History).Select(id => (JsonNode?)id)]),
        "HistoryWeights" => new JsonArray([.. Split(row.HistoryWeights).Select(w => (JsonNode?)JsonValue.Create(double.Parse(w, System.Globalization.CultureInfo.InvariantCulture)))]),
        "Hour" when numbersForText => row.Hour.Length == 0 ? null : JsonValue.Create(int.Parse(row.Hour, System.Globalization.CultureInfo.InvariantCulture)),
        _ => Value(row, column),
    };

    private static string[] Split(string list) => list.Length == 0 ? [] : list.Split('|');

    [TestMethod]
    public async Task ServeTest_ListsAsJsonArraysMatchTheDelimitedFormAndOfflineInBothFormsAndMixed()
    {
        var features = new JsonObject();
        foreach (string column in ColumnsA)
            features[column] = new JsonArray([.. s_rows.Select(r => ArrayValue(r, column))]);
        string columnar = new JsonObject { ["features"] = features }.ToJsonString();
        // Rows alternate between the array form, the delimited form, and null or [] for an empty list.
        string mixed = new JsonObject
        {
            ["rows"] = new JsonArray([.. s_rows.Select((r, i) => (JsonNode)new JsonObject(ColumnsA.Select(c => KeyValuePair.Create(c,
                (c is "History" or "HistoryWeights") && r.History.Length == 0 ? (i % 2 == 0 ? null : new JsonArray())
                : i % 2 == 0 ? ArrayValue(r, c) : Value(r, c)))))]),
        }.ToJsonString();

        var (columnarStatus, columnarResponse) = await PostAsync("/ctr-a/predict", columnar);
        var (mixedStatus, mixedResponse) = await PostAsync("/ctr-a/predict", mixed);

        Assert.AreEqual(HttpStatusCode.OK, columnarStatus, columnarResponse.ToString());
        AreClose(s_offlineA, Probabilities(columnarResponse), "lists as arrays, columnar");
        Assert.AreEqual(HttpStatusCode.OK, mixedStatus, mixedResponse.ToString());
        AreClose(s_offlineA, Probabilities(mixedResponse), "rows mixing arrays, delimited strings, null and []");
        Assert.IsTrue(s_rows.Count(r => r.History.Length == 0) > 3 && s_rows.Count(r => r.History.Contains('|')) > 10, "the rows have empty and long lists");
    }

    [TestMethod]
    public async Task ServeTest_AnIdHoldingTheSeparatorIsOneIdInArrayForm()
    {
        const string body = """{"rows": [{"User": "u1", "Item": "i2", "History": ["i3|i4"], "HistoryWeights": [2], "Price": 5, "Hour": 9}]}""";
        const string split = """{"rows": [{"User": "u1", "Item": "i2", "History": ["i3", "i4"], "HistoryWeights": [2, 2], "Price": 5, "Hour": 9}]}""";
        const string delimited = """{"rows": [{"User": "u1", "Item": "i2", "History": "i3|i4", "HistoryWeights": "2", "Price": 5, "Hour": 9}]}""";
        ServedModel model = s_server.Models["ctr-a"];
        // Offline: the same row through the library's columnar input, the id given as one string.
        var view = new ColumnarDataView(model.Schema, [.. model.Columns.Select(c => c.Name switch
        {
            "User" => (Array)new[] { "u1" },
            "Item" => new[] { "i2" },
            "History" => new[] { new[] { "i3|i4" } },
            "HistoryWeights" => new[] { new[] { 2f } },
            "Price" => new[] { 5f },
            "Hour" => new[] { "9" },
            _ => RequestReader.MissingColumn(c, 1),
        })]);
        float[] offline = Offline(s_pathA, view);

        var (status, response) = await PostAsync("/ctr-a/predict", body);
        var (splitStatus, splitResponse) = await PostAsync("/ctr-a/predict", split);
        var (delimitedStatus, delimitedResponse) = await PostAsync("/ctr-a/predict", delimited);

        Assert.AreEqual(HttpStatusCode.OK, status, response.ToString());
        AreClose(offline, Probabilities(response), "one id holding '|'");
        Assert.AreEqual(HttpStatusCode.OK, splitStatus, splitResponse.ToString());
        Assert.AreNotEqual(Probabilities(splitResponse)[0], Probabilities(response)[0], "two ids score otherwise than the one id 'i3|i4'");
        Assert.AreEqual(HttpStatusCode.BadRequest, delimitedStatus, "the delimited string splits, so one weight is too few");
        StringAssert.Contains(delimitedResponse.GetProperty("error").GetString(), "1 weight for 2 ids in column 'History'");
    }

    [TestMethod]
    public async Task ServeTest_ThePythonReferenceClientsDataFrameBodyGetsTheOfflineAnswersUnderPrediction()
    {
        // test_predict of the reference: {"features": df.to_dict(orient="list")}, lists as Python lists, numbers as
        // numbers (ints for the text column Hour), a missing price as None.
        var features = new JsonObject();
        foreach (string column in ColumnsA)
            features[column] = new JsonArray([.. s_rows.Select(r => ArrayValue(r, column, numbersForText: true))]);
        string body = new JsonObject { ["features"] = features }.ToJsonString();
        StringAssert.Contains(body, "\"Hour\":[", "the body carries hours");
        Assert.DoesNotContain("\"Hour\":[\"", body, "hours are JSON numbers");

        var (status, response) = await PostAsync("/ctr-a/predict", body);

        Assert.AreEqual(HttpStatusCode.OK, status, response.ToString());
        float[] prediction = [.. response.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle())];
        AreClose(s_offlineA, prediction, "the reference's key");
        CollectionAssert.AreEqual(Probabilities(response), prediction, "both keys carry the same answers");
    }

    [TestMethod]
    public void ServeTest_TheColumnarInputTakesOneArrayPerRowForListsAndChecksItsTypes()
    {
        ServedModel model = s_server.Models["ctr-a"];
        ClickRow[] rows = [.. s_rows.Take(12)];
        Array Column(ServedColumn c) => c.Name switch
        {
            "User" => rows.Select(r => r.User).ToArray(),
            "Item" => rows.Select(r => r.Item).ToArray(),
            "History" => rows.Select((r, i) => i == 0 ? null : Split(r.History)).ToArray(), // null: an empty list
            "HistoryWeights" => rows.Select(r => Split(r.HistoryWeights).Select(w => float.Parse(w, System.Globalization.CultureInfo.InvariantCulture)).ToArray()).ToArray(),
            "Price" => rows.Select(r => r.Price).ToArray(),
            "Hour" => rows.Select(r => r.Hour).ToArray(),
            _ => RequestReader.MissingColumn(c, rows.Length),
        };
        rows[0] = new ClickRow { User = rows[0].User, Item = rows[0].Item, Price = rows[0].Price, Hour = rows[0].Hour };
        float[] expected = Offline(s_pathA, new MLContext().Data.LoadFromEnumerable(rows));
        var sut = new ColumnarDataView(model.Schema, [.. model.Columns.Select(Column)]);

        float[] scored = model.Score(sut);

        AreClose(expected, scored, "string[] and float[] per row");
        var wrong = Assert.ThrowsExactly<ArgumentException>(() => new ColumnarDataView(model.Schema, [.. model.Columns.Select(c => c.Name == "HistoryWeights" ? new double[rows.Length][] : Column(c))]));
        StringAssert.Contains(wrong.Message, "Column 'HistoryWeights' is Vector<Single>; its values must be a VBuffer`1[] or a float[][] (one array per row), not a Double[][]");
    }

    [TestMethod]
    public void ServeTest_ConcatenatedViewsReadTheirRowsInOrderWithoutCopies()
    {
        // A batch joins its requests' views; every column kind is read across the joins, including a one-row part.
        ServedModel model = s_server.Models["ctr-a"];
        var settings = new ServeSettings([new ModelSource("ctr-a", s_pathA)], "http://127.0.0.1:0");
        int[] cuts = [0, 1, 2, 17, s_rows.Count];
        ColumnarDataView[] parts = [.. cuts.Zip(cuts.Skip(1)).Select(c => RequestReader.Read(Encoding.UTF8.GetBytes(
            c.First % 2 == 0 ? Columnar(s_rows[c.First..c.Second], ColumnsA) : RowWise(s_rows[c.First..c.Second], ColumnsA)), model, settings))];

        ColumnarDataView sut = ColumnarDataView.Concat([ColumnarDataView.Concat(parts[..2]), .. parts[2..]]);

        Assert.AreEqual(s_rows.Count, sut.RowCount);
        AreClose(s_offlineA, model.Score(sut), "views joined");
        using DataViewRowCursor cursor = sut.GetRowCursor(sut.Schema);
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> history = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(sut.Schema["History"]);
        var ids = default(VBuffer<ReadOnlyMemory<char>>);
        for (int row = 0; cursor.MoveNext(); row++)
        {
            history(ref ids);
            Assert.AreEqual(s_rows[row].History, string.Join('|', ids.DenseValues()), $"row {row}");
        }
        Assert.ThrowsExactly<InvalidOperationException>(() => history(ref ids));
    }

    [TestMethod]
    public async Task ServeTest_HealthEndpointsDescribeTheServerAndEachModel()
    {
        var (status, health) = await SendAsync(HttpMethod.Get, "/health");
        var (statusA, healthA) = await SendAsync(HttpMethod.Get, "/ctr-a/health");
        var (statusB, healthB) = await SendAsync(HttpMethod.Get, "/ctr_b/health");

        Assert.AreEqual(HttpStatusCode.OK, status);
        Assert.AreEqual("ok", health.GetProperty("status").GetString());
        CollectionAssert.AreEqual(new[] { "ctr-a", "ctr_b" }, health.GetProperty("models").EnumerateArray().Select(m => m.GetString()).ToArray());
        Assert.AreEqual(HttpStatusCode.OK, statusA);
        Assert.AreEqual("ok", healthA.GetProperty("status").GetString());
        Assert.AreEqual("ctr-a", healthA.GetProperty("model").GetString());
        CollectionAssert.AreEquivalent(ColumnsA, healthA.GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToArray());
        Assert.AreEqual("number", healthA.GetProperty("types").GetProperty("Price").GetString());
        Assert.AreEqual("list", healthA.GetProperty("types").GetProperty("History").GetString());
        Assert.AreEqual("weights", healthA.GetProperty("types").GetProperty("HistoryWeights").GetString());
        Assert.AreEqual("text", healthA.GetProperty("types").GetProperty("Hour").GetString());
        Assert.AreEqual("Label", healthA.GetProperty("label").GetString());
        Assert.AreEqual(HttpStatusCode.OK, statusB);
        CollectionAssert.AreEquivalent(new[] { "User", "Item", "Price" }, healthB.GetProperty("columns").EnumerateArray().Select(c => c.GetString()).ToArray());
        string log = s_log.ToString();
        StringAssert.Contains(log, $"model 'ctr-a': {s_pathA}; columns: User (text), Item (text), History (list), HistoryWeights (weights), Price (number), Hour (text)");
        StringAssert.Contains(log, $"model 'ctr_b': {s_pathB}");
        StringAssert.Contains(log, $"listening on {s_server.Addresses[0]}");
    }

    [TestMethod]
    public async Task ServeTest_TwoModelsAreServedByName()
    {
        string[] columnsB = ["User", "Item", "Price"];

        var (statusB, b) = await PostAsync("/ctr_b/predict", Columnar(s_rows, columnsB));
        var (statusBRows, bRows) = await PostAsync("/ctr_b/predict", RowWise(s_rows, ColumnsA)); // extra columns are ignored
        var (statusAWithoutHistory, a) = await PostAsync("/ctr-a/predict", Columnar(s_rows, columnsB));

        Assert.AreEqual(HttpStatusCode.OK, statusB, b.ToString());
        AreClose(s_offlineB, Probabilities(b), "model b");
        Assert.AreEqual(HttpStatusCode.OK, statusBRows, bRows.ToString());
        AreClose(s_offlineB, Probabilities(bRows), "model b, rows with model a's columns");
        Assert.IsTrue(s_offlineA.Zip(s_offlineB).Count(p => Math.Abs(p.First - p.Second) > 1e-4) > s_rows.Count / 2, "the two models differ");
        Assert.AreEqual(HttpStatusCode.BadRequest, statusAWithoutHistory);
        StringAssert.Contains(a.GetProperty("error").GetString(), "'History', 'HistoryWeights'");
    }

    /// <summary>A body of unknown length, sent chunked.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(bytes, 0, bytes.Length);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [TestMethod]
    [DataRow("unknown model", "/nope/predict", "{\"rows\": []}", 404, "Unknown model 'nope'; this server has: ctr-a, ctr_b")]
    [DataRow("a path as the name", "/..%2F..%2Fetc%2Fpasswd/predict", "{\"rows\": []}", 404, "Unknown model")]
    [DataRow("malformed JSON", "/ctr-a/predict", "{\"features\": {\"User\": [\"u1\"", 400, "Malformed JSON")]
    [DataRow("not JSON at all", "/ctr-a/predict", "User=u1&Item=i2", 400, "Malformed JSON")]
    [DataRow("empty body", "/ctr-a/predict", "", 400, "body is empty")]
    [DataRow("blank body", "/ctr-a/predict", " \r\n ", 400, "body is empty")]
    [DataRow("body not an object", "/ctr-a/predict", "[1, 2]", 400, "must be a JSON object")]
    [DataRow("neither features nor rows", "/ctr-a/predict", "{\"columns\": {}}", 400, "neither \"features\"")]
    [DataRow("rows twice", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"Price\": 1}], \"rows\": []}", 400, "The request has \"rows\" twice; send it once.")]
    [DataRow("features twice", "/ctr_b/predict", "{\"features\": {\"User\": [\"u1\"], \"Item\": [\"i1\"], \"Price\": [1]}, \"features\": {}}", 400, "The request has \"features\" twice; send it once.")]
    [DataRow("both features and rows", "/ctr-a/predict", "{\"features\": {}, \"rows\": []}", 400, "both \"features\" and \"rows\"")]
    [DataRow("features not an object", "/ctr-a/predict", "{\"features\": [1]}", 400, "\"features\" must be an object")]
    [DataRow("rows not an array", "/ctr-a/predict", "{\"rows\": {}}", 400, "\"rows\" must be an array")]
    [DataRow("a row not an object", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": \"\", \"HistoryWeights\": \"\", \"Price\": 1}, 5]}", 400, "Row 2 (rows[1]) must be an object")]
    [DataRow("a near miss of a model name", "/ctr-b/predict", "{}", 404, "Unknown model 'ctr-b'")]
    [DataRow("missing column", "/ctr_b/predict", "{\"features\": {\"User\": [\"u1\"], \"Item\": [\"i1\"]}}", 400, "Missing column 'Price' in \"features\"; model 'ctr_b' needs: User, Item, Price")]
    [DataRow("wrong case", "/ctr_b/predict", "{\"features\": {\"User\": [\"u1\"], \"Item\": [\"i1\"], \"price\": [1]}}", 400, "The request has 'price'; column names are case-sensitive")]
    [DataRow("missing column in rows", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Price\": 1}]}", 400, "Missing column 'Item' in any row")]
    [DataRow("column given as a scalar", "/ctr_b/predict", "{\"features\": {\"User\": \"u1\", \"Item\": [\"i1\"], \"Price\": [1]}}", 400, "Column 'User' (features.User) must be an array")]
    [DataRow("text in a numeric column", "/ctr_b/predict", "{\"features\": {\"User\": [\"u1\", \"u2\"], \"Item\": [\"i1\", \"i2\"], \"Price\": [1, \"cheap\"]}}", 400, "Column 'Price', row 2 (features.Price[1]): expected a number or null, got a string")]
    [DataRow("object in a text column", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"Price\": 1}, {\"User\": {\"id\": 1}, \"Item\": \"i1\", \"Price\": 1}]}", 400, "Column 'User', row 2 (rows[1].User): expected a string")]
    [DataRow("boolean in a text column", "/ctr_b/predict", "{\"rows\": [{\"User\": true, \"Item\": \"i1\", \"Price\": 1}]}", 400, "Column 'User', row 1 (rows[0].User): expected a string (or a number, taken as its text) or null, got true")]
    [DataRow("array in a numeric column", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"Price\": [1]}]}", 400, "Column 'Price', row 1 (rows[0].Price): expected a number or null, got an array")]
    [DataRow("columns of different lengths", "/ctr_b/predict", "{\"features\": {\"User\": [\"u1\", \"u2\"], \"Item\": [\"i1\"], \"Price\": [1, 2]}}", 400, "Columns have different lengths: 'User' has 2 values but 'Item' has 1")]
    [DataRow("a column twice in a row", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"Price\": 1, \"Price\": 2}]}", 400, "has column 'Price' twice")]
    [DataRow("weights that do not match the history", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": \"\", \"HistoryWeights\": \"\", \"Price\": 1, \"Hour\": 1}, {\"User\": \"u1\", \"Item\": \"i1\", \"History\": \"i1|i2\", \"HistoryWeights\": \"1\", \"Price\": 1}]}", 400, "Column 'HistoryWeights', row 2 (rows[1].HistoryWeights): 1 weight for 2 ids in column 'History' (rows[1].History); give exactly one weight per id.")]
    [DataRow("a weight that is not a number", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": \"i1\", \"HistoryWeights\": \"heavy\", \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'HistoryWeights', row 1, element 1 (rows[0].HistoryWeights): 'heavy' is not a number.")]
    [DataRow("an id that is an object", "/ctr-a/predict", "{\"features\": {\"User\": [\"u1\"], \"Item\": [\"i1\"], \"History\": [[\"i1\", {\"id\": 2}]], \"HistoryWeights\": [[1, 2]], \"Price\": [1], \"Hour\": [1]}}", 400, "Column 'History', row 1, element 2 (features.History[0][1]): expected an id (a string, or a number taken as its text), got an object.")]
    [DataRow("an id that is null", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": [null], \"HistoryWeights\": [1], \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'History', row 1, element 1 (rows[0].History[0]): expected an id (a string, or a number taken as its text), got null.")]
    [DataRow("a list given as an object", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": {\"i1\": 1}, \"HistoryWeights\": [1], \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'History', row 1 (rows[0].History): expected an array of ids (strings or numbers), a string of ids separated by '|', or null, got an object.")]
    [DataRow("a weight that is a string in an array", "/ctr-a/predict", "{\"features\": {\"User\": [\"u1\", \"u2\"], \"Item\": [\"i1\", \"i2\"], \"History\": [[], [\"i1\", \"i2\"]], \"HistoryWeights\": [[], [1, \"2\"]], \"Price\": [1, 2], \"Hour\": [1, 2]}}", 400, "Column 'HistoryWeights', row 2, element 2 (features.HistoryWeights[1][1]): expected a weight (a number), got a string.")]
    [DataRow("a weight beyond float", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": [\"i1\", \"i2\"], \"HistoryWeights\": [1, 1e39], \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'HistoryWeights', row 1, element 2 (rows[0].HistoryWeights[1]): 1e39 is too large for a 32-bit float.")]
    [DataRow("a negative weight", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": [\"i1\"], \"HistoryWeights\": [-0.5], \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'HistoryWeights', row 1, element 1 (rows[0].HistoryWeights[0]): -0.5 is negative; weights must be finite and not negative.")]
    [DataRow("a NaN weight in a string", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": \"i1|i2\", \"HistoryWeights\": \"1|NaN\", \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'HistoryWeights', row 1, element 2 (rows[0].HistoryWeights): 'NaN' is not a finite number.")]
    [DataRow("weights that do not match the ids in arrays", "/ctr-a/predict", "{\"features\": {\"User\": [\"u1\"], \"Item\": [\"i1\"], \"History\": [[\"i1\", \"i2\"]], \"HistoryWeights\": [[1]], \"Price\": [1], \"Hour\": [1]}}", 400, "Column 'HistoryWeights', row 1 (features.HistoryWeights[0]): 1 weight for 2 ids in column 'History' (features.History[0])")]
    [DataRow("ids without weights", "/ctr-a/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"History\": [\"i1\"], \"HistoryWeights\": null, \"Price\": 1, \"Hour\": 1}]}", 400, "Column 'HistoryWeights', row 1 (rows[0].HistoryWeights): 0 weights for 1 id in column 'History'")]
    [DataRow("a number beyond float", "/ctr_b/predict", "{\"features\": {\"User\": [\"u1\", \"u2\"], \"Item\": [\"i1\", \"i2\"], \"Price\": [1, 1e39]}}", 400, "Column 'Price', row 2 (features.Price[1]): 1e39 is too large for a 32-bit float")]
    [DataRow("a negative number beyond float", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"Price\": -1e39}]}", 400, "Column 'Price', row 1 (rows[0].Price): -1e39 is too large for a 32-bit float")]
    [DataRow("a number beyond double", "/ctr_b/predict", "{\"rows\": [{\"User\": \"u1\", \"Item\": \"i1\", \"Price\": 2}, {\"User\": \"u1\", \"Item\": \"i1\", \"Price\": 1e400}]}", 400, "Column 'Price', row 2 (rows[1].Price): 1e400 is too large for a 32-bit float")]
    public async Task ServeTest_BadRequestsGet4xxWithAJsonErrorNamingTheProblem(string name, string path, string body, int status, string message)
    {
        var (actualStatus, response) = await PostAsync(path, body);

        Assert.AreEqual(status, (int)actualStatus, $"{name}: {response}");
        StringAssert.Contains(response.GetProperty("error").GetString(), message, name);
    }

    [TestMethod]
    public async Task ServeTest_LimitsOnRowsBodySizeAndNestingGet4xx()
    {
        ClickRow[] tooMany = [.. Enumerable.Range(0, MaxRows + 1).Select(i => s_rows[i % s_rows.Count])];
        string huge = "{\"rows\": [" + string.Join(',', Enumerable.Repeat("{\"User\": \"" + new string('x', 1000) + "\"}", 1100)) + "]}";
        string deep = "{\"features\": {\"User\": " + new string('[', 100) + new string(']', 100) + "}}";

        var (rowsStatus, rows) = await PostAsync("/ctr-a/predict", RowWise(tooMany, ColumnsA));
        var (columnsStatus, columns) = await PostAsync("/ctr-a/predict", Columnar(tooMany, ColumnsA));
        var (hugeStatus, hugeResponse) = await PostAsync("/ctr-a/predict", huge);
        var (chunkedStatus, chunked) = await SendAsync(HttpMethod.Post, "/ctr-a/predict", content: new ChunkedContent(Encoding.UTF8.GetBytes(huge)));
        using var expectContinue = new HttpRequestMessage(HttpMethod.Post, "/ctr-a/predict") { Content = new StringContent(huge + new string(' ', 3 << 20), Encoding.UTF8, "application/json") };
        expectContinue.Headers.ExpectContinue = true;
        using HttpResponseMessage notSent = await s_client.SendAsync(expectContinue);
        var (deepStatus, deepResponse) = await PostAsync("/ctr-a/predict", deep);
        var (atLimitStatus, atLimit) = await PostAsync("/ctr-a/predict", RowWise(tooMany.Take(MaxRows), ColumnsA));

        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, rowsStatus, rows.ToString());
        StringAssert.Contains(rows.GetProperty("error").GetString(), $"The request has {MaxRows + 1} rows; the limit is {MaxRows} rows per request");
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, columnsStatus, columns.ToString());
        Assert.IsGreaterThan(ServeSettings.DefaultMaxBodyBytes, (long)huge.Length);
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, hugeStatus, hugeResponse.ToString());
        StringAssert.Contains(hugeResponse.GetProperty("error").GetString(), $"The request body of {huge.Length} bytes is larger than the limit of {ServeSettings.DefaultMaxBodyBytes} bytes");
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, chunkedStatus, chunked.ToString());
        StringAssert.Contains(chunked.GetProperty("error").GetString(), $"The request body of {huge.Length} bytes is larger than the limit of {ServeSettings.DefaultMaxBodyBytes} bytes");
        Assert.AreEqual(HttpStatusCode.RequestEntityTooLarge, notSent.StatusCode, "a 4 MB body behind Expect: 100-continue is refused before it is sent");
        StringAssert.Contains(await notSent.Content.ReadAsStringAsync(), "is larger than the limit");
        Assert.AreEqual(HttpStatusCode.BadRequest, deepStatus, deepResponse.ToString());
        StringAssert.Contains(deepResponse.GetProperty("error").GetString(), $"nested deeper than the limit of {ServeSettings.DefaultMaxJsonDepth} levels");
        Assert.AreEqual(HttpStatusCode.OK, atLimitStatus, atLimit.ToString());
        // The server still answers after all that.
        Assert.AreEqual(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/health")).Status);
    }

    [TestMethod]
    public async Task ServeTest_InvalidUtf8IsA400AndAByteOrderMarkIsAccepted()
    {
        byte[] badName = [.. Encoding.UTF8.GetBytes("{\"features\": {\""), 0xFF, 0xFE, .. Encoding.UTF8.GetBytes("\": [1]}}")];
        byte[] badValue = [.. Encoding.UTF8.GetBytes("{\"rows\": [{\"User\": \""), 0xC3, .. Encoding.UTF8.GetBytes("\"}]}")];
        byte[] bom = [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(RowWise(s_rows.Take(3), ColumnsA))];

        var (nameStatus, name) = await SendAsync(HttpMethod.Post, "/ctr-a/predict", content: new ByteArrayContent(badName));
        var (valueStatus, value) = await SendAsync(HttpMethod.Post, "/ctr-a/predict", content: new ByteArrayContent(badValue));
        var (bomStatus, bomResponse) = await SendAsync(HttpMethod.Post, "/ctr-a/predict", content: new ByteArrayContent(bom));

        Assert.AreEqual(HttpStatusCode.BadRequest, nameStatus, name.ToString());
        StringAssert.Contains(name.GetProperty("error").GetString(), "not valid UTF-8");
        Assert.AreEqual(HttpStatusCode.BadRequest, valueStatus, value.ToString());
        StringAssert.Contains(value.GetProperty("error").GetString(), "not valid UTF-8");
        Assert.AreEqual(HttpStatusCode.OK, bomStatus, bomResponse.ToString());
        AreClose(s_offlineA[..3], Probabilities(bomResponse), "a body with a byte order mark");
    }

    [TestMethod]
    public async Task ServeTest_UnknownEndpointsAndMethodsGetJsonErrors()
    {
        var (getPredict, getPredictBody) = await SendAsync(HttpMethod.Get, "/ctr-a/predict");
        var (nowhere, nowhereBody) = await SendAsync(HttpMethod.Get, "/ctr-a/explain");
        var (unknownHealth, unknownHealthBody) = await SendAsync(HttpMethod.Get, "/nope/health");

        Assert.AreEqual(HttpStatusCode.MethodNotAllowed, getPredict);
        StringAssert.Contains(getPredictBody.GetProperty("error").GetString(), "POST for /{model}/predict");
        Assert.AreEqual(HttpStatusCode.NotFound, nowhere);
        StringAssert.Contains(nowhereBody.GetProperty("error").GetString(), "No endpoint GET /ctr-a/explain");
        Assert.AreEqual(HttpStatusCode.NotFound, unknownHealth);
        StringAssert.Contains(unknownHealthBody.GetProperty("error").GetString(), "Unknown model 'nope'");
    }

    [TestMethod]
    public async Task ServeTest_HeadOnTheHealthEndpointsAnswersLikeGetWithoutABody()
    {
        foreach (string path in new[] { "/health", "/ctr-a/health" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, path);
            using HttpResponseMessage response = await s_client.SendAsync(request);

            Assert.AreEqual(HttpStatusCode.OK, response.StatusCode, $"HEAD {path}");
            Assert.AreEqual("application/json", response.Content.Headers.ContentType?.MediaType, $"HEAD {path}");
            Assert.IsEmpty(await response.Content.ReadAsByteArrayAsync(), $"HEAD {path} has no body");
        }
    }

    [TestMethod]
    [DataRow("/ctr-a%00/predict")]
    [DataRow("/%00/health")]
    public async Task ServeTest_ANulByteInThePathGetsA400WithTheJsonErrorBody(string path)
    {
        // Raw on the socket: HttpClient would refuse to send such a URL as it is.
        using var socket = new System.Net.Sockets.TcpClient();
        await socket.ConnectAsync(s_server.BaseAddress.Host, s_server.BaseAddress.Port);
        using System.Net.Sockets.NetworkStream stream = socket.GetStream();
        string method = path.EndsWith("/predict", StringComparison.Ordinal) ? "POST" : "GET";
        string request = $"{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        string answer = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();

        StringAssert.StartsWith(answer, "HTTP/1.1 400", answer);
        StringAssert.Contains(answer, "Content-Type: application/json", answer);
        string body = answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        StringAssert.Contains(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString(), "NUL", body);
    }

    [TestMethod]
    public async Task ServeTest_SixtyFourConcurrentRequestsAllSucceedWithTheRightAnswers()
    {
        const int requests = 64;
        using var start = new ManualResetEventSlim();

        Task<(int Index, HttpStatusCode Status, JsonElement Body)>[] tasks = [.. Enumerable.Range(0, requests).Select(i => Task.Run(async () =>
        {
            // Different models, forms, offsets and sizes, so a mix-up between requests would show.
            int offset = i * 7 % s_rows.Count, count = 1 + i % 33;
            ClickRow[] rows = [.. Enumerable.Range(offset, count).Select(r => s_rows[r % s_rows.Count])];
            string path = i % 4 == 3 ? "/ctr_b/predict" : "/ctr-a/predict";
            string body = i % 2 == 0 ? Columnar(rows, ColumnsA) : RowWise(rows, ColumnsA);
            start.Wait();
            var (status, response) = await PostAsync(path, body);
            return (i, status, response);
        }))];
        Task<(HttpStatusCode Status, JsonElement Body)>[] health = [.. Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            start.Wait();
            return await SendAsync(HttpMethod.Get, "/health");
        }))];
        start.Set();
        var results = await Task.WhenAll(tasks);

        foreach (var (index, status, body) in results)
        {
            Assert.AreEqual(HttpStatusCode.OK, status, $"request {index}: {body}");
            int offset = index * 7 % s_rows.Count, count = 1 + index % 33;
            float[] offline = index % 4 == 3 ? s_offlineB : s_offlineA;
            AreClose([.. Enumerable.Range(offset, count).Select(r => offline[r % s_rows.Count])], Probabilities(body), $"request {index}");
        }
        foreach (var (status, _) in await Task.WhenAll(health))
            Assert.AreEqual(HttpStatusCode.OK, status);
    }

    [TestMethod]
    public async Task ServeTest_TwentyThousandRequestsOnThirtyTwoConnectionsGetNo5xxAndTheOfflineAnswersWhileHealthAnswers()
    {
        const int requests = 20_000, connections = 32;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections };
        using var client = new HttpClient(handler) { BaseAddress = s_server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        using var healthClient = new HttpClient { BaseAddress = s_server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        // Bodies prepared up front, so the clients spend their time sending.
        string[] bodies = [.. Enumerable.Range(0, 64).Select(i => Body(i))];
        int next = -1, loadDone = 0, ok = 0, serverErrors = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        async Task Worker()
        {
            for (int i = Interlocked.Increment(ref next); i < requests; i = Interlocked.Increment(ref next))
            {
                using var content = new StringContent(bodies[i % bodies.Length], Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await client.PostAsync(Route(i), content);
                string text = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode >= 500)
                    Interlocked.Increment(ref serverErrors);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"request {i}: {(int)response.StatusCode} {text}");
                    continue;
                }
                float[] got = Probabilities(JsonDocument.Parse(text).RootElement), want = Expected(i);
                if (got.Length != want.Length || got.Zip(want).Any(p => !Close(p.Second, p.First)))
                    failures.Enqueue($"request {i}: got [{string.Join(", ", got)}], offline [{string.Join(", ", want)}]");
                else
                    Interlocked.Increment(ref ok);
            }
        }

        // /health, on its own connection, asked again and again until the load is done.
        async Task<(int Answers, int DuringLoad, List<HttpStatusCode> Statuses)> Health()
        {
            int answers = 0, duringLoad = 0;
            var statuses = new List<HttpStatusCode>();
            while (Volatile.Read(ref loadDone) == 0)
            {
                using HttpResponseMessage response = await healthClient.GetAsync("/health");
                statuses.Add(response.StatusCode);
                answers++;
                if (Volatile.Read(ref loadDone) == 0)
                    duringLoad++;
            }
            return (answers, duringLoad, statuses);
        }

        Task<(int Answers, int DuringLoad, List<HttpStatusCode> Statuses)> health = Task.Run(Health);
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(Worker)));
        Volatile.Write(ref loadDone, 1);
        var (answers, duringLoad, statuses) = await health;

        Assert.AreEqual(0, serverErrors, "no 5xx");
        Assert.IsEmpty(failures, string.Join("\n", failures.Take(5)));
        Assert.AreEqual(requests, ok);
        Assert.IsGreaterThan(0, duringLoad, "/health answered while the load ran");
        Assert.IsTrue(statuses.All(s => s == HttpStatusCode.OK), $"/health: {string.Join(", ", statuses.Distinct())} in {answers} answers");

        // Request i: model a or b, columnar or rows, 1 to 4 rows from offset i * 7.
        static string Route(int i) => i % 4 == 3 ? "/ctr_b/predict" : "/ctr-a/predict";
        static ClickRow[] Rows(int i) => [.. Enumerable.Range(i * 7 % s_rows.Count, 1 + i % 4).Select(r => s_rows[r % s_rows.Count])];
        static string Body(int i) => i % 2 == 0 ? Columnar(Rows(i), ColumnsA) : RowWise(Rows(i), ColumnsA);
        static float[] Expected(int i)
        {
            int slot = i % 64;
            float[] offline = i % 4 == 3 ? s_offlineB : s_offlineA;
            return [.. Enumerable.Range(slot * 7 % s_rows.Count, 1 + slot % 4).Select(r => offline[r % s_rows.Count])];
        }
    }

    [TestMethod]
    public async Task ServeTest_AModelThatFailsToLoadStopsStartUpWithAClearError()
    {
        string garbage = Path.Combine(s_directory.Path, "garbage.zip");
        File.WriteAllText(garbage, "this is not a zip file");
        string missing = Path.Combine(s_directory.Path, "missing.zip");

        var badZip = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            ServeCommand.StartAsync(new ServeSettings([new ModelSource("good", s_pathA), new ModelSource("bad", garbage)], "http://127.0.0.1:0")));
        var noFile = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            ServeCommand.StartAsync(new ServeSettings([new ModelSource("gone", missing)], "http://127.0.0.1:0")));
        string checkpoint = Path.Combine(s_directory.Path, "checkpoint.ctr");
        using (var writer = new BinaryWriter(File.Create(checkpoint)))
            writer.Write("Ctr.MLNet checkpoint");
        var isCheckpoint = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            ServeCommand.StartAsync(new ServeSettings([new ModelSource("ckpt", checkpoint)], "http://127.0.0.1:0")));
        var isDirectory = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() =>
            ServeCommand.StartAsync(new ServeSettings([new ModelSource("dir", s_directory.Path)], "http://127.0.0.1:0")));
        var portTaken = await Assert.ThrowsAsync<IOException>(() =>
            ServeCommand.StartAsync(new ServeSettings([new ModelSource("good", s_pathA)], s_server.Addresses[0])));
        (int code, string output) = Invoke("serve", "--model", $"good={s_pathA}", "--model", $"bad={garbage}", "--urls", "http://127.0.0.1:0");
        (int badNameCode, string badNameOutput) = Invoke("serve", "--model", $"../x={s_pathA}", "--urls", "http://127.0.0.1:0");
        (int twiceCode, string twiceOutput) = Invoke("serve", "--model", $"m={s_pathA}", "--model", $"m={s_pathB}", "--urls", "http://127.0.0.1:0");
        (int httpsCode, string httpsOutput) = Invoke("serve", "--model", $"m={s_pathA}", "--urls", "https://127.0.0.1:0");

        StringAssert.Contains(badZip.Message, $"Model file '{garbage}' cannot be loaded");
        StringAssert.Contains(noFile.Message, $"Model file '{missing}' does not exist");
        StringAssert.Contains(isCheckpoint.Message, $"Model file '{checkpoint}' is a training checkpoint, not a model zip");
        StringAssert.Contains(isDirectory.Message, "is a directory");
        StringAssert.Contains(portTaken.Message, s_server.Addresses[0]);
        Assert.AreEqual(1, code, output);
        StringAssert.StartsWith(output, $"model 'good': {s_pathA}", "the good model loaded first");
        StringAssert.Contains(output, $"error: Model file '{garbage}' cannot be loaded");
        Assert.DoesNotContain("listening on", output, "nothing is served");
        Assert.AreEqual(1, badNameCode);
        StringAssert.Contains(badNameOutput, "error: Model name '../x' may only have letters, digits, '_' and '-'.");
        Assert.AreEqual(1, twiceCode);
        StringAssert.Contains(twiceOutput, "error: Model name 'm' is given twice.");
        Assert.AreEqual(1, httpsCode);
        StringAssert.Contains(httpsOutput, "is not an http:// URL");
        foreach (string text in new[] { output, badNameOutput, twiceOutput, httpsOutput })
            Assert.DoesNotContain("   at ", text, text);
    }

    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        int code = Program.CreateRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }
}
