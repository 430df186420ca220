using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Parquet;

namespace Ctr.MLNet.Transforms;

public sealed partial class ParquetDataSource
{
    /// <summary>
    /// One pass over the files. Every loaded column is decoded and checked when its row group is loaded, active or
    /// not, so a row is good or bad the same way in every pass.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Checks and conversions run column by column over the whole row group (<see cref="Prepare"/>), into arrays the
    /// getters index by row; a row some column finds bad is checked again on its own, column by column, for the
    /// message of the first problem. (Checked row by row, a dozen columns cost about a fifth of a read.)
    /// </para>
    /// <para>
    /// Text is the exception: plain strings stay UTF-8 and numbers stay numbers until a getter asks for the row, so the
    /// chars handed out die young when the consumer drops them (see <see cref="ParquetTextChunks"/>).
    /// </para>
    /// <para>
    /// One row group in memory: the next is loaded over the arrays of the last. (Loading the next row group on a second
    /// thread while this one is read was tried: on a shared 2-core machine it was slower by the clock, took 8% more CPU
    /// and half as much memory again.)
    /// </para>
    /// </remarks>
    private sealed class Cursor : DataViewRowCursor
    {
        private readonly ParquetDataSource _parent;
        private readonly bool[] _active;
        private readonly ParquetColumnKind[] _kinds;
        private readonly bool[] _vectors;
        private readonly bool _countPass;
        private readonly List<long> _skippedRows = [];
        private readonly RowGroup _group;
        private int _rowInGroup;
        private long _rowIndex = -1; // among all rows read, good or bad
        private long _position = -1;
        private long _skipped;
        private ParquetBadRow? _firstBad;
        private bool _done;
        private bool _returned;
        private readonly ParquetChunkDecoder _decoder;
        private int _part = -1;
        private ParquetReader? _reader;
        private FileStream? _file; // the reader's stream, which chunks are also decoded from
        private int _rowGroup = -1;
        private long _rowsBeforeGroup; // rows of the current file before the row group last loaded
        private int _loadedRows; // rows of the row group last loaded
        private readonly ParquetTextChunks _texts = new(); // what the getters widen or spell, side by side

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
            // The buffers of the last cursor closed: passes one after the other (training epochs) reuse them.
            Buffers? spare = Interlocked.Exchange(ref parent._spare, null);
            _group = spare?.Group.Values.Length == count ? spare.Group : new RowGroup(count);
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
            if (_rowIndex >= 0 && _rowInGroup + 1 < _group.Rows)
            {
                _rowInGroup++;
                return true;
            }
            _rowInGroup = 0;
            return LoadNext(_group);
        }

