using System;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.Text;
using nietras.SeparatedValues;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The structural half of reading a CSV file, shared by <see cref="CsvDataSource"/> and
/// <see cref="FeatureSpecInference.FromCsv"/>: opens the file as strict UTF-8, reads the header, and yields the
/// non-blank data rows, each with the first structural problem it has (invalid UTF-8, an unclosed quote, a wrong field
/// count, a field over the length limit). What the fields mean is the caller's business.
/// </summary>
internal sealed class CsvRowReader : IDisposable
{
    // Stands for bytes that are not UTF-8. A strict decoder would throw from inside Sep's read-ahead, where the row is
    // unknown; U+FFFF is a noncharacter no text file means to hold, so rows that contain it are the bad ones.
    internal const char InvalidByteMark = '\uFFFF';

    /// <summary>
    /// Longest row, in characters: half of Sep's own 16 Mi-character buffer limit, so this reader always stops a
    /// runaway row first (Sep's buffer also holds the read-ahead that follows the previous row).
    /// </summary>
    internal const int MaxRowLength = 1 << 23;

    private readonly Encoding _encoding;
    private readonly MarkingFallback _fallback;
    private readonly int _maxFieldLength;
    private SepReader _reader;
    private RunawayGuard _guard;
    private long _dataRows;
    private long _headerLine;
    private long _nextLine = 1;
    // Added to Sep's line numbers once reading resumed after a runaway row (see ResumeAfter).
    private long _lineOffset;

    private CsvRowReader(string path, int maxFieldLength)
    {
        Path = path;
        _maxFieldLength = maxFieldLength;
        _fallback = new MarkingFallback();
        _encoding = (Encoding)new UTF8Encoding(encoderShouldEmitUTF8Identifier: true).Clone(); // its preamble makes StreamReader skip a BOM
        _encoding.DecoderFallback = _fallback;
        _guard = new RunawayGuard(OpenText(path, _encoding)) { Limit = RunawayLimit(16) };
        try
        {
            // Sep reads its first row here already.
            _reader = OpenSep(_guard);
        }
        catch (RunawayRowException)
        {
            _guard.Dispose();
            throw new CsvBadRowException(RunawayRow() with { Skippable = false });
        }
        catch
        {
            _guard.Dispose();
            throw;
        }
    }

