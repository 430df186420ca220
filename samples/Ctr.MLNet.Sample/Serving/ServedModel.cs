using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// One loaded model zip the server answers for, shared by every request. Scoring is safe to call from many threads
/// at once: a view with <see cref="Schema"/> is scored through a pool of <see cref="PreparedScorer"/>s (the chain
/// bound once per pooled scorer, not per call); any other view through a fresh <c>Transform</c>. The network's
/// forward pass runs under a thread-local inference and dispose scope; the serving tests check concurrent answers
/// against offline scores.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly LoadedModel _loaded;
    private readonly Dictionary<string, int> _columnIndex;
    private readonly System.Collections.Concurrent.ConcurrentBag<PreparedScorer> _scorers = [];
    private int _users = 1; // the owner plus every lease and Score in flight: the network is freed when it drops to 0
    private int _disposed;

    private ServedModel(string name, string path, LoadedModel loaded, ImmutableArray<ServedColumn> columns, DataViewSchema schema)
    {
        Name = name;
        Path = path;
        _loaded = loaded;
        Columns = columns;
        Schema = schema;
        _columnIndex = columns.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        RequiredColumns = [.. columns.Where(c => !c.IsLabel)];
    }

    /// <summary>The name requests use (<c>POST /{name}/predict</c>).</summary>
    public string Name { get; }

    /// <summary>The model zip's full path.</summary>
    public string Path { get; }

    /// <summary>SHA-256 of the zip that was loaded, lower-case hex.</summary>
    public string Sha256 { get; private init; } = "";

    /// <summary>When the zip finished loading (UTC).</summary>
    public DateTimeOffset LoadedAt { get; private init; }

    /// <summary>How long loading took, checks included.</summary>
    public TimeSpan LoadTime { get; private init; }

    /// <summary>The columns of the view built for a request, in the model's input-schema order.</summary>
    public ImmutableArray<ServedColumn> Columns { get; }

    /// <summary>The columns a request must give (every input column but the label).</summary>
    public ImmutableArray<ServedColumn> RequiredColumns { get; }

    /// <summary>The label column, which requests may leave out.</summary>
    public string LabelColumnName => _loaded.Network.LabelColumnName;

    /// <summary>The schema of the view built for a request.</summary>
    public DataViewSchema Schema { get; }

    /// <summary>
    /// Whether requests are scored through <see cref="Torch.PreparedCtrScorer"/> (a chain as train saves it, checked at
    /// load against the chain's own scoring) rather than through the transform chain.
    /// </summary>
    public bool IsPrepared { get; private set; }

    /// <summary>Index of a column in <see cref="Columns"/>, or -1.</summary>
    public int IndexOf(string column) => _columnIndex.TryGetValue(column, out int index) ? index : -1;

    /// <summary>
    /// Loads <paramref name="path"/> with <see cref="ModelFiles.Load"/>, works out the columns, and scores one row with
    /// every feature missing, so a model that cannot serve fails here rather than on the first request.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file does not load or cannot be served; the message names it.</exception>
    public static ServedModel Load(string name, string path)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
            throw new InvalidOperationException($"Model file '{full}' is a directory; give the model zip written by train (a training checkpoint directory cannot be served: it lacks the fitted feature pipeline).");
        // The hash is of the bytes that were loaded: read once, hashed and loaded from memory, so a file replaced
        // meanwhile cannot make the two disagree.
        InputFiles.RequireFile(full, "Model"); // exists, is a file, and is not a pipe
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException(File.Exists(full) ? $"Model file '{full}' cannot be read: {e.Message}" : $"Model file '{full}' does not exist.", e);
        }
        // The trainer's checkpoint begins with its magic string (length-prefixed, as BinaryWriter writes it).
        if (bytes.Length > 1 && bytes.AsSpan(1).StartsWith("Ctr.MLNet checkpoint"u8))
            throw new InvalidOperationException($"Model file '{full}' is a training checkpoint, not a model zip. A checkpoint holds the network's weights and the optimizer's state, but not the fitted feature pipeline (vocabularies, normalizer statistics) that turns a request into the network's inputs; serve the zip that train writes (--model).");
        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        LoadedModel loaded = ModelFiles.Load(new MLContext(seed: 1), full, bytes);
        var columns = new List<ServedColumn>();
        var schema = new DataViewSchema.Builder();
        try
        {
            CollectColumns(loaded, full, columns, schema);
        }
        catch (InvalidOperationException)
        {
            Free(loaded);
            throw;
        }
        var model = new ServedModel(name, full, loaded, [.. columns], schema.ToSchema())
        {
            Sha256 = sha256,
            LoadedAt = DateTimeOffset.UtcNow,
            LoadTime = System.Diagnostics.Stopwatch.GetElapsedTime(started),
        };
        try
        {
            model.PrepareScorers();
            float[] probabilities = model.Score(model.MissingRows(1));
            if (probabilities.Length != 1)
                throw new InvalidOperationException($"it returned {probabilities.Length} probabilities for one row.");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or InvalidCastException)
        {
            model.Dispose();
            throw new InvalidOperationException($"Model file '{full}' loaded but cannot score a row with every feature missing: {e.Message}", e);
        }
        return model;
    }

    /// <summary>
    /// Takes the prepared path when <see cref="Torch.PreparedCtrScorer"/> knows the chain and gives the chain's own
    /// floats for rows with every feature missing; the first scorer goes to the pool.
    /// </summary>
    private void PrepareScorers()
    {
        var scorer = new PreparedScorer(_loaded.Model, Schema, prepared: true);
        if (!scorer.IsPrepared)
            return;
        ColumnarDataView rows = MissingRows(2);
        var prepared = new float[rows.RowCount];
        var chain = new float[rows.RowCount];
        try
        {
            scorer.ScorePrepared(rows, prepared);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or OverflowException)
        {
            return; // the chain alone then: Load reports its own error, if any
        }
        scorer.ScoreThroughChain(rows, chain);
        IsPrepared = prepared.AsSpan().SequenceEqual(chain);
        if (IsPrepared)
            _scorers.Add(scorer);
    }

    /// <summary>The columns of the view built for a request: the saved input schema's visible columns, the label left out if JSON cannot give it.</summary>
    private static void CollectColumns(LoadedModel loaded, string path, List<ServedColumn> columns, DataViewSchema.Builder schema)
    {
        string label = loaded.Network.LabelColumnName;
        // Text columns the model splits into lists are carried as lists, so requests can send JSON arrays.
        var lists = new Dictionary<string, ServedColumn>(StringComparer.Ordinal);
        foreach (SequenceParsingEstimator.ColumnOptions sequence in Flatten(loaded.Model).OfType<SequenceParsingTransformer>().SelectMany(t => t.Columns))
        {
            if (loaded.InputSchema.GetColumnOrNull(sequence.InputColumnName)?.Type is TextDataViewType)
                lists.TryAdd(sequence.InputColumnName, ServedColumn.ListOf(sequence));
            if (sequence.WeightColumnName is not null && loaded.InputSchema.GetColumnOrNull(sequence.WeightColumnName)?.Type is TextDataViewType)
                lists.TryAdd(sequence.WeightColumnName, ServedColumn.WeightsOf(sequence));
        }
        foreach (DataViewSchema.Column column in loaded.InputSchema)
        {
            if (column.IsHidden)
                continue;
            ServedColumn served;
            if (lists.TryGetValue(column.Name, out ServedColumn? list) && column.Name != label)
            {
                columns.Add(list);
                schema.AddColumn(column.Name, list.Type);
                continue;
            }
            try
            {
                served = ServedColumn.From(column, label, path);
            }
            catch (InvalidOperationException) when (column.Name == label)
            {
                continue; // a label of a type JSON cannot give is left out: scoring never reads it
            }
            columns.Add(served);
            schema.AddColumn(column.Name, column.Type, column.Annotations);
        }
    }

    private static IEnumerable<ITransformer> Flatten(ITransformer transformer) =>
        transformer is IEnumerable<ITransformer> chain ? chain.SelectMany(Flatten) : [transformer];

    /// <summary>
    /// Scores a view with the columns of <see cref="Schema"/>; one probability per row, in order. A
    /// <see cref="ColumnarDataView"/> built over <see cref="Schema"/> itself takes the prepared path.
    /// </summary>
    public float[] Score(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!TryAcquire())
            throw new ObjectDisposedException(nameof(ServedModel), $"Model '{Name}' has been unloaded.");
        try
        {
            return ScoreLeased(input);
        }
        finally
        {
            Release();
        }
    }

    /// <summary>
    /// <see cref="Score"/> for a caller that holds a lease (<see cref="TryAcquire"/>): it finishes on this model even
    /// when the model was unloaded after the lease was taken, as a request in flight during a swap must.
    /// </summary>
    internal float[] ScoreLeased(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input is ColumnarDataView rows && ReferenceEquals(rows.Schema, Schema))
        {
            var probabilities = new float[rows.RowCount];
            if (rows.RowCount == 0)
                return probabilities;
            PreparedScorer scorer = _scorers.TryTake(out PreparedScorer? pooled) ? pooled : new PreparedScorer(_loaded.Model, Schema, IsPrepared);
            scorer.Score(rows, probabilities);
            _scorers.Add(scorer); // only a scorer that finished cleanly goes back
            return probabilities;
        }
        IDataView scored = _loaded.Model.Transform(input);
        return [.. scored.GetColumn<float>(scored.Schema["Probability"])];
    }

    /// <summary>
    /// Keeps the network alive until <see cref="ReleaseLease"/>, even if the model is unloaded meanwhile (a request in
    /// flight during a swap finishes on the model it started with). False once the model is unloaded.
    /// </summary>
    public bool TryAcquire()
    {
        int users = Volatile.Read(ref _users);
        while (users > 0 && Volatile.Read(ref _disposed) == 0)
        {
            int seen = Interlocked.CompareExchange(ref _users, users + 1, users);
            if (seen == users)
                return true;
            users = seen;
        }
        return false;
    }

    /// <summary>Ends a lease taken with <see cref="TryAcquire"/>.</summary>
    public void ReleaseLease() => Release();

    /// <summary>A view of <paramref name="rows"/> rows with every value missing.</summary>
    public ColumnarDataView MissingRows(int rows) =>
        new(Schema, [.. Columns.Select(c => RequestReader.MissingColumn(c, rows))]);

    /// <summary>The one line logged at start-up: name, path, columns with types, and the label.</summary>
    public string Describe() =>
        $"model '{Name}': {Path}; columns: {string.Join(", ", RequiredColumns.Select(c => $"{c.Name} ({c.TypeName})"))}; label '{LabelColumnName}' (optional, ignored)";

    /// <summary>Frees the network's native memory once no <see cref="Score"/> is running; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Release();
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _users) == 0)
            Free(_loaded);
    }

    private static void Free(LoadedModel loaded)
    {
        if (loaded.Model is IDisposable chain)
            chain.Dispose();
        else
            loaded.Network.Dispose();
    }
}

