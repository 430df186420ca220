using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Transforms.Internals;

/// <summary>
/// The scalar Single or Double input of the numeric transforms (normalization, quantile bucketing):
/// schema checks with ML.NET's wording, and a getter that reads either type as a double.
/// </summary>
internal static class ScalarNumericColumn
{
    /// <summary>The "expected …" part of a schema mismatch message.</summary>
    public const string SupportedTypes = "Single or Double";

    /// <summary>Whether <paramref name="type"/> is a scalar Single or Double.</summary>
    public static bool IsSupported(DataViewType type) => type == NumberDataViewType.Single || type == NumberDataViewType.Double;

    /// <summary>Throws ML.NET's "Could not find" / "Schema mismatch" error unless the column exists and is supported.</summary>
    public static DataViewSchema.Column Check(DataViewSchema schema, string inputColumnName)
    {
        DataViewSchema.Column? column = schema.GetColumnOrNull(inputColumnName);
        if (column is null)
            CtrThrow.ColumnNotFound(inputColumnName);
        if (!IsSupported(column.Value.Type))
            CtrThrow.SchemaMismatch(inputColumnName, SupportedTypes, column.Value.Type.ToString());
        return column.Value;
    }

    /// <summary>The same check on a <see cref="SchemaShape"/>, for <c>IEstimator.GetOutputSchema</c>.</summary>
    public static void Check(SchemaShape inputSchema, string inputColumnName)
    {
        if (!inputSchema.TryFindColumn(inputColumnName, out SchemaShape.Column input))
            CtrThrow.ColumnNotFound(inputColumnName);
        if (input.Kind != SchemaShape.Column.VectorKind.Scalar || input.IsKey || !IsSupported(input.ItemType))
            CtrThrow.SchemaMismatch(inputColumnName, SupportedTypes, input.GetTypeString());
    }

    /// <summary>Reads the column of <paramref name="row"/> as a double (a Single widens exactly; NaN stays NaN).</summary>
    public static ValueGetter<double> CreateGetter(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type == NumberDataViewType.Double)
            return row.GetGetter<double>(column);
        if (column.Type != NumberDataViewType.Single)
            CtrThrow.SchemaMismatch(column.Name, SupportedTypes, column.Type.ToString());
        ValueGetter<float> getter = row.GetGetter<float>(column);
        float value = 0;
        return (ref double dst) =>
        {
            getter(ref value);
            dst = value;
        };
    }
}