    private static SepReader OpenSep(TextReader text) =>
        Sep.New(CsvFeatureData.Separator).Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).From(text);

    private static StreamReader OpenText(string path, Encoding encoding) =>
        new(OpenBytes(path), encoding, detectEncodingFromByteOrderMarks: false, 1 << 16);

    private static FileStream OpenBytes(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);

    // Sep holds a row whole, so a quote that never closes would make it read the rest of the file into memory. No
    // good row is this long (every field is within the limit, and no real CTR row nears MaxRowLength), so reading this
    // much without a row ending stops it.
    private long RunawayLimit(int columns) => Math.Min(2L * (columns + 1) * _maxFieldLength + (1 << 16), MaxRowLength);

    /// <summary>The file, as given.</summary>
    public string Path { get; }

    /// <summary>The header's column names, trimmed and unquoted.</summary>
    public ImmutableArray<string> Header { get; private set; }

    /// <summary>The current row (valid until the next <see cref="MoveNext"/>).</summary>
    public SepReader.Row Current => _reader.Current;

    /// <summary>1-based line where the current row starts.</summary>
    public long Line => _reader.Current.LineNumberFrom + _lineOffset;

    /// <summary>0-based index of the current row among the data rows (blank lines are not rows).</summary>
    public long RowIndex => _dataRows - 1;

    /// <summary>Opens <paramref name="path"/> and reads its header.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file is empty, or its header row is malformed.</exception>
    public static CsvRowReader Open(string path, int maxFieldLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Could not find the CSV file '{path}'.", path);
        var reader = new CsvRowReader(path, maxFieldLength);
        try
        {
            reader.ReadHeader();
            return reader;
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    private void ReadHeader()
    {
        bool any;
        try
        {
            any = MoveToNonBlank();
        }
        catch (RunawayRowException)
        {
            throw new CsvBadRowException(RunawayRow() with { Skippable = false });
        }
        if (!any)
            CtrThrow.Format($"{Path} line 1: the file is empty; expected a header row with the column names, separated by '{CsvFeatureData.Separator}'.");
        SepReader.Row row = _reader.Current;
        var names = ImmutableArray.CreateBuilder<string>(row.ColCount);
        for (int i = 0; i < row.ColCount; i++)
            names.Add(row[i].Span.Trim().ToString().Replace(InvalidByteMark, '\uFFFD'));
        Header = names.MoveToImmutable();
        _guard.Limit = RunawayLimit(Header.Length);
        // Sep numbers the first row's lines from 2; the header is line 1 unless blank lines come before it.
        _headerLine = row.LineNumberFrom == 2 && row.LineNumberToExcl == 2 ? 1 : row.LineNumberFrom;
        if (Check(row) is CsvBadRow bad)
            CtrThrow.Format($"{bad with { Line = _headerLine }} (in the header row); {bad.Fix}.");
    }

    private bool MoveToNonBlank()
    {
        while (Next())
        {
            if (!IsBlank(_reader.Current))
                return true;
        }
        return false;
    }

    private bool Next()
    {
        bool more = _reader.MoveNext();
        if (more)
        {
            _nextLine = _reader.Current.LineNumberToExcl + _lineOffset;
            _guard.RowDone();
        }
        return more;
    }

    /// <summary>
    /// The row that ran past the limit starts on the line after the last row; find its misplaced quote by reading
    /// that one line again (at most the limit's worth of it). Without a misplaced quote it is one overlong line.
    /// </summary>
    private CsvBadRow RunawayRow()
    {
        string line = ReadPhysicalLine(_nextLine, (int)Math.Min(_guard.Limit, MaxRowLength));
        string? column(int field) => !Header.IsDefault && field < Header.Length ? Header[field] : null;
        if (FindQuoteProblem(line) is (int field, string problem))
        {
            return new CsvBadRow(Path, _nextLine, field + 1, column(field),
                string.Create(CultureInfo.InvariantCulture, $"{problem}, and the row runs on past {_guard.Limit:N0} characters"), QuoteFix);
        }
        int fields = line.AsSpan().Count(CsvFeatureData.Separator) + 1;
        return new CsvBadRow(Path, _nextLine, fields, column(fields - 1),
            string.Create(CultureInfo.InvariantCulture, $"the line runs on past {_guard.Limit:N0} characters"),
            "shorten the line (so long a line is usually binary data or a missing line break)");
    }

    /// <summary>
    /// Reads on from the line after <paramref name="line"/>: a runaway row is left out as its first line alone, since
    /// no row can be told to end anywhere else.
    /// </summary>
    private void ResumeAfter(long line)
    {
        _reader.Dispose();
        FileStream bytes = OpenBytes(Path);
        try
        {
            // A line feed byte is never part of another UTF-8 character.
            var buffer = new byte[1 << 16];
            long newlines = 0, position = 0;
            while (newlines < line)
            {
                int read = bytes.Read(buffer);
                if (read == 0)
                    break;
                int at = 0;
                while (newlines < line)
                {
                    int found = buffer.AsSpan(at, read - at).IndexOf((byte)'\n');
                    if (found < 0)
                    {
                        at = read;
                        break;
                    }
                    at += found + 1;
                    newlines++;
                }
                position += at;
            }
            bytes.Position = position;
        }
        catch
        {
            bytes.Dispose();
            throw;
        }
        // Sep numbers its first row oddly; a blank first line takes that number, and line 2 is the line after.
        _guard = new RunawayGuard(new StreamReader(bytes, _encoding, detectEncodingFromByteOrderMarks: false, 1 << 16), leadingNewline: true) { Limit = RunawayLimit(Header.Length) };
        _lineOffset = line - 1;
        _nextLine = line + 1;
        _reader = OpenSep(_guard);
    }

    private string ReadPhysicalLine(long line, int maxLength)
    {
        using StreamReader text = OpenText(Path, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        var builder = new StringBuilder();
        long current = 1;
        var buffer = new char[1 << 16];
        for (int read; (read = text.Read(buffer)) > 0;)
        {
            ReadOnlySpan<char> chunk = buffer.AsSpan(0, read);
            while (current < line && !chunk.IsEmpty)
            {
                int newline = chunk.IndexOf('\n');
                if (newline < 0)
                    break;
                current++;
                chunk = chunk[(newline + 1)..];
            }
            if (current < line)
                continue;
            int end = chunk.IndexOf('\n');
            builder.Append(end < 0 ? chunk : chunk[..end]);
            if (end >= 0 || builder.Length >= maxLength)
                break;
        }
        return builder.ToString().TrimEnd('\r');
    }

    /// <summary>Moves to the next non-blank data row; <paramref name="bad"/> is its first structural problem, or null.</summary>
    /// <remarks>A row that runs on past the row length limit is bad, and reading goes on at the line after its first.</remarks>
    public bool MoveNext(out CsvBadRow? bad)
    {
        try
        {
            if (!MoveToNonBlank())
            {
                bad = null;
                return false;
            }
        }
        catch (RunawayRowException)
        {
            _dataRows++;
            bad = RunawayRow();
            ResumeAfter(bad.Line);
            return true;
        }
        _dataRows++;
        bad = Check(_reader.Current);
        if (bad is null && _reader.Current.ColCount != Header.Length)
            bad = FieldCount(_reader.Current);
        return true;
    }

    /// <summary>A bad row at the current line.</summary>
    public CsvBadRow BadRow(int column, string problem, string fix) =>
        new(Path, Line, column + 1, column < Header.Length ? Header[column] : null, problem, fix);

    private CsvBadRow? Check(SepReader.Row row)
    {
        ReadOnlySpan<char> text = row.Span;
        if (_fallback.Count > 0 && text.Contains(InvalidByteMark))
        {
            for (int i = 0; i < row.ColCount; i++)
            {
                if (row[i].Span.Contains(InvalidByteMark))
                    return BadRow(i, "the field has bytes that are not UTF-8 text", "save the file as UTF-8");
            }
        }
        if (text.Contains('"') && CheckQuotes(text) is CsvBadRow quoteProblem)
            return quoteProblem;
        if (text.Length > _maxFieldLength)
        {
            for (int i = 0; i < row.ColCount; i++)
            {
                int length = row[i].Span.Length;
                if (length > _maxFieldLength)
                    return BadRow(i, string.Create(CultureInfo.InvariantCulture, $"the field has {length:N0} characters, over the limit of {_maxFieldLength:N0}"),
                        "shorten the field (such fields are usually a runaway quote or binary data)");
            }
        }
        return null;
    }

    private CsvBadRow FieldCount(SepReader.Row row)
    {
        int count = row.ColCount, expected = Header.Length;
        return BadRow(Math.Min(count, expected), string.Create(CultureInfo.InvariantCulture, $"the row has {count} fields but the header has {expected}"),
            count > expected
                ? "remove the extra fields, or quote a field that contains ','"
                : "add the missing fields (an empty field is a missing value)");
    }

    /// <summary>
    /// Quotes the RFC 4180 way: a quoted field starts with the quote, ends with one, and doubles the quotes inside.
    /// Sep takes any quote as opening or closing one, so a stray quote would silently join the lines up to the next
    /// one into a single field; an unclosed quote runs to the end of the file.
    /// </summary>
    private CsvBadRow? CheckQuotes(ReadOnlySpan<char> text) =>
        FindQuoteProblem(text) is (int field, string problem) ? BadRow(field, problem + Joined(), QuoteFix) : null;

    private const string QuoteFix = "start a quoted field with the quote, end it with one, and write a quote inside it as two quotes (\"\")";

    /// <summary>The 0-based field of the first misplaced quote of <paramref name="text"/> and what is wrong with it.</summary>
    private static (int Field, string Problem)? FindQuoteProblem(ReadOnlySpan<char> text)
    {
        int field = 0, i = 0;
        while (true)
        {
            if (i < text.Length && text[i] == '"')
            {
                i++;
                while (true)
                {
                    int quote = text[i..].IndexOf('"');
                    if (quote < 0)
                        return (field, "a quoted field starts here and its closing quote never comes");
                    i += quote + 1;
                    if (i < text.Length && text[i] == '"')
                        i++;
                    else
                        break;
                }
                if (i < text.Length && text[i] != CsvFeatureData.Separator)
                    return (field, "the field has text after its closing quote");
            }
            else
            {
                int next = text[i..].IndexOfAny(CsvFeatureData.Separator, '"');
                if (next < 0)
                    return null;
                i += next;
                if (text[i] == '"')
                    return (field, "the field has a quote but does not start with one");
            }
            if (i >= text.Length)
                return null;
            i++; // the separator
            field++;
        }
    }

    // Say which lines a misplaced quote swallowed: skipping the row skips them all.
    private string Joined()
    {
        // A quote that runs to the end of the file takes the file's last line break with it; that is no line of its own.
        long from = Line, to = _reader.Current.LineNumberToExcl + _lineOffset - (_reader.Current.Span.EndsWith('\n') ? 2 : 1);
        return to > from ? string.Create(CultureInfo.InvariantCulture, $" (the quote joined lines {from} to {to} into this one row)") : "";
    }

    internal static bool IsBlank(SepReader.Row row) => row.ColCount == 1 && row[0].Span.IsWhiteSpace();

    public void Dispose() => _reader.Dispose();

    private sealed class RunawayRowException : Exception;

    /// <summary>Counts the characters Sep reads while no row comes out, and stops it past <see cref="Limit"/>.</summary>
    private sealed class RunawayGuard(TextReader inner, bool leadingNewline = false) : TextReader
    {
        private long _sinceRow;
        private bool _leadingNewline = leadingNewline;

        public long Limit { get; set; } = long.MaxValue;

        public void RowDone() => _sinceRow = 0;

        public override int Read(Span<char> buffer)
        {
            if (_leadingNewline && buffer.Length > 0)
            {
                _leadingNewline = false;
                buffer[0] = '\n';
                return 1;
            }
            return Count(inner.Read(buffer));
        }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read()
        {
            if (_leadingNewline)
            {
                _leadingNewline = false;
                return '\n';
            }
            int c = inner.Read();
            Count(c < 0 ? 0 : 1);
            return c;
        }

        public override int Peek() => _leadingNewline ? '\n' : inner.Peek();

        private int Count(int read)
        {
            _sinceRow += read;
            if (_sinceRow > Limit)
                throw new RunawayRowException();
            return read;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Dispose();
            base.Dispose(disposing);
        }
    }

    /// <summary>Decodes invalid bytes as <see cref="InvalidByteMark"/> and counts them.</summary>
    private sealed class MarkingFallback : DecoderFallback
    {
        public int Count;

        public override int MaxCharCount => 1;

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer(this);

        private sealed class Buffer(MarkingFallback owner) : DecoderFallbackBuffer
        {
            private int _remaining;

            public override int Remaining => _remaining;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                owner.Count++;
                _remaining = 1;
                return true;
            }

            public override char GetNextChar()
            {
                if (_remaining == 0)
                    return '\0';
                _remaining = 0;
                return InvalidByteMark;
            }

            public override bool MovePrevious()
            {
                if (_remaining != 0)
                    return false;
                _remaining = 1;
                return true;
            }

            public override void Reset() => _remaining = 0;
        }
    }
}