/// <summary>A model to serve: the name requests use and the zip to load.</summary>
/// <param name="Name">[A-Za-z0-9_-]+.</param>
/// <param name="Path">The model zip.</param>
public sealed record ModelSource(string Name, string Path)
{
    /// <summary>Parses <c>NAME=ZIP</c>.</summary>
    /// <exception cref="ArgumentException">Not of that form, or the name has characters other than letters, digits, '_' and '-'.</exception>
    public static ModelSource Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == text.Length - 1)
            throw new ArgumentException($"--model '{text}' must be NAME=ZIP, e.g. ctr=model.zip.");
        string name = text[..equals], path = text[(equals + 1)..];
        if (!IsValidName(name))
            throw new ArgumentException($"Model name '{name}' may only have letters, digits, '_' and '-'.");
        return new ModelSource(name, path);
    }

    /// <summary>Whether <paramref name="name"/> matches [A-Za-z0-9_-]+.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');
}

/// <summary>What the server is given: the models, where to listen, and the request limits.</summary>
/// <param name="Models">Models by name; names must be distinct.</param>
/// <param name="Urls">Where to listen, e.g. <c>http://127.0.0.1:8080</c>; ';' separates several; port 0 picks a free port.</param>
public sealed record ServeSettings(IReadOnlyList<ModelSource> Models, string Urls)
{
    /// <summary>Default <see cref="MaxBodyBytes"/>: 1 MiB.</summary>
    public const long DefaultMaxBodyBytes = 1 << 20;

