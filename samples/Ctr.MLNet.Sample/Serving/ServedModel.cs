using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// One model the server answers for: loaded once at start-up, then shared by every request. Scoring is safe to
/// call from many threads at once: each call builds its own data view and cursors over one immutable transformer
/// chain (the network's forward pass runs under a thread-local no-grad and dispose scope), which the serving tests
/// check with concurrent requests against offline scores.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly LoadedModel _loaded;
    private readonly Dictionary<string, int> _columnIndex;
    private int _users = 1; // the owner plus every Score in flight: the network is freed when it drops to 0
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

    /// <summary>The columns of the view built for a request, in the model's input-schema order.</summary>
    public ImmutableArray<ServedColumn> Columns { get; }

    /// <summary>The columns a request must give (every input column but the label).</summary>
    public ImmutableArray<ServedColumn> RequiredColumns { get; }

    /// <summary>The label column, which requests may leave out.</summary>
    public string LabelColumnName => _loaded.Network.LabelColumnName;

    /// <summary>The schema of the view built for a request.</summary>
    public DataViewSchema Schema { get; }

    /// <summary>Index of a column in <see cref="Columns"/>, or -1.</summary>
    public int IndexOf(string column) => _columnIndex.TryGetValue(column, out int index) ? index : -1;

    /// <summary>
    /// Loads <paramref name="path"/> with <see cref="ModelFiles.Load"/>, works out the columns, and scores one row with
    /// every feature missing, so a model that cannot serve fails here rather than on the first request.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file does not load or cannot be served; the message names it.</exception>
    public static ServedModel Load(string name, string path)
    {
        string full = System.IO.Path.GetFullPath(path);
        LoadedModel loaded = ModelFiles.Load(new MLContext(seed: 1), full);
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
        var model = new ServedModel(name, full, loaded, [.. columns], schema.ToSchema());
        try
        {
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

    /// <summary>Scores a view with <see cref="Schema"/> in one <c>Transform</c>; one probability per row, in order.</summary>
    public float[] Score(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (Interlocked.Increment(ref _users) <= 1)
        {
            Interlocked.Decrement(ref _users);
            throw new ObjectDisposedException(nameof(ServedModel), $"Model '{Name}' has been unloaded.");
        }
        try
        {
            IDataView scored = _loaded.Model.Transform(input);
            return [.. scored.GetColumn<float>(scored.Schema["Probability"])];
        }
        finally
        {
            Release();
        }
    }

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
