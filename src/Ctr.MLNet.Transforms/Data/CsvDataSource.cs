using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// A CSV file as an <see cref="IDataView"/> (header row, ',' separator, RFC 4180 quoting, UTF-8), read with Sep.
/// Columns are taken <b>by header name</b>: Text columns give <see cref="ReadOnlyMemory{T}"/> of char, Single columns
/// a float (an empty field is NaN, the missing value), Label columns a float 0 or 1, Boolean columns a bool.
/// </summary>
/// <remarks>
/// <para>
/// Nothing is held in memory: every cursor reads the file from the start, so training can make as many passes as
/// it needs. Blank lines are skipped. A data row is <i>bad</i> when it has bytes that are not UTF-8, a stray or
/// unclosed quote, another field count than the header, a field longer than <see cref="Options.MaxFieldLength"/>,
/// a row running on past 8 Mi characters (left out, with Skip, as its first line alone), a value its column cannot
/// hold (text or "NaN"/"Infinity" in a Single column, a label other than 0 or 1), or weights that do not fit their
/// list (see <see cref="Column.WeightsOf"/>).
/// Every loaded column is checked on every pass, whichever columns a cursor reads, so all passes see the same rows.
/// </para>
/// <para>
/// With <see cref="BadRowPolicy.Error"/> a bad row throws <see cref="CsvBadRowException"/>, whose message names the
/// file, the line, the column and the fix. With <see cref="BadRowPolicy.Skip"/> it is left out and counted; the count
/// and the first bad row are in <see cref="Summary"/> once a cursor has read the whole file.
/// </para>
/// </remarks>
public sealed partial class CsvDataSource : IFileDataSource
{
    private readonly int[] _fileIndexes;
    private readonly CsvColumnKind[] _kinds;
    private CsvReadSummary? _summary;

    private CsvDataSource(string path, Options options, ImmutableArray<string> header, int[] fileIndexes)
    {
        Path = path;
        Settings = options;
        Header = header;
        _fileIndexes = fileIndexes;
        _kinds = [.. options.Columns.Select(c => c.Kind)];
        var schema = new DataViewSchema.Builder();
        foreach (Column column in options.Columns)
        {
            schema.AddColumn(column.Name, column.Kind switch
            {
                CsvColumnKind.Text => TextDataViewType.Instance,
                CsvColumnKind.Boolean => BooleanDataViewType.Instance,
                _ => NumberDataViewType.Single,
            });
        }
        Schema = schema.ToSchema();
    }

    /// <summary>
    /// Reads the header of <paramref name="path"/> and checks that it has every column of <paramref name="options"/>,
    /// once; the rows are read by cursors.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">Columns to load, what to do with bad rows, the field-length limit.</param>
    /// <exception cref="System.IO.FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty or its header row is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A column is missing from the header or appears in it twice (the
    /// message names the file and the column), or the options are invalid.</exception>
    public static CsvDataSource Load(string path, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        using CsvRowReader reader = CsvRowReader.Open(path, options.MaxFieldLength);
        ImmutableArray<string> header = reader.Header;
        var indexes = new int[options.Columns.Length];
        for (int i = 0; i < indexes.Length; i++)
        {
            Column column = options.Columns[i];
            int index = header.IndexOf(column.Name);
            if (index < 0)
                CtrThrow.ArgumentOutOfRange(nameof(path), $"{path} line 1 (header): there is no column '{column.Name}'; {column.Purpose ?? "it is needed"}. Add the column to the file (the header has: {string.Join(", ", header)}).");
            if (header.LastIndexOf(column.Name) != index)
                CtrThrow.ArgumentOutOfRange(nameof(path), $"{path} line 1 (header): column '{column.Name}' appears twice ({index + 1} and {header.LastIndexOf(column.Name) + 1}); rename one so it is clear which to load.");
            indexes[i] = index;
        }
        return new CsvDataSource(path, options, header, indexes);
    }

    /// <summary>The file, as given.</summary>
    public string Path { get; }

    /// <summary>The options the file is read with.</summary>
    public Options Settings { get; }

    /// <summary>The header's column names in file order.</summary>
    public ImmutableArray<string> Header { get; }

    /// <summary>
    /// What the first cursor that read the whole file found: rows read, bad rows skipped and the first of them; null
    /// until a cursor has reached the end. Later passes read the same rows and do not count again.
    /// </summary>
    public CsvReadSummary? Summary => Volatile.Read(ref _summary);

