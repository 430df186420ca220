using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>transforms</c>: fit and transform throughput of our categorical transforms on one high-cardinality column
/// (Zipf ids plus dirty values), beside ML.NET's MapValueToKey and Hash on the same column in the same run; the
/// CSV read rate on its own; and the full feature pipeline on planted data.
/// </summary>
public static class TransformsBenchmark
{
    public sealed class IdRow
    {
        public string Id { get; set; } = "";
    }

    private sealed record Variant(string Name, Func<MLContext, IEstimator<ITransformer>> Create, string Note);

    public static void Run(Args args, Report report)
    {
        int rows = args.Int("rows", 1_000_000);
        int repeats = args.Int("repeats", 3);
        int idSpace = args.Int("ids", 1_000_000);
        double exponent = args.Double("zipf", 0.8);
        double dirty = args.Double("dirty", 0.02);
        int specRows = args.Int("spec-rows", rows);
        int seed = args.Int("seed", 1);
        args.CheckAllUsed();

        var ml = new MLContext(seed: 1);
        report.Heading("High-cardinality column");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string[] ids = ZipfColumn.Generate(rows, idSpace, exponent, dirty, seed);
        ZipfColumn.Summary summary = ZipfColumn.Summarize(ids);
        report.Paragraph(
            $"{Format.Count(rows)} rows of one text column `Id`: Zipf(s = {Format.Number(exponent)}) over {Format.Count(idSpace)} possible ids written as decimal numbers " +
            $"({Format.Count(summary.Distinct)} distinct strings in the column, {Format.Count(summary.SeenTwice)} of them seen at least twice; the most frequent id is {summary.TopShare:P2} of the rows), " +
            $"plus {dirty:P0} dirty values: empty, `None`, `null`, `NaN`, `unknown`, ids padded with spaces and ids written as `123.0`. " +
            $"Generated in {clock.Elapsed.TotalSeconds:0.0} s; loaded with `LoadFromEnumerable`. Fit = `estimator.Fit(data)`; transform = a cursor over the output key column reading every value. " +
            $"{repeats} runs each; medians in the table, every run listed.");

        IDataView data = ml.Data.LoadFromEnumerable(ids.Select(id => new IdRow { Id = id }));
        Variant[] variants =
        [
            new("Ctr MapToVocabulary, MinCount 1", m => m.Ctr().Transforms.MapToVocabulary("Key", "Id"), "vocabulary size (terms + padding + OOV)"),
            new("Ctr MapToVocabulary, MinCount 2", m => m.Ctr().Transforms.MapToVocabulary("Key", "Id", minCount: 2), "vocabulary size"),
            new("Ctr HashToBuckets, N = 1,048,573", m => m.Ctr().Transforms.HashToBuckets("Key", "Id", numBuckets: 1_048_573), "buckets + padding + OOV"),
            new("Ctr HashToBuckets, automatic N", m => m.Ctr().Transforms.HashToBuckets("Key", "Id"), "buckets + padding + OOV"),
            new("ML.NET MapValueToKey", m => m.Transforms.Conversion.MapValueToKey("Key", "Id"), "keys + missing"),
            new("ML.NET Hash, 20 bits", m => m.Transforms.Conversion.Hash("Key", "Id", numberOfBits: 20), "2^20 + missing"),
        ];

        var table = new Table("Transform", "Fit rows/s (median)", "Fit runs (s)", "Transform rows/s (median)", "Transform runs (rows/s)", "Index space", "Key 0 / key 1 rows", "Peak RSS fit / transform (MB)", "Allocated per transform (MB)");
        IDataView warmUp = ml.Data.TakeRows(data, Math.Min(rows, 20_000));
        Measurement read = Measure.Repeat("read only", repeats, () => ReadText(data, "Id"), out long readRows);
        Check(readRows == rows, $"read {readRows} rows");
        table.Add("(source only: cursor over `Id`, no transform)", "—", "—", Format.Rate(read.RowsPerSecond(rows)), read.AllRowsPerSecond(rows), "—", "—",
            $"— / {Format.Megabytes(read.PeakRssBytes)}", Format.Megabytes(read.MedianAllocatedBytes));
        foreach (Variant variant in variants)
        {
            Console.Error.WriteLine(variant.Name);
            IEstimator<ITransformer> estimator = variant.Create(ml);
            ConsumeKeys(estimator.Fit(warmUp).Transform(warmUp), "Key"); // JIT and first-use costs, not measured
            Measurement fit = Measure.Repeat("fit", repeats, () => estimator.Fit(data), out ITransformer model);
            Measurement transform = Measure.Repeat("transform", repeats, () => ConsumeKeys(model.Transform(data), "Key"), out KeyCounts counts);
            Check(counts.Rows == rows, $"{variant.Name}: transformed {counts.Rows} rows");
            ulong space = model.GetOutputSchema(data.Schema)["Key"].Type is KeyDataViewType keyType ? keyType.Count : 0;
            string fitRate = fit.MedianSeconds < 0.005 ? $"no pass ({fit.MedianSeconds * 1000:0.0} ms)" : Format.Rate(fit.RowsPerSecond(rows));
            table.Add(variant.Name, fitRate, fit.AllSeconds(), Format.Rate(transform.RowsPerSecond(rows)), transform.AllRowsPerSecond(rows),
                Format.Count((long)space + 1) + $" ({variant.Note})", $"{(double)counts.Zero / rows:P2} / {(double)counts.One / rows:P2}",
                $"{Format.Megabytes(fit.PeakRssBytes)} / {Format.Megabytes(transform.PeakRssBytes)}", Format.Megabytes(transform.MedianAllocatedBytes));
        }
        report.Table(table);
        report.Paragraph("Index space counts every index a consumer must size for, key 0 included (ML.NET key count + 1). Our transforms never produce key 0 " +
            "(padding) and map missing/outlier/rare values to key 1 (OOV); ML.NET's MapValueToKey gives every distinct string (dirty ones included) a key from 1, " +
            "and Hash gives key 0 only to missing text, so their key-1 share is just one ordinary value's frequency. ML.NET's Hash fit makes no pass over the data; " +
            "neither does HashToBuckets with a fixed N and min count 1.");

        CsvSection(ml, report, ids, repeats);
        ids = [];
        data = null!;
        Memory.CollectAll();

        FullSpecSection(report, specRows, repeats, seed);
    }

