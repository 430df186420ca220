using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>What <c>demo</c> runs on.</summary>
/// <param name="OutputDirectory">Where the data and features.zip go.</param>
/// <param name="Rows">Rows to generate (80% train, 20% test).</param>
/// <param name="Seed">World seed (also the MLContext seed).</param>
public sealed record DemoSettings(string OutputDirectory, int Rows, int Seed = 1);

/// <summary>What <c>demo</c> measured.</summary>
public sealed record DemoResult(
    PlantedDatasetReport Data,
    double FitSeconds,
    double TransformSeconds,
    IReadOnlyDictionary<string, int> VocabularySizes,
    double OovRateTestItem,
    double OovRateTestUser,
    double OovRateTestHistory,
    int RoundtripRowsCompared,
    int RoundtripMismatches,
    string ModelPath)
{
    /// <summary>The reloaded model gave the same keys as the in-memory one on every test row.</summary>
    public bool RoundtripIdentical => RoundtripMismatches == 0 && RoundtripRowsCompared == Data.Test.Rows;

    /// <summary>Train rows per second through <c>Fit</c>.</summary>
    public double FitRowsPerSecond => Data.Train.Rows / FitSeconds;

    /// <summary>Train rows per second through <c>Transform</c> (read with a cursor, CSV parsing included).</summary>
    public double TransformRowsPerSecond => Data.Train.Rows / TransformSeconds;
}

/// <summary>
/// <c>demo</c>: generates planted data, fits the feature pipeline on train.csv, saves it, reloads it in a
/// new <see cref="MLContext"/> and checks the reloaded model maps test.csv exactly as the fitted one.
/// </summary>
public static class DemoCommand
{
    /// <summary>Key columns the pipeline produces (all vocabulary indices: 0 padding, 1 OOV, terms from 2).</summary>
    public static readonly IReadOnlyList<string> ScalarKeyColumns = ["UserId", "ItemId", "Brand", "Category", "Device", "UserBucket"];

    /// <summary>Hash buckets of <c>user_id</c> in the <c>UserBucket</c> column (a prime, so ids spread evenly).</summary>
    public const int UserHashBuckets = 100_003;

    /// <summary>The history as a vector of item indices (same vocabulary as <c>ItemId</c>).</summary>
    public const string HistoryKeyColumn = "HistoryIds";

