using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;
using Parquet.Schema;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// A Parquet file, or a folder of them, as an <see cref="IDataView"/>, read with Parquet.Net. Columns are taken
/// <b>by name</b>; a folder is read as one view, its files in ordinal order of their paths, and Hive-style folder
/// names (<c>date=2026-12-01/part-00000.parquet</c>) give partition keys that load like columns.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is held beyond one row group: every cursor streams the files from the start, row group by row group, so
/// memory is bounded by the largest row group, not the row count, and training can make as many passes as it needs.
/// Every loaded column is checked on every pass, so all passes see the same rows.
/// </para>
/// <para>
/// Types (see <see cref="ParquetColumnKind"/>): strings, integers, floats, doubles, decimals (as doubles) and booleans; a null is a missing
/// value (NaN, an empty text, an empty list), except in a label or Boolean column, where it makes the row bad; a
/// <c>list&lt;string&gt;</c> (or of integers) loads as a vector of Text and a <c>list&lt;float&gt;</c> (or double) as
/// a vector of Single, which <c>ParseSequence</c> takes as the elements and weights of a sequence directly.
/// </para>
/// <para>
/// With <see cref="BadRowPolicy.Error"/> a bad row throws <see cref="ParquetBadRowException"/> naming the file, the
/// row group, the row and the column; with <see cref="BadRowPolicy.Skip"/> it is left out and counted in
/// <see cref="Summary"/>. A file that is not Parquet, a missing column or an unsupported type are errors of
/// <see cref="Load"/>; a column chunk that cannot be decoded is a <see cref="FormatException"/> naming the file, row
/// group and column.
/// </para>
/// </remarks>
public sealed partial class ParquetDataSource : IFileDataSource
{
    /// <summary>The value Hive writes for a null partition key.</summary>
    public const string HiveNullPartition = "__HIVE_DEFAULT_PARTITION__";

    private readonly ImmutableArray<Part> _parts;
    private FileReadSummary? _summary;
    private Buffers? _spare;

    private ParquetDataSource(string path, Options options, ImmutableArray<string> header, ImmutableArray<string> unloadable, ImmutableArray<Part> parts, DataViewType[] types, ImmutableArray<string> partitionKeys)
    {
        Path = path;
        Unloadable = unloadable;
        PartitionKeys = partitionKeys;
        Settings = options;
        Header = header;
        _parts = parts;
        var schema = new DataViewSchema.Builder();
        for (int i = 0; i < types.Length; i++)
            schema.AddColumn(options.Columns[i].Name, types[i]);
        Schema = schema.ToSchema();
    }