    private static void CsvSection(MLContext ml, Report report, string[] ids, int repeats)
    {
        report.Heading("The same column read from CSV (TextLoader, CsvDataSource)");
        string path = Path.Combine(Path.GetTempPath(), $"ctr-bench-ids-{Environment.ProcessId}.csv");
        try
        {
            using (var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20))
            {
                // A row number first, so a row with an empty id is not an empty line (TextLoader skips those).
                writer.WriteLine("row,id");
                for (int i = 0; i < ids.Length; i++)
                    writer.WriteLine($"{i},{ids[i]}");
            }
            long bytes = new FileInfo(path).Length;
            TextLoader loader = ml.Data.CreateTextLoader([new TextLoader.Column("Id", DataKind.String, 1)], separatorChar: ',', hasHeader: true);
            IDataView csv = loader.Load(path);
            int rows = ids.Length;
            Measurement read = Measure.Repeat("csv read", repeats, () => ReadText(csv, "Id"), out long readRows);
            Check(readRows == rows, $"CSV gave {readRows} rows");
            // Ours checks every row (UTF-8, quoting, field count, length) where TextLoader reads blind.
            CsvDataSource checkedCsv = CsvDataSource.Load(path, new CsvDataSource.Options { Columns = [new("id", CsvColumnKind.Text)] });
            Measurement readChecked = Measure.Repeat("csv read (CsvDataSource)", repeats, () => ReadText(checkedCsv, "id"), out long checkedRows);
            Check(checkedRows == rows, $"CsvDataSource gave {checkedRows} rows");
            Measurement fit = Measure.Repeat("csv fit", 1, () => ml.Ctr().Transforms.MapToVocabulary("Key", "Id").Fit(csv), out VocabularyTransformer model);
            Measurement transform = Measure.Repeat("csv transform", 1, () => ConsumeKeys(model.Transform(csv), "Key"), out KeyCounts counts);
            Check(counts.Rows == rows, $"CSV transform gave {counts.Rows} rows");
            var table = new Table("Step (CSV file, TextLoader)", "Rows/s (median)", "Runs (rows/s)", "Peak RSS (MB)");
            table.Add($"Read only: cursor over `Id` (2-column file `row,id`, {bytes / (1024.0 * 1024):0} MB file, page-cached)", Format.Rate(read.RowsPerSecond(rows)), read.AllRowsPerSecond(rows), Format.Megabytes(read.PeakRssBytes));
            table.Add("Read only, `CsvDataSource` instead of TextLoader", Format.Rate(readChecked.RowsPerSecond(rows)), readChecked.AllRowsPerSecond(rows), Format.Megabytes(readChecked.PeakRssBytes));
            table.Add("MapToVocabulary MinCount 1: fit (read included)", Format.Rate(fit.RowsPerSecond(rows)), fit.AllRowsPerSecond(rows), Format.Megabytes(fit.PeakRssBytes));
            table.Add("MapToVocabulary MinCount 1: transform (read included)", Format.Rate(transform.RowsPerSecond(rows)), transform.AllRowsPerSecond(rows), Format.Megabytes(transform.PeakRssBytes));
            report.Table(table);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void FullSpecSection(Report report, int rows, int repeats, int seed)
    {
        report.Heading("Full feature spec on planted data");
        var ml = new MLContext(seed: 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var inputs = new List<PlantedInput>(rows);
        foreach (Ctr.MLNet.Planted.PlantedRow row in Ctr.MLNet.Planted.PlantedWorld.Create(seed).DrawRows(rows))
            inputs.Add(PlantedInput.From(row));
        double drawSeconds = clock.Elapsed.TotalSeconds;
        long historyElements = inputs.Sum(r => r.History.Length == 0 ? 0L : r.History.Count(c => c == '|') + 1);
        IDataView data = ml.Data.LoadFromEnumerable(inputs);
        report.Paragraph(
            $"{Format.Count(rows)} rows drawn from `PlantedWorld.Create({seed}).DrawRows` in {drawSeconds:0.0} s (the sample's log fields as in its CSV: dirty ids, empty numerics, " +
            $"'|' lists; {(double)historyElements / rows:0.0} history elements per row on average, 0–{Ctr.MLNet.Planted.PlantedWorld.MaxHistoryLength} long — the planted world caps histories at " +
            $"{Ctr.MLNet.Planted.PlantedWorld.MaxHistoryLength}, so `MaxLength = {Pipelines.MaxHistoryLength}` never truncates here). " +
            "Pipeline: `ParseSequence` (history + dwell weights) → one `MapToVocabulary` (user and item MinCount 2, item shared with the history, brand, category, " +
            "device case-folded, hour) → `Normalize` (price log1p z-score, age z-score, missing → mean). Transform = a cursor reading every output column " +
            "(7 keys, the id and weight vectors, 2 floats).");

        IEstimator<ITransformer> pipeline = Pipelines.Features(ml);
        IDataView warmUp = ml.Data.TakeRows(data, Math.Min(rows, 20_000));
        ConsumeSpec(pipeline.Fit(warmUp).Transform(warmUp)); // JIT and first-use costs, not measured
        Measurement fit = Measure.Repeat("spec fit", repeats, () => pipeline.Fit(data), out ITransformer model);
        Measurement transform = Measure.Repeat("spec transform", repeats, () => ConsumeSpec(model.Transform(data)), out SpecCounts counts);
        Check(counts.Rows == rows, $"spec transform gave {counts.Rows} rows");
        Check(counts.Elements == historyElements, $"spec transform gave {counts.Elements} history elements, the rows hold {historyElements}");

        VocabularyTransformer vocabulary = ((IEnumerable<ITransformer>)model).OfType<VocabularyTransformer>().Single();
        ITransformer[] steps = [.. (IEnumerable<ITransformer>)model];
        var prefixes = new List<(string Name, Measurement Measurement)>();
        Measurement source = Measure.Repeat("source only", repeats, () => ConsumeAdded(data, data.Schema), out long sourceRows);
        prefixes.Add(("source only: every raw column read from `LoadFromEnumerable`", source));
        for (int k = 1; k < steps.Length; k++)
        {
            var prefix = new TransformerChain<ITransformer>(steps[..k]);
            string name = string.Join(" → ", steps[..k].Select(t => t.GetType().Name.Replace("Transformer", "", StringComparison.Ordinal)));
            prefixes.Add(($"transform, only the first {k} step(s) ({name}), their outputs read", Measure.Repeat($"prefix {k}", repeats, () => ConsumeAdded(prefix.Transform(data), data.Schema), out long _)));
        }
        // ParseSequence alone: the ids, the weights, or both read (each output has its own getter).
        IDataView parsed = steps[0].Transform(data);
        foreach (string[] read in new[] { new[] { "histTokens" }, new[] { Pipelines.HistoryWeightsColumn }, new[] { "histTokens", Pipelines.HistoryWeightsColumn } })
        {
            prefixes.Add(($"ParseSequence only, reading {string.Join(" + ", read.Select(r => $"`{r}`"))}",
                Measure.Repeat($"parse {string.Join("+", read)}", repeats, () => ConsumeColumns(parsed, read), out long _)));
        }
        var table = new Table("Step", "Rows/s (median)", "Runs (s)", "Peak RSS (MB)", "Managed heap after (MB)", "Allocated per run (MB)");
        table.Add("Fit (2 passes: vocabulary counts, normalization statistics; parsing learns nothing)", Format.Rate(fit.RowsPerSecond(rows)), fit.AllSeconds(), Format.Megabytes(fit.PeakRssBytes), Format.Megabytes(fit.ManagedAfterBytes), Format.Megabytes(fit.MedianAllocatedBytes));
        table.Add("Transform (every output column read)", Format.Rate(transform.RowsPerSecond(rows)), transform.AllSeconds(), Format.Megabytes(transform.PeakRssBytes), Format.Megabytes(transform.ManagedAfterBytes), Format.Megabytes(transform.MedianAllocatedBytes));
        foreach (var (name, m) in prefixes)
            table.Add($"Breakdown — {name}", Format.Rate(m.RowsPerSecond(rows)), m.AllSeconds(), Format.Megabytes(m.PeakRssBytes), Format.Megabytes(m.ManagedAfterBytes), Format.Megabytes(m.MedianAllocatedBytes));
        report.Table(table);
        report.Paragraph(
            $"Vocabulary sizes: user {vocabulary.GetVocabulary("user").Size:N0}, item (shared with the history) {vocabulary.GetVocabulary("item").Size:N0}, " +
            $"brand {vocabulary.GetVocabulary("brand").Size}, category {vocabulary.GetVocabulary("category").Size}, device {vocabulary.GetVocabulary("device").Size}, hour {vocabulary.GetVocabulary("hour").Size}. " +
            $"Outputs: {counts.Elements:N0} history ids with as many weights (lengths checked row by row), OOV rows: user {(double)counts.UserOov / rows:P2}, item {(double)counts.ItemOov / rows:P2}. " +
            $"The source rows themselves take about {Format.Megabytes(Memory.CurrentRss())} MB of the process RSS (all rows held as .NET strings).");
        GC.KeepAlive(inputs);
    }

    /// <summary>Reads every column of <paramref name="data"/> that <paramref name="input"/> lacks (all of them when they are the same schema).</summary>
    private static long ConsumeAdded(IDataView data, DataViewSchema input)
    {
        // Transforms append their outputs after the input's columns.
        DataViewSchema.Column[] columns = ReferenceEquals(data.Schema, input)
            ? [.. data.Schema.Where(c => !c.IsHidden)]
            : [.. data.Schema.Where(c => !c.IsHidden && c.Index >= input.Count)];
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        var reads = new List<Action>();
        foreach (DataViewSchema.Column column in columns)
        {
            DataViewType type = column.Type;
            if (type is VectorDataViewType vector)
            {
                if (vector.ItemType is KeyDataViewType)
                    reads.Add(Reader<VBuffer<uint>>(cursor, column));
                else if (vector.ItemType is TextDataViewType)
                    reads.Add(Reader<VBuffer<ReadOnlyMemory<char>>>(cursor, column));
                else
                    reads.Add(Reader<VBuffer<float>>(cursor, column));
            }
            else if (type is KeyDataViewType)
                reads.Add(Reader<uint>(cursor, column));
            else if (type is TextDataViewType)
                reads.Add(Reader<ReadOnlyMemory<char>>(cursor, column));
            else if (type is BooleanDataViewType)
                reads.Add(Reader<bool>(cursor, column));
            else
                reads.Add(Reader<float>(cursor, column));
        }
        Action[] all = [.. reads];
        long rows = 0;
        while (cursor.MoveNext())
        {
            foreach (Action read in all)
                read();
            rows++;
        }
        return rows;
    }

    private static long ConsumeColumns(IDataView data, string[] names)
    {
        DataViewSchema.Column[] columns = [.. names.Select(n => data.Schema[n])];
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        Action[] reads = [.. columns.Select(c => c.Type is VectorDataViewType { ItemType: TextDataViewType } ? Reader<VBuffer<ReadOnlyMemory<char>>>(cursor, c) : Reader<VBuffer<float>>(cursor, c))];
        long rows = 0;
        while (cursor.MoveNext())
        {
            foreach (Action read in reads)
                read();
            rows++;
        }
        return rows;
    }

    private static Action Reader<T>(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        ValueGetter<T> getter = cursor.GetGetter<T>(column);
        T value = default!;
        return () => getter(ref value);
    }

    private static long ReadText(IDataView data, string column)
    {
        using DataViewRowCursor cursor = data.GetRowCursor([data.Schema[column]]);
        ValueGetter<ReadOnlyMemory<char>> getter = cursor.GetGetter<ReadOnlyMemory<char>>(data.Schema[column]);
        ReadOnlyMemory<char> value = default;
        long rows = 0, chars = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            chars += value.Length;
            rows++;
        }
        GC.KeepAlive(chars);
        return rows;
    }

    private readonly record struct KeyCounts(long Rows, long Zero, long One);

    private static KeyCounts ConsumeKeys(IDataView data, string column)
    {
        DataViewSchema.Column key = data.Schema[column];
        using DataViewRowCursor cursor = data.GetRowCursor([key]);
        ValueGetter<uint> getter = cursor.GetGetter<uint>(key);
        uint value = 0;
        long rows = 0, zero = 0, one = 0;
        while (cursor.MoveNext())
        {
            getter(ref value);
            zero += value == 0 ? 1 : 0;
            one += value == 1 ? 1 : 0;
            rows++;
        }
        return new KeyCounts(rows, zero, one);
    }

    private readonly record struct SpecCounts(long Rows, long Elements, long UserOov, long ItemOov);

    private static SpecCounts ConsumeSpec(IDataView data)
    {
        DataViewSchema schema = data.Schema;
        string[] scalars = ["user", "item", "brand", "category", "device", "hour"];
        var columns = scalars.Concat(["hist", Pipelines.HistoryWeightsColumn, "price", "age"]).Select(c => schema[c]).ToArray();
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        ValueGetter<uint>[] keys = [.. scalars.Select(c => cursor.GetGetter<uint>(schema[c]))];
        ValueGetter<VBuffer<uint>> hist = cursor.GetGetter<VBuffer<uint>>(schema["hist"]);
        ValueGetter<VBuffer<float>> weights = cursor.GetGetter<VBuffer<float>>(schema[Pipelines.HistoryWeightsColumn]);
        ValueGetter<float> price = cursor.GetGetter<float>(schema["price"]);
        ValueGetter<float> age = cursor.GetGetter<float>(schema["age"]);
        uint key = 0;
        float number = 0;
        VBuffer<uint> ids = default;
        VBuffer<float> w = default;
        long rows = 0, elements = 0, userOov = 0, itemOov = 0;
        double sum = 0;
        while (cursor.MoveNext())
        {
            for (int k = 0; k < keys.Length; k++)
            {
                keys[k](ref key);
                if (k == 0 && key == 1)
                    userOov++;
                if (k == 1 && key == 1)
                    itemOov++;
            }
            hist(ref ids);
            weights(ref w);
            if (ids.Length != w.Length)
                throw new InvalidOperationException($"Row {rows}: {ids.Length} history ids but {w.Length} weights.");
            elements += ids.Length;
            price(ref number);
            sum += number;
            age(ref number);
            sum += number;
            rows++;
        }
        if (!double.IsFinite(sum))
            throw new InvalidOperationException("A normalized numeric was not finite.");
        return new SpecCounts(rows, elements, userOov, itemOov);
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
            throw new InvalidOperationException("Benchmark check failed: " + message);
    }
}

/// <summary>A high-cardinality id column: Zipf-distributed ranks mapped to shuffled decimal ids, plus dirty values.</summary>
public static class ZipfColumn
{
    public readonly record struct Summary(int Distinct, int SeenTwice, double TopShare);

