using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Sample.Serving;
using Microsoft.ML;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// Where a predict request's time goes inside <c>serve</c>, one thread, no HTTP: reading the JSON into a view,
/// scoring it the old way (binding the whole chain with <c>Transform</c> per request) and the new way (a prepared
/// scorer), and writing the answer. The HTTP part is what wrk measures beyond these (benchmarks/serve-wrk.sh).
/// </summary>
public static class ServingStagesBenchmark
{
    public static void Run(Args args, Report report)
    {
        string modelPath = args.String("model", "/tmp/ctr-serve-bench/model.zip");
        string dataPath = args.String("data", "/tmp/ctr-serve-bench/data/test.csv");
        int calls = args.Int("calls", 2000);
        int repeats = args.Int("repeats", 3);
        args.CheckAllUsed();
        if (!File.Exists(modelPath) || !File.Exists(dataPath))
            throw new ArgumentException($"'{modelPath}' or '{dataPath}' is missing: run benchmarks/serve-wrk.sh once, which makes both.");

        TorchThreads.Set(1); // as serve sets it
        using ServedModel model = ServedModel.Load("ctr", modelPath);
        var settings = new ServeSettings([new ModelSource("ctr", modelPath)], "http://127.0.0.1:0");
        List<Dictionary<string, JsonNode?>> rows = ReadRows(dataPath, model, 1000);
        // A copy of the schema: a view over it is not recognised as the model's own, so Score takes the old path.
        var builder = new Microsoft.ML.DataViewSchema.Builder();
        builder.AddColumns(model.Schema);
        Microsoft.ML.DataViewSchema foreign = builder.ToSchema();

        // CPU time (the process's, in steady state nearly all this thread's) next to wall time: on a shared machine the
        // wall clock mostly measures how much of a core the process was given.
        var table = new Table("Request", "Stage", "CPU µs per request (median of runs)", "Wall µs per request (median)", "CPU runs (µs)");
        foreach (int size in new[] { 1, 100 })
        {
            byte[][] bodies = [.. Enumerable.Range(0, 10).Select(b => Body(rows.Skip(b * size % rows.Count).Take(size).ToList(), columnar: size > 1))];
            ColumnarDataView[] views = [.. bodies.Select(b => RequestReader.Read(b, model, settings))];
            ColumnarDataView[] foreignViews = [.. views.Select(v => new ColumnarDataView(foreign, [.. Enumerable.Range(0, foreign.Count).Select(c => Column(v, c))]))];
            float[] probabilities = model.Score(views[0]);
            string what = size == 1 ? "1 row (`rows` form)" : "100 rows (`features` form)";
            Add(table, what, "JSON → view (parse, check, build columns)", Time(calls, repeats, i => RequestReader.Read(bodies[i % bodies.Length], model, settings)));
            Add(table, what, "before: `Transform` of the whole chain per request + score", Time(calls, repeats, i => model.Score(foreignViews[i % foreignViews.Length])));
            Add(table, what, "now: prepared scorer (features + network)", Time(calls, repeats, i => model.Score(views[i % views.Length])));
            Add(table, what, "answer → JSON", Time(calls, repeats, _ => Write(probabilities)));
        }
        report.Paragraph($"Model `{modelPath}`, bodies from the first 1000 rows of `{dataPath}`; {calls} calls per run, {repeats} runs, one thread, torch threads {TorchThreads.Current} (as `serve` sets them); load average {Report.LoadAverage()}.");
        report.Table(table);
    }

    private static void Add(Table table, string request, string stage, (double[] Cpu, double[] Wall) microseconds) =>
        table.Add(request, stage, F(Median(microseconds.Cpu)), F(Median(microseconds.Wall)), string.Join(", ", microseconds.Cpu.Select(F)));

    private static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    private static string F(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    private static (double[] Cpu, double[] Wall) Time(int calls, int repeats, Action<int> call)
    {
        for (int i = 0; i < Math.Min(calls, 200); i++)
            call(i); // warm-up
        var cpu = new double[repeats];
        var wall = new double[repeats];
        using Process self = Process.GetCurrentProcess();
        for (int r = 0; r < repeats; r++)
        {
            self.Refresh();
            TimeSpan cpuStart = self.TotalProcessorTime;
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
                call(i);
            wall[r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls;
            self.Refresh();
            cpu[r] = (self.TotalProcessorTime - cpuStart).TotalMicroseconds / calls;
        }
        return (cpu, wall);
    }

    private static Array Column(ColumnarDataView view, int column) => view.GetColumnValues(column);

    private static int Write(float[] probabilities)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (string key in (ReadOnlySpan<string>)["probabilities", "prediction"])
            {
                json.WriteStartArray(key);
                foreach (float p in probabilities)
                    json.WriteNumberValue(p);
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenCount;
    }

    private static byte[] Body(List<Dictionary<string, JsonNode?>> rows, bool columnar)
    {
        JsonObject root;
        if (columnar)
        {
            var features = new JsonObject();
            foreach (string column in rows[0].Keys)
                features[column] = new JsonArray([.. rows.Select(r => r[column]?.DeepClone())]);
            root = new JsonObject { ["features"] = features };
        }
        else
        {
            root = new JsonObject { ["rows"] = new JsonArray([.. rows.Select(r => (JsonNode)new JsonObject(r.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))))]) };
        }
        return Encoding.UTF8.GetBytes(root.ToJsonString());
    }

    /// <summary>Rows of a CSV without quoted fields (the planted data has none), typed as the served model reads them.</summary>
    private static List<Dictionary<string, JsonNode?>> ReadRows(string path, ServedModel model, int count)
    {
        using var reader = new StreamReader(path);
        string[] header = reader.ReadLine()!.Split(',');
        var rows = new List<Dictionary<string, JsonNode?>>();
        for (string? line = reader.ReadLine(); line is not null && rows.Count < count; line = reader.ReadLine())
        {
            string[] fields = line.Split(',');
            var row = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            foreach (ServedColumn column in model.RequiredColumns)
            {
                string text = fields[Array.IndexOf(header, column.Name)];
                row[column.Name] = text.Length == 0 ? null
                    : column.Kind is ServedValueKind.Single or ServedValueKind.Double ? JsonValue.Create(double.Parse(text, CultureInfo.InvariantCulture))
                    : JsonValue.Create(text);
            }
            rows.Add(row);
        }
        return rows;
    }
}
