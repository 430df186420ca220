using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Ctr.MLNet.Transforms.Internals;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Crosses two or more categorical text columns into one: each row's values joined into one token (<c>"u7"</c> and
/// <c>"mobile"</c> give one value for the pair), which <c>MapToVocabulary</c> (a vocabulary of the pairs seen) or
/// <c>HashToBuckets</c> (hashed pairs) then turns into an id with its own embedding. A row missing any part (empty, or an
/// outlier token such as <c>None</c>, as the vocabulary's defaults say) gets a missing cross, which those transforms map to the OOV index.
/// </summary>
/// <remarks>
/// Estimator characteristics: learns nothing; input Text scalars; output a Text scalar. The parts are trimmed, plain
/// decimals written canonically (<c>3.0</c> = <c>3</c>), and joined with <see cref="PartSeparator"/> (a control character no CSV field carries), so <c>("a_b", "c")</c> and
/// <c>("a", "b_c")</c> stay apart.
/// </remarks>
public sealed class FeatureCrossingEstimator : IEstimator<FeatureCrossingTransformer>
{
    /// <summary>Joins the parts of a crossed value.</summary>
    public const char PartSeparator = '\u001F';

    /// <summary>One crossed column.</summary>
    /// <param name="OutputColumnName">Name of the text column to produce.</param>
    /// <param name="InputColumnNames">The text columns to cross, two or more, in order.</param>
    public sealed record ColumnOptions(string OutputColumnName, params string[] InputColumnNames)
    {
        /// <summary>The inputs as an immutable array (for equality by value).</summary>
        internal ImmutableArray<string> Inputs => [.. InputColumnNames];
    }

    private readonly IHost _host;
    private readonly ImmutableArray<ColumnOptions> _columns;

    internal FeatureCrossingEstimator(IHostEnvironment env, params ColumnOptions[] columns)
    {
        _host = env.Register(nameof(FeatureCrossingEstimator));
        if (columns is null || columns.Length == 0)
            CtrThrow.ArgumentOutOfRange(nameof(columns), "At least one column is required.");
        foreach (ColumnOptions column in columns)
            Check(column);
        _columns = [.. columns];
    }

    internal static void Check(ColumnOptions column)
    {
        if (string.IsNullOrEmpty(column.OutputColumnName))
            CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.OutputColumnName), "Column names must not be empty.");
        if (column.InputColumnNames is null || column.InputColumnNames.Length < 2)
            CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.InputColumnNames), $"Cross '{column.OutputColumnName}' needs two or more input columns, got {column.InputColumnNames?.Length ?? 0}.");
        if (column.InputColumnNames.Any(string.IsNullOrEmpty))
            CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.InputColumnNames), $"Cross '{column.OutputColumnName}' has an empty input column name.");
        if (column.InputColumnNames.Distinct().Count() != column.InputColumnNames.Length)
            CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.InputColumnNames), $"Cross '{column.OutputColumnName}' names an input column twice.");
    }

    /// <summary>Checks the input columns; there is nothing to learn.</summary>
    public FeatureCrossingTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        foreach (ColumnOptions column in _columns)
            FeatureCrossingTransformer.CheckInputColumns(input.Schema, column.InputColumnNames);
        return new FeatureCrossingTransformer(_host, _columns);
    }

    /// <summary>Adds one Text column per cross.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (ColumnOptions column in _columns)
        {
            foreach (string name in column.InputColumnNames)
            {
                if (!inputSchema.TryFindColumn(name, out SchemaShape.Column input))
                    CtrThrow.ColumnNotFound(name);
                if (input.Kind != SchemaShape.Column.VectorKind.Scalar || input.ItemType is not TextDataViewType)
                    CtrThrow.SchemaMismatch(name, FeatureCrossingTransformer.InputTypes, input.GetTypeString());
            }
            result[column.OutputColumnName] = new SchemaShape.Column(column.OutputColumnName, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false);
        }
        return new SchemaShape(result.Values);
    }
}