    /// <summary>Default <see cref="MaxRows"/>.</summary>
    public const int DefaultMaxRows = 10_000;

    /// <summary>Default <see cref="MaxJsonDepth"/>.</summary>
    public const int DefaultMaxJsonDepth = 32;

    /// <summary>Largest request body in bytes (Kestrel's MaxRequestBodySize, and checked while reading): 413 above it.</summary>
    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>Most rows one request may score: 413 above it.</summary>
    public int MaxRows { get; init; } = DefaultMaxRows;

    /// <summary>Deepest JSON nesting accepted: 400 above it.</summary>
    public int MaxJsonDepth { get; init; } = DefaultMaxJsonDepth;

    /// <summary>Default <see cref="MaxBatchRows"/>.</summary>
    public const int DefaultMaxBatchRows = 256;

    /// <summary>Default <see cref="MaxBatchWait"/>: 0.25 ms.</summary>
    public static readonly TimeSpan DefaultMaxBatchWait = TimeSpan.FromMicroseconds(250);

    /// <summary>Default <see cref="ReloadInterval"/>: 2 s.</summary>
    public static readonly TimeSpan DefaultReloadInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Most rows scored in one pass when requests for a model arrive together (dynamic micro-batching); 1 scores
    /// every request alone. A request with more rows is scored on its own.
    /// </summary>
    public int MaxBatchRows { get; init; } = DefaultMaxBatchRows;