    /// <inheritdoc/>
    FileReadSummary? IFileDataSource.ReadSummary =>
        Summary is { } summary ? new FileReadSummary(summary.Rows, summary.BadRowsSkipped, summary.FirstBadRow?.ToString(), summary.SkippedRows) : null;

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

    private void CompletePass(CsvReadSummary summary) => Interlocked.CompareExchange(ref _summary, summary, null);

    /// <summary>A column to load.</summary>
    /// <param name="Name">Its header name.</param>
    /// <param name="Kind">How its fields are read.</param>
    /// <param name="Purpose">Why it is needed, for the error when the header lacks it (e.g. "it is the label").</param>
    public sealed record Column(string Name, CsvColumnKind Kind, string? Purpose = null)
    {
        /// <summary>
        /// A Text column that is a list (<c>"i3|i9|i1"</c>) split on this separator; null for a scalar. An empty field
        /// is an empty list, and an empty element (<c>"i3||i1"</c>) is a missing element, kept in its place.
        /// </summary>
        public char? ListSeparator { get; init; }

        /// <summary>
        /// A Text column that holds the weights of the list column of this name, split on its separator: a row is bad
        /// unless it has one weight for each element, every weight a finite number of 0 or more, adding up to at most
        /// <see cref="float.MaxValue"/>.
        /// </summary>
        public string? WeightsOf { get; init; }
    }

    /// <summary>Options of <see cref="Load"/>.</summary>
    public sealed record Options
    {
        /// <summary>Defaults of the options.</summary>
        public static class Defaults
        {
            /// <summary>1 MiB: far above any real CTR field, low enough to stop a runaway quote or binary data.</summary>
            public const int MaxFieldLength = 1 << 20;

            /// <summary>Bad rows are errors unless asked otherwise.</summary>
            public const BadRowPolicy BadRows = BadRowPolicy.Error;
        }

        /// <summary>The columns to load, in the order of the view's schema; names must be distinct.</summary>
        public ImmutableArray<Column> Columns { get; init; } = [];

        /// <summary>What to do with a bad row.</summary>
        public BadRowPolicy BadRows { get; init; } = Defaults.BadRows;

        /// <summary>Longest field, in characters, 1 or more; a longer one makes its row bad.</summary>
        public int MaxFieldLength { get; init; } = Defaults.MaxFieldLength;

        internal void Validate()
        {
            if (Columns.IsDefault)
                CtrThrow.ArgumentOutOfRange(nameof(Columns), "The columns must be set.");
            if (MaxFieldLength < 1)
                CtrThrow.ArgumentOutOfRange(nameof(MaxFieldLength), $"MaxFieldLength must be at least 1, got {MaxFieldLength}.");
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
                if ((column.ListSeparator is not null || column.WeightsOf is not null) && column.Kind != CsvColumnKind.Text)
                    CtrThrow.ArgumentOutOfRange(nameof(Columns), $"Column '{column.Name}' is a list or weights column, so its kind must be Text, not {column.Kind}.");
            }
            foreach (Column column in Columns)
            {
                if (column.WeightsOf is string list && !Columns.Any(c => c.Name == list && c.ListSeparator is not null))
                    CtrThrow.ArgumentOutOfRange(nameof(Columns), $"Column '{column.Name}' holds the weights of '{list}', which is not a loaded list column (one with a ListSeparator).");
            }
        }
    }
}

/// <summary>How <see cref="CsvDataSource"/> reads a column's fields.</summary>
public enum CsvColumnKind
{
    /// <summary>Text as it is (not trimmed): <see cref="TextDataViewType"/>.</summary>
    Text,

    /// <summary>A finite number (surrounding white space allowed), or empty for missing (NaN): Single.</summary>
    Single,

    /// <summary>A click label, 0 or 1 and never empty: Single.</summary>
    Label,

    /// <summary>true/false or 1/0 (any case), never empty: Boolean.</summary>
    Boolean,
}

/// <summary>What a complete pass over a <see cref="CsvDataSource"/> found.</summary>
/// <param name="Rows">Data rows read (skipped rows not counted).</param>
/// <param name="BadRowsSkipped">Bad rows left out (always 0 with <see cref="BadRowPolicy.Error"/>).</param>
/// <param name="FirstBadRow">The first row left out, or null.</param>
/// <param name="SkippedRows">0-based indexes, among the file's data rows (blank lines are not rows), of the rows left
/// out, in file order: where they were, for output that must line up with the input.</param>
public sealed record CsvReadSummary(long Rows, long BadRowsSkipped, CsvBadRow? FirstBadRow, ImmutableArray<long> SkippedRows);