    /// <summary>File name of the saved pipeline inside the output directory.</summary>
    public const string ModelFileName = "features.zip";

    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<int> rows = CommandOptions.Rows("Rows to generate (80% train, 20% test).", minimum: 100);
        Option<string> output = CommandOptions.Out("Directory for the generated data and features.zip (created if needed).");
        Option<int> seed = CommandOptions.Seed();
        var command = new Command("demo", "Generate planted data, fit the CTR feature pipeline, save it, reload it in a new MLContext and check the outputs match; ends with one JSON line.")
        {
            rows, output, seed,
        };
        command.SetAction(parse => CommandOptions.Run(parse, writer =>
        {
            DemoResult result = Run(new DemoSettings(parse.GetRequiredValue(output), parse.GetValue(rows), parse.GetValue(seed)), writer);
            writer.WriteLine(ResultJson(result));
            if (result.RoundtripIdentical)
                return 0;
            parse.InvocationConfiguration.Error.WriteLine($"error: the reloaded model differs from the fitted one on {result.RoundtripMismatches} of {result.RoundtripRowsCompared} test rows.");
            return 2;
        }));
        return command;
    }

    /// <summary>The text loader of the generated CSVs: categoricals and lists as text, numbers as Single (empty → NaN).</summary>
    public static TextLoader CreateLoader(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Data.CreateTextLoader(new TextLoader.Options
        {
            HasHeader = true,
            Separators = [','],
            AllowQuoting = false,
            MissingRealsAsNaNs = true,
            Columns =
            [
                new TextLoader.Column("click", DataKind.Single, 0),
                new TextLoader.Column("user_id", DataKind.String, 1),
                new TextLoader.Column("item_id", DataKind.String, 2),
                new TextLoader.Column("brand", DataKind.String, 3),
                new TextLoader.Column("category", DataKind.String, 4),
                new TextLoader.Column("device", DataKind.String, 5),
                new TextLoader.Column("hour", DataKind.Single, 6),
                new TextLoader.Column("price", DataKind.Single, 7),
                new TextLoader.Column("age", DataKind.Single, 8),
                new TextLoader.Column("hist_item_ids", DataKind.String, 9),
                new TextLoader.Column("hist_weights", DataKind.String, 10),
            ],
        });
    }

    /// <summary>
    /// The feature pipeline: the history split on '|' into tokens, then vocabularies for user (min count 2),
    /// item and history (one shared "item" vocabulary, min count 2), brand, category and device (case folded),
    /// and <c>user_id</c> hashed into <see cref="UserHashBuckets"/> buckets as well (no vocabulary to keep).
    /// </summary>
    public static IEstimator<ITransformer> CreatePipeline(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        return mlContext.Transforms.Text.TokenizeIntoWords("hist_tokens", "hist_item_ids", separators: [PlantedDataset.ListSeparator])
            .Append(mlContext.Ctr().Transforms.MapToVocabulary(
                new VocabularyEstimator.ColumnOptions("UserId", "user_id") { MinCount = 2 },
                new VocabularyEstimator.ColumnOptions("ItemId", "item_id") { Vocabulary = "item", MinCount = 2 },
                new VocabularyEstimator.ColumnOptions(HistoryKeyColumn, "hist_tokens") { Vocabulary = "item", MinCount = 2 },
                new VocabularyEstimator.ColumnOptions("Brand", "brand"),
                new VocabularyEstimator.ColumnOptions("Category", "category"),
                new VocabularyEstimator.ColumnOptions("Device", "device") { FoldCase = true }))
            .Append(mlContext.Ctr().Transforms.HashToBuckets("UserBucket", "user_id", numBuckets: UserHashBuckets));
    }

    /// <summary>Runs the demo, writing progress lines to <paramref name="log"/>.</summary>
    public static DemoResult Run(DemoSettings settings, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        PlantedDatasetReport data = PlantedDataset.Generate(new GenerateSettings(settings.OutputDirectory, settings.Rows, settings.Seed));
        log.WriteLine($"generated {data.Train.Rows} train + {data.Test.Rows} test rows in {data.Seconds:0.00} s; oracle test AUC {data.Test.Auc:0.0000}, log loss {data.Test.LogLoss:0.0000}");

        var mlContext = new MLContext(seed: settings.Seed);
        TextLoader loader = CreateLoader(mlContext);
        IDataView train = loader.Load(data.TrainPath);

        var stopwatch = Stopwatch.StartNew();
        ITransformer model = CreatePipeline(mlContext).Fit(train);
        double fitSeconds = stopwatch.Elapsed.TotalSeconds;

        stopwatch.Restart();
        int transformed = CountRows(model.Transform(train));
        double transformSeconds = stopwatch.Elapsed.TotalSeconds;
        if (transformed != data.Train.Rows)
            throw new InvalidOperationException($"The transform returned {transformed} rows for {data.Train.Rows} train rows.");
        log.WriteLine($"fit {fitSeconds:0.00} s ({data.Train.Rows / fitSeconds:0} rows/s), transform {transformSeconds:0.00} s ({data.Train.Rows / transformSeconds:0} rows/s)");

        VocabularyTransformer vocabulary = ((IEnumerable<ITransformer>)model).OfType<VocabularyTransformer>().Single();
        var sizes = new Dictionary<string, int>
        {
            ["user"] = vocabulary.GetVocabulary("UserId").Size,
            ["item"] = vocabulary.GetVocabulary("ItemId").Size,
            ["brand"] = vocabulary.GetVocabulary("Brand").Size,
            ["category"] = vocabulary.GetVocabulary("Category").Size,
            ["device"] = vocabulary.GetVocabulary("Device").Size,
        };

        string modelPath = Path.Combine(settings.OutputDirectory, ModelFileName);
        mlContext.Model.Save(model, train.Schema, modelPath);

        var reloadedContext = new MLContext(seed: settings.Seed);
        ITransformer reloaded = reloadedContext.Model.Load(modelPath, out DataViewSchema _);
        IDataView expected = model.Transform(loader.Load(data.TestPath));
        IDataView actual = reloaded.Transform(CreateLoader(reloadedContext).Load(data.TestPath));
        Comparison comparison = Compare(expected, actual);
        log.WriteLine($"saved {modelPath} ({new FileInfo(modelPath).Length / 1024.0:0} KiB); reloaded in a new MLContext: {comparison.Rows} test rows compared, {comparison.Mismatches} mismatches");

        return new DemoResult(data, fitSeconds, transformSeconds, sizes,
            (double)comparison.ItemOov / comparison.Rows, (double)comparison.UserOov / comparison.Rows,
            comparison.HistoryElements == 0 ? 0 : (double)comparison.HistoryOov / comparison.HistoryElements,
            comparison.Rows, comparison.Mismatches, modelPath);
    }

    /// <summary>The single JSON line the verb ends with.</summary>
    public static string ResultJson(DemoResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("rows", result.Data.Settings.Rows);
            json.WriteNumber("train_rows", result.Data.Train.Rows);
            json.WriteNumber("test_rows", result.Data.Test.Rows);
            json.WriteNumber("generate_seconds", Math.Round(result.Data.Seconds, 3));
            json.WriteNumber("fit_seconds", Math.Round(result.FitSeconds, 3));
            json.WriteNumber("fit_rows_per_s", Math.Round(result.FitRowsPerSecond));
            json.WriteNumber("transform_rows_per_s", Math.Round(result.TransformRowsPerSecond));
            json.WritePropertyName("vocabulary_sizes");
            json.WriteStartObject();
            foreach (var (name, size) in result.VocabularySizes)
                json.WriteNumber(name, size);
            json.WriteEndObject();
            json.WriteNumber("oov_rate_test_item", Math.Round(result.OovRateTestItem, 6));
            json.WriteNumber("oov_rate_test_user", Math.Round(result.OovRateTestUser, 6));
            json.WriteNumber("oov_rate_test_history", Math.Round(result.OovRateTestHistory, 6));
            json.WriteNumber("oracle_test_auc", Math.Round(result.Data.Test.Auc, 6));
            json.WriteNumber("oracle_test_logloss", Math.Round(result.Data.Test.LogLoss, 6));
            json.WriteBoolean("roundtrip_identical", result.RoundtripIdentical);
            json.WriteNumber("user_hash_buckets", UserHashBuckets);
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static int CountRows(IDataView view)
    {
        var columns = ScalarKeyColumns.Append(HistoryKeyColumn).Select(name => view.Schema[name]).ToArray();
        using DataViewRowCursor cursor = view.GetRowCursor(columns);
        var scalars = ScalarKeyColumns.Select(name => cursor.GetGetter<uint>(view.Schema[name])).ToArray();
        var history = cursor.GetGetter<VBuffer<uint>>(view.Schema[HistoryKeyColumn]);
        uint key = 0;
        VBuffer<uint> keys = default;
        int rows = 0;
        while (cursor.MoveNext())
        {
            foreach (ValueGetter<uint> getter in scalars)
                getter(ref key);
            history(ref keys);
            rows++;
        }
        return rows;
    }

    private readonly record struct Comparison(int Rows, int Mismatches, int ItemOov, int UserOov, long HistoryOov, long HistoryElements);

    /// <summary>Walks both views in step and compares every key column, row by row.</summary>
    private static Comparison Compare(IDataView expected, IDataView actual)
    {
        using DataViewRowCursor left = expected.GetRowCursor(expected.Schema);
        using DataViewRowCursor right = actual.GetRowCursor(actual.Schema);
        var leftScalars = ScalarKeyColumns.Select(name => left.GetGetter<uint>(expected.Schema[name])).ToArray();
        var rightScalars = ScalarKeyColumns.Select(name => right.GetGetter<uint>(actual.Schema[name])).ToArray();
        var leftHistory = left.GetGetter<VBuffer<uint>>(expected.Schema[HistoryKeyColumn]);
        var rightHistory = right.GetGetter<VBuffer<uint>>(actual.Schema[HistoryKeyColumn]);
        int itemColumn = 1, userColumn = 0;
        uint a = 0, b = 0;
        VBuffer<uint> historyA = default, historyB = default;
        int rows = 0, mismatches = 0, itemOov = 0, userOov = 0;
        long historyOov = 0, historyElements = 0;
        while (true)
        {
            bool hasLeft = left.MoveNext(), hasRight = right.MoveNext();
            if (hasLeft != hasRight)
                throw new InvalidOperationException($"The reloaded model returned a different number of rows (differs after {rows}).");
            if (!hasLeft)
                break;
            bool same = true;
            for (int c = 0; c < leftScalars.Length; c++)
            {
                leftScalars[c](ref a);
                rightScalars[c](ref b);
                same &= a == b;
                if (c == itemColumn && a == Vocabulary.OovIndex)
                    itemOov++;
                if (c == userColumn && a == Vocabulary.OovIndex)
                    userOov++;
            }
            leftHistory(ref historyA);
            rightHistory(ref historyB);
            same &= historyA.Length == historyB.Length && historyA.DenseValues().SequenceEqual(historyB.DenseValues());
            foreach (uint key in historyA.DenseValues())
            {
                historyElements++;
                historyOov += key == Vocabulary.OovIndex ? 1 : 0;
            }
            mismatches += same ? 0 : 1;
            rows++;
        }
        return new Comparison(rows, mismatches, itemOov, userOov, historyOov, historyElements);
    }
}
