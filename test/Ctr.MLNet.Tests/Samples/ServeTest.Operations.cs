using System;
using System.Collections.Concurrent;
using System.CommandLine;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Tests.Helpers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

/// <summary>Batching, metrics, model files swapped on disk and shutdown: each on a server of its own.</summary>
public sealed partial class ServeTest
{
    /// <summary>Request i of a load: 1 to 4 rows from offset i * 7, columnar or row form.</summary>
    private static ClickRow[] LoadRows(int i) => [.. Enumerable.Range(i * 7 % s_rows.Count, 1 + i % 4).Select(r => s_rows[r % s_rows.Count])];

    private static string LoadBody(int i) => i % 2 == 0 ? Columnar(LoadRows(i), ColumnsA) : RowWise(LoadRows(i), ColumnsA);

    private static float[] LoadExpected(float[] offline, int i) => [.. Enumerable.Range(i * 7 % s_rows.Count, 1 + i % 4).Select(r => offline[r % s_rows.Count])];

    private static int Ulps(float a, float b) => Math.Abs(BitConverter.SingleToInt32Bits(a) - BitConverter.SingleToInt32Bits(b));

    private static async Task<ServeHandle> StartOwnAsync(string name, string path, TextWriter? log = null, TimeSpan? maxWait = null, TimeSpan? reload = null) =>
        await ServeCommand.StartAsync(new ServeSettings([new ModelSource(name, path)], "http://127.0.0.1:0")
        {
            MaxBatchWait = maxWait ?? ServeSettings.DefaultMaxBatchWait,
            MaxBatchRows = 64,
            ReloadInterval = reload ?? TimeSpan.Zero,
        }, log ?? TextWriter.Null);

