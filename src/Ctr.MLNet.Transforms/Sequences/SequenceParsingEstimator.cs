using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Turns a variable-length list (a delimited string like <c>"i3|i9|i1"</c>, or a text vector) into a text
/// vector, latest first as given, truncated to <see cref="ColumnOptions.MaxLength"/> by keeping the first
/// elements; optionally pairs each element with a weight from a second column, truncated with its element.
/// Map the elements to ids afterwards with <c>MapToVocabulary</c> or <c>HashToBuckets</c>, which carry the
/// pairing on to the trainer.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>No</description></item>
/// <item><term>Input column data type</term><description>Text (delimited) or a vector of text; weights: text (delimited) or a vector of Single</description></item>
/// <item><term>Output column data type</term><description>Variable-length vector of text; weights: variable-length vector of Single</description></item>
/// </list>
/// An empty string is an empty sequence (no padding token is invented); an empty element between two
/// separators stays an element (it maps to OOV). A weight that is not a finite number, or a weight list whose
/// length differs from the element list, is an error naming the row and both lengths.
/// </remarks>
public sealed class SequenceParsingEstimator : IEstimator<SequenceParsingTransformer>
{
    /// <summary>Default values of <see cref="ColumnOptions"/>.</summary>
    public static class Defaults
    {
        /// <summary>Element separator of delimited strings.</summary>
        public const char Separator = '|';
    }

    /// <summary>One sequence column and, optionally, its weights.</summary>
    /// <param name="OutputColumnName">Name of the text vector to produce.</param>
    /// <param name="InputColumnName">Column to read; defaults to <paramref name="OutputColumnName"/>.</param>
    public sealed record ColumnOptions(string OutputColumnName, string? InputColumnName = null)
    {
        /// <summary>Column to read.</summary>
        public string InputColumnName { get; init; } = InputColumnName ?? OutputColumnName;

        /// <summary>Column holding one weight per element (delimited text or a vector of Single); null for none.</summary>
        public string? WeightColumnName { get; init; }

        /// <summary>Name of the weight vector to produce; defaults to the output name followed by "Weights".</summary>
        public string? OutputWeightColumnName { get; init; }

        /// <summary>Separator of delimited strings (elements and weights alike).</summary>
        public char Separator { get; init; } = Defaults.Separator;

        /// <summary>Keep at most this many elements, the first ones (the latest); null for no limit.</summary>
        public int? MaxLength { get; init; }

        internal string? WeightOutput => WeightColumnName is null ? null : OutputWeightColumnName ?? OutputColumnName + "Weights";
    }

    private readonly IHost _host;
    private readonly ImmutableArray<ColumnOptions> _columns;

    internal SequenceParsingEstimator(IHostEnvironment env, params ColumnOptions[] columns)
    {
        _host = env.Register(nameof(SequenceParsingEstimator));
        if (columns is null || columns.Length == 0)
            CtrThrow.ArgumentOutOfRange(nameof(columns), "At least one column is required.");
        foreach (ColumnOptions column in columns)
        {
            if (string.IsNullOrEmpty(column.OutputColumnName) || string.IsNullOrEmpty(column.InputColumnName))
                CtrThrow.ArgumentOutOfRange(nameof(columns), "Column names must not be empty.");
            if (column.MaxLength is < 1)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.MaxLength), $"MaxLength of column '{column.OutputColumnName}' must be at least 1 or null, got {column.MaxLength}.");
            if (column.WeightOutput == column.OutputColumnName)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.OutputWeightColumnName), $"Column '{column.OutputColumnName}' cannot also be its weight column.");
        }
        _columns = [.. columns];
    }

    /// <summary>Checks the input columns; there is nothing to learn.</summary>
    public SequenceParsingTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        foreach (ColumnOptions column in _columns)
            SequenceParsingTransformer.CheckInputColumns(input.Schema, column.InputColumnName, column.WeightColumnName);
        return Create();
    }

    /// <summary>The transformer, which learns nothing from data.</summary>
    internal SequenceParsingTransformer Create() => new(_host, _columns);

    /// <summary>Adds the text vector (and weight vector) of every column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (ColumnOptions column in _columns)
        {
            CheckShape(inputSchema, column.InputColumnName, weights: false);
            SchemaShape annotations = new([]);
            if (column.WeightColumnName is not null)
            {
                CheckShape(inputSchema, column.WeightColumnName, weights: true);
                result[column.WeightOutput!] = new SchemaShape.Column(column.WeightOutput!, SchemaShape.Column.VectorKind.VariableVector, NumberDataViewType.Single, isKey: false);
                annotations = new SchemaShape([new SchemaShape.Column(CtrAnnotations.SequenceWeights, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false)]);
            }
            result[column.OutputColumnName] = new SchemaShape.Column(column.OutputColumnName, SchemaShape.Column.VectorKind.VariableVector, TextDataViewType.Instance, isKey: false, annotations);
        }
        return new SchemaShape(result.Values);
    }

    private static void CheckShape(SchemaShape schema, string name, bool weights)
    {
        if (!schema.TryFindColumn(name, out SchemaShape.Column column))
            CtrThrow.ColumnNotFound(name);
        bool isText = column.ItemType is TextDataViewType;
        bool valid = column.Kind == SchemaShape.Column.VectorKind.Scalar ? isText
            : isText || weights && column.ItemType == NumberDataViewType.Single;
        if (!valid)
            CtrThrow.SchemaMismatch(name, weights ? SequenceParsingTransformer.WeightTypes : SequenceParsingTransformer.ElementTypes, column.GetTypeString());
    }
}
