using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;

namespace Ctr.MLNet.Transforms;

public sealed partial class ParquetDataSource
{
    /// <summary>
    /// One pass over the files, one row group in memory at a time. Every loaded column is decoded and checked on
    /// <see cref="MoveNext"/>, active or not, so a row is good or bad the same way in every pass.
    /// </summary>
    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ParquetDataSource _parent;
        private readonly bool[] _active;
        private readonly ParquetColumnKind[] _kinds;
        private readonly bool[] _vectors;
        private readonly float[] _numbers;
        private readonly bool[] _booleans;
        private readonly ReadOnlyMemory<char>[] _texts;
        private readonly ReadOnlyMemory<char>[][] _textLists;
        private readonly float[][] _floatLists;
        private readonly int[] _listLengths;
        private readonly bool _countPass;
        private readonly List<long> _skippedRows = [];
        private readonly int[] _listStarts; // text lists read straight from the row group's values
        private readonly ParquetColumnValues?[] _group;
        private readonly ParquetChunkDecoder _decoder;
        private int _part = -1;
        private ParquetReader? _reader;
        private FileStream? _file; // the reader's stream, which chunks are also decoded from
        private int _rowGroup = -1;
        private int _rowInGroup;
        private long _rowsBeforeGroup; // rows of the current file before the current row group
        private long _rowIndex = -1; // among all rows read, good or bad
        private long _position = -1;
        private long _skipped;
        private ParquetBadRow? _firstBad;
        private bool _done;
        private bool _returned;

        public Cursor(ParquetDataSource parent, bool[] active)
        {
            _parent = parent;
            _active = active;
            int count = parent.Schema.Count;
            _kinds = new ParquetColumnKind[count];
            _vectors = new bool[count];
            for (int i = 0; i < count; i++)
            {
                _kinds[i] = parent.Settings.Columns[i].Kind;
                _vectors[i] = parent.Schema[i].Type is VectorDataViewType;
            }
            _numbers = new float[count];
            _booleans = new bool[count];
            _texts = new ReadOnlyMemory<char>[count];
            _textLists = new ReadOnlyMemory<char>[count][];
            _floatLists = new float[count][];
            _listLengths = new int[count];
            _listStarts = new int[count];
            // The buffers of the last cursor closed: passes one after the other (training epochs) reuse them.
            Buffers? spare = Interlocked.Exchange(ref parent._spare, null);
            _group = spare?.Group.Length == count ? spare.Group : new ParquetColumnValues?[count];
            _decoder = spare?.Decoder ?? new ParquetChunkDecoder();
            _countPass = parent.Summary is null;
        }

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => _parent.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override bool MoveNext()
        {
            if (_done)
                return false;
            while (NextRow())
            {
                _rowIndex++;
                ParquetBadRow? bad = ParseRow();
                if (bad is null)
                {
                    _position++;
                    return true;
                }
                if (_parent.Settings.BadRows == BadRowPolicy.Error)
                    throw new ParquetBadRowException(bad);
                _firstBad ??= bad;
                _skipped++;
                if (_countPass)
                    _skippedRows.Add(_rowIndex);
            }
            if (_countPass)
                _parent.CompletePass(new FileReadSummary(_position + 1, _skipped, _firstBad?.ToString(), [.. _skippedRows]));
            Close();
            _done = true;
            return false;
        }

        private bool NextRow()
        {
            if (_reader is not null && _rowGroup >= 0 && _rowInGroup + 1 < _groupRows)
            {
                _rowInGroup++;
                return true;
            }
            while (true)
            {
                if (_reader is not null && _rowGroup + 1 < _reader.RowGroupCount)
                {
                    LoadRowGroup(_rowGroup + 1);
                    if (_groupRows > 0)
                        return true;
                    continue;
                }
                if (!OpenNextPart())
                    return false;
            }
        }

        private int _groupRows;

