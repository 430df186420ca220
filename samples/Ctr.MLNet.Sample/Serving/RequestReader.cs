using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>A request the server refuses: the HTTP status (4xx) and a message naming the problem.</summary>
public sealed class RequestException : Exception
{
    /// <summary>Creates the error.</summary>
    public RequestException(int statusCode, string message)
        : base(message) => StatusCode = statusCode;

    /// <summary>Creates the error with the exception that caused it.</summary>
    public RequestException(int statusCode, string message, Exception inner)
        : base(message, inner) => StatusCode = statusCode;

    /// <summary>The HTTP status to answer with.</summary>
    public int StatusCode { get; }
}

/// <summary>
/// Turns a predict request body into a <see cref="ColumnarDataView"/> with a model's input schema. Two forms:
/// <c>{"features": {"col": [v1, v2, ...], ...}}</c> (columnar, every column the same length) and
/// <c>{"rows": [{"col": v, ...}, ...]}</c>. Every input column but the label must be given (in the row form: by at
/// least one row; a row that lacks a key has a missing value there); unknown keys are ignored. Values: text columns
/// take strings (a number is taken as its JSON text; null is the empty, missing value, as an empty CSV field),
/// numeric columns take numbers or null (missing, NaN); a number beyond the column's float range is refused, as the
/// CSV reader refuses it. List columns take a JSON array of ids (strings, or numbers taken as their text) and their
/// weight columns an array of numbers; the delimited string of the CSV works too, and <c>[]</c>, <c>""</c> or null is
/// an empty list. In array form an id holding the separator is one id. Every list must have as many weights as ids.
/// Anything else is a <see cref="RequestException"/> naming the column, row and, in a list, the element.
/// </summary>
public static class RequestReader
{
    /// <summary>Parses <paramref name="body"/> for <paramref name="model"/> within <paramref name="limits"/>.</summary>
    /// <exception cref="RequestException">The body is empty, not JSON, too deep, of the wrong shape, has too many rows, or a value of the wrong type.</exception>
    public static ColumnarDataView Read(ReadOnlyMemory<byte> body, ServedModel model, ServeSettings limits) =>
        Read(body, model, limits, new char[body.Length]);

    /// <summary>
    /// <see cref="Read(ReadOnlyMemory{byte}, ServedModel, ServeSettings)"/> with the view's text decoded into
    /// <paramref name="text"/> (at least <c>body.Length</c> chars) rather than a string per value: the view's text values
    /// are slices of it, so the caller keeps it unchanged until the view is scored (the server rents it per request).
    /// </summary>
    public static ColumnarDataView Read(ReadOnlyMemory<byte> body, ServedModel model, ServeSettings limits, Memory<char> text)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfLessThan(text.Length, body.Length, nameof(text));
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        if (body.Span.StartsWith(bom))
            body = body[bom.Length..];
        if (IsBlank(body.Span))
            throw new RequestException(400, "The request body is empty; send a JSON object with \"features\" (an object of column arrays) or \"rows\" (an array of row objects).");