        /// <summary>Loads the next row group that has rows into <paramref name="into"/>; false at the end of the files.</summary>
        private bool LoadNext(RowGroup into)
        {
            while (true)
            {
                if (_reader is not null && _rowGroup + 1 < _reader.RowGroupCount)
                {
                    LoadRowGroup(_rowGroup + 1, into);
                    if (into.Rows > 0)
                        return true;
                    continue;
                }
                if (!OpenNextPart())
                    return false;
            }
        }

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
            _loadedRows = 0;
            return true;
        }

        private void LoadRowGroup(int index, RowGroup into)
        {
            Part part = _parent._parts[_part];
            _rowsBeforeGroup += _loadedRows;
            _rowGroup = index;
            using ParquetRowGroupReader group = _reader!.OpenRowGroupReader(index);
            int rows = _loadedRows = checked((int)group.RowCount);
            (into.Part, into.Index, into.RowsBefore, into.Rows) = (_part, index, _rowsBeforeGroup, rows);
            ParquetColumnValues?[] values = into.Values;
            for (int i = 0; i < values.Length; i++)
            {
                Source source = part.Sources[i];
                if (source.IsPartitionKey)
                {
                    values[i] = ParquetColumnValues.Constant(rows, source.PartitionValue);
                    continue;
                }
                try
                {
                    values[i] = ParquetColumnValues.Read(group, _file!, source.Field!, source.IsList, values[i], _decoder);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    throw new FormatException($"{part.File} row group {index}, column '{_parent.Settings.Columns[i].Name}': the data cannot be read ({e.Message}); the file is damaged or not written as its footer says, so export it again.", e);
                }
            }
            into.Bad = Ensure(into.Bad, rows);
            Array.Clear(into.Bad, 0, rows);
            into.AnyBad = false;
            for (int i = 0; i < values.Length; i++)
                Prepare(into, i, values[i]!);
        }

        private static void MarkBad(RowGroup group, int r)
        {
            group.Bad[r] = true;
            group.AnyBad = true;
        }

        /// <summary>Checks and converts column <paramref name="i"/> of the row group at once, for the getters.</summary>
        private void Prepare(RowGroup group, int i, ParquetColumnValues values)
        {
            int rows = values.Rows;
            if (_vectors[i])
            {
                if (_kinds[i] != ParquetColumnKind.Text) // text needs no checks: the getter reads, widens or spells each element
                    PrepareWeights(group, i, values, values.Offsets!);
                return;
            }
            switch (_kinds[i])
            {
                case ParquetColumnKind.Text or ParquetColumnKind.Weights:
                    if (values.Texts is ReadOnlyMemory<char>[] texts)
                    {
                        group.RowTexts[i] = texts; // empty where null
                    }
                    else if (values.TextIndices is int[] indices)
                    {
                        // Looked up here in one tight loop, where the misses in a large dictionary overlap, not one
                        // per getter call.
                        ReadOnlyMemory<char>[] dictionary = values.Dictionary!, target = group.RowTexts[i] = group.Spelled[i] = Ensure(group.Spelled[i] ?? [], rows);
                        bool[] present = values.Present;
                        for (int r = 0; r < rows; r++)
                            target[r] = present[r] ? dictionary[indices[r]] : default;
                    }
                    else if (values.Integers is long[] integers && AllSmall(integers.AsSpan(0, rows)))
                    {
                        // Small integer codes (hours, days, slots) spelled here from the shared spellings, nothing
                        // allocated: one tight loop per row group instead of the getter's checks per row.
                        ReadOnlyMemory<char>[] target = group.RowTexts[i] = group.Spelled[i] = Ensure(group.Spelled[i] ?? [], rows);
                        bool[] present = values.Present;
                        for (int r = 0; r < rows; r++)
                            target[r] = present[r] ? SmallIntegers[integers[r]] : default;
                    }
                    else
                    {
                        // Strings kept as UTF-8, other numbers or booleans: the getter widens or spells the row's value,
                        // so what a consumer drops dies young instead of living as long as the row group.
                        group.RowTexts[i] = null;
                    }
                    break;
                case ParquetColumnKind.Boolean:
                {
                    bool[] booleans = group.Booleans[i] = Ensure(group.Booleans[i] ?? [], rows);
                    for (int r = 0; r < rows; r++)
                    {
                        if (ParseBoolean(values, r, out booleans[r], out _) is not null)
                            MarkBad(group, r);
                    }
                    break;
                }
                default:
                    PrepareNumbers(group, i, values, _kinds[i] == ParquetColumnKind.Label);
                    break;
            }
        }

        /// <summary>Whether every value is one of <see cref="SmallIntegers"/> (a null's slot holds 0).</summary>
        private static bool AllSmall(ReadOnlySpan<long> integers)
        {
            foreach (long integer in integers)
            {
                if ((ulong)integer >= (ulong)SmallIntegers.Length)
                    return false;
            }
            return true;
        }

        /// <summary>Single and Label columns by row; the two common physical types without a call per row, the same checks as <see cref="ParseNumber"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void PrepareNumbers(RowGroup group, int i, ParquetColumnValues values, bool label)
        {
            int rows = values.Rows;
            float[] floats = group.Floats[i] = Ensure(group.Floats[i] ?? [], rows);
            bool[] present = values.Present;
            if (values.Numbers is double[] numbers)
            {
                for (int r = 0; r < rows; r++)
                {
                    if (!present[r])
                    {
                        floats[r] = float.NaN;
                        if (label)
                            MarkBad(group, r);
                        continue;
                    }
                    double number = numbers[r];
                    float value = floats[r] = (float)number;
                    // A missing value (NaN) is fine but for a label; ±∞, or beyond a float's range, never.
                    if (label ? value is not (0f or 1f) : !float.IsFinite(value) && !double.IsNaN(number))
                        MarkBad(group, r);
                }
            }
            else if (values.Integers is long[] integers)
            {
                for (int r = 0; r < rows; r++)
                {
                    if (!present[r])
                    {
                        floats[r] = float.NaN;
                        if (label)
                            MarkBad(group, r);
                        continue;
                    }
                    float value = floats[r] = integers[r];
                    if (label && value is not (0f or 1f))
                        MarkBad(group, r);
                }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    if (ParseNumber(values, r, label, out floats[r], out _) is not null)
                        MarkBad(group, r);
                }
            }
        }

        /// <summary>A list of weights by element: the same checks as <see cref="ParseList"/>, the row of a bad element bad.</summary>
        private static void PrepareWeights(RowGroup group, int i, ParquetColumnValues values, int[] offsets)
        {
            int rows = values.Rows, elements = offsets[rows];
            float[] floats = group.Floats[i] = Ensure(group.Floats[i] ?? [], elements);
            bool[] present = values.Present;
            if (values.Singles is float[] || values.Numbers is double[])
            {
                bool allFinite = values.Singles is float[] singles
                    ? CopyAllFinite(singles.AsSpan(0, elements), floats.AsSpan(0, elements))
                    : NarrowAllFinite(values.Numbers!.AsSpan(0, elements), floats.AsSpan(0, elements));
                if (values.HasNulls || !allFinite)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        for (int e = offsets[r]; e < offsets[r + 1]; e++)
                        {
                            if (!present[e] || !float.IsFinite(floats[e]))
                            {
                                MarkBad(group, r);
                                break;
                            }
                        }
                    }
                }
            }
            else if (values.Integers is long[] integers)
            {
                for (int e = 0; e < elements; e++)
                    floats[e] = integers[e];
                if (values.HasNulls)
                {
                    for (int r = 0; r < rows; r++)
                    {
                        if (present.AsSpan(offsets[r], offsets[r + 1] - offsets[r]).Contains(false))
                            MarkBad(group, r);
                    }
                }
            }
            else
            {
                for (int r = 0; r < rows; r++)
                {
                    if (offsets[r + 1] > offsets[r]) // an element that is no number
                        MarkBad(group, r);
                }
            }
        }

        /// <summary>The doubles as floats, 8 a step; whether all of them are finite as floats.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static bool NarrowAllFinite(ReadOnlySpan<double> source, Span<float> target)
        {
            // x - x is 0 for a finite x and NaN for ±∞ and NaN, so one NaN test at the end tells all finite.
            Vector256<float> sums = Vector256<float>.Zero;
            int e = 0;
            for (; source.Length - e >= Vector256<float>.Count; e += Vector256<float>.Count)
            {
                Vector256<float> values = Vector256.Narrow(Vector256.Create(source.Slice(e, Vector256<double>.Count)),
                    Vector256.Create(source.Slice(e + Vector256<double>.Count, Vector256<double>.Count)));
                values.CopyTo(target[e..]);
                sums += values - values;
            }
            float sum = Vector256.Sum(sums);
            for (; e < source.Length; e++)
            {
                float value = target[e] = (float)source[e];
                sum += value - value;
            }
            return sum == 0;
        }

        /// <summary>The floats copied, 8 a step; whether all of them are finite.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static bool CopyAllFinite(ReadOnlySpan<float> source, Span<float> target)
        {
            Vector256<float> sums = Vector256<float>.Zero;
            int e = 0;
            for (; source.Length - e >= Vector256<float>.Count; e += Vector256<float>.Count)
            {
                Vector256<float> values = Vector256.Create(source.Slice(e, Vector256<float>.Count));
                values.CopyTo(target[e..]);
                sums += values - values;
            }
            float sum = Vector256.Sum(sums);
            for (; e < source.Length; e++)
            {
                float value = target[e] = source[e];
                sum += value - value;
            }
            return sum == 0;
        }

        /// <summary>The text of element <paramref name="e"/> of a column of numbers or booleans; empty where null.</summary>
        private ReadOnlyMemory<char> Spell(ParquetColumnValues values, int e) => values.Present[e] ? SpellAt(values, e) : default;

        private ParquetBadRow? ParseRow()
        {
            int r = _rowInGroup;
            RowGroup group = _group;
            if (!group.AnyBad || !group.Bad[r])
                return null;
            // A bad row: the first column that finds it bad, with its message and fix.
            string file = _parent._parts[group.Part].File;
            for (int i = 0; i < group.Values.Length; i++)
            {
                ParquetColumnValues values = group.Values[i]!;
                string? problem = null;
                string? fix = null;
                if (_vectors[i])
                {
                    if (_kinds[i] != ParquetColumnKind.Text)
                        problem = ParseList(values, r, out fix);
                }
                else if (_kinds[i] == ParquetColumnKind.Boolean)
                    problem = ParseBoolean(values, r, out _, out fix);
                else if (_kinds[i] is not (ParquetColumnKind.Text or ParquetColumnKind.Weights))
                    problem = ParseNumber(values, r, _kinds[i] == ParquetColumnKind.Label, out _, out fix);
                if (problem is not null)
                    return new ParquetBadRow(file, group.Index, group.RowsBefore + r + 1, _parent.Settings.Columns[i].Name, problem, fix!);
            }
            throw new InvalidOperationException($"{file} row group {group.Index}, row {group.RowsBefore + r + 1:N0}: a column found the row bad but names no problem; please report this.");
        }

        /// <summary>The first problem of row <paramref name="r"/> of a list of weights.</summary>
        private static string? ParseList(ParquetColumnValues values, int r, out string? fix)
        {
            fix = null;
            int start = values.Offsets![r], count = values.Offsets[r + 1] - start;
            for (int e = 0; e < count; e++)
            {
                int at = start + e;
                string? problem = !values.Present[at] ? "is null"
                    : values.Numbers is double[] numbers ? CheckFinite(numbers[at], out _)
                    : values.Integers is long[] ? null
                    : "is not a number";
                if (problem is not null)
                {
                    fix = "give every element a finite number";
                    return string.Create(CultureInfo.InvariantCulture, $"weight {e + 1} of the list {problem}");
                }
            }
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

        /// <summary>"0" to "1023", spelled once for every cursor: small integer codes (hours, days, slots) are most of the numbers read as text.</summary>
        private static readonly ReadOnlyMemory<char>[] SmallIntegers = [.. Enumerable.Range(0, 1024).Select(n => n.ToString(CultureInfo.InvariantCulture).AsMemory())];

        /// <summary><see cref="TextOf"/> without a string per value: numbers are formatted into the cursor's chunk of text.</summary>
        private ReadOnlyMemory<char> SpellAt(ParquetColumnValues values, int e)
        {
            if (values.Booleans is bool[] booleans)
                return (booleans[e] ? "true" : "false").AsMemory();
            if (values.Numbers is double[] numbers && double.IsNaN(numbers[e]))
                return default;
            if (values.Integers is long[] small && (ulong)small[e] < (ulong)SmallIntegers.Length)
                return SmallIntegers[small[e]];
            // 32 chars hold any long and any double in round-trip form ("-1.7976931348623157E+308").
            Span<char> target = _texts.Room(32);
            int written;
            bool done = values.Integers is long[] integers
                ? integers[e].TryFormat(target, out written, default, CultureInfo.InvariantCulture)
                : values.Numbers![e].TryFormat(target, out written, "R", CultureInfo.InvariantCulture);
            return done ? _texts.Take(written) : TextOf(values, e);
        }

        private static string Shorten(ReadOnlySpan<char> text) => text.Length <= 40 ? text.ToString() : $"{text[..37]}...";

        // As the decoder's buffers: an eighth to spare for the next row group, not twice the size (pages touched once cost a fault each).
        private static T[] Ensure<T>(T[]? array, int length) => ParquetChunkDecoder.Ensure(array ?? [], length);

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index < 0 || column.Index >= _active.Length || !_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            int i = column.Index;
            Delegate getter = column.Type switch
            {
                TextDataViewType => (ValueGetter<ReadOnlyMemory<char>>)((ref ReadOnlyMemory<char> v) =>
                {
                    RowGroup group = _group;
                    int r = _rowInGroup;
                    ParquetColumnValues values = group.Values[i]!;
                    if (values.Utf8Ranges is Utf8Range[] ranges)
                        v = _texts.Widen(values.Utf8!, ranges[r]);
                    else
                        v = group.RowTexts[i] is ReadOnlyMemory<char>[] texts ? texts[r] : Spell(values, r);
                }),
                BooleanDataViewType => (ValueGetter<bool>)((ref bool v) => v = _group.Booleans[i]![_rowInGroup]),
                VectorDataViewType { ItemType: TextDataViewType } => (ValueGetter<VBuffer<ReadOnlyMemory<char>>>)((ref VBuffer<ReadOnlyMemory<char>> v) =>
                {
                    RowGroup group = _group;
                    ParquetColumnValues values = group.Values[i]!;
                    int start = values.Offsets![_rowInGroup], count = values.Offsets[_rowInGroup + 1] - start;
                    var editor = VBufferEditor.Create(ref v, count);
                    Span<ReadOnlyMemory<char>> target = editor.Values;
                    if (values.Utf8Ranges is Utf8Range[] ranges)
                    {
                        _texts.Widen(values.Utf8!, ranges.AsSpan(start, count), target); // empty where null
                    }
                    else if (values.Texts is ReadOnlyMemory<char>[] texts)
                    {
                        texts.AsSpan(start, count).CopyTo(target); // empty where null
                    }
                    else if (values.TextIndices is int[] indices)
                    {
                        ReadOnlyMemory<char>[] dictionary = values.Dictionary!;
                        ReadOnlySpan<int> row = indices.AsSpan(start, count);
                        if (values.HasNulls)
                        {
                            bool[] present = values.Present;
                            for (int e = 0; e < row.Length; e++)
                                target[e] = present[start + e] ? dictionary[row[e]] : default;
                        }
                        else
                        {
                            for (int e = 0; e < row.Length; e++)
                                target[e] = dictionary[row[e]];
                        }
                    }
                    else
                    {
                        for (int e = 0; e < target.Length; e++)
                            target[e] = Spell(values, start + e);
                    }
                    v = editor.Commit();
                }),
                VectorDataViewType => (ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                {
                    RowGroup group = _group;
                    int[] offsets = group.Values[i]!.Offsets!;
                    int start = offsets[_rowInGroup], count = offsets[_rowInGroup + 1] - start;
                    var editor = VBufferEditor.Create(ref v, count);
                    group.Floats[i].AsSpan(start, count).CopyTo(editor.Values);
                    v = editor.Commit();
                }),
                _ => (ValueGetter<float>)((ref float v) => v = _group.Floats[i]![_rowInGroup]),
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