        private bool OpenNextPart()
        {
            Close();
            if (++_part >= _parent._parts.Length)
                return false;
            string file = _parent._parts[_part].File;
            try
            {
                // A synchronous stream: every read the library awaits completes at once, with no thread-pool hop,
                // which on a busy machine is the difference between reading and waiting.
                _file = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.None);
                _reader = ParquetReader.CreateAsync(_file, leaveStreamOpen: false).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is not (FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException))
            {
                throw new FormatException($"{file}: not a readable Parquet file ({e.Message}); export it again as Parquet.", e);
            }
            _rowGroup = -1;
            _rowsBeforeGroup = 0;
            return true;
        }

        private void LoadRowGroup(int index)
        {
            Part part = _parent._parts[_part];
            if (_rowGroup >= 0)
                _rowsBeforeGroup += _groupRows;
            _rowGroup = index;
            using ParquetRowGroupReader group = _reader!.OpenRowGroupReader(index);
            _groupRows = checked((int)group.RowCount);
            for (int i = 0; i < _group.Length; i++)
            {
                Source source = part.Sources[i];
                if (source.IsPartitionKey)
                {
                    _group[i] = ParquetColumnValues.Constant(_groupRows, source.PartitionValue);
                    continue;
                }
                try
                {
                    _group[i] = ParquetColumnValues.Read(group, _file!, source.Field!, source.IsList, _group[i], _decoder);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new FormatException($"{part.File} row group {index}, column '{_parent.Settings.Columns[i].Name}': the data cannot be read ({e.Message}); the file is damaged or not written as its footer says, so export it again.", e);
                }
            }
            _rowInGroup = 0;
        }

        private ParquetBadRow? ParseRow()
        {
            int r = _rowInGroup;
            for (int i = 0; i < _group.Length; i++)
            {
                ParquetColumnValues values = _group[i]!;
                string? problem = null;
                string? fix = null;
                if (_vectors[i])
                    problem = ParseList(i, values, r, out fix);
                else if (_kinds[i] is ParquetColumnKind.Text or ParquetColumnKind.Weights)
                {
                    if (!values.IsText) // strings are read by the getter straight from the row group's values
                        _texts[i] = values.Present[r] ? TextOf(values, r) : default;
                }
                else if (_kinds[i] == ParquetColumnKind.Boolean)
                    problem = ParseBoolean(values, r, out _booleans[i], out fix);
                else
                    problem = ParseNumber(values, r, _kinds[i] == ParquetColumnKind.Label, out _numbers[i], out fix);
                if (problem is not null)
                    return new ParquetBadRow(_parent._parts[_part].File, _rowGroup, _rowsBeforeGroup + r + 1, _parent.Settings.Columns[i].Name, problem, fix!);
            }
            return null;
        }

        private string? ParseList(int i, ParquetColumnValues values, int r, out string? fix)
        {
            fix = null;
            int start = values.Offsets![r], count = values.Offsets[r + 1] - start;
            _listLengths[i] = count;
            if (_kinds[i] == ParquetColumnKind.Text)
            {
                _listStarts[i] = start;
                if (values.IsText)
                    return null; // the getter copies from the row group's values
                ReadOnlyMemory<char>[] list = _textLists[i] = Ensure(_textLists[i], count);
                for (int e = 0; e < count; e++)
                    list[e] = values.Present[start + e] ? TextOf(values, start + e) : default;
                return null;
            }
            float[] weights = _floatLists[i] = Ensure(_floatLists[i], count);
            for (int e = 0; e < count; e++)
            {
                int at = start + e;
                string? problem = !values.Present[at] ? "is null"
                    : values.Numbers is double[] numbers ? CheckFinite(numbers[at], out weights[e])
                    : values.Integers is long[] integers ? Assign(weights, e, integers[at])
                    : "is not a number";
                if (problem is not null)
                {
                    fix = "give every element a finite number";
                    return string.Create(CultureInfo.InvariantCulture, $"weight {e + 1} of the list {problem}");
                }
            }
            return null;
        }

        private static string? Assign(float[] weights, int e, long value)
        {
            weights[e] = value;
            return null;
        }

        private static string? CheckFinite(double value, out float single)
        {
            single = (float)value;
            if (double.IsNaN(value) || double.IsInfinity(value))
                return string.Create(CultureInfo.InvariantCulture, $"is {value}, not a finite number");
            return float.IsFinite(single) ? null : string.Create(CultureInfo.InvariantCulture, $"is {value:R}, too large for a 32-bit float");
        }

        private static string? ParseNumber(ParquetColumnValues values, int r, bool label, out float value, out string? fix)
        {
            fix = null;
            value = float.NaN;
            string? problem = null;
            if (!values.Present[r])
            {
                if (!label)
                    return null;
                fix = "give every row a label, 0 or 1";
                return "the label is null";
            }
            if (values.Numbers is double[] numbers)
            {
                double number = numbers[r];
                if (double.IsNaN(number) && !label)
                    return null;
                problem = CheckFinite(number, out value) is string notFinite ? "the value " + notFinite : null;
            }
            else if (values.Integers is long[] integers)
            {
                value = integers[r];
            }
            else if (values.Booleans is bool[] booleans)
            {
                value = booleans[r] ? 1 : 0;
            }
            else
            {
                ReadOnlySpan<char> text = values.TextAt(r).Span.Trim();
                if (text.IsEmpty && !label)
                    return null;
                if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !float.IsFinite(value))
                    problem = $"'{Shorten(text)}' is not a finite number";
            }
            if (problem is null && label && value is not (0f or 1f))
                problem = string.Create(CultureInfo.InvariantCulture, $"{value} is not a label");
            if (problem is not null)
                fix = label ? "a label is 0 (no click) or 1 (click)" : "fix the value, or write null for a missing value";
            return problem;
        }

        private static string? ParseBoolean(ParquetColumnValues values, int r, out bool value, out string? fix)
        {
            fix = "give every row a value: true, false, 1 or 0";
            value = false;
            if (!values.Present[r])
                return "the value is null";
            if (values.Booleans is bool[] booleans)
                value = booleans[r];
            else if (values.Integers is long[] integers && integers[r] is 0 or 1)
                value = integers[r] == 1;
            else if (values.IsText && TryParseBoolean(values.TextAt(r).Span.Trim(), out value))
            {
            }
            else
                return $"'{Shorten(TextOf(values, r).Span)}' is not true, false, 1 or 0";
            fix = null;
            return null;
        }

        private static bool TryParseBoolean(ReadOnlySpan<char> text, out bool value)
        {
            value = text is "1" || text.Equals("true", StringComparison.OrdinalIgnoreCase);
            return value || text is "0" || text.Equals("false", StringComparison.OrdinalIgnoreCase);
        }

        private static ReadOnlyMemory<char> TextOf(ParquetColumnValues values, int e) =>
            values.IsText ? values.TextAt(e)
            : values.Integers is long[] integers ? integers[e].ToString(CultureInfo.InvariantCulture).AsMemory()
            : values.Numbers is double[] numbers ? (double.IsNaN(numbers[e]) ? default : numbers[e].ToString("R", CultureInfo.InvariantCulture).AsMemory())
            : (values.Booleans![e] ? "true" : "false").AsMemory();

        private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 40 ? text.ToString() : $"{text[..37]}...";

        private static T[] Ensure<T>(T[]? array, int length) =>
            array is not null && array.Length >= length ? array : new T[Math.Max(length, Math.Max(16, (array?.Length ?? 0) * 2))];

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < 0 || column.Index >= _active.Length || !_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            int i = column.Index;
            Delegate getter = column.Type switch
            {
                TextDataViewType => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) =>
                    v = _group[i] is { IsText: true } values ? (values.Present[_rowInGroup] ? values.TextAt(_rowInGroup) : default) : _texts[i]),
                BooleanDataViewType => (ValueGetter<bool>)((ref bool v) => v = _booleans[i]),
                VectorDataViewType { ItemType: TextDataViewType } => (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> v) =>
                {
                    int count = _listLengths[i];
                    var editor = VBufferEditor.Create(ref v, count);
                    if (_group[i]!.Texts is ReadOnlyMemory<char>[] texts)
                    {
                        int start = _listStarts[i];
                        texts.AsSpan(start, count).CopyTo(editor.Values);
                        if (_group[i]!.HasNulls)
                        {
                            bool[] present = _group[i]!.Present;
                            for (int e = 0; e < count; e++)
                            {
                                if (!present[start + e])
                                    editor.Values[e] = default;
                            }
                        }
                    }
                    else if (_group[i]!.TextIndices is int[] indices)
                    {
                        int start = _listStarts[i];
                        ReadOnlyMemory<char>[] dictionary = _group[i]!.Dictionary!;
                        bool[] present = _group[i]!.Present;
                        Span<ReadOnlyMemory<char>> values = editor.Values;
                        for (int e = 0; e < count; e++)
                            values[e] = present[start + e] ? dictionary[indices[start + e]] : default;
                    }
                    else
                    {
                        _textLists[i].AsSpan(0, count).CopyTo(editor.Values);
                    }
                    v = editor.Commit();
                }),
                VectorDataViewType => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                {
                    var editor = VBufferEditor.Create(ref v, _listLengths[i]);
                    _floatLists[i].AsSpan(0, _listLengths[i]).CopyTo(editor.Values);
                    v = editor.Commit();
                }),
                _ => (ValueGetter<float>)((ref float v) => v = _numbers[i]),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private void Close()
        {
            _reader?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _reader = null;
            _file?.Dispose();
            _file = null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_returned)
            {
                Close();
                _done = true;
                _returned = true;
                Volatile.Write(ref _parent._spare, new Buffers(_decoder, _group));
            }
            base.Dispose(disposing);
        }
    }
}
