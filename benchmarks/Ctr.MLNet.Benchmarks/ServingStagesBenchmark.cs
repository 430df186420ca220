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
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// Where a predict request's time goes inside <c>serve</c>, one thread, no HTTP: reading the JSON into a view,
/// scoring it the old way (the chain bound once, a cursor down it per call) and the new way (a
/// <see cref="PreparedCtrScorer"/>, split into its stages), and writing the answer. The HTTP part is what wrk measures beyond these (benchmarks/serve-wrk.sh).
/// </summary>
public static class ServingStagesBenchmark
{
    public static void Run(Args args, Report report)
    {
        string modelPath = args.String("model", "/tmp/ctr-serve-bench/model.zip");
        string dataPath = args.String("data", "/tmp/ctr-serve-bench/data/test.csv");
        int calls = args.Int("calls", 2000);
        int repeats = args.Int("repeats", 3);
        int[] sizes = args.Ints("sizes", [1, 10, 100, 256]);
        args.CheckAllUsed();

        TorchThreads.Set(1); // as serve sets it
        using ServedInputs served = ServedInputs.Load(modelPath, dataPath);
        var (model, chain, settings, rows) = served;
        var bound = new ChainBoundOnce(chain, model.Schema);
        PreparedCtrScorer prepared = PreparedCtrScorer.TryCreate(chain, model.Schema)
            ?? throw new InvalidOperationException($"'{modelPath}' is not a chain the prepared scorer knows.");
        // The same scorer with every network through its module's forward (libtorch), as before ManagedDnn: both in one run.
        PreparedCtrScorer modules = PreparedCtrScorer.TryCreate(chain, model.Schema, prepareNetworks: false)!;
        // The feature transforms alone: the chain cut to the steps before the trees and the first network, so the
        // trees' share of the features stage is the difference.
        PreparedCtrScorer? withoutTrees = WithoutTrees(chain) is { } cut ? PreparedCtrScorer.TryCreate(cut, model.Schema) : null;
        // And up to the trees' input: the feature transforms plus the one-hot tree feature vector, without the trees.
        IRowToRowMapper? treeInput = TreeInput(chain) is { } part ? part.GetRowToRowMapper(model.Schema) : null;

        // CPU time (the process's, in steady state nearly all this thread's) next to wall time: on a shared machine the
        // wall clock mostly measures how much of a core the process was given.
        var table = new Table("Request", "Stage", "CPU µs per request (median of runs)", "CPU µs per row", "Wall µs per request (median)", "Allocated bytes per request", "CPU runs (µs)");
        int worstUlps = 0;
        foreach (int size in sizes)
        {
            byte[][] bodies = [.. Enumerable.Range(0, 10).Select(b => Body(rows.Skip(b * size % rows.Count).Take(size).ToList(), columnar: size > 1))];
            ColumnarDataView[] views = [.. bodies.Select(b => RequestReader.Read(b, model, settings))];
            int n = Math.Max(20, calls * 10 / (size + 9));
            var probabilities = new float[size];
            var check = new float[size];
            foreach (ColumnarDataView view in views)
            {
                // Only the view's rows: the last body of a size that does not divide the 1000 rows is shorter.
                int count = prepared.Score(view, probabilities);
                bound.Score(view, check);
                if (!probabilities.AsSpan(0, count).SequenceEqual(check.AsSpan(0, count)))
                    throw new InvalidOperationException("The prepared scorer and the chain disagree.");
                // The managed forward and libtorch's sum their products in other orders: close, not equal.
                modules.Score(view, check);
                worstUlps = Math.Max(worstUlps, WorstUlps(probabilities, check, count));
            }
            string what = size == 1 ? "1 row (`rows` form)" : $"{size} rows (`features` form)";
            void Stage(string stage, Action<int> call) => Add(table, what, stage, size, Time(n, repeats, call), Allocated(call));
            Stage("JSON → view (parse, check, build columns)", i => RequestReader.Read(bodies[i % bodies.Length], model, settings));
            Stage("before: chain bound once, a cursor down it per call", i => bound.Score(views[i % views.Length], probabilities));
            // Interleaved run by run: on a shared machine, stages timed one after the other see different loads.
            (var now, var before) = TimePair(n, repeats, i => prepared.Score(views[i % views.Length], probabilities), i => modules.Score(views[i % views.Length], probabilities));
            Add(table, what, "now: prepared scorer, whole call", size, now, Allocated(i => prepared.Score(views[i % views.Length], probabilities)));
            Add(table, what, "before: the same, every network through its module's forward (libtorch, no ManagedDnn), interleaved with the row above", size, before, Allocated(i => modules.Score(views[i % views.Length], probabilities)));
            Stage("now: features (transforms as a row mapper, into feature blocks)", i => prepared.ReadFeatures(views[i % views.Length]));
            if (withoutTrees is not null)
                Stage("now: of which the feature transforms alone (the chain without its trees)", i => withoutTrees.ReadFeatures(views[i % views.Length]));
            if (treeInput is not null)
                Stage("now: of which the feature transforms and the trees' one-hot input vector (no trees)", i => ReadTreeInput(treeInput, views[i % views.Length]));
            prepared.ReadFeatures(views[0]);
            modules.ReadFeatures(views[0]);
            Stage("before: tensors from the blocks (libtorch only)", _ => modules.RunNetworks(size, forward: false));
            (now, before) = TimePair(n, repeats, _ => prepared.RunNetworks(size), _ => modules.RunNetworks(size));
            Add(table, what, "now: every network's forward pass (managed)", size, now, Allocated(_ => prepared.RunNetworks(size)));
            Add(table, what, "before: the same, every network through its module's forward (libtorch, no ManagedDnn), interleaved with the row above", size, before, Allocated(_ => modules.RunNetworks(size)));
            Stage("now: blend", _ => prepared.Blend(probabilities));
            Stage("answer → JSON", _ => Write(probabilities));
        }
        int networks = Flatten(chain).Count(t => t is TorchCtrTransformer);
        report.Paragraph($"Probabilities through the managed forward against the modules' libtorch forward, same requests: at most {worstUlps} ulps apart.");
        report.Paragraph($"Model `{modelPath}` ({networks} network(s){(Flatten(chain).Any(t => t is LogitBlendTransformer { TreeScoreColumn: not null }) ? " + trees" : ", no trees")}), trees {(prepared.EvaluatesTrees ? "walked by the prepared scorer from the key and numeric columns (flat evaluator)" : "scored by ML.NET inside the bound transforms")}; bodies from the first 1000 rows of `{dataPath}`; {calls} calls per run for 1 row (fewer for larger requests), {repeats} runs, one thread, torch threads {TorchThreads.Current} (as `serve` sets them); load average {Report.LoadAverage()}.");
        report.Table(table);
    }