        if (!Utf8.IsValid(body.Span))
            throw new RequestException(400, "The request body is not valid UTF-8; send JSON encoded as UTF-8.");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = limits.MaxJsonDepth });
        }
        catch (JsonException e) when (e.Message.Contains("maximum configured depth", StringComparison.OrdinalIgnoreCase))
        {
            throw new RequestException(400, $"The JSON is nested deeper than the limit of {limits.MaxJsonDepth} levels.", e);
        }
        catch (JsonException e)
        {
            throw new RequestException(400, $"Malformed JSON: {e.Message}", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new RequestException(400, $"The request body must be a JSON object with \"features\" or \"rows\", not {Describe(root)}.");
            bool hasFeatures = TryGetOnly(root, "features", out JsonElement features);
            bool hasRows = TryGetOnly(root, "rows", out JsonElement rows);
            if (hasFeatures && hasRows)
                throw new RequestException(400, "The request has both \"features\" and \"rows\"; send one of them.");
            var texts = new TextBuffer(text);
            if (hasFeatures)
                return ReadColumns(features, model, limits, texts);
            if (hasRows)
                return ReadRows(rows, model, limits, texts);
            throw new RequestException(400, "The request has neither \"features\" (an object of column arrays) nor \"rows\" (an array of row objects).");
        }
    }

    /// <summary>
    /// The property <paramref name="name"/> of <paramref name="root"/>. JSON allows a key twice and
    /// <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> would answer from one of them silently.
    /// </summary>
    private static bool TryGetOnly(JsonElement root, string name, out JsonElement value)
    {
        value = default;
        bool found = false;
        foreach (JsonProperty property in root.EnumerateObject())
        {
            if (!property.NameEquals(name))
                continue;
            if (found)
                throw new RequestException(400, $"The request has \"{name}\" twice; send it once.");
            value = property.Value;
            found = true;
        }
        return found;
    }

    /// <summary>The values of a column with every row missing: empty text, NaN, false, empty (or all-missing) vectors.</summary>
    public static Array MissingColumn(ServedColumn column, int rows)
    {
        ArgumentNullException.ThrowIfNull(column);
        switch (column.Kind)
        {
            case ServedValueKind.Text:
                return new ReadOnlyMemory<char>[rows];
            case ServedValueKind.Single:
                return Enumerable.Repeat(float.NaN, rows).ToArray();
            case ServedValueKind.Double:
                return Enumerable.Repeat(double.NaN, rows).ToArray();
            case ServedValueKind.Boolean:
                return new bool[rows];
            case ServedValueKind.TextVector or ServedValueKind.List:
                var texts = new VBuffer<ReadOnlyMemory<char>>[rows];
                texts.AsSpan().Fill(MissingTextVector(column));
                return texts;
            default:
                var singles = new VBuffer<float>[rows];
                singles.AsSpan().Fill(MissingSingleVector(column));
                return singles;
        }
    }

    private static ColumnarDataView ReadColumns(JsonElement features, ServedModel model, ServeSettings limits, TextBuffer texts)
    {
        if (features.ValueKind != JsonValueKind.Object)
            throw new RequestException(400, $"\"features\" must be an object mapping each column to an array of values (one per row), not {Describe(features)}.");
        var given = new JsonElement?[model.Columns.Length];
        var extra = new List<string>();
        foreach (JsonProperty property in features.EnumerateObject())
        {
            int index = model.IndexOf(property.Name);
            if (index < 0)
            {
                extra.Add(property.Name);
                continue;
            }
            ServedColumn column = model.Columns[index];
            if (column.IsLabel)
                continue;
            if (given[index] is not null)
                throw new RequestException(400, $"Column '{column.Name}' appears twice in \"features\".");
            if (property.Value.ValueKind != JsonValueKind.Array)
                throw new RequestException(400, $"Column '{column.Name}' (features.{column.Name}) must be an array with one value per row, not {Describe(property.Value)}.");
            given[index] = property.Value;
        }
        CheckMissing(model, model.Columns.Select((c, i) => !c.IsLabel && given[i] is null).ToArray(), extra, "\"features\"");

        int[] lengths = [.. given.Select(g => g?.GetArrayLength() ?? -1)];
        int first = Array.FindIndex(lengths, l => l >= 0);
        int rows = first >= 0 ? lengths[first] : 0;
        int other = Array.FindIndex(lengths, l => l >= 0 && l != rows);
        if (other >= 0)
            throw new RequestException(400, $"Columns have different lengths: '{model.Columns[first].Name}' has {rows} values but '{model.Columns[other].Name}' has {lengths[other]}; every column needs one value per row.");
        CheckRowCount(rows, limits);

        var arrays = new Array[model.Columns.Length];
        for (int c = 0; c < arrays.Length; c++)
        {
            ServedColumn column = model.Columns[c];
            arrays[c] = MissingColumn(column, rows);
            if (given[c] is not JsonElement values)
                continue;
            int row = 0;
            foreach (JsonElement value in values.EnumerateArray())
            {
                Set(arrays[c], column, row, value, new Place(column.Name, row, Columnar: true), texts);
                row++;
            }
        }
        CheckWeightCounts(model, arrays, rows, (row, column) => $"features.{column}[{row}]");
        return new ColumnarDataView(model.Schema, arrays);
    }

    private static ColumnarDataView ReadRows(JsonElement rowsElement, ServedModel model, ServeSettings limits, TextBuffer texts)
    {
        if (rowsElement.ValueKind != JsonValueKind.Array)
            throw new RequestException(400, $"\"rows\" must be an array of row objects, not {Describe(rowsElement)}.");
        int rows = rowsElement.GetArrayLength();
        CheckRowCount(rows, limits);
        var arrays = model.Columns.Select(c => MissingColumn(c, rows)).ToArray();
        int[] lastRow = [.. Enumerable.Repeat(-1, arrays.Length)];
        var seen = new bool[arrays.Length];
        var extra = new List<string>();
        int row = 0;
        foreach (JsonElement element in rowsElement.EnumerateArray())
        {
            if (element.ValueKind != JsonValueKind.Object)
                throw new RequestException(400, $"Row {row + 1} (rows[{row}]) must be an object of column values, not {Describe(element)}.");
            foreach (JsonProperty property in element.EnumerateObject())
            {
                int index = model.IndexOf(property.Name);
                if (index < 0)
                {
                    if (extra.Count < 20 && !extra.Contains(property.Name, StringComparer.Ordinal))
                        extra.Add(property.Name);
                    continue;
                }
                ServedColumn column = model.Columns[index];
                if (column.IsLabel)
                    continue;
                if (lastRow[index] == row)
                    throw new RequestException(400, $"Row {row + 1} (rows[{row}]) has column '{column.Name}' twice.");
                lastRow[index] = row;
                seen[index] = true;
                Set(arrays[index], column, row, property.Value, new Place(column.Name, row, Columnar: false), texts);
            }
            row++;
        }
        if (rows > 0)
            CheckMissing(model, model.Columns.Select((c, i) => !c.IsLabel && !seen[i]).ToArray(), extra, "any row");
        CheckWeightCounts(model, arrays, rows, (row, column) => $"rows[{row}].{column}");
        return new ColumnarDataView(model.Schema, arrays);
    }

    private static void CheckRowCount(int rows, ServeSettings limits)
    {
        if (rows > limits.MaxRows)
            throw new RequestException(413, $"The request has {rows} rows; the limit is {limits.MaxRows} rows per request (--max-rows). Split it into smaller requests.");
    }

    private static void CheckMissing(ServedModel model, bool[] missing, List<string> extra, string where)
    {
        string[] names = [.. model.Columns.Where((c, i) => missing[i]).Select(c => c.Name)];
        if (names.Length == 0)
            return;
        string hints = string.Concat(names
            .Select(n => (Name: n, Near: extra.FirstOrDefault(e => string.Equals(e, n, StringComparison.OrdinalIgnoreCase))))
            .Where(p => p.Near is not null)
            .Select(p => $" The request has '{p.Near}'; column names are case-sensitive."));
        string list = string.Join(", ", names.Select(n => $"'{n}'"));
        string needed = string.Join(", ", model.RequiredColumns.Select(c => c.Name));
        throw new RequestException(400, $"Missing column{(names.Length > 1 ? "s" : "")} {list} in {where}; model '{model.Name}' needs: {needed}.{hints}");
    }

    /// <summary>Each list with a weight column must have one weight per id, row by row.</summary>
    private static void CheckWeightCounts(ServedModel model, Array[] arrays, int rows, Func<int, string, string> path)
    {
        for (int c = 0; c < arrays.Length; c++)
        {
            ServedColumn list = model.Columns[c];
            if (list.Kind != ServedValueKind.List || list.Partner is null || model.IndexOf(list.Partner) is not (>= 0 and int w))
                continue;
            var ids = (VBuffer<ReadOnlyMemory<char>>[])arrays[c];
            var weights = (VBuffer<float>[])arrays[w];
            for (int row = 0; row < rows; row++)
            {
                if (ids[row].Length != weights[row].Length)
                    throw new RequestException(400, $"Column '{list.Partner}', row {row + 1} ({path(row, list.Partner)}): {weights[row].Length} weight{(weights[row].Length == 1 ? "" : "s")} for {ids[row].Length} id{(ids[row].Length == 1 ? "" : "s")} in column '{list.Name}' ({path(row, list.Name)}); give exactly one weight per id.");
            }
        }
    }

    private static void Set(Array values, ServedColumn column, int row, JsonElement value, Place path, TextBuffer texts)
    {
        switch (column.Kind)
        {
            case ServedValueKind.Text:
                ((ReadOnlyMemory<char>[])values)[row] = Text(value, column, row, path, texts);
                break;
            case ServedValueKind.List:
                ((VBuffer<ReadOnlyMemory<char>>[])values)[row] = List(value, column, row, path, texts);
                break;
            case ServedValueKind.ListWeights:
                ((VBuffer<float>[])values)[row] = Weights(value, column, row, path, texts);
                break;
            case ServedValueKind.Single:
                ((float[])values)[row] = value.ValueKind switch
                {
                    JsonValueKind.Number => Single(value, column, row, path),
                    JsonValueKind.Null => float.NaN,
                    _ => throw WrongType(column, row, path, value),
                };
                break;
            case ServedValueKind.Double:
                ((double[])values)[row] = value.ValueKind switch
                {
                    JsonValueKind.Number => Double(value, column, row, path),
                    JsonValueKind.Null => double.NaN,
                    _ => throw WrongType(column, row, path, value),
                };
                break;
            case ServedValueKind.Boolean:
                ((bool[])values)[row] = value.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False or JsonValueKind.Null => false,
                    _ => throw WrongType(column, row, path, value),
                };
                break;
            case ServedValueKind.TextVector:
                ((VBuffer<ReadOnlyMemory<char>>[])values)[row] = value.ValueKind == JsonValueKind.Null ? MissingTextVector(column) : TextVector(value, column, row, path, texts);
                break;
            default:
                ((VBuffer<float>[])values)[row] = value.ValueKind == JsonValueKind.Null ? MissingSingleVector(column) : SingleVector(value, column, row, path);
                break;
        }
    }

    // The vectors are read apart from Set: a lambda capturing Set's parameters would allocate its closure on every call
    // of Set, for every value of every request (28% of a 100-row request's allocations when it was there).
    private static VBuffer<ReadOnlyMemory<char>> TextVector(JsonElement value, ServedColumn column, int row, Place path, TextBuffer texts) =>
        new(CheckVector(value, column, row, path), [.. value.EnumerateArray().Select((e, i) => Text(e, column, row, path[i], texts))]);

    private static VBuffer<float> SingleVector(JsonElement value, ServedColumn column, int row, Place path) =>
        new(CheckVector(value, column, row, path), [.. value.EnumerateArray().Select((e, i) => e.ValueKind switch
        {
            JsonValueKind.Number => Single(e, column, row, path[i]),
            JsonValueKind.Null => float.NaN,
            _ => throw WrongType(column, row, path[i], e),
        })]);

    private static int CheckVector(JsonElement value, ServedColumn column, int row, Place path)
    {
        if (value.ValueKind != JsonValueKind.Array)
            throw WrongType(column, row, path, value);
        int length = value.GetArrayLength();
        if (column.VectorSize > 0 && length != column.VectorSize)
            throw new RequestException(400, $"Column '{column.Name}', row {row + 1} ({path}): expected {column.Expected}, got {length}.");
        return length;
    }

    private static ReadOnlyMemory<char> Text(JsonElement value, ServedColumn column, int row, Place path, TextBuffer texts)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                ReadOnlySpan<byte> quoted = JsonMarshal.GetRawUtf8Value(value);
                if (quoted.IndexOf((byte)'\\') < 0)
                    return texts.Add(quoted[1..^1]); // the body is valid UTF-8, and without escapes the bytes are the text
                try
                {
                    return (value.GetString() ?? "").AsMemory();
                }
                catch (InvalidOperationException e)
                {
                    throw new RequestException(400, $"Column '{column.Name}', row {row + 1} ({path}): the string is not valid UTF-8.", e);
                }
            case JsonValueKind.Number:
                return texts.Add(JsonMarshal.GetRawUtf8Value(value));
            case JsonValueKind.Null:
                return ReadOnlyMemory<char>.Empty;
            default:
                throw WrongType(column, row, path, value);
        }
    }

    /// <summary>
    /// A list: an array of ids (strings, or numbers as their text), or the delimited string split as the model's
    /// <c>ParseSequence</c> splits it (an empty or blank string is no ids; an empty piece between separators is an id).
    /// </summary>
    private static VBuffer<ReadOnlyMemory<char>> List(JsonElement value, ServedColumn column, int row, Place path, TextBuffer texts)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return new VBuffer<ReadOnlyMemory<char>>(0, []);
            case JsonValueKind.String or JsonValueKind.Number:
                ReadOnlyMemory<char>[] pieces = Split(Text(value, column, row, path, texts), column.Separator);
                return new VBuffer<ReadOnlyMemory<char>>(pieces.Length, pieces);
            case JsonValueKind.Array:
                var ids = new ReadOnlyMemory<char>[value.GetArrayLength()];
                int i = 0;
                foreach (JsonElement element in value.EnumerateArray())
                {
                    if (element.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
                        throw ElementError(column, row, i, path[i], $"expected an id (a string, or a number taken as its text), got {Describe(element)}");
                    ids[i] = Text(element, column, row, path[i], texts);
                    i++;
                }
                return new VBuffer<ReadOnlyMemory<char>>(ids.Length, ids);
            default:
                throw WrongType(column, row, path, value);
        }
    }

    /// <summary>The weights of a list: an array of numbers, one number, or the delimited string of numbers.</summary>
    private static VBuffer<float> Weights(JsonElement value, ServedColumn column, int row, Place path, TextBuffer texts)
    {
        float[] weights;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return new VBuffer<float>(0, []);
            case JsonValueKind.Number:
                weights = [Weight(value, column, row, 0, path)];
                break;
            case JsonValueKind.String:
                ReadOnlySpan<char> all = Text(value, column, row, path, texts).Span;
                weights = all.IsWhiteSpace() ? [] : new float[all.Count(column.Separator) + 1];
                for (int i = 0, start = 0; i < weights.Length; i++)
                {
                    // The pieces Split would give, without an array of them.
                    int length = all[start..].IndexOf(column.Separator) is >= 0 and int end ? end : all.Length - start;
                    ReadOnlySpan<char> text = all.Slice(start, length).Trim();
                    start += length + 1;
                    if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out weights[i]))
                        throw ElementError(column, row, i, path, $"'{Shorten(text.ToString())}' is not a number");
                    if (!float.IsFinite(weights[i]) || weights[i] < 0) // the message is made only for a bad weight
                        CheckWeight(weights[i], $"'{Shorten(text.ToString())}'", double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double wide) && double.IsFinite(wide), column, row, i, path);
                }
                break;
            case JsonValueKind.Array:
                weights = new float[value.GetArrayLength()];
                int index = 0;
                foreach (JsonElement element in value.EnumerateArray())
                {
                    if (element.ValueKind != JsonValueKind.Number)
                        throw ElementError(column, row, index, path[index], $"expected a weight (a number), got {Describe(element)}");
                    weights[index] = Weight(element, column, row, index, path[index]);
                    index++;
                }
                break;
            default:
                throw WrongType(column, row, path, value);
        }
        return new VBuffer<float>(weights.Length, weights);
    }

    private static float Weight(JsonElement value, ServedColumn column, int row, int element, Place path)
    {
        if (!value.TryGetSingle(out float weight))
            weight = float.PositiveInfinity;
        if (!float.IsFinite(weight) || weight < 0) // the message is made only for a bad weight
            CheckWeight(weight, Shorten(value.GetRawText()), true, column, row, element, path);
        return weight;
    }

    private static void CheckWeight(float weight, string shown, bool isNumber, ServedColumn column, int row, int element, Place path)
    {
        if (!float.IsFinite(weight))
            throw ElementError(column, row, element, path, isNumber ? $"{shown} is too large for a 32-bit float" : $"{shown} is not a finite number");
        if (weight < 0)
            throw ElementError(column, row, element, path, $"{shown} is negative; weights must be finite and not negative");
    }

    /// <summary>Splits as <c>ParseSequence</c> does: a blank string has no pieces; otherwise every separator ends one.</summary>
    private static ReadOnlyMemory<char>[] Split(ReadOnlyMemory<char> text, char separator)
    {
        if (text.Span.IsWhiteSpace())
            return [];
        var pieces = new ReadOnlyMemory<char>[text.Span.Count(separator) + 1];
        int start = 0, count = 0;
        ReadOnlySpan<char> span = text.Span;
        for (int i = 0; i <= span.Length; i++)
        {
            if (i < span.Length && span[i] != separator)
                continue;
            pieces[count++] = text[start..i];
            start = i + 1;
        }
        return pieces;
    }

    private static float Single(JsonElement value, ServedColumn column, int row, Place path) =>
        value.TryGetSingle(out float single) && float.IsFinite(single) ? single : throw OutOfRange(column, row, path, value, "32-bit", "3.4e38");

    private static double Double(JsonElement value, ServedColumn column, int row, Place path) =>
        value.TryGetDouble(out double number) && double.IsFinite(number) ? number : throw OutOfRange(column, row, path, value, "64-bit", "1.7e308");

    private static RequestException OutOfRange(ServedColumn column, int row, Place path, JsonElement value, string width, string limit) =>
        new(400, $"Column '{column.Name}', row {row + 1} ({path}): {Shorten(value.GetRawText())} is too large for a {width} float (at most ±{limit}); send a smaller number, or null for a missing value.");

    /// <summary>
    /// Where a value is in the request, as error messages name it (<c>features.col[3]</c>, <c>rows[3].col</c>, and
    /// <c>[i]</c> for an element of a list); the text is made only when an error needs it.
    /// </summary>
    private readonly record struct Place(string Column, int Row, bool Columnar, int Element = -1)
    {
        public Place this[int element] => this with { Element = element };

        public override string ToString() =>
            (Columnar ? $"features.{Column}[{Row}]" : $"rows[{Row}].{Column}") + (Element >= 0 ? $"[{Element}]" : "");
    }

    private static RequestException ElementError(ServedColumn column, int row, int element, Place path, string problem) =>
        new(400, $"Column '{column.Name}', row {row + 1}, element {element + 1} ({path}): {problem}.");

    private static VBuffer<ReadOnlyMemory<char>> MissingTextVector(ServedColumn column) =>
        new(column.VectorSize, 0, [], []);

    private static VBuffer<float> MissingSingleVector(ServedColumn column) =>
        column.VectorSize > 0 ? new VBuffer<float>(column.VectorSize, Enumerable.Repeat(float.NaN, column.VectorSize).ToArray()) : new VBuffer<float>(0, []);

    private static RequestException WrongType(ServedColumn column, int row, Place path, JsonElement value) =>
        new(400, $"Column '{column.Name}', row {row + 1} ({path}): expected {column.Expected}, got {Describe(value)}.");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        _ => "an object",
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    /// <summary>
    /// The text of a request's values, decoded one after another into one buffer: a value is a slice of it, not a string
    /// of its own (a string per value was most of a request's garbage). The values are disjoint parts of the body, and
    /// UTF-8 never takes fewer bytes than UTF-16 chars, so a buffer of the body's length holds them all.
    /// </summary>
    private sealed class TextBuffer(Memory<char> buffer)
    {
        private int _used;

        public ReadOnlyMemory<char> Add(ReadOnlySpan<byte> utf8)
        {
            int length = Encoding.UTF8.GetChars(utf8, buffer.Span[_used..]);
            ReadOnlyMemory<char> text = buffer.Slice(_used, length);
            _used += length;
            return text;
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> body)
    {
        foreach (byte b in body)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
                return false;
        }
        return true;
    }
}
