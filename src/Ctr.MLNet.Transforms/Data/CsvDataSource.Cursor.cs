using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using nietras.SeparatedValues;

namespace Ctr.MLNet.Transforms;

public sealed partial class CsvDataSource
{
    /// <summary>
    /// One pass over the file. Every loaded column is parsed on <see cref="MoveNext"/>, active or not, so a row is
    /// good or bad the same way in every pass; the getters only hand out what was parsed.
    /// </summary>
    private sealed class Cursor : DataViewRowCursor
    {
        // Text values are slices of append-only chunks: a value stays valid after MoveNext (consumers may keep
        // ReadOnlyMemory), and a row costs no allocation until a chunk fills.
        private const int ChunkLength = 1 << 16;

        private readonly CsvDataSource _parent;
        private readonly bool[] _active;
        private readonly int[] _checkOrder;
        private readonly int[] _weightsOf;
        private readonly float[] _numbers;
        private readonly bool[] _booleans;
        private readonly ReadOnlyMemory<char>[] _texts;
        private readonly bool _countPass;
        private readonly bool _hasText;
        private readonly List<long> _skippedRows = [];
        private CsvRowReader? _reader;
        private char[] _chunk = [];
        private int _chunkUsed;
        private long _position = -1;
        private long _skipped;
        private CsvBadRow? _firstBad;

        public Cursor(CsvDataSource parent, bool[] active)
        {
            _parent = parent;
            _active = active;
            int count = parent._kinds.Length;
            _numbers = new float[count];
            _booleans = new bool[count];
            _texts = new ReadOnlyMemory<char>[count];
            // Report the first bad field of a row by its place in the file, as a reader would look for it.
            _checkOrder = new int[count];
            for (int i = 0; i < count; i++)
                _checkOrder[i] = i;
            Array.Sort(_checkOrder, (a, b) => parent._fileIndexes[a].CompareTo(parent._fileIndexes[b]));
            _hasText = Array.IndexOf(parent._kinds, CsvColumnKind.Text) >= 0;
            ImmutableArray<Column> columns = parent.Settings.Columns;
            _weightsOf = [.. columns.Select(c => c.WeightsOf is string list ? columns.IndexOf(columns.First(l => l.Name == list)) : -1)];
            _countPass = parent.Summary is null;
            _reader = CsvRowReader.Open(parent.Path, parent.Settings.MaxFieldLength);
            if (!_reader.Header.SequenceEqual(parent.Header))
            {
                _reader.Dispose();
                throw new InvalidOperationException($"{parent.Path}: the header changed since the file was loaded; load it again.");
            }
        }

        public override long Position => _position;

        public override long Batch => 0;

        public override DataViewSchema Schema => _parent.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override bool MoveNext()
        {
            if (_reader is null)
                return false;
            while (_reader.MoveNext(out CsvBadRow? bad))
            {
                bad ??= ParseRow(_reader.Current);
                if (bad is null)
                {
                    _position++;
                    return true;
                }
                if (_parent.Settings.BadRows == BadRowPolicy.Error)
                    throw new CsvBadRowException(bad);
                _firstBad ??= bad;
                _skipped++;
                if (_countPass)
                    _skippedRows.Add(_reader.RowIndex);
            }
            if (_countPass)
                _parent.CompletePass(new CsvReadSummary(_position + 1, _skipped, _firstBad, [.. _skippedRows]));
            Close();
            return false;
        }

        private CsvBadRow? ParseRow(SepReader.Row row)
        {
            ImmutableArray<Column> columns = _parent.Settings.Columns;
            int[] fileIndexes = _parent._fileIndexes;
            int textLength = 0;
            foreach (int i in _checkOrder)
            {
                int field = fileIndexes[i];
                ReadOnlySpan<char> text = row[field].Span;
                switch (columns[i].Kind)
                {
                    case CsvColumnKind.Text:
                        textLength += text.Length;
                        if (_weightsOf[i] >= 0 && CheckWeights(text, field, row, _weightsOf[i]) is CsvBadRow badWeights)
                            return badWeights;
                        break;
                    case CsvColumnKind.Single:
                        if (ParseSingle(text, field, out _numbers[i]) is CsvBadRow badNumber)
                            return badNumber;
                        break;
                    case CsvColumnKind.Label:
                        if (ParseLabel(text, field, out _numbers[i]) is CsvBadRow badLabel)
                            return badLabel;
                        break;
                    case CsvColumnKind.Boolean:
                        if (ParseBoolean(text, field, out _booleans[i]) is CsvBadRow badBoolean)
                            return badBoolean;
                        break;
                }
            }
            if (_hasText)
                CopyTexts(row, textLength);
            return null;
        }

        private void CopyTexts(SepReader.Row row, int textLength)
        {
            if (_chunk.Length - _chunkUsed < textLength)
            {
                _chunk = new char[Math.Max(ChunkLength, textLength)];
                _chunkUsed = 0;
            }
            ImmutableArray<Column> columns = _parent.Settings.Columns;
            for (int i = 0; i < columns.Length; i++)
            {
                if (columns[i].Kind != CsvColumnKind.Text)
                    continue;
                ReadOnlySpan<char> text = row[_parent._fileIndexes[i]].Span;
                text.CopyTo(_chunk.AsSpan(_chunkUsed));
                _texts[i] = new ReadOnlyMemory<char>(_chunk, _chunkUsed, text.Length);
                _chunkUsed += text.Length;
            }
        }