    /// <summary>
    /// The steps before the hybrid's part (the feature transforms) and its first network, or null for a model without
    /// trees: in a hybrid the trees come first, before the networks.
    /// </summary>
    private static ITransformer? WithoutTrees(ITransformer chain)
    {
        List<ITransformer> top = [.. (IEnumerable<ITransformer>)chain];
        int hybrid = top.FindIndex(t => Flatten(t).Any(s => s is TorchCtrTransformer));
        if (hybrid < 0 || !Flatten(chain).Any(t => t is LogitBlendTransformer { TreeScoreColumn: not null }))
            return null;
        // The target encoding is a feature transform of the hybrid's, before its trees.
        List<ITransformer> parts = [.. Flatten(top[hybrid])];
        return new TransformerChain<ITransformer>([.. top.Take(hybrid), .. parts.OfType<TargetEncodingTransformer>(), parts.OfType<TorchCtrTransformer>().First()]);
    }

    /// <summary>The steps before the hybrid's part plus its first step (the trees' feature vector), or null without trees.</summary>
    private static ITransformer? TreeInput(ITransformer chain)
    {
        List<ITransformer> top = [.. (IEnumerable<ITransformer>)chain];
        int hybrid = top.FindIndex(t => Flatten(t).Any(s => s is TorchCtrTransformer));
        if (hybrid < 0 || WithoutTrees(chain) is null || top[hybrid] is not IEnumerable<ITransformer> parts)
            return null;
        return new TransformerChain<ITransformer>([.. top.Take(hybrid), .. parts.TakeWhile(p => p is TargetEncodingTransformer), parts.SkipWhile(p => p is TargetEncodingTransformer).First()]);
    }

    private static float ReadTreeInput(IRowToRowMapper mapper, ColumnarDataView view)
    {
        DataViewSchema.Column column = mapper.OutputSchema["Ctr.TreeFeatures"];
        using DataViewRowCursor cursor = view.GetRowCursor(view.Schema);
        using DataViewRow row = mapper.GetRow(cursor, [column]);
        ValueGetter<VBuffer<float>> getter = row.GetGetter<VBuffer<float>>(column);
        VBuffer<float> values = default;
        float sum = 0;
        while (cursor.MoveNext())
        {
            getter(ref values);
            sum += values.GetValues().Length;
        }
        return sum;
    }

