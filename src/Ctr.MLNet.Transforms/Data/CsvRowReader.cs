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

    private readonly SepReader _reader;
    private readonly MarkingFallback _fallback;
    private readonly int _maxFieldLength;
    private long _dataRows;
    private long _headerLine;

    private CsvRowReader(string path, int maxFieldLength)
    {
        Path = path;
        _maxFieldLength = maxFieldLength;
        _fallback = new MarkingFallback();
        var encoding = (Encoding)new UTF8Encoding(encoderShouldEmitUTF8Identifier: true).Clone(); // its preamble makes StreamReader skip a BOM
        encoding.DecoderFallback = _fallback;
        var text = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), encoding, detectEncodingFromByteOrderMarks: false, 1 << 16);
        _reader = Sep.New(CsvFeatureData.Separator).Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).From(text);
    }

    /// <summary>The file, as given.</summary>
    public string Path { get; }

    /// <summary>The header's column names, trimmed and unquoted.</summary>
    public ImmutableArray<string> Header { get; private set; }

    /// <summary>The current row (valid until the next <see cref="MoveNext"/>).</summary>
    public SepReader.Row Current => _reader.Current;

    /// <summary>1-based line where the current row starts.</summary>
    public long Line => _reader.Current.LineNumberFrom;

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
        if (!_reader.MoveNext() || IsBlank(_reader.Current) && !MoveToNonBlank())
            CtrThrow.Format($"{Path} line 1: the file is empty; expected a header row with the column names, separated by '{CsvFeatureData.Separator}'.");
        SepReader.Row row = _reader.Current;
        var names = ImmutableArray.CreateBuilder<string>(row.ColCount);
        for (int i = 0; i < row.ColCount; i++)
            names.Add(row[i].Span.Trim().ToString());
        Header = names.MoveToImmutable();
        _headerLine = row.LineNumberFrom == 2 && row.LineNumberToExcl == 2 ? 1 : row.LineNumberFrom;
        // Sep numbers the first row's lines from 2; the header is line 1 unless blank lines come before it.
        if (Check(row) is CsvBadRow bad)
            CtrThrow.Format($"{bad with { Line = _headerLine }}; {bad.Fix} in the header row.");
    }

    private bool MoveToNonBlank()
    {
        while (_reader.MoveNext())
        {
            if (!IsBlank(_reader.Current))
                return true;
        }
        return false;
    }

    /// <summary>Moves to the next non-blank data row; <paramref name="bad"/> is its first structural problem, or null.</summary>
    public bool MoveNext(out CsvBadRow? bad)
    {
        if (!MoveToNonBlank())
        {
            bad = null;
            return false;
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
    private CsvBadRow? CheckQuotes(ReadOnlySpan<char> text)
    {
        const string QuoteFix = "start a quoted field with the quote, end it with one, and write a quote inside it as two quotes (\"\")";
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
                        return BadRow(field, $"a quoted field starts here and its closing quote never comes{Joined()}", QuoteFix);
                    i += quote + 1;
                    if (i < text.Length && text[i] == '"')
                        i++;
                    else
                        break;
                }
                if (i < text.Length && text[i] != CsvFeatureData.Separator)
                    return BadRow(field, $"the field has text after its closing quote{Joined()}", QuoteFix);
            }
            else
            {
                int next = text[i..].IndexOfAny(CsvFeatureData.Separator, '"');
                if (next < 0)
                    return null;
                i += next;
                if (text[i] == '"')
                    return BadRow(field, $"the field has a quote but does not start with one{Joined()}", QuoteFix);
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
        long from = Line, to = _reader.Current.LineNumberToExcl - 1;
        return to > from ? string.Create(CultureInfo.InvariantCulture, $" (the quote joined lines {from} to {to} into this one row)") : "";
    }

    internal static bool IsBlank(SepReader.Row row) => row.ColCount == 1 && row[0].Span.IsWhiteSpace();

    public void Dispose() => _reader.Dispose();

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
