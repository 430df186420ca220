using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using nietras.SeparatedValues;

namespace Ctr.MLNet.Planted;

/// <summary>What to generate: <paramref name="Rows"/> impressions of day <paramref name="Day"/> of world <paramref name="Seed"/>.</summary>
/// <param name="OutputDirectory">Where train.csv, test.csv and oracle.json go (created if needed).</param>
/// <param name="Rows">Total rows, split in time order: the last <paramref name="TestFraction"/> go to test.csv.</param>
/// <param name="Seed">World seed.</param>
/// <param name="Day">Day to draw (0 or later); the world is the same on every day.</param>
/// <param name="TestFraction">Share of rows, taken from the end of the day, written to test.csv.</param>
public sealed record GenerateSettings(string OutputDirectory, int Rows, int Seed = 1, int Day = 0, double TestFraction = 0.2)
{
    /// <summary>Rows in test.csv.</summary>
    public int TestRows => (int)Math.Round(Rows * TestFraction, MidpointRounding.AwayFromZero);

    /// <summary>Rows in train.csv.</summary>
    public int TrainRows => Rows - TestRows;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory))
            throw new ArgumentException("The output directory must be given.", nameof(OutputDirectory));
        if (Rows < 2)
            throw new ArgumentException($"--rows must be at least 2, got {Rows}.", nameof(Rows));
        if (Day < 0)
            throw new ArgumentException($"--day must be 0 or more, got {Day}.", nameof(Day));
        if (!(TestFraction > 0 && TestFraction < 1))
            throw new ArgumentException($"--test-fraction must be between 0 and 1 (exclusive), got {TestFraction.ToString(CultureInfo.InvariantCulture)}.", nameof(TestFraction));
        if (TestRows < 1 || TrainRows < 1)
            throw new ArgumentException($"--rows {Rows} with --test-fraction {TestFraction.ToString(CultureInfo.InvariantCulture)} leaves {TrainRows} train and {TestRows} test rows; both need at least one.", nameof(Rows));
    }
}

/// <summary>The oracle (true probabilities) on one split.</summary>
/// <param name="Rows">Rows in the split.</param>
/// <param name="Ctr">Share of clicks.</param>
/// <param name="MeanProbability">Mean true probability.</param>
/// <param name="Auc">The oracle's AUC: the best any model can expect.</param>
/// <param name="LogLoss">The oracle's log loss (natural log).</param>
/// <param name="AucIgnoringWeights">Ablation: AUC of the planted model with the history mean taken without weights.</param>
/// <param name="AucWithoutHistory">Ablation: AUC of the planted model with the history term dropped.</param>
public sealed record OracleMetrics(int Rows, double Ctr, double MeanProbability, double Auc, double LogLoss, double AucIgnoringWeights, double AucWithoutHistory);

/// <summary>What <see cref="PlantedDataset.Generate"/> wrote and the oracle's numbers (also in oracle.json).</summary>
public sealed record PlantedDatasetReport(
    GenerateSettings Settings,
    string TrainPath,
    string TestPath,
    string OraclePath,
    OracleMetrics Train,
    OracleMetrics Test,
    double TestRowsWithItemUnseenInTrain,
    double TestRowsWithUserUnseenInTrain,
    int NewItemsInTest,
    double Seconds);

/// <summary>Writes a planted data set: train.csv, test.csv and oracle.json.</summary>
public static class PlantedDataset
{
    /// <summary>The CSV columns, in order.</summary>
    public static readonly ImmutableArray<string> Columns =
        ["click", "user_id", "item_id", "brand", "category", "device", "hour", "price", "age", "hist_item_ids", "hist_weights"];

    /// <summary>Separator of the list columns <c>hist_item_ids</c> and <c>hist_weights</c>.</summary>
    public const char ListSeparator = '|';

    /// <summary>File names inside the output directory.</summary>
    public const string TrainFileName = "train.csv", TestFileName = "test.csv", OracleFileName = "oracle.json";