    internal static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    /// <summary>The largest distance in units in the last place between the first <paramref name="count"/> floats of each.</summary>
    internal static int WorstUlps(float[] a, float[] b, int count)
    {
        int worst = 0;
        for (int r = 0; r < count; r++)
            worst = Math.Max(worst, Math.Abs(BitConverter.SingleToInt32Bits(a[r]) - BitConverter.SingleToInt32Bits(b[r])));
        return worst;
    }

    /// <summary>How serve scored before the prepared scorer: the chain bound once to a view whose rows are swapped, one cursor per call.</summary>
    private sealed class ChainBoundOnce
    {
        private readonly Swapped _input;
        private readonly IDataView _scored;

        public ChainBoundOnce(ITransformer chain, DataViewSchema schema)
        {
            _input = new Swapped(schema);
            _scored = chain.Transform(_input);
        }

        public void Score(ColumnarDataView rows, float[] probabilities)
        {
            _input.Current = rows;
            DataViewSchema.Column probability = _scored.Schema["Probability"];
            using DataViewRowCursor cursor = _scored.GetRowCursor([probability]);
            ValueGetter<float> getter = cursor.GetGetter<float>(probability);
            int row = 0;
            while (cursor.MoveNext())
                getter(ref probabilities[row++]);
        }

        private sealed class Swapped(DataViewSchema schema) : IDataView
        {
            public ColumnarDataView? Current { get; set; }

            public bool CanShuffle => false;

            public DataViewSchema Schema => schema;

            public long? GetRowCount() => Current!.RowCount;

            public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => Current!.GetRowCursor(columnsNeeded, rand);

            public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => [GetRowCursor(columnsNeeded, rand)];
        }
    }

    private static void Add(Table table, string request, string stage, int rows, (double[] Cpu, double[] Wall) microseconds, long allocated) =>
        table.Add(request, stage, F(Median(microseconds.Cpu)), F(Median(microseconds.Cpu) / rows), F(Median(microseconds.Wall)),
            allocated.ToString(CultureInfo.InvariantCulture), string.Join(", ", microseconds.Cpu.Select(F)));

    /// <summary>Bytes this thread allocates per call (over 20 warmed calls): garbage per request is GC time and evicted cache in a server.</summary>
    private static long Allocated(Action<int> call)
    {
        const int Calls = 20;
        long start = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++)
            call(i);
        return (GC.GetAllocatedBytesForCurrentThread() - start) / Calls;
    }

    internal static double Median(double[] values) => values.Order().ElementAt(values.Length / 2);

    private static string F(double value) => value.ToString("F1", CultureInfo.InvariantCulture);

    private static (double[] Cpu, double[] Wall) Time(int calls, int repeats, Action<int> call, bool warmUp = true)
    {
        if (warmUp)
            WarmUp(call);
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

    /// <summary>
    /// Calls <paramref name="call"/> for three seconds and at least 50 times: tiered compilation promotes a method only
    /// after 30 calls and 100 ms without new tier-0 code, and its background compiles wait for a core. A fixed count of
    /// calls left a large request's code partly unoptimized (the 100-row JSON stage read 830 µs warmed with 91 calls,
    /// about 100 µs in steady state), and a second and a half still left the process's first stage at twice its cost
    /// (100-row JSON 3.2 against 1.6 µs per row timed again in the same run; 1.1 with three seconds).
    /// </summary>
    private static void WarmUp(Action<int> call)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 50 || Stopwatch.GetElapsedTime(start) < TimeSpan.FromSeconds(3); i++)
            call(i);
    }

    /// <summary>Two calls timed as <see cref="Time"/> does, their runs interleaved (a run of one, then of the other, the order swapped each time).</summary>
    internal static ((double[] Cpu, double[] Wall) First, (double[] Cpu, double[] Wall) Second) TimePair(int calls, int repeats, Action<int> first, Action<int> second)
    {
        var a = (Cpu: new double[repeats], Wall: new double[repeats]);
        var b = (Cpu: new double[repeats], Wall: new double[repeats]);
        WarmUp(first);
        WarmUp(second);
        for (int r = 0; r < repeats; r++)
        {
            foreach (bool isFirst in r % 2 == 0 ? [true, false] : (bool[])[false, true])
            {
                (double[] cpu, double[] wall) = Time(calls, 1, isFirst ? first : second, warmUp: false);
                ((isFirst ? a.Cpu : b.Cpu)[r], (isFirst ? a.Wall : b.Wall)[r]) = (cpu[0], wall[0]);
            }
        }
        return (a, b);
    }

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

    internal static byte[] Body(List<Dictionary<string, JsonNode?>> rows, bool columnar)
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
    internal static List<Dictionary<string, JsonNode?>> ReadRows(string path, ServedModel model, int count)
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
