using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Scales numeric columns by z-score or min-max, filling missing values, with optional log1p and clipping.
/// Fit with <c>mlContext.Ctr().Transforms.Normalize(...)</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>Yes, one pass</description></item>
/// <item><term>Input column data type</term><description>Scalar Single or Double (vectors are not supported)</description></item>
/// <item><term>Output column data type</term><description>Scalar Single, annotated IsNormalized</description></item>
/// </list>
/// Per column, in this order:
/// <list type="number">
/// <item><description>A missing value (NaN, +∞, −∞) is replaced by <see cref="ColumnOptions.MissingValue"/>: the fitted
/// mean by default, or a constant in raw units that goes through the steps below like any value.</description></item>
/// <item><description>With <see cref="ColumnOptions.Log1p"/>, x becomes sign(x)·log1p(|x|): heavy tails are compressed,
/// 0 stays 0, and negative values are mirrored instead of giving NaN.</description></item>
/// <item><description>The value is scaled with statistics of the (log1p'd) finite fitted values:
/// (x − mean) / σ for <see cref="NormalizationMode.ZScore"/> (population σ), (x − min) / (max − min) for
/// <see cref="NormalizationMode.MinMax"/>. Zero variance or max = min gives 0.</description></item>
/// <item><description>With <see cref="ColumnOptions.ClipTo"/> = c, the output is clipped to [−c, c] for z-score (c standard
/// deviations; 5 is common) or to [−c, 1 + c] for min-max (c = 0 clips to the fitted range [0, 1]).</description></item>
/// </list>
/// Outputs are always finite: a result beyond the Single range saturates at ±<see cref="float.MaxValue"/>.
/// A column with no finite value at fit time has no statistics and maps every value, missing or not, to 0.
/// The statistics merge exactly on <see cref="NumericNormalizingTransformer.Refit"/> (see <see cref="NumericStatistics"/>).
/// </remarks>
public sealed class NumericNormalizingEstimator : IEstimator<NumericNormalizingTransformer>
{
    /// <summary>Default values of <see cref="ColumnOptions"/>.</summary>
    public static class Defaults
    {
        /// <summary>Z-score scaling.</summary>
        public const NormalizationMode Mode = NormalizationMode.ZScore;

        /// <summary>No log1p.</summary>
        public const bool Log1p = false;

        /// <summary>Missing values take the fitted mean.</summary>
        public static readonly MissingValueFill MissingValue = MissingValueFill.Mean;
    }

    /// <summary>One output column and how it is normalized.</summary>
    /// <param name="OutputColumnName">Name of the Single column to produce.</param>
    /// <param name="InputColumnName">Column to read; defaults to <paramref name="OutputColumnName"/>.</param>
    public sealed record ColumnOptions(string OutputColumnName, string? InputColumnName = null)
    {
        /// <summary>Column to read: a scalar Single or Double.</summary>
        public string InputColumnName { get; init; } = InputColumnName ?? OutputColumnName;

        /// <summary>Z-score (default) or min-max.</summary>
        public NormalizationMode Mode { get; init; } = Defaults.Mode;

        /// <summary>Apply sign(x)·log1p(|x|) before the statistics and at transform time, for heavy-tailed values such as counts.</summary>
        public bool Log1p { get; init; } = Defaults.Log1p;

        /// <summary>Replacement for NaN and ±∞: <see cref="MissingValueFill.Mean"/> (default) or <see cref="MissingValueFill.Constant"/>.</summary>
        public MissingValueFill MissingValue { get; init; } = Defaults.MissingValue;

        /// <summary>
        /// Clip bound c, or null (default) for no clipping: outputs are clipped to [−c, c] with z-score (c &gt; 0, in
        /// standard deviations) and to [−c, 1 + c] with min-max (c ≥ 0; 0 clips to [0, 1]).
        /// </summary>
        public double? ClipTo { get; init; }

        internal NormalizationSettings Settings => new(Mode, Log1p, MissingValue, ClipTo);
    }

    private readonly IHost _host;
    private readonly ImmutableArray<ColumnOptions> _columns;

    internal NumericNormalizingEstimator(IHostEnvironment env, params ColumnOptions[] columns)
    {
        _host = env.Register(nameof(NumericNormalizingEstimator));
        if (columns is null || columns.Length == 0)
            CtrThrow.ArgumentOutOfRange(nameof(columns), "At least one column is required.");
        foreach (ColumnOptions column in columns)
        {
            if (column is null || string.IsNullOrEmpty(column.OutputColumnName) || string.IsNullOrEmpty(column.InputColumnName))
                CtrThrow.ArgumentOutOfRange(nameof(columns), "Column names must not be empty.");
            if (column.Settings.FindProblem(column.OutputColumnName) is string problem)
                CtrThrow.ArgumentOutOfRange(nameof(columns), problem);
        }
        var duplicate = columns.GroupBy(c => c.OutputColumnName).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            CtrThrow.ArgumentOutOfRange(nameof(columns), $"Output column '{duplicate.Key}' is given more than once.");
        _columns = [.. columns];
    }

    /// <summary>Computes the statistics of every column in one pass over <paramref name="input"/>.</summary>
    public NumericNormalizingTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        return FromStatistics(ComputeStatistics(input));
    }

    /// <summary>The input columns, in the order of <see cref="ComputeStatistics"/>.</summary>
    internal string[] InputColumns => [.. _columns.Select(c => c.InputColumnName)];

    /// <summary>One pass: the statistics of every column (after log1p where asked), to merge with Chan's update.</summary>
    internal NumericStatistics[] ComputeStatistics(IDataView input) =>
        NumericNormalizingTransformer.ComputeStatistics(input, InputColumns, [.. _columns.Select(c => c.Settings)]);

    /// <summary>The transformer of statistics per column (in <see cref="InputColumns"/> order).</summary>
    internal NumericNormalizingTransformer FromStatistics(NumericStatistics[] statistics) =>
        new(_host, [.. _columns.Select(c => (c.OutputColumnName, c.InputColumnName))], [.. _columns.Select(c => c.Settings)], [.. statistics]);

    /// <summary>The schema <see cref="Fit"/>'s transformer will produce from <paramref name="inputSchema"/>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (ColumnOptions column in _columns)
        {
            ScalarNumericColumn.Check(inputSchema, column.InputColumnName);
            result[column.OutputColumnName] = new SchemaShape.Column(column.OutputColumnName, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Single, isKey: false, NormalizedAnnotationShape);
        }
        return new SchemaShape(result.Values);
    }

    internal static readonly SchemaShape NormalizedAnnotationShape = new([
        new SchemaShape.Column(AnnotationUtils.Kinds.IsNormalized, SchemaShape.Column.VectorKind.Scalar, BooleanDataViewType.Instance, isKey: false),
    ]);
}
