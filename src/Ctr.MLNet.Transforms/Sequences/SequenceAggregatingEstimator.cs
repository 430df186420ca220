using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Summarises a variable-length numeric list (a delimited string like <c>"12.5|3|0.7"</c>, or a vector of Single),
/// latest first, into five numeric features: <c>[count, sum, mean, min, max]</c> over the first
/// <see cref="ColumnOptions.MaxLength"/> elements (the latest). The output is a fixed-size vector of five Single
/// with slot names, ready for the trainer's <c>NumericColumnNames</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>No</description></item>
/// <item><term>Input column data type</term><description>Text (delimited numbers) or a vector of Single (variable or fixed size)</description></item>
/// <item><term>Output column data type</term><description>Vector of Single of size 5, slot names <c>count</c>, <c>sum</c>, <c>mean</c>, <c>min</c>, <c>max</c></description></item>
/// </list>
/// <para>
/// An empty sequence (an empty or all-blank string, or an empty vector) gives <c>[0, 0, 0, 0, 0]</c>: count 0,
/// and sum, mean, min and max 0 rather than NaN or infinities, so nothing non-finite reaches a network.
/// </para>
/// <para>
/// Text elements are trimmed and parsed as Single with the invariant culture. An element that is not a number
/// (an empty element between two separators included) or is not finite (NaN, ±Infinity, or out of Single's range)
/// is a <see cref="System.FormatException"/> naming the row (1-based), the column and the element (1-based).
/// Elements past <see cref="ColumnOptions.MaxLength"/> are dropped unread. The sum is accumulated in Double and
/// rounded to Single, as is the mean; a sum beyond the range of Single is an <see cref="System.OverflowException"/>.
/// </para>
/// </remarks>
public sealed class SequenceAggregatingEstimator : IEstimator<SequenceAggregatingTransformer>
{
    /// <summary>Default values of <see cref="ColumnOptions"/>.</summary>
    public static class Defaults
    {
        /// <summary>Element separator of delimited strings.</summary>
        public const char Separator = '|';
    }

    /// <summary>Number of slots of the output vector.</summary>
    public const int AggregateCount = 5;

    /// <summary>The slot names of the output vector, in order: count, sum, mean, min, max.</summary>
    public static ImmutableArray<string> SlotNames { get; } = ["count", "sum", "mean", "min", "max"];

    /// <summary>One numeric sequence column to aggregate.</summary>
    /// <param name="OutputColumnName">Name of the five-slot vector to produce.</param>
    /// <param name="InputColumnName">Column to read; defaults to <paramref name="OutputColumnName"/>.</param>
    public sealed record ColumnOptions(string OutputColumnName, string? InputColumnName = null)
    {
        /// <summary>Column to read.</summary>
        public string InputColumnName { get; init; } = InputColumnName ?? OutputColumnName;

        /// <summary>Separator of delimited strings.</summary>
        public char Separator { get; init; } = Defaults.Separator;

        /// <summary>Aggregate at most this many elements, the first ones (the latest); null for all.</summary>
        public int? MaxLength { get; init; }
    }

    private readonly IHost _host;
    private readonly ImmutableArray<ColumnOptions> _columns;

    internal SequenceAggregatingEstimator(IHostEnvironment env, params ColumnOptions[] columns)
    {
        _host = env.Register(nameof(SequenceAggregatingEstimator));
        if (columns is null || columns.Length == 0)
            CtrThrow.ArgumentOutOfRange(nameof(columns), "At least one column is required.");
        foreach (ColumnOptions column in columns)
        {
            if (column is null || string.IsNullOrEmpty(column.OutputColumnName) || string.IsNullOrEmpty(column.InputColumnName))
                CtrThrow.ArgumentOutOfRange(nameof(columns), "Column names must not be empty.");
            if (column.MaxLength is < 1)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.MaxLength), $"MaxLength of column '{column.OutputColumnName}' must be at least 1 or null, got {column.MaxLength}.");
        }
        _columns = [.. columns];
    }

    /// <summary>Checks the input columns; there is nothing to learn.</summary>
    public SequenceAggregatingTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        foreach (ColumnOptions column in _columns)
            SequenceAggregatingTransformer.CheckInputColumn(input.Schema, column.InputColumnName);
        return new SequenceAggregatingTransformer(_host, _columns);
    }

    /// <summary>Adds the five-slot aggregate vector of every column.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        var result = inputSchema.ToDictionary(c => c.Name);
        var annotations = new SchemaShape([new SchemaShape.Column(AnnotationUtils.Kinds.SlotNames, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false)]);
        foreach (ColumnOptions column in _columns)
        {
            if (!inputSchema.TryFindColumn(column.InputColumnName, out SchemaShape.Column input))
                CtrThrow.ColumnNotFound(column.InputColumnName);
            bool valid = input.Kind == SchemaShape.Column.VectorKind.Scalar
                ? input.ItemType is TextDataViewType
                : !input.IsKey && input.ItemType == NumberDataViewType.Single;
            if (!valid)
                CtrThrow.SchemaMismatch(column.InputColumnName, SequenceAggregatingTransformer.InputTypes, input.GetTypeString());
            result[column.OutputColumnName] = new SchemaShape.Column(column.OutputColumnName, SchemaShape.Column.VectorKind.Vector, NumberDataViewType.Single, isKey: false, annotations);
        }
        return new SchemaShape(result.Values);
    }
}