    /// <summary>Whether <paramref name="path"/> names Parquet data: a folder, or a file ending in <c>.parquet</c>.</summary>
    public static bool IsParquet(string path) =>
        !string.IsNullOrEmpty(path) && (Directory.Exists(path) || path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Reads the footer of every file of <paramref name="path"/> and checks that each has every column of
    /// <paramref name="options"/> with a type its kind can load; the rows are read by cursors.
    /// </summary>
    /// <param name="path">A <c>.parquet</c> file, or a folder read recursively (files whose names start with '_' or
    /// '.' are left out, as Spark's <c>_SUCCESS</c> and checksum files).</param>
    /// <param name="options">Columns to load and what to do with bad rows.</param>
    /// <exception cref="FileNotFoundException">Neither a file nor a folder is there.</exception>
    /// <exception cref="FormatException">A file is not Parquet, or the folder holds no Parquet file. A footer that
    /// Parquet.Net has not read within 10 s (plus a second per 16 MiB of its file) is taken as damaged: Parquet.Net 6.1
    /// can read a damaged footer forever, and the thread doing so is left to it until the process ends.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing, of an unsupported type, or a list in one
    /// file and not in another; the message names the file and the column.</exception>
    public static ParquetDataSource Load(string path, Options options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        List<(string File, ImmutableArray<(string Key, string? Value)> Keys)> files = FindFiles(path);
        ImmutableArray<Column> columns = options.Columns;
        var shapes = new bool?[columns.Length]; // list or not, once some file says
        var parts = ImmutableArray.CreateBuilder<Part>(files.Count);
        ImmutableArray<string> header = default, unloadable = default;
        foreach (var (file, keys) in files)
        {
            ParquetSchema schema = ReadSchema(file);
            var fileHeader = schema.Fields.Select(f => f.Name).Concat(keys.Select(k => k.Key)).ToImmutableArray();
            if (header.IsDefault)
            {
                header = fileHeader;
                unloadable = [.. schema.Fields.Where(f => Shape(f).Data is not DataField d || !ParquetColumnValues.IsSupported(d.ClrType)).Select(f => f.Name)];
            }
            var sources = new Source[columns.Length];
            for (int i = 0; i < columns.Length; i++)
            {
                sources[i] = Resolve(file, schema, keys, columns[i], fileHeader);
                if (shapes[i] is bool list && list != sources[i].IsList)
                    CtrThrow.ArgumentOutOfRange(nameof(path), $"{file}: column '{columns[i].Name}' is {(sources[i].IsList ? "a list" : "not a list")} here but {(list ? "a list" : "not a list")} in {parts[0].File}; give it one type in every file.");
                shapes[i] = sources[i].IsList;
            }
            parts.Add(new Part(file, sources));
        }
        var types = new DataViewType[columns.Length];
        for (int i = 0; i < columns.Length; i++)
            types[i] = TypeOf(columns[i], shapes[i] == true, parts[0].Sources[i], parts[0].File);
        return new ParquetDataSource(path, options, header, unloadable, parts.MoveToImmutable(), types, [.. files[0].Keys.Select(k => k.Key)]);
    }

    /// <summary>How long a footer may take to read, plus a second per 16 MiB of its file: far above any real footer.</summary>
    private static readonly TimeSpan FooterReadTime = TimeSpan.FromSeconds(10);

    private static ParquetSchema ReadSchema(string file)
    {
        // Parquet.Net 6.1 reads past the end of a damaged footer as 0xFF bytes, and a varint of them never ends: the
        // footer is read on a thread of its own, given up on after a bound (that thread spins on until the process ends).
        TimeSpan bound = FooterReadTime + TimeSpan.FromSeconds(new FileInfo(file).Length >> 24);
        Task<ParquetSchema> read = Task.Factory.StartNew(() => ReadSchemaNow(file), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        if (Task.WaitAny([read], bound) < 0)
            CtrThrow.Format($"{file}: not a readable Parquet file (its footer could not be read within {bound.TotalSeconds:0} s, so it is damaged); export it again as Parquet, or give the CSV file instead.");
        return read.GetAwaiter().GetResult();
    }

    private static ParquetSchema ReadSchemaNow(string file)
    {
        try
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.None);
            return ParquetReader.ReadSchemaAsync(stream).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not (FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException))
        {
            // A damaged footer fails in Parquet.Net with whatever its parser meets: a Thrift error, a null reference, an overflow.
            throw new FormatException($"{file}: not a readable Parquet file ({e.Message}); export it again as Parquet, or give the CSV file instead.", e);
        }
    }