    /// <summary>
    /// Longest a scoring thread waits for more requests to join a batch, and only while requests are being read or
    /// another pass is running; 0 batches just what is already queued.
    /// </summary>
    public TimeSpan MaxBatchWait { get; init; } = DefaultMaxBatchWait;

    /// <summary>Threads that score batches (default: one per core).</summary>
    public int ScoringThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>How often each model file is checked for a replacement (hot swap); zero turns the check off.</summary>
    public TimeSpan ReloadInterval { get; init; } = DefaultReloadInterval;

    /// <summary>Log one line per predict request (model, status, rows, milliseconds); off by default.</summary>
    public bool RequestLog { get; init; }

    /// <summary>Called after each scored pass with the batcher, the model and the pass's rows (tests hold a pass open with it).</summary>
    internal Action<ScoringBatcher, ServedModel, int>? PassScored { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (Models is null || Models.Count == 0)
            throw new ArgumentException("Give at least one --model NAME=ZIP.");
        foreach (ModelSource model in Models)
        {
            if (!ModelSource.IsValidName(model.Name))
                throw new ArgumentException($"Model name '{model.Name}' may only have letters, digits, '_' and '-'.");
        }
        string? twice = Models.GroupBy(m => m.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null)
            throw new ArgumentException($"Model name '{twice}' is given twice.");
        if (MaxBodyBytes is < 1 or > 1 << 30)
            throw new ArgumentException($"--max-body-bytes must be between 1 and {1 << 30} (1 GiB), got {MaxBodyBytes}.");
        if (MaxRows < 1)
            throw new ArgumentException($"--max-rows must be at least 1, got {MaxRows}.");
        if (MaxBatchRows < 1)
            throw new ArgumentException($"--max-batch-rows must be at least 1, got {MaxBatchRows}.");
        if (MaxBatchWait < TimeSpan.Zero || MaxBatchWait > TimeSpan.FromSeconds(1))
            throw new ArgumentException($"--max-batch-wait-ms must be between 0 and 1000, got {MaxBatchWait.TotalMilliseconds}.");
        if (ScoringThreads is < 1 or > 256)
            throw new ArgumentException($"--scoring-threads must be between 1 and 256, got {ScoringThreads}.");
        if (ReloadInterval < TimeSpan.Zero)
            throw new ArgumentException($"--reload-interval-ms must not be negative, got {ReloadInterval.TotalMilliseconds}.");
        if (MaxJsonDepth < 4)
            throw new ArgumentException($"The JSON depth limit must be at least 4, got {MaxJsonDepth}.");
        if (string.IsNullOrWhiteSpace(Urls))
            throw new ArgumentException("--urls must not be empty.");
        foreach (string url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme != Uri.UriSchemeHttp)
                throw new ArgumentException($"--urls '{url}' is not an http:// URL (https is not supported; put a proxy in front).");
        }
    }
}