    /// <summary>
    /// Draws the rows and writes the files. Deterministic: the same settings give byte-identical files.
    /// Throws <see cref="ArgumentException"/> for bad settings and <see cref="IOException"/> or
    /// <see cref="UnauthorizedAccessException"/> when the directory cannot be written.
    /// </summary>
    public static PlantedDatasetReport Generate(GenerateSettings settings, PlantedWorld? world = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var stopwatch = Stopwatch.StartNew();
        world ??= PlantedWorld.Create(settings.Seed);
        if (world.Seed != settings.Seed)
            throw new ArgumentException($"The world has seed {world.Seed} but the settings ask for {settings.Seed}.", nameof(world));
        string trainPath = Path.Combine(settings.OutputDirectory, TrainFileName);
        string testPath = Path.Combine(settings.OutputDirectory, TestFileName);
        string oraclePath = Path.Combine(settings.OutputDirectory, OracleFileName);

        int rows = settings.Rows, trainRows = settings.TrainRows;
        var probability = new double[rows];
        var ignoringWeights = new double[rows];
        var withoutHistory = new double[rows];
        var click = new bool[rows];
        var itemSeen = new bool[PlantedWorld.ItemCount(settings.Day)];
        var userSeen = new bool[PlantedWorld.UserCount(settings.Day)];
        int unseenItemRows = 0, unseenUserRows = 0;
        int firstNewItem = PlantedWorld.BaseItemCount + settings.Day * PlantedWorld.NewItemsPerDay;
        var newItemsInTest = new HashSet<int>();

        CsvRowWriter? train = null, test;
        try
        {
            Directory.CreateDirectory(settings.OutputDirectory);
            train = new CsvRowWriter(trainPath);
            test = new CsvRowWriter(testPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            train?.Dispose();
            throw new IOException($"Cannot write the data set to '{settings.OutputDirectory}': {e.Message}", e);
        }
        using (train)
        using (test)
        {
            foreach (PlantedRow row in world.DrawRows(rows, settings.Day))
            {
                int i = row.Index;
                probability[i] = row.Probability;
                ignoringWeights[i] = row.ProbabilityIgnoringWeights;
                withoutHistory[i] = row.ProbabilityWithoutHistory;
                click[i] = row.Click;
                if (i < trainRows)
                {
                    train.Write(row);
                    itemSeen[row.ItemId] = true;
                    userSeen[row.UserId] = true;
                }
                else
                {
                    test.Write(row);
                    unseenItemRows += itemSeen[row.ItemId] ? 0 : 1;
                    unseenUserRows += userSeen[row.UserId] ? 0 : 1;
                    if (row.ItemId >= firstNewItem)
                        newItemsInTest.Add(row.ItemId);
                }
            }
            train.Commit();
            test.Commit();
        }

        OracleMetrics trainMetrics = Measure(probability, ignoringWeights, withoutHistory, click, 0, trainRows);
        OracleMetrics testMetrics = Measure(probability, ignoringWeights, withoutHistory, click, trainRows, rows - trainRows);
        int testRows = rows - trainRows;
        var report = new PlantedDatasetReport(settings, trainPath, testPath, oraclePath, trainMetrics, testMetrics,
            (double)unseenItemRows / testRows, (double)unseenUserRows / testRows, newItemsInTest.Count, 0);
        AtomicFile.Write(oraclePath, stream => stream.Write(OracleJson(report)));
        return report with { Seconds = stopwatch.Elapsed.TotalSeconds };
    }

    /// <summary>The oracle.json content (indented, no timings, so it is deterministic too).</summary>
    public static byte[] OracleJson(PlantedDatasetReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("description", "Oracle: the true click probabilities of the planted model. Its AUC is the best a model can expect on these rows; log loss uses the natural log. Ablations score the planted model with the history averaged without weights, and without the history term.");
            json.WriteNumber("seed", report.Settings.Seed);
            json.WriteNumber("day", report.Settings.Day);
            json.WriteNumber("rows", report.Settings.Rows);
            json.WriteNumber("test_fraction", report.Settings.TestFraction);
            WriteSplit(json, "test", report.Test);
            WriteSplit(json, "train", report.Train);
            json.WriteNumber("test_rows_item_unseen_in_train", Round(report.TestRowsWithItemUnseenInTrain));
            json.WriteNumber("test_rows_user_unseen_in_train", Round(report.TestRowsWithUserUnseenInTrain));
            json.WriteNumber("new_items_of_the_day_in_test", report.NewItemsInTest);
            json.WritePropertyName("planted");
            json.WriteStartObject();
            json.WriteNumber("dimension", PlantedWorld.Dimension);
            json.WriteNumber("intercept", PlantedWorld.Planted.Intercept);
            json.WriteNumber("user_item_scale", PlantedWorld.Planted.UserItemScale);
            json.WriteNumber("history_scale", PlantedWorld.Planted.HistoryScale);
            json.WriteNumber("price_scale", PlantedWorld.Planted.PriceScale);
            json.WriteNumber("items_by_end_of_day", PlantedWorld.ItemCount(report.Settings.Day));
            json.WriteNumber("users_by_end_of_day", PlantedWorld.UserCount(report.Settings.Day));
            json.WriteNumber("max_history_length", PlantedWorld.MaxHistoryLength);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteSplit(Utf8JsonWriter json, string name, OracleMetrics m)
    {
        json.WritePropertyName(name);
        json.WriteStartObject();
        json.WriteNumber("rows", m.Rows);
        json.WriteNumber("ctr", Round(m.Ctr));
        json.WriteNumber("mean_probability", Round(m.MeanProbability));
        json.WriteNumber("auc", Round(m.Auc));
        json.WriteNumber("logloss", Round(m.LogLoss));
        json.WritePropertyName("ablations");
        json.WriteStartObject();
        json.WriteNumber("auc_history_without_weights", Round(m.AucIgnoringWeights));
        json.WriteNumber("auc_without_history", Round(m.AucWithoutHistory));
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static double Round(double value) => double.IsFinite(value) ? Math.Round(value, 6) : 0;

    private static OracleMetrics Measure(double[] p, double[] ignoringWeights, double[] withoutHistory, bool[] click, int start, int length)
    {
        var labels = click.AsSpan(start, length);
        int clicks = 0;
        double sum = 0;
        for (int i = start; i < start + length; i++)
        {
            clicks += click[i] ? 1 : 0;
            sum += p[i];
        }
        return new OracleMetrics(length, (double)clicks / length, sum / length,
            BinaryMetrics.Auc(labels, p.AsSpan(start, length)), BinaryMetrics.LogLoss(labels, p.AsSpan(start, length)),
            BinaryMetrics.Auc(labels, ignoringWeights.AsSpan(start, length)), BinaryMetrics.Auc(labels, withoutHistory.AsSpan(start, length)));
    }

    /// <summary>Writes rows with Sep: header, ',' separated, invariant culture, '|' inside list fields, no quoting needed.</summary>
    private sealed class CsvRowWriter : IDisposable
    {
        private readonly AtomicFile.Pending _file;
        private bool _closed;
        private readonly StreamWriter _stream;
        private readonly SepWriter _writer;
        private readonly char[] _buffer = new char[PlantedWorld.MaxHistoryLength * 16];

        public CsvRowWriter(string path)
        {
            // Beside the path until the last row: a rerun killed mid-way leaves the earlier file whole.
            _file = AtomicFile.Begin(path);
            _stream = new StreamWriter(_file.Stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 1 << 20, leaveOpen: true);
            _writer = Sep.New(',').Writer(o => o with { CultureInfo = CultureInfo.InvariantCulture, Escape = false }).To(_stream);
            _writer.Header.Add(Columns.AsSpan());
        }

        public void Write(PlantedRow row)
        {
            using SepWriter.Row csv = _writer.NewRow();
            csv[0].Set(row.Click ? "1" : "0");
            Id(csv[1], 'u', row.UserId, row.UserIdLogged);
            Id(csv[2], 'i', row.ItemId, LoggedAs.Value);
            Id(csv[3], 'b', row.Brand, row.BrandLogged);
            csv[4].Set(row.CategoryLogged switch
            {
                LoggedAs.Value => PlantedWorld.CategoryNames[row.Category],
                LoggedAs.NoneToken => "None",
                _ => "",
            });
            csv[5].Set(row.DeviceText);
            csv[6].Format(row.Hour);
            if (row.PriceMissing)
                csv[7].Set("");
            else
                csv[7].Format(row.Price);
            if (row.AgeMissing)
                csv[8].Set("");
            else
                csv[8].Format(row.Age);
            csv[9].Set(FormatHistory(row.History));
            csv[10].Set(FormatWeights(row.HistoryWeights));
        }

        private void Id(SepWriter.Col col, char prefix, int id, LoggedAs logged)
        {
            switch (logged)
            {
                case LoggedAs.Value:
                    _buffer[0] = prefix;
                    id.TryFormat(_buffer.AsSpan(1), out int written, default, CultureInfo.InvariantCulture);
                    col.Set(_buffer.AsSpan(0, written + 1));
                    break;
                case LoggedAs.NoneToken:
                    col.Set("None");
                    break;
                default:
                    col.Set("");
                    break;
            }
        }

        private ReadOnlySpan<char> FormatHistory(int[] history)
        {
            int at = 0;
            for (int j = 0; j < history.Length; j++)
            {
                if (j > 0)
                    _buffer[at++] = ListSeparator;
                _buffer[at++] = 'i';
                history[j].TryFormat(_buffer.AsSpan(at), out int written, default, CultureInfo.InvariantCulture);
                at += written;
            }
            return _buffer.AsSpan(0, at);
        }

        private ReadOnlySpan<char> FormatWeights(double[] weights)
        {
            int at = 0;
            for (int j = 0; j < weights.Length; j++)
            {
                if (j > 0)
                    _buffer[at++] = ListSeparator;
                weights[j].TryFormat(_buffer.AsSpan(at), out int written, default, CultureInfo.InvariantCulture);
                at += written;
            }
            return _buffer.AsSpan(0, at);
        }

        /// <summary>Every row written: the file takes its path.</summary>
        public void Commit()
        {
            Close();
            _file.Commit();
        }

        public void Dispose()
        {
            Close();
            _file.Dispose();
        }

        private void Close()
        {
            if (_closed)
                return;
            _closed = true;
            _writer.Dispose();
            _stream.Dispose();
        }
    }
}
