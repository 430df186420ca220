using System;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>How a request value becomes a column value.</summary>
public enum ServedValueKind
{
    /// <summary>Scalar text: a JSON string (a number is taken as its text).</summary>
    Text,

    /// <summary>Scalar Single: a JSON number, or null for missing (NaN).</summary>
    Single,

    /// <summary>Scalar Double: a JSON number, or null for missing (NaN).</summary>
    Double,

    /// <summary>Scalar Boolean: true, false, or null (false).</summary>
    Boolean,

    /// <summary>A text vector: a JSON array of strings (or numbers); null is an empty vector.</summary>
    TextVector,

    /// <summary>A Single vector: a JSON array of numbers or nulls; null is an empty (or all-missing) vector.</summary>
    SingleVector,

    /// <summary>
    /// A list column the model parses (<c>ParseSequence</c>): a JSON array of ids (strings, or numbers taken as their
    /// text), or the delimited string the CSV holds; <c>[]</c>, <c>""</c> or null is an empty list. Read as a text vector.
    /// </summary>
    List,

    /// <summary>The weights of a list column: a JSON array of numbers, or the delimited string; <c>[]</c>, <c>""</c> or null is empty. Read as a Single vector.</summary>
    ListWeights,
}

/// <summary>One input column of a served model: its name, its type in the model's input schema, and whether requests must give it.</summary>
/// <param name="Name">Column name, as the request must spell it (case-sensitive).</param>
/// <param name="Type">The column's type in the saved input schema.</param>
/// <param name="Kind">How JSON values are read for it.</param>
/// <param name="VectorSize">Length of a fixed-size vector column; 0 for scalars and variable-length vectors.</param>
/// <param name="IsLabel">The label: never required, never read (filled with a missing value).</param>
public sealed record ServedColumn(string Name, DataViewType Type, ServedValueKind Kind, int VectorSize, bool IsLabel)
{
    /// <summary>Separator of the delimited string form of a list or weight column.</summary>
    public char Separator { get; init; } = SequenceParsingEstimator.Defaults.Separator;

    /// <summary>For a list column, its weight column (or null); for a weight column, its list column.</summary>
    public string? Partner { get; init; }

    /// <summary>The short type name shown by the health endpoint and in error messages.</summary>
    public string TypeName => Kind switch
    {
        ServedValueKind.Text => "text",
        ServedValueKind.Single or ServedValueKind.Double => "number",
        ServedValueKind.Boolean => "boolean",
        ServedValueKind.TextVector => "text[]",
        ServedValueKind.List => "list",
        ServedValueKind.ListWeights => "weights",
        _ => "number[]",
    };

    /// <summary>What a request must send for one value of this column (for error messages).</summary>
    public string Expected => Kind switch
    {
        ServedValueKind.Text => "a string (or a number, taken as its text) or null",
        ServedValueKind.Single or ServedValueKind.Double => "a number or null",
        ServedValueKind.Boolean => "true, false or null",
        ServedValueKind.TextVector => VectorSize > 0 ? $"an array of {VectorSize} strings" : "an array of strings or null",
        ServedValueKind.List => $"an array of ids (strings or numbers), a string of ids separated by '{Separator}', or null",
        ServedValueKind.ListWeights => $"an array of numbers, a string of numbers separated by '{Separator}', or null",
        _ => VectorSize > 0 ? $"an array of {VectorSize} numbers" : "an array of numbers or null",
    };

    /// <summary>Describes a column of a model's input schema, or throws if the server cannot fill it from JSON.</summary>
    public static ServedColumn From(DataViewSchema.Column column, string labelColumnName, string modelPath)
    {
        bool isLabel = string.Equals(column.Name, labelColumnName, StringComparison.Ordinal);
        DataViewType type = column.Type;
        (ServedValueKind? kind, int size) = type switch
        {
            TextDataViewType => (ServedValueKind.Text, 0),
            NumberDataViewType when type.RawType == typeof(float) => (ServedValueKind.Single, 0),
            NumberDataViewType when type.RawType == typeof(double) => (ServedValueKind.Double, 0),
            BooleanDataViewType => (ServedValueKind.Boolean, 0),
            VectorDataViewType { ItemType: TextDataViewType } vector => (ServedValueKind.TextVector, vector.Size),
            VectorDataViewType vector when vector.ItemType.RawType == typeof(float) && vector.ItemType is NumberDataViewType => (ServedValueKind.SingleVector, vector.Size),
            _ => ((ServedValueKind?)null, 0),
        };
        if (kind is null)
            throw new InvalidOperationException($"Model file '{modelPath}' reads column '{column.Name}' as {type}, which the server cannot fill from JSON (text, Single, Double, Boolean, and text or Single vectors only).");
        return new ServedColumn(column.Name, type, kind.Value, size, isLabel);
    }

    /// <summary>
    /// A text column that the model's <c>ParseSequence</c> splits: requests give it as an array (or the delimited
    /// string), and the view carries the list itself, so an id holding the separator stays one id.
    /// </summary>
    public static ServedColumn ListOf(SequenceParsingEstimator.ColumnOptions sequence) =>
        new(sequence.InputColumnName, new VectorDataViewType(TextDataViewType.Instance), ServedValueKind.List, 0, false)
        {
            Separator = sequence.Separator,
            Partner = sequence.WeightColumnName,
        };

    /// <summary>The weight column of a list column, carried as a Single vector.</summary>
    public static ServedColumn WeightsOf(SequenceParsingEstimator.ColumnOptions sequence) =>
        new(sequence.WeightColumnName!, new VectorDataViewType(NumberDataViewType.Single), ServedValueKind.ListWeights, 0, false)
        {
            Separator = sequence.Separator,
            Partner = sequence.InputColumnName,
        };
}