    private static List<(string, ImmutableArray<(string, string?)>)> FindFiles(string path)
    {
        if (File.Exists(path))
            return [(path, [])];
        if (!Directory.Exists(path))
            throw new FileNotFoundException($"Could not find the Parquet file or folder '{path}'.", path);
        string root = System.IO.Path.GetFullPath(path);
        var files = Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories)
            .Where(f => !System.IO.Path.GetRelativePath(root, System.IO.Path.GetFullPath(f)).Split(System.IO.Path.DirectorySeparatorChar).Any(p => p.StartsWith('_') || p.StartsWith('.')))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (files.Count == 0)
            CtrThrow.Format($"{path}: the folder holds no .parquet file (files whose names start with '_' or '.' are left out); give a folder with the export's part files.");
        var result = new List<(string, ImmutableArray<(string, string?)>)>(files.Count);
        ImmutableArray<string> firstKeys = default;
        foreach (string file in files)
        {
            string[] folders = System.IO.Path.GetRelativePath(root, System.IO.Path.GetFullPath(file)).Split(System.IO.Path.DirectorySeparatorChar)[..^1];
            var keys = ImmutableArray.CreateBuilder<(string, string?)>();
            foreach (string folder in folders)
            {
                int equals = folder.IndexOf('=');
                if (equals <= 0)
                    continue;
                string value = Uri.UnescapeDataString(folder[(equals + 1)..]);
                keys.Add((Uri.UnescapeDataString(folder[..equals]), value == HiveNullPartition ? null : value));
            }
            ImmutableArray<string> names = [.. keys.Select(k => k.Item1)];
            if (firstKeys.IsDefault)
                firstKeys = names;
            else if (!firstKeys.SequenceEqual(names))
                CtrThrow.Format($"{file}: its partition keys ({string.Join(", ", names)}) differ from those of {result[0].Item1} ({string.Join(", ", firstKeys)}); give a folder whose files are partitioned alike.");
            result.Add((file, keys.ToImmutable()));
        }
        return result;
    }

    private static Source Resolve(string file, ParquetSchema schema, ImmutableArray<(string Key, string? Value)> keys, Column column, ImmutableArray<string> header)
    {
        Field? field = schema.Fields.FirstOrDefault(f => f.Name == column.Name);
        if (field is null)
        {
            foreach (var (key, value) in keys)
            {
                if (key == column.Name)
                    return new Source(null, false, true, value);
            }
            CtrThrow.ArgumentOutOfRange(nameof(column), $"{file}: there is no column '{column.Name}'; {column.Purpose ?? "it is needed"}. Add the column to the export (the file has: {string.Join(", ", header)}).");
        }
        (DataField? data, bool isList) = Shape(field);
        if (data is null || !ParquetColumnValues.IsSupported(data.ClrType))
        {
            string type = data?.ClrType.Name ?? field.SchemaType.ToString();
            CtrThrow.ArgumentOutOfRange(nameof(column), $"{file}: column '{column.Name}' is of type {type}, which cannot be loaded; export it as a string, integer, float, double, decimal or boolean column, or a list of strings or numbers.");
        }
        return new Source(data, isList, false, null);
    }

    /// <summary>The values of <paramref name="field"/>: a scalar, or the item of a list; null for any other shape.</summary>
    private static (DataField? Data, bool IsList) Shape(Field field) => field switch
    {
        DataField d when d.MaxRepetitionLevel == 0 => (d, false),
        ListField { Item: DataField item } when item.MaxRepetitionLevel == 1 => (item, true),
        _ => (null, false),
    };

    private static DataViewType TypeOf(Column column, bool isList, Source first, string file)
    {
        bool isText = first.Field is null || first.Field.ClrType == typeof(ReadOnlyMemory<char>) || first.Field.ClrType == typeof(string);
        switch (column.Kind)
        {
            case ParquetColumnKind.Text:
                return isList ? new VectorDataViewType(TextDataViewType.Instance) : TextDataViewType.Instance;
            case ParquetColumnKind.Weights:
                if (isList)
                    return new VectorDataViewType(NumberDataViewType.Single);
                if (isText)
                    return TextDataViewType.Instance;
                break;
            case ParquetColumnKind.Boolean:
                if (!isList)
                    return BooleanDataViewType.Instance;
                break;
            default:
                if (!isList)
                    return NumberDataViewType.Single;
                break;
        }
        CtrThrow.ArgumentOutOfRange(nameof(column), $"{file}: column '{column.Name}' is {(isList ? "a list" : first.Field!.ClrType.Name)}, which cannot be loaded as {column.Kind}; {column.Purpose ?? "it is needed"}, so export it as {ExpectedOf(column.Kind)}.");
        return null;
    }

    private static string ExpectedOf(ParquetColumnKind kind) => kind switch
    {
        ParquetColumnKind.Weights => "a list of floats (or a string of numbers between list separators)",
        ParquetColumnKind.Boolean => "a boolean column",
        ParquetColumnKind.Label => "an integer, float or boolean column of 0 and 1",
        _ => "a numeric column",
    };

    /// <summary>The file or folder, as given.</summary>
    public string Path { get; }

    /// <summary>The options the data is read with.</summary>
    public Options Settings { get; }

    /// <summary>The top-level column names of the first file, then its partition keys.</summary>
    public ImmutableArray<string> Header { get; }

    /// <summary>The top-level columns of the first file whose type no column can load (dates, binary, structs, maps).</summary>
    internal ImmutableArray<string> Unloadable { get; }

    /// <summary>The Hive partition keys of the folder's files (the last names of <see cref="Header"/>), or none.</summary>
    public ImmutableArray<string> PartitionKeys { get; }

    /// <summary>The files read, in reading order.</summary>
    public ImmutableArray<string> Files => [.. _parts.Select(p => p.File)];

    /// <summary>What the first cursor that read all the files found; null until a cursor has reached the end.</summary>
    public FileReadSummary? Summary => Volatile.Read(ref _summary);

    /// <inheritdoc/>
    FileReadSummary? IFileDataSource.ReadSummary => Summary;

    /// <inheritdoc/>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <inheritdoc/>
    public long? GetRowCount() => null;

    /// <inheritdoc/>
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        ArgumentNullException.ThrowIfNull(columnsNeeded);
        var active = new bool[Schema.Count];
        foreach (DataViewSchema.Column column in columnsNeeded)
            active[column.Index] = true;
        return new Cursor(this, active);
    }

    /// <inheritdoc/>
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private void CompletePass(FileReadSummary summary) => Interlocked.CompareExchange(ref _summary, summary, null);

    /// <summary>Where a column comes from in one file: a field (scalar or the item of a list) or a partition key.</summary>
    private sealed record Source(DataField? Field, bool IsList, bool IsPartitionKey, string? PartitionValue);

    private sealed record Part(string File, Source[] Sources);

    /// <summary>A closed cursor's arrays, for the next cursor.</summary>
    private sealed record Buffers(ParquetChunkDecoder Decoder, RowGroup Group);

    /// <summary>The row group a cursor reads, decoded and checked: what the getters read by row.</summary>
    private sealed class RowGroup(int columns)
    {
        public readonly ParquetColumnValues?[] Values = new ParquetColumnValues?[columns];

        // Per column: numbers by row (Single, Label) or by element (lists of weights), booleans by row, and the strings
        // of a dictionary column by row. The arrays stay from row group to row group.
        public readonly float[]?[] Floats = new float[]?[columns];
        public readonly bool[]?[] Booleans = new bool[]?[columns];
        public readonly ReadOnlyMemory<char>[]?[] Spelled = new ReadOnlyMemory<char>[]?[columns];

        /// <summary>Scalar text columns: the text of each row, empty where null (the column's strings, or <see cref="Spelled"/>); null where the getter widens or spells it.</summary>
        public readonly ReadOnlyMemory<char>[]?[] RowTexts = new ReadOnlyMemory<char>[]?[columns];

        /// <summary>By row: some column finds the row bad.</summary>
        public bool[] Bad = [];
        public bool AnyBad;
        public int Rows;

        /// <summary>Where it is: the index of its file, its index in the file, and the file's rows before it.</summary>
        public int Part;
        public int Index;
        public long RowsBefore;
    }

    /// <summary>A column to load.</summary>
    /// <param name="Name">Its top-level field name, or a partition key.</param>
    /// <param name="Kind">How its values are read.</param>
    /// <param name="Purpose">Why it is needed, for the error when a file lacks it.</param>
    public sealed record Column(string Name, ParquetColumnKind Kind, string? Purpose = null);

    /// <summary>Options of <see cref="Load"/>.</summary>
    public sealed record Options
    {
        /// <summary>The columns to load, in the order of the view's schema; names must be distinct.</summary>
        public ImmutableArray<Column> Columns { get; init; } = [];

        /// <summary>What to do with a bad row.</summary>
        public BadRowPolicy BadRows { get; init; } = BadRowPolicy.Error;

        internal void Validate()
        {
            if (Columns.IsDefault)
                CtrThrow.ArgumentOutOfRange(nameof(Columns), "The columns must be set.");
            if (!Enum.IsDefined(BadRows))
                CtrThrow.ArgumentOutOfRange(nameof(BadRows), $"BadRows must be Error or Skip, got {BadRows}.");
            var names = new HashSet<string>();
            foreach (Column column in Columns)
            {
                if (column is null || string.IsNullOrEmpty(column.Name))
                    CtrThrow.ArgumentOutOfRange(nameof(Columns), "Every column needs a name.");
                if (!Enum.IsDefined(column.Kind))
                    CtrThrow.ArgumentOutOfRange(nameof(Columns), $"Column '{column.Name}' has an unknown kind {column.Kind}.");
                if (!names.Add(column.Name))
                    CtrThrow.ArgumentOutOfRange(nameof(Columns), $"Column '{column.Name}' is listed twice.");
            }
        }
    }
}

/// <summary>How <see cref="ParquetDataSource"/> reads a column.</summary>
public enum ParquetColumnKind
{
    /// <summary>
    /// A categorical value as Text: strings as they are, integers in invariant decimal, floats in round-trip form,
    /// booleans as <c>true</c>/<c>false</c>, null as empty (missing). A list column gives a vector of Text, each
    /// element read the same way.
    /// </summary>
    Text,

    /// <summary>A number as Single: null and NaN are missing (NaN); ±∞ or a value beyond the float range makes the row bad.
    /// A string column is parsed as <see cref="CsvColumnKind.Single"/> does.</summary>
    Single,

    /// <summary>A click label, 0 or 1 (a number, a boolean, or such a string), as Single; null makes the row bad.</summary>
    Label,

    /// <summary>A boolean (or 0/1, or true/false text) as Boolean; null makes the row bad.</summary>
    Boolean,

    /// <summary>The weights of a list column: a list of numbers gives a vector of Single (a null or non-finite element
    /// makes the row bad, a null list is empty); a string column gives Text, parsed by <c>ParseSequence</c>.</summary>
    Weights,
}
