using System;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// Copies the current row of a cursor into a <see cref="FeatureBlock"/>, checking every value: ids in range,
/// weights paired one to one with ids, finite numbers and labels. Errors name the column and the row.
/// </summary>
internal sealed class FeatureReader
{
    private readonly DataViewRow _row;
    private readonly FeatureLayout _layout;
    private readonly ValueGetter<uint>[] _categorical;
    private readonly ValueGetter<VBuffer<uint>>[] _sequenceIds;
    private readonly ValueGetter<VBuffer<float>>?[] _sequenceWeights;
    private readonly Delegate[] _numeric;
    private readonly Func<float>? _label;
    private VBuffer<uint> _ids;
    private VBuffer<float> _weights;
    private VBuffer<float> _floats;

    public FeatureReader(DataViewRow row, FeatureLayout layout, string? labelColumn)
    {
        _row = row;
        _layout = layout;
        DataViewSchema schema = row.Schema;
        _categorical = [.. layout.Categorical.Select(f => row.GetGetter<uint>(schema[f.ColumnName]))];
        _sequenceIds = [.. layout.Sequences.Select(f => row.GetGetter<VBuffer<uint>>(schema[f.ColumnName]))];
        _sequenceWeights = [.. layout.Sequences.Select(f => f.WeightColumnName is null ? null : row.GetGetter<VBuffer<float>>(schema[f.WeightColumnName]))];
        _numeric = [.. layout.Numeric.Select(f => f.Width == 1 ? (Delegate)row.GetGetter<float>(schema[f.ColumnName]) : row.GetGetter<VBuffer<float>>(schema[f.ColumnName]))];
        if (labelColumn is not null)
            _label = LabelReader(row, labelColumn);
    }

    /// <summary>The columns a reader needs active.</summary>
    public static DataViewSchema.Column[] Columns(DataViewSchema schema, FeatureLayout layout, string? labelColumn) =>
        [.. layout.InputColumns.Concat(labelColumn is null ? [] : [labelColumn]).Distinct().Select(name => schema[name])];

    /// <summary>Label types the trainer accepts: Boolean, or Single/Double holding 0 or 1.</summary>
    public static bool IsLabelType(DataViewType type) => type is BooleanDataViewType || type is NumberDataViewType && (type.RawType == typeof(float) || type.RawType == typeof(double));

    public void Append(FeatureBlock block)
    {
        int row = block.AddRow();
        int width = block.CategoricalWidth;
        for (int f = 0; f < _categorical.Length; f++)
        {
            uint id = 0;
            _categorical[f](ref id);
            block.Categorical[row * width + f] = CheckId(id, _layout.Categorical[f].ColumnName, _layout.Categorical[f].Table);
        }
        for (int s = 0; s < _sequenceIds.Length; s++)
            AppendSequence(block, row, s);

        int offset = row * block.NumericWidth;
        for (int n = 0; n < _numeric.Length; n++)
        {
            NumericField field = _layout.Numeric[n];
            if (_numeric[n] is ValueGetter<float> scalar)
            {
                float value = 0;
                scalar(ref value);
                block.Numeric[offset++] = CheckFinite(value, field.ColumnName);
            }
            else
            {
                ((ValueGetter<VBuffer<float>>)_numeric[n])(ref _floats);
                Span<float> values = block.Numeric.AsSpan(offset, field.Width);
                _floats.CopyTo(values);
                foreach (float value in values)
                    CheckFinite(value, field.ColumnName);
                offset += field.Width;
            }
        }
        if (_label is not null)
            block.Labels[row] = _label();
    }

    private void AppendSequence(FeatureBlock block, int row, int s)
    {
        SequenceField field = _layout.Sequences[s];
        _sequenceIds[s](ref _ids);
        int length = _ids.Length;
        if (_sequenceWeights[s] is { } weightGetter)
        {
            weightGetter(ref _weights);
            if (_weights.Length != length)
                throw new InvalidOperationException($"Row {RowNumber}: sequence column '{field.ColumnName}' has {length} ids but weight column '{field.WeightColumnName}' has {_weights.Length} weights; each id needs exactly one weight.");
        }
        FeatureBlock.SequenceColumn column = block.Sequences[s];
        int start = column.Append(row, length);
        // Keys and ids share their bit pattern: key k is row k of the table.
        Span<int> ids = column.Ids.AsSpan(start, length);
        _ids.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<int, uint>(ids));
        foreach (int id in ids)
            CheckId((uint)id, field.ColumnName, field.Table);
        if (column.Weights is not null)
        {
            Span<float> weights = column.Weights.AsSpan(start, length);
            _weights.CopyTo(weights);
            float sum = 0;
            foreach (float weight in weights)
            {
                if (!float.IsFinite(weight) || weight < 0)
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Row {RowNumber}: weight column '{field.WeightColumnName}' holds {weight}; weights must be finite and not negative."));
                sum += weight;
            }
            // Mean pooling divides by this sum: past Single's range it would turn the history into zeros unannounced.
            if (!float.IsFinite(sum))
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Row {RowNumber}: the weights in column '{field.WeightColumnName}' add up to more than {float.MaxValue:G3}; scale them down (a weighted mean does not change when every weight is divided by the same number)."));
        }
    }

    private long RowNumber => _row.Position + 1;

    private int CheckId(uint id, string column, int table)
    {
        int size = _layout.Tables[table].Size;
        if (id >= size)
            throw new InvalidOperationException($"Row {RowNumber}: column '{column}' holds id {id}, outside vocabulary '{_layout.Tables[table].Name}' of size {size}.");
        return (int)id;
    }

    private float CheckFinite(float value, string column)
    {
        if (!float.IsFinite(value))
            throw new InvalidOperationException($"Row {RowNumber}: numeric column '{column}' holds {value}; fill missing values first (Normalize fills them with the mean).");
        return value;
    }

    /// <summary>Reads <paramref name="column"/> of <paramref name="row"/> as a 0/1 float, naming the row when it is neither.</summary>
    internal static Func<float> LabelReader(DataViewRow row, string column)
    {
        DataViewSchema.Column label = row.Schema[column];
        if (label.Type is BooleanDataViewType)
        {
            var getter = row.GetGetter<bool>(label);
            return () =>
            {
                bool value = false;
                getter(ref value);
                return value ? 1f : 0f;
            };
        }
        if (label.Type.RawType == typeof(double))
        {
            var getter = row.GetGetter<double>(label);
            return () =>
            {
                double value = 0;
                getter(ref value);
                return CheckLabel((float)value, row, column);
            };
        }
        var single = row.GetGetter<float>(label);
        return () =>
        {
            float value = 0;
            single(ref value);
            return CheckLabel(value, row, column);
        };
    }

    private static float CheckLabel(float value, DataViewRow row, string column) => value is 0f or 1f ? value
        : throw new InvalidOperationException($"Row {row.Position + 1}: label column '{column}' holds {value}; labels must be 0 or 1 (or Boolean).");
}
