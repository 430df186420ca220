using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Schema;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// <c>data</c>: planted rows as CSV and as Parquet (a folder of 4 part files), read by the feature spec's columns;
/// then the feature statistics fitted as 4 shards in 2 processes and merged, against one process over all of it.
/// </summary>
public static class DataBenchmark
{
    private const int Parts = 4;

    public static void Run(Args args, Report report)
    {
        int rows = args.Int("rows", 5_000_000);
        int repeats = args.Int("repeats", 3);
        int groupRows = args.Int("row-group-rows", 100_000);
        int seed = args.Int("seed", 1);
        string directory = args.String("dir", Path.Combine(Path.GetTempPath(), "ctr-data-benchmark", Format.RowsLabel(rows)));
        args.CheckAllUsed();

        // Generate writes train and test; a test split of 1/51 leaves exactly `rows` rows in train.csv.
        var clock = Stopwatch.StartNew();
        PlantedDataset.Generate(new GenerateSettings(directory, rows + rows / 50, seed, 0, 1.0 / 51));
        string csv = Path.Combine(directory, PlantedDataset.TrainFileName);
        string folder = Path.Combine(directory, "parquet");
        string dictionaryFolder = Path.Combine(directory, "parquet-dictionary");
        long written = WriteParquet(csv, folder, groupRows, dictionary: false);
        WriteParquet(csv, dictionaryFolder, groupRows, dictionary: true);
        double prepareSeconds = clock.Elapsed.TotalSeconds;
        FeatureSpec spec = FeatureSpecInference.FromCsv(csv);
        string specPath = Path.Combine(directory, "spec.json");
        File.WriteAllText(specPath, spec.ToJson());
        var ml = new MLContext(seed: seed);
        long csvBytes = new FileInfo(csv).Length;
        long parquetBytes = FolderBytes(folder), dictionaryBytes = FolderBytes(dictionaryFolder);
        report.Paragraph(
            $"Data: {written:N0} planted rows (the sample's `generate`, seed {seed}), as `train.csv` ({csvBytes >> 20} MB) and as Parquet in two layouts, each " +
            $"a folder `day=0/part-0000N.parquet` of {Parts} files in row groups of {groupRows:N0} rows, Snappy, typed as a warehouse exports them (click int, hour long, " +
            "price and age nullable doubles, the history a `list<string>` and its weights a `list<float>`): **plain** " +
            $"({parquetBytes >> 20} MB, every value written out, Parquet.Net's default) and **dictionary** ({dictionaryBytes >> 20} MB, the string columns " +
            "dictionary-encoded per column chunk as Spark and Hive write them by default, `parquet.enable.dictionary=true`; Parquet.Net writes no dictionary " +
            $"for numbers, so those stay plain). Writing all three took {prepareSeconds:0} s. The spec is inferred from the CSV; each read loads the spec's " +
            "columns and calls every getter of every row (CSV: Sep with the checks of `CsvDataSource`; Parquet: `ParquetDataSource`, lists as vectors). " +
            $"Each read runs in a fresh process (start-up and JIT inside the timing, as for a CLI verb). Medians of {repeats} runs.");

        Heading(report, "Read throughput");
        // Each read runs in a fresh process, so its peak RSS is the reader's own, not what generating the data left.
        string self = typeof(DataBenchmark).Assembly.Location;
        string firstPart = FirstPart(folder);
        string plainFolder = $"Parquet plain, folder of {Parts} files", dictionaryLabel = $"Parquet dictionary, folder of {Parts} files";
        var table = new Table("Source", "Rows", "Median s", "Rows/s", "Runs (rows/s)", "CPU s (median)", "Rows per CPU s", "Peak RSS of the process (MB)");
        var rates = new Dictionary<string, double>();
        var peaks = new Dictionary<string, long>();
        var cpuRates = new Dictionary<string, double>();
        foreach (var (label, path) in new[]
                 {
                     ("CSV", csv), (plainFolder, folder), ("Parquet plain, one file", firstPart), (dictionaryLabel, dictionaryFolder),
                     ("Parquet dictionary, one file", FirstPart(dictionaryFolder)),
                 })
        {
            var runs = Enumerable.Range(0, repeats).Select(_ => ReadInChild(self, specPath, path)).ToArray();
            double median = Stats.Median(runs.Select(r => r.Seconds));
            long readRows = runs[0].Rows;
            rates[label] = readRows / median;
            peaks[label] = runs.Max(r => r.PeakRss);
            Console.Error.WriteLine($"  {label}: {string.Join(", ", runs.Select(r => Format.Seconds(r.Seconds)))} s");
            double cpu = Stats.Median(runs.Select(r => r.CpuSeconds));
            cpuRates[label] = readRows / cpu;
            table.Add(label, Format.Count(readRows), Format.Seconds(median), Format.Rate(readRows / median), string.Join(", ", runs.Select(r => Format.Rate(readRows / r.Seconds))),
                Format.Seconds(cpu), Format.Rate(readRows / cpu), Format.Megabytes(peaks[label]));
        }
        report.Table(table);
        foreach (var (layout, label) in new[] { ("plain", plainFolder), ("dictionary", dictionaryLabel) })
        {
            double ratio = rates[label] / rates["CSV"];
            double cpuRatio = cpuRates[label] / cpuRates["CSV"];
            report.Paragraph($"Parquet {layout} ÷ CSV read rate: {ratio:0.00}× by the clock, {cpuRatio:0.00}× per CPU second, the fairer figure on a machine this loaded " +
                $"(target ≥ 2×: {(ratio >= 2 && cpuRatio >= 2 ? "met" : cpuRatio >= 2 ? "met per CPU second" : "missed")}).");
        }
        report.Paragraph($"Peak RSS of a Parquet read: {Format.Megabytes(peaks["Parquet plain, one file"])} MB for one plain file ({written / Parts:N0} rows), " +
            $"{Format.Megabytes(peaks[plainFolder])} MB for all {written:N0} rows; dictionary: {Format.Megabytes(peaks["Parquet dictionary, one file"])} MB and " +
            $"{Format.Megabytes(peaks[dictionaryLabel])} MB (one row group in memory at a time).");
        var decode = new Table("Column (Parquet type)", "Parquet.Net decode s, one file", "Share");
        var columns = DecodeTimes(firstPart);
        double all = columns.Sum(c => c.Seconds);
        foreach (var (column, seconds) in columns)
            decode.Add(column, Format.Seconds(seconds), $"{100 * seconds / all:0}%");
        report.Paragraph("For comparison, Parquet.Net's own decoding of each column chunk of one plain file (`ReadRawColumnDataBaseAsync`, one pass, same process). `ParquetDataSource` " +
            "no longer goes through it for these columns: it decodes plain and dictionary pages of integers, floats, doubles and strings itself and leaves other layouts to Parquet.Net.");
        report.Table(decode);

        Heading(report, "Sharded feature fitting");
        string sample = typeof(Sample.Program).Assembly.Location;
        string[] parts = [.. Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];
        var fits = new Table("How", "Median s", "Runs (s)", "Speed-up");
        var one = new List<double>();
        var sharded = new List<double>();
        var merges = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            one.Add(Time(() => WaitAll([Start(sample, [("fit-stats", specPath, folder, Path.Combine(directory, "all.bin"))])])));
            string[] outputs = [.. parts.Select((_, i) => Path.Combine(directory, $"part-{i}.bin"))];
            sharded.Add(Time(() => WaitAll([
                Start(sample, [.. Enumerable.Range(0, Parts).Where(i => i % 2 == 0).Select(i => ("fit-stats", specPath, parts[i], outputs[i]))]),
                Start(sample, [.. Enumerable.Range(0, Parts).Where(i => i % 2 == 1).Select(i => ("fit-stats", specPath, parts[i], outputs[i]))]),
            ])));
            merges.Add(Time(() => FeatureStatistics.Merge(ml, [.. outputs.Select(FeatureStatistics.Load)]).BuildPipeline(ml)));
        }
        double oneMedian = Stats.Median(one), shardMedian = Stats.Median(sharded), mergeMedian = Stats.Median(merges);
        fits.Add("One process: `fit-stats` over the folder", Format.Seconds(oneMedian), Join(one), "1.00×");
        fits.Add($"{Parts} shards in 2 processes (`fit-stats` 2 parts each, one after the other)", Format.Seconds(shardMedian), Join(sharded), "");
        fits.Add($"Merge: load {Parts} files, `Merge`, `BuildPipeline` (in process)", Format.Seconds(mergeMedian), Join(merges), "");
        fits.Add("Shards + merge", Format.Seconds(shardMedian + mergeMedian), "", $"{oneMedian / (shardMedian + mergeMedian):0.00}×");
        report.Table(fits);
        report.Paragraph("Wall-clock times of whole `dotnet Ctr.MLNet.Sample.dll fit-stats` processes (start-up and JIT included, about a second each). " +
            $"The machine has 2 cores shared with other work, so 2 processes can at best halve the time; the load average above says how much of them was free.");
    }

    private static void Heading(Report report, string text) => report.Heading(text);

    private static long FolderBytes(string folder) => Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

    private static string FirstPart(string folder) => Directory.EnumerateFiles(folder, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();

    /// <summary>The hidden verb <c>data-read --spec S --data PATH</c>: one read, printed as "rows seconds peak-rss-bytes".</summary>
    public static void ReadOnce(Args args)
    {
        string specPath = args.OptionalString("spec") ?? throw new ArgumentException("--spec is required");
        string path = args.OptionalString("data") ?? throw new ArgumentException("--data is required");
        args.CheckAllUsed();
        FeatureSpec spec = FeatureSpec.FromJson(File.ReadAllText(specPath));
        var ml = new MLContext(seed: 1);
        using Process self = Process.GetCurrentProcess();
        TimeSpan cpu = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        long rows = ReadAll(spec.LoadData(ml, path, out _));
        double seconds = clock.Elapsed.TotalSeconds;
        self.Refresh();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{rows} {seconds} {Memory.PeakRss()} {(self.TotalProcessorTime - cpu).TotalSeconds}"));
    }

    private static (long Rows, double Seconds, long PeakRss, double CpuSeconds) ReadInChild(string self, string specPath, string path)
    {
        var info = new ProcessStartInfo("dotnet", [self, "data-read", "--spec", specPath, "--data", path]) { UseShellExecute = false, RedirectStandardOutput = true };
        using Process process = Process.Start(info) ?? throw new InvalidOperationException("could not start a read process");
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"the read process exited with {process.ExitCode}");
        string[] parts = output.Trim().Split('\n')[^1].Split(' ');
        return (long.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture),
            double.Parse(parts[3], CultureInfo.InvariantCulture));
    }

    private static List<(string Column, double Seconds)> DecodeTimes(string file)
    {
        var times = new List<(string, double)>();
        ParquetReader reader = ParquetReader.CreateAsync(file).GetAwaiter().GetResult();
        try
        {
            foreach (DataField field in reader.Schema.DataFields)
            {
                var clock = Stopwatch.StartNew();
                for (int g = 0; g < reader.RowGroupCount; g++)
                {
                    using ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
                    using Parquet.Data.RawColumnData raw = group.ReadRawColumnDataBaseAsync(field).GetAwaiter().GetResult();
                }
                string type = field.MaxRepetitionLevel > 0 ? $"list<{field.ClrType.Name}>" : field.ClrType.Name;
                times.Add(($"{field.Path.ToString().Split('/')[0]} ({type})", clock.Elapsed.TotalSeconds));
            }
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return times;
    }

    private static string Join(IEnumerable<double> seconds) => string.Join(", ", seconds.Select(Format.Seconds));

    private static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>A shell running the fits one after the other, as one worker of a batch job would.</summary>
    private static Process Start(string sample, (string Verb, string Spec, string Data, string Out)[] fits)
    {
        string script = string.Join(" && ", fits.Select(f => $"dotnet '{sample}' {f.Verb} --spec '{f.Spec}' --data '{f.Data}' --out '{f.Out}' > /dev/null"));
        var info = new ProcessStartInfo("/bin/sh", ["-c", script]) { UseShellExecute = false };
        return Process.Start(info) ?? throw new InvalidOperationException("could not start a fit-stats process");
    }

    private static void WaitAll(Process[] processes)
    {
        foreach (Process process in processes)
        {
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"a fit-stats process exited with {process.ExitCode}");
            process.Dispose();
        }
    }

    /// <summary>One pass calling every getter of every row; returns the rows.</summary>
    private static long ReadAll(IDataView data)
    {
        using DataViewRowCursor cursor = data.GetRowCursor(data.Schema);
        Action[] reads = [.. data.Schema.Select(c => Reader(cursor, c))];
        long rows = 0;
        while (cursor.MoveNext())
        {
            foreach (Action read in reads)
                read();
            rows++;
        }
        return rows;
    }

    private static Action Reader(DataViewRow row, DataViewSchema.Column column)
    {
        switch (column.Type)
        {
            case TextDataViewType:
            {
                ValueGetter<ReadOnlyMemory<char>> getter = row.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> value = default;
                return () => getter(ref value);
            }
            case VectorDataViewType { ItemType: TextDataViewType }:
            {
                ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
                VBuffer<ReadOnlyMemory<char>> value = default;
                return () => getter(ref value);
            }
            case VectorDataViewType:
            {
                ValueGetter<VBuffer<float>> getter = row.GetGetter<VBuffer<float>>(column);
                VBuffer<float> value = default;
                return () => getter(ref value);
            }
            default:
            {
                ValueGetter<float> getter = row.GetGetter<float>(column);
                float value = 0;
                return () => getter(ref value);
            }
        }
    }

    /// <summary>Streams the planted CSV into <see cref="Parts"/> Parquet files of row groups of <paramref name="groupRows"/> rows.</summary>
    private static long WriteParquet(string csv, string folder, int groupRows, bool dictionary)
    {
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
        string[] names = [.. PlantedDataset.Columns];
        CsvDataSource source = CsvDataSource.Load(csv, new CsvDataSource.Options { Columns = [.. names.Select(n => new CsvDataSource.Column(n, CsvColumnKind.Text))] });
        long total = 0;
        using (DataViewRowCursor cursor = source.GetRowCursor(source.Schema))
        {
            total = CountLines(csv) - 1;
            long perPart = (total + Parts - 1) / Parts;
            var getters = source.Schema.Select(c => cursor.GetGetter<ReadOnlyMemory<char>>(c)).ToArray();
            for (int part = 0; part < Parts; part++)
            {
                string path = Path.Combine(folder, "day=0", $"part-{part:00000}.parquet");
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                WritePart(path, cursor, getters, names, perPart, groupRows, dictionary);
            }
        }
        return total;
    }

    private static long CountLines(string path)
    {
        using FileStream stream = File.OpenRead(path);
        var buffer = new byte[1 << 20];
        long lines = 0;
        int read;
        while ((read = stream.Read(buffer)) > 0)
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        return lines;
    }

    private static DataField FieldOf(string name) => name switch
    {
        "click" => new DataField<int>(name),
        "hour" => new DataField<long>(name),
        "price" or "age" => new DataField<double?>(name),
        "hist_item_ids" => new DataField("element", typeof(string), isNullable: false),
        "hist_weights" => new DataField("element", typeof(float), isNullable: false),
        _ => new DataField<string>(name),
    };

    private static void WritePart(string path, DataViewRowCursor cursor, ValueGetter<ReadOnlyMemory<char>>[] getters, string[] names, long rows, int groupRows, bool dictionary)
    {
        Field[] fields = [.. names.Select(n => n.StartsWith("hist_", StringComparison.Ordinal) ? new ListField(n, FieldOf(n)) : (Field)FieldOf(n))];
        var schema = new ParquetSchema(fields);
        // Spark's default (parquet-mr's parquet.enable.dictionary): a dictionary per column chunk while it stays small.
        // Parquet.Net writes dictionaries for string columns only, and only where a hint asks for them.
        var options = new ParquetOptions();
        if (dictionary)
        {
            foreach (DataField field in schema.DataFields.Where(f => f.ClrType == typeof(string) || f.ClrType == typeof(ReadOnlyMemory<char>)))
                options.ColumnEncodingHints[field.Path.ToString()] = EncodingHint.Dictionary;
        }
        using FileStream stream = File.Create(path);
        ParquetWriter writer = ParquetWriter.CreateAsync(schema, stream, options).GetAwaiter().GetResult();
        try
        {
            var texts = names.Select(_ => new List<string>(groupRows)).ToArray();
            ReadOnlyMemory<char> value = default;
            for (long done = 0; done < rows;)
            {
                int count = 0;
                foreach (List<string> column in texts)
                    column.Clear();
                while (count < groupRows && done < rows && cursor.MoveNext())
                {
                    for (int c = 0; c < names.Length; c++)
                    {
                        getters[c](ref value);
                        texts[c].Add(value.ToString());
                    }
                    count++;
                    done++;
                }
                if (count == 0)
                    break;
                using ParquetRowGroupWriter group = writer.CreateRowGroup();
                for (int c = 0; c < names.Length; c++)
                    WriteColumn(group, schema.DataFields[c], names[c], texts[c]);
            }
        }
        finally
        {
            writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void WriteColumn(ParquetRowGroupWriter group, DataField field, string name, List<string> values)
    {
        static double? Number(string s) => s.Length == 0 ? null : double.Parse(s, CultureInfo.InvariantCulture);
        switch (name)
        {
            case "click":
                group.WriteAsync<int>(field, values.Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray().AsMemory()).GetAwaiter().GetResult();
                break;
            case "hour":
                group.WriteAsync<long>(field, values.Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray().AsMemory()).GetAwaiter().GetResult();
                break;
            case "price" or "age":
                group.WriteAsync<double>(field, values.Select(Number).ToArray().AsMemory()).GetAwaiter().GetResult();
                break;
            case "hist_item_ids" or "hist_weights":
                var levels = new List<int>();
                var items = new List<string?>();
                foreach (string list in values)
                {
                    if (list.Length == 0)
                    {
                        levels.Add(0);
                        items.Add(null);
                        continue;
                    }
                    string[] split = list.Split(PlantedDataset.ListSeparator);
                    for (int i = 0; i < split.Length; i++)
                    {
                        levels.Add(i == 0 ? 0 : 1);
                        items.Add(split[i]);
                    }
                }
                if (name == "hist_item_ids")
                    group.WriteAsync(field, items.ToArray(), levels.ToArray()).GetAwaiter().GetResult();
                else
                    group.WriteAsync<float>(field, items.Select(s => s is null ? (float?)null : float.Parse(s, CultureInfo.InvariantCulture)).ToArray().AsMemory(), levels.ToArray()).GetAwaiter().GetResult();
                break;
            default:
                group.WriteAsync(field, values.ToArray()).GetAwaiter().GetResult();
                break;
        }
    }
}