    public static string[] Generate(int rows, int idSpace, double exponent, double dirtyShare, int seed)
    {
        var random = new Random(seed);
        var cdf = new double[idSpace];
        double total = 0;
        for (int k = 0; k < idSpace; k++)
        {
            total += 1.0 / Math.Pow(k + 1, exponent);
            cdf[k] = total;
        }
        // Rank → id: a shuffled permutation, so frequent ids are not the small numbers.
        int[] idOfRank = [.. Enumerable.Range(0, idSpace)];
        random.Shuffle(idOfRank);
        string[] dirtyTokens = ["", "None", "null", "NaN", "unknown"];
        var values = new string[rows];
        for (int i = 0; i < rows; i++)
        {
            int rank = Array.BinarySearch(cdf, random.NextDouble() * total);
            rank = rank < 0 ? ~rank : rank;
            string id = (100_000 + idOfRank[Math.Min(rank, idSpace - 1)]).ToString(CultureInfo.InvariantCulture);
            if (random.NextDouble() < dirtyShare)
            {
                values[i] = random.Next(3) switch
                {
                    0 => dirtyTokens[random.Next(dirtyTokens.Length)],
                    1 => " " + id + " ",
                    _ => id + ".0",
                };
            }
            else
            {
                values[i] = id;
            }
        }
        return values;
    }

    public static Summary Summarize(string[] values)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string value in values)
            counts[value] = counts.GetValueOrDefault(value) + 1;
        return new Summary(counts.Count, counts.Values.Count(c => c >= 2), values.Length == 0 ? 0 : (double)counts.Values.Max() / values.Length);
    }
}
