using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// A read-only <see cref="IDataView"/> over one array per column, all of the same length: what the server builds
/// from a request so the whole request is scored with one <c>Transform</c>. Cursors only read the arrays, so any
/// number of cursors (the batch scorer opens two) can run over it at once.
/// </summary>
public sealed class ColumnarDataView : IDataView
{
    private readonly Array[] _columns;
    private readonly int _rows;
    // The views whose rows this one has, one after another: itself, or those joined by Concat (not copied).
    private readonly ColumnarDataView[] _parts;

    /// <summary>
    /// Creates the view. <paramref name="columns"/> holds one array per column of <paramref name="schema"/>, in order:
    /// <c>ReadOnlyMemory&lt;char&gt;[]</c> or <c>string[]</c> for text, <c>float[]</c> for Single, <c>double[]</c> for
    /// Double, <c>bool[]</c> for Boolean, and for vectors either <c>VBuffer&lt;T&gt;[]</c> or one array per row:
    /// <c>string[][]</c> for a text vector (a list column of a served model), <c>float[][]</c> for a Single vector (its
    /// weights). A null row of a variable-length vector is an empty vector; a null string is an empty (missing) text.
    /// </summary>
    public ColumnarDataView(DataViewSchema schema, IReadOnlyList<Array> columns)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(columns);
        if (columns.Count != schema.Count)
            throw new ArgumentException($"The schema has {schema.Count} columns but {columns.Count} arrays were given.", nameof(columns));
        var arrays = new Array[columns.Count];
        for (int i = 0; i < columns.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(columns[i], $"{nameof(columns)}[{i}]");
            arrays[i] = Normalize(schema[i], columns[i]);
        }
        _rows = arrays.Length == 0 ? 0 : arrays[0].Length;
        if (arrays.Any(c => c.Length != _rows))
            throw new ArgumentException("Every column must have the same number of values.", nameof(columns));
        Schema = schema;
        _columns = arrays;
        _parts = [this];
    }

    private ColumnarDataView(DataViewSchema schema, ColumnarDataView[] parts)
    {
        Schema = schema;
        _columns = parts[0]._columns; // the value types, for the getters
        _parts = parts;
        _rows = parts.Sum(p => p._rows);
    }

    /// <summary>The values of a column in the form the cursors read: per-row arrays become <see cref="VBuffer{T}"/>s, strings become memory.</summary>
    private static Array Normalize(DataViewSchema.Column column, Array values)
    {
        Type expected = column.Type.RawType.MakeArrayType();
        if (values.GetType() == expected)
            return values;
        int size = column.Type is VectorDataViewType vector ? vector.Size : 0;
        switch (values)
        {
            case string?[] texts when column.Type is TextDataViewType:
                return texts.Select(t => (t ?? "").AsMemory()).ToArray();
            case string?[]?[] lists when column.Type is VectorDataViewType { ItemType: TextDataViewType }:
                return lists.Select((row, r) => Vector(column, r, size, row?.Select(t => (t ?? "").AsMemory()).ToArray())).ToArray();
            case float[]?[] lists when column.Type is VectorDataViewType v && v.ItemType.RawType == typeof(float):
                return lists.Select((row, r) => Vector(column, r, size, row is null ? null : (float[])row.Clone())).ToArray();
            default:
                string perRow = column.Type is VectorDataViewType { ItemType: TextDataViewType } ? " or a string[][] (one array per row)"
                    : column.Type is VectorDataViewType w && w.ItemType.RawType == typeof(float) ? " or a float[][] (one array per row)"
                    : column.Type is TextDataViewType ? " or a string[]" : "";
                throw new ArgumentException($"Column '{column.Name}' is {column.Type}; its values must be a {expected.Name}{perRow}, not a {values.GetType().Name}.", "columns");
        }
    }

    private static VBuffer<T> Vector<T>(DataViewSchema.Column column, int row, int size, T[]? values)
    {
        values ??= [];
        if (size > 0 && values.Length != size)
            throw new ArgumentException($"Column '{column.Name}' holds vectors of {size} values; row {row + 1} has {values.Length}.", "columns");
        return new VBuffer<T>(values.Length, values);
    }

    /// <summary>The number of rows.</summary>
    public int RowCount => _rows;

    /// <summary>
    /// The rows of several views with the same schema, one after another, in one view: what the server scores in one
    /// pass when requests arrive together. The rows are not copied: the view reads the views it joins.
    /// </summary>
    public static ColumnarDataView Concat(IReadOnlyList<ColumnarDataView> views)
    {
        ArgumentNullException.ThrowIfNull(views);
        if (views.Count == 0)
            throw new ArgumentException("At least one view is needed.", nameof(views));
        if (views.Count == 1)
            return views[0];
        DataViewSchema schema = views[0].Schema;
        if (views.Any(v => !ReferenceEquals(v.Schema, schema)))
            throw new ArgumentException("Every view must have the same schema.", nameof(views));
        return new ColumnarDataView(schema, [.. views.SelectMany(v => v._parts)]);
    }

    /// <inheritdoc/>
    public bool CanShuffle => false;

    /// <inheritdoc/>
    public DataViewSchema Schema { get; }

    /// <inheritdoc/>
    public long? GetRowCount() => _rows;

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

    private sealed class Cursor(ColumnarDataView parent, bool[] active) : DataViewRowCursor
    {
        private readonly ColumnarDataView[] _parts = parent._parts;
        private long _position = -1;
        private int _part;
        private int _row = -1; // in _parts[_part]

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => parent.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => active[column.Index];

        public override bool MoveNext()
        {
            if (_position + 1 >= parent._rows)
            {
                _position = parent._rows;
                return false;
            }
            _position++;
            _row++;
            while (_row >= _parts[_part]._rows)
            {
                _part++;
                _row = 0;
            }
            return true;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < 0 || column.Index >= active.Length || !active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            Delegate getter = parent._columns[column.Index] switch
            {
                VBuffer<ReadOnlyMemory<char>>[] => VectorGetter<ReadOnlyMemory<char>>(column.Index),
                VBuffer<float>[] => VectorGetter<float>(column.Index),
                VBuffer<double>[] => VectorGetter<double>(column.Index),
                VBuffer<bool>[] => VectorGetter<bool>(column.Index),
                _ => ScalarGetter(column.Index),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private Delegate ScalarGetter(int column) => parent._columns[column] switch
        {
            ReadOnlyMemory<char>[] => ScalarGetter<ReadOnlyMemory<char>>(column),
            float[] => ScalarGetter<float>(column),
            double[] => ScalarGetter<double>(column),
            bool[] => ScalarGetter<bool>(column),
            Array values => throw new InvalidOperationException($"Values of type {values.GetType().Name} are not supported."),
        };

        private ValueGetter<T> ScalarGetter<T>(int column)
        {
            T[][] values = Columns<T>(column);
            return (ref T v) => v = values[Part()][_row];
        }

        // The consumer owns what it gets: copy, so it may reuse its buffer without touching ours.
        private ValueGetter<VBuffer<T>> VectorGetter<T>(int column)
        {
            VBuffer<T>[][] values = Columns<VBuffer<T>>(column);
            return (ref VBuffer<T> v) => values[Part()][_row].CopyTo(ref v);
        }

        /// <summary>The column's array in each part, indexed as <see cref="Part"/>.</summary>
        private T[][] Columns<T>(int column)
        {
            var arrays = new T[_parts.Length][];
            for (int i = 0; i < arrays.Length; i++)
                arrays[i] = (T[])_parts[i]._columns[column];
            return arrays;
        }

        private int Part() => _position >= 0 && _position < parent._rows
            ? _part
            : throw new InvalidOperationException("The cursor is not on a row.");
    }
}