    private static Dictionary<string, double> ParsePrometheus(string text)
    {
        // Text format 0.0.4: "# HELP"/"# TYPE" comments, and samples "name{label="value",...} number".
        var sample = new Regex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? ([-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|Inf))$""");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal) || line.StartsWith("# TYPE ", StringComparison.Ordinal))
                continue;
            Match match = sample.Match(line);
            Assert.IsTrue(match.Success, $"not a Prometheus sample line: '{line}'");
            int space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..].Replace("Inf", "Infinity", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture);
        }
        return values;
    }

    [TestMethod]
    public async Task ServeTest_BatchedAnswersUnderConcurrentLoadMatchOfflineAndRequestsReallyShareBatches()
    {
        const int requests = 3000, connections = 32, workers = 2;
        // Whether requests overlap by themselves depends on the machine (one CI machine scored 3,000 requests in 3,000
        // passes), so the first pass is held open until more requests wait than there are workers: one worker then takes
        // two or more of them into one pass. The wait (the longest allowed, 1 s) is far longer than the hold takes, so no
        // worker leaves with one request while the held pass runs; under the load that follows, the batching runs as it will.
        int firstPass = 0;
        bool gathered = false;
        await using ServeHandle server = await ServeCommand.StartAsync(new ServeSettings([new ModelSource("ctr", s_pathA)], "http://127.0.0.1:0")
        {
            MaxBatchWait = TimeSpan.FromSeconds(1),
            MaxBatchRows = 64,
            ScoringThreads = workers,
            ReloadInterval = TimeSpan.Zero,
            PassScored = (batcher, _, _) =>
            {
                if (Interlocked.Exchange(ref firstPass, 1) == 0)
                    gathered = SpinWait.SpinUntil(() => batcher.Waiting > workers, TimeSpan.FromSeconds(30));
            },
        }, TextWriter.Null);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        string[] bodies = [.. Enumerable.Range(0, 64).Select(LoadBody)];
        int next = -1, maxUlps = 0, rows = 0;
        var failures = new ConcurrentQueue<string>();

        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            for (int i = Interlocked.Increment(ref next); i < requests; i = Interlocked.Increment(ref next))
            {
                using var content = new StringContent(bodies[i % 64], Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await client.PostAsync("/ctr/predict", content);
                string text = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"request {i}: {(int)response.StatusCode} {text}");
                    continue;
                }
                float[] got = Probabilities(JsonDocument.Parse(text).RootElement), want = LoadExpected(s_offlineA, i % 64);
                Interlocked.Add(ref rows, got.Length);
                if (got.Length != want.Length || got.Zip(want).Any(p => !Close(p.Second, p.First)))
                    failures.Enqueue($"request {i}: got [{string.Join(", ", got.Select(g => g.ToString("R")))}], offline [{string.Join(", ", want.Select(w => w.ToString("R")))}]");
                foreach (var (g, w) in got.Zip(want))
                    InterlockedMax(ref maxUlps, Ulps(g, w));
            }
        })));
        Dictionary<string, double> metrics = ParsePrometheus(await client.GetStringAsync("/metrics"));

        Assert.IsEmpty(failures, string.Join("\n", failures.Take(5)));
        double passes = metrics["ctr_serve_batch_rows_count{model=\"ctr\"}"];
        Assert.AreEqual(rows, metrics["ctr_serve_batch_rows_sum{model=\"ctr\"}"], "every row scored once");
        Assert.IsTrue(gathered, "more requests than workers were waiting while the first pass was held");
        Assert.IsLessThan(requests, passes, $"{passes} scoring passes for {requests} requests: the requests gathered during the held pass shared one");
        Console.WriteLine($"{requests} requests, {rows} rows in {passes} passes; largest difference to offline: {maxUlps} ulps");

        static void InterlockedMax(ref int target, int value)
        {
            for (int seen = Volatile.Read(ref target); value > seen; seen = Volatile.Read(ref target))
                Interlocked.CompareExchange(ref target, value, seen);
        }
    }

    [TestMethod]
    public async Task ServeTest_RequestsArrivingWhileAPassRunsShareTheNextPassInsteadOfEachScoringAlone()
    {
        // The first request finds the batcher idle and is scored at once on its own thread; that pass is held open
        // (in BatchScored) while 20 single-row requests arrive a few milliseconds apart, as under load. They must queue
        // and share one pass when it ends, paying the networks' fixed cost once, not each take a pass of its own as it
        // comes, and still get the offline answers.
        const int arriving = 20;
        using ServedModel model = ServedModel.Load("ctr", s_pathA);
        var settings = new ServeSettings([new ModelSource("ctr", s_pathA)], "http://127.0.0.1:0");
        using var release = new ManualResetEventSlim();
        var passes = new ConcurrentQueue<int>();
        // A wait far longer than the test, so only the held pass, not the clock, decides when the worker goes.
        using var batcher = new ScoringBatcher(maxRows: 64, maxWait: TimeSpan.FromMinutes(1), workers: 1)
        {
            BatchScored = (_, rows) =>
            {
                passes.Enqueue(rows);
                if (passes.Count == 1)
                    release.Wait();
            },
        };
        Task<float[]> Score(int row)
        {
            Assert.IsTrue(model.TryAcquire());
            ColumnarDataView input = RequestReader.Read(Encoding.UTF8.GetBytes(RowWise([s_rows[row]], ColumnsA)), model, settings);
            return batcher.ScoreAsync(model, input).ContinueWith(t => { model.ReleaseLease(); return t; }, TaskScheduler.Default).Unwrap();
        }

        Task<float[]> first = Task.Run(() => Score(0));
        while (passes.IsEmpty)
            await Task.Delay(1);
        var later = new List<Task<float[]>>();
        for (int row = 1; row <= arriving; row++)
        {
            later.Add(Score(row));
            await Task.Delay(2);
        }
        Assert.IsFalse(first.IsCompleted, "the first pass is held open");
        release.Set();
        float[][] answers = await Task.WhenAll([first, .. later]);

        CollectionAssert.AreEqual(new[] { 1, arriving }, passes.ToArray(), $"rows per pass: {string.Join(", ", passes)}");
        for (int row = 0; row <= arriving; row++)
            Assert.IsTrue(answers[row].Length == 1 && Close(s_offlineA[row], answers[row][0]), $"row {row}: got {answers[row][0]:R}, offline {s_offlineA[row]:R}");
    }

    [TestMethod]
    public async Task ServeTest_MetricsAreParseablePrometheusTextAndCountTheRequestsSent()
    {
        await using ServeHandle server = await StartOwnAsync("ctr", s_pathA);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        int rows = 0;
        for (int i = 0; i < 7; i++)
        {
            using var ok = await client.PostAsync("/ctr/predict", new StringContent(LoadBody(i), Encoding.UTF8, "application/json"));
            Assert.AreEqual(HttpStatusCode.OK, ok.StatusCode);
            rows += LoadRows(i).Length;
        }
        for (int i = 0; i < 3; i++)
        {
            using var bad = await client.PostAsync("/ctr/predict", new StringContent("{\"rows\": 5}", Encoding.UTF8, "application/json"));
            Assert.AreEqual(HttpStatusCode.BadRequest, bad.StatusCode);
        }
        using (var unknown = await client.PostAsync("/nope/predict", new StringContent("{}", Encoding.UTF8, "application/json")))
            Assert.AreEqual(HttpStatusCode.NotFound, unknown.StatusCode);

        using HttpResponseMessage response = await client.GetAsync("/metrics");
        string text = await response.Content.ReadAsStringAsync();
        Dictionary<string, double> sut = ParsePrometheus(text);

        Assert.AreEqual("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.AreEqual(7, sut["ctr_serve_requests_total{model=\"ctr\",status=\"200\"}"]);
        Assert.AreEqual(3, sut["ctr_serve_requests_total{model=\"ctr\",status=\"400\"}"]);
        Assert.AreEqual(1, sut["ctr_serve_requests_total{model=\"unknown\",status=\"404\"}"]);
        Assert.AreEqual(rows, sut["ctr_serve_rows_scored_total{model=\"ctr\"}"]);
        Assert.AreEqual(rows, sut["ctr_serve_batch_rows_sum{model=\"ctr\"}"]);
        Assert.AreEqual(11, sut["ctr_serve_request_duration_seconds_count{model=\"ctr\"}"] + sut["ctr_serve_request_duration_seconds_count{model=\"unknown\"}"]);
        Assert.AreEqual(10, sut["ctr_serve_request_duration_seconds_bucket{model=\"ctr\",le=\"+Inf\"}"]);
        Assert.IsGreaterThan(0.0, sut["ctr_serve_model_load_seconds{model=\"ctr\"}"]);
        StringAssert.Contains(text, "# TYPE ctr_serve_request_duration_seconds histogram");
    }

    [TestMethod]
    public async Task ServeTest_ModelsListsFileHashLoadTimeAndColumns()
    {
        await using ServeHandle server = await StartOwnAsync("ctr", s_pathA);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };

        JsonElement model = JsonDocument.Parse(await client.GetStringAsync("/models")).RootElement.GetProperty("models")[0];

        Assert.AreEqual("ctr", model.GetProperty("name").GetString());
        Assert.AreEqual(Path.GetFullPath(s_pathA), model.GetProperty("path").GetString());
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(s_pathA))), model.GetProperty("sha256").GetString());
        Assert.IsGreaterThan(0.0, model.GetProperty("load_seconds").GetDouble());
        Assert.IsLessThan(TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow - model.GetProperty("loaded_at").GetDateTimeOffset());
        CollectionAssert.AreEqual(
            new[] { "User:text", "Item:text", "History:list", "HistoryWeights:weights", "Price:number", "Hour:text" },
            model.GetProperty("columns").EnumerateArray().Select(c => $"{c.GetProperty("name").GetString()}:{c.GetProperty("type").GetString()}").ToArray());
        Assert.AreEqual(JsonValueKind.Null, model.GetProperty("last_error").ValueKind);
    }

    [TestMethod]
    public async Task ServeTest_AZipReplacedUnderLoadIsSwappedInWithoutErrorsAndABrokenOneKeepsTheServingModel()
    {
        using var directory = new TemporaryDirectory();
        string served = Path.Combine(directory.Path, "served.zip");
        File.Copy(s_pathA, served);
        var log = new StringWriter();
        await using ServeHandle server = await StartOwnAsync("ctr", served, log, reload: TimeSpan.FromMilliseconds(50));
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 8 };
        using var client = new HttpClient(handler) { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        string[] bodies = [.. Enumerable.Range(0, 64).Select(LoadBody)];
        int next = -1, done = 0, stop = 0, oldAnswers = 0, newAnswers = 0;
        var failures = new ConcurrentQueue<string>();

        async Task Worker()
        {
            while (Volatile.Read(ref stop) == 0)
            {
                int i = Interlocked.Increment(ref next);
                using var content = new StringContent(bodies[i % 64], Encoding.UTF8, "application/json");
                using HttpResponseMessage response = await client.PostAsync("/ctr/predict", content);
                string text = await response.Content.ReadAsStringAsync();
                Interlocked.Increment(ref done);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Enqueue($"request {i}: {(int)response.StatusCode} {text}");
                    continue;
                }
                float[] got = Probabilities(JsonDocument.Parse(text).RootElement);
                float[] old = LoadExpected(s_offlineA, i % 64), replaced = LoadExpected(s_offlineA2, i % 64);
                if (got.Length == old.Length && got.Zip(old).All(p => Close(p.Second, p.First)))
                    Interlocked.Increment(ref oldAnswers);
                else if (got.Length == replaced.Length && got.Zip(replaced).All(p => Close(p.Second, p.First)))
                    Interlocked.Increment(ref newAnswers);
                else
                    failures.Enqueue($"request {i}: [{string.Join(", ", got)}] is neither the old model's [{string.Join(", ", old)}] nor the new one's [{string.Join(", ", replaced)}]");
            }
        }

        async Task WaitForAsync(Func<bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            while (!condition())
            {
                Assert.IsLessThan(TimeSpan.FromSeconds(30), clock.Elapsed, $"timed out waiting until {what}");
                await Task.Delay(20);
            }
        }

        Task load = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(Worker)));
        await WaitForAsync(() => Volatile.Read(ref done) >= 500, "500 requests were answered");
        Replace(s_pathA2, served);
        await WaitForAsync(() => server.Slots["ctr"].Swaps == 1, "the new zip was swapped in");
        int afterSwap = Volatile.Read(ref done);
        await WaitForAsync(() => Volatile.Read(ref done) >= afterSwap + 500, "500 more requests were answered");
        string broken = Path.Combine(directory.Path, "broken.zip");
        File.WriteAllBytes(broken, [.. File.ReadAllBytes(s_pathA).Take(5000)]);
        Replace(broken, served);
        await WaitForAsync(() => server.Slots["ctr"].LastError is not null, "the broken zip was reported");
        int afterBroken = Volatile.Read(ref done);
        await WaitForAsync(() => Volatile.Read(ref done) >= afterBroken + 300, "300 more requests were answered");
        Volatile.Write(ref stop, 1);
        await load;
        JsonElement model = JsonDocument.Parse(await client.GetStringAsync("/models")).RootElement.GetProperty("models")[0];

        Assert.IsEmpty(failures, string.Join("\n", failures.Take(5)));
        Assert.IsGreaterThan(0, oldAnswers, "answers before the swap");
        Assert.IsGreaterThan(800, newAnswers, "answers after the swap, also after the broken file");
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(s_pathA2))), model.GetProperty("sha256").GetString(), "the new model still serves");
        Assert.AreEqual(1, model.GetProperty("swaps").GetInt32());
        StringAssert.Contains(model.GetProperty("last_error").GetProperty("message").GetString(), $"Model file '{served}' cannot be loaded");
        StringAssert.Contains(log.ToString(), "model 'ctr': the replaced file failed to load; still serving the previous one");
        Console.WriteLine($"{oldAnswers} answers by the old model, {newAnswers} by the new one");

        // As our saves do: write a temporary file beside the target, then rename it over the target.
        static void Replace(string source, string target)
        {
            string temporary = target + ".tmp";
            File.Copy(source, temporary, overwrite: true);
            File.Move(temporary, target, overwrite: true);
        }
    }

    [TestMethod]
    public async Task ServeTest_SigtermDuringLoadAnswersEveryAcceptedRequestAndExitsZero()
    {
        using var process = SampleProcess.Start("serve", "--model", $"ctr={s_pathA}", "--urls", "http://127.0.0.1:0",
            "--max-batch-rows", "32", "--max-batch-wait-ms", "0.5", "--scoring-threads", "2", "--reload-interval-ms", "0", "--request-log");
        string? address = null;
        Assert.IsTrue(process.WaitForLine(line =>
        {
            Match match = Regex.Match(line, @"listening on (http://127\.0\.0\.1:\d+)");
            address = match.Success ? match.Groups[1].Value : null;
            return match.Success;
        }), process.Output);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 8 };
        using var client = new HttpClient(handler) { BaseAddress = new Uri(address!), Timeout = TimeSpan.FromSeconds(30) };
        string[] bodies = [.. Enumerable.Range(0, 64).Select(LoadBody)];
        int next = -1, answered = 0, refused = 0;
        var failures = new ConcurrentQueue<string>();

        async Task Worker()
        {
            for (int attempt = 0; attempt < 100_000; attempt++)
            {
                int i = Interlocked.Increment(ref next);
                HttpResponseMessage response;
                try
                {
                    response = await client.PostAsync("/ctr/predict", new StringContent(bodies[i % 64], Encoding.UTF8, "application/json"));
                }
                catch (HttpRequestException)
                {
                    // Sent after the server stopped accepting (refused, or a kept-alive connection it had closed): not accepted.
                    Interlocked.Increment(ref refused);
                    return;
                }
                using (response)
                {
                    string text = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Enqueue($"request {i}: {(int)response.StatusCode} {text}");
                        continue;
                    }
                    float[] got = Probabilities(JsonDocument.Parse(text).RootElement), want = LoadExpected(s_offlineA, i % 64);
                    if (got.Length != want.Length || got.Zip(want).Any(p => !Close(p.Second, p.First)))
                        failures.Enqueue($"request {i}: got [{string.Join(", ", got)}], offline [{string.Join(", ", want)}]");
                    Interlocked.Increment(ref answered);
                }
            }
        }

        Task load = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(Worker)));
        var clock = Stopwatch.StartNew();
        while (Volatile.Read(ref answered) < 300 && clock.Elapsed < TimeSpan.FromSeconds(60))
            await Task.Delay(10);
        using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync();
        int exitCode = process.WaitForExit();
        await load;

        Assert.AreEqual(0, exitCode, process.Output);
        Assert.IsEmpty(failures, string.Join("\n", failures.Take(5)));
        Assert.IsGreaterThanOrEqualTo(300, answered);
        Assert.AreEqual(8, refused, "each client stopped only when the server no longer accepted it");
        StringAssert.Contains(process.Output, "predict model=ctr status=200 rows=", "--request-log logs each request");
        Assert.DoesNotContain("   at ", process.Output);
    }

    [TestMethod]
    public void ServeTest_EveryServeOptionIsInTheReadme()
    {
        Command serve = Ctr.MLNet.Sample.Program.CreateRootCommand().Subcommands.Single(c => c.Name == "serve");
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(directory.FullName, "README.md")))
            directory = directory.Parent ?? throw new FileNotFoundException($"README.md not found above {AppContext.BaseDirectory}.");
        string readme = File.ReadAllText(Path.Combine(directory.FullName, "README.md"));
        string row = readme.Split('\n').Single(l => l.StartsWith("| `serve ", StringComparison.Ordinal));

        foreach (Option option in serve.Options.Where(o => o.Name.StartsWith("--", StringComparison.Ordinal)))
            StringAssert.Contains(row, option.Name, $"README's verb table lists serve's {option.Name}");
    }

    [TestMethod]
    [DataRow("--max-batch-rows", "0", "--max-batch-rows must be at least 1, got 0.")]
    [DataRow("--max-batch-wait-ms", "-1", "--max-batch-wait-ms must be between 0 and 1000, got -1.")]
    [DataRow("--scoring-threads", "0", "--scoring-threads must be between 1 and 256, got 0.")]
    [DataRow("--reload-interval-ms", "-5", "--reload-interval-ms must not be negative, got -5.")]
    public void ServeTest_BatchingAndReloadOptionsOutOfRangeAreRefused(string option, string value, string message)
    {
        (int code, string output) = Invoke("serve", "--model", $"m={s_pathA}", "--urls", "http://127.0.0.1:0", option, value);

        Assert.AreEqual(1, code, output);
        StringAssert.Contains(output, message);
    }
}