        private CsvBadRow? ParseSingle(ReadOnlySpan<char> text, int field, out float value)
        {
            ReadOnlySpan<char> trimmed = text.Trim();
            if (trimmed.IsEmpty)
            {
                value = float.NaN;
                return null;
            }
            if (!float.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
                return _reader!.BadRow(field, $"'{Shorten(trimmed)}' is not a number", "fix the value, or leave the field empty for a missing value");
            if (!float.IsFinite(value))
            {
                // "1e39" overflows a float; "NaN" and "Infinity" are spelled-out non-numbers.
                string problem = double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out double wide) && double.IsFinite(wide)
                    ? $"'{Shorten(trimmed)}' is too large for a 32-bit float"
                    : $"'{Shorten(trimmed)}' is not a finite number";
                return _reader!.BadRow(field, problem, "leave the field empty for a missing value, or fix the value");
            }
            return null;
        }

        /// <summary>The checks <c>ParseSequence</c> and the network make of a weights column, made where the row is known.</summary>
        private CsvBadRow? CheckWeights(ReadOnlySpan<char> text, int field, SepReader.Row row, int listColumn)
        {
            Column list = _parent.Settings.Columns[listColumn];
            char separator = list.ListSeparator!.Value;
            ReadOnlySpan<char> elements = row[_parent._fileIndexes[listColumn]].Span;
            int elementCount = elements.IsWhiteSpace() ? 0 : elements.Count(separator) + 1;
            int weightCount = text.IsWhiteSpace() ? 0 : text.Count(separator) + 1;
            string fix = $"give each element of '{list.Name}' one weight, a finite number of 0 or more, separated by '{separator}'";
            if (weightCount != elementCount)
            {
                return _reader!.BadRow(field, string.Create(CultureInfo.InvariantCulture,
                    $"the row has {weightCount} weight(s) for the {elementCount} element(s) of '{list.Name}'"), fix + " (an empty field is an empty list)");
            }
            if (weightCount == 0)
                return null;
            double sum = 0;
            int index = 0;
            foreach (Range range in text.Split(separator))
            {
                index++;
                ReadOnlySpan<char> weight = text[range].Trim();
                string which = string.Create(CultureInfo.InvariantCulture, $"weight {index} ('{Shorten(weight)}')");
                if (!float.TryParse(weight, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    return _reader!.BadRow(field, $"{which} is not a number", fix);
                if (!float.IsFinite(value))
                    return _reader!.BadRow(field, $"{which} is not a finite 32-bit float", fix);
                if (value < 0)
                    return _reader!.BadRow(field, $"{which} is negative", fix);
                sum += value;
            }
            // Mean pooling divides by this sum in Single: past its range the history would silently become zeros.
            if (sum > float.MaxValue)
            {
                return _reader!.BadRow(field, string.Create(CultureInfo.InvariantCulture, $"the weights add up to {sum:G3}, beyond the range of a 32-bit float"),
                    "scale them down (a weighted mean does not change when every weight is divided by the same number)");
            }
            return null;
        }

        private CsvBadRow? ParseLabel(ReadOnlySpan<char> text, int field, out float value)
        {
            ReadOnlySpan<char> trimmed = text.Trim();
            value = trimmed is "0" ? 0f : trimmed is "1" ? 1f : float.NaN;
            if (!float.IsNaN(value) || float.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && value is 0f or 1f)
                return null;
            return trimmed.IsEmpty
                ? _reader!.BadRow(field, "the label is empty", "give every row a label, 0 or 1")
                : _reader!.BadRow(field, $"'{Shorten(trimmed)}' is not a label", "a label is 0 (no click) or 1 (click)");
        }

        private CsvBadRow? ParseBoolean(ReadOnlySpan<char> text, int field, out bool value)
        {
            ReadOnlySpan<char> trimmed = text.Trim();
            if (trimmed is "1" || trimmed.Equals("true", StringComparison.OrdinalIgnoreCase))
                value = true;
            else if (trimmed is "0" || trimmed.Equals("false", StringComparison.OrdinalIgnoreCase))
                value = false;
            else
            {
                value = false;
                return trimmed.IsEmpty
                    ? _reader!.BadRow(field, "the field is empty", "give every row a value: true, false, 1 or 0")
                    : _reader!.BadRow(field, $"'{Shorten(trimmed)}' is not true, false, 1 or 0", "fix the value");
            }
            return null;
        }

        private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 40 ? text.ToString() : $"{text[..37]}...";

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < 0 || column.Index >= _active.Length || !_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            int i = column.Index;
            Delegate getter = _parent._kinds[i] switch
            {
                CsvColumnKind.Text => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) => v = _texts[i]),
                CsvColumnKind.Boolean => (ValueGetter<bool>)((ref bool v) => v = _booleans[i]),
                _ => (ValueGetter<float>)((ref float v) => v = _numbers[i]),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}; it cannot be read as {typeof(TValue).Name}.");
        }

        private void Close()
        {
            _reader?.Dispose();
            _reader = null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                Close();
            base.Dispose(disposing);
        }
    }
}
