using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Internals;

[assembly: LoadableClass(typeof(SequenceAggregatingTransformer), null, typeof(SignatureLoadModel), "Ctr Sequence Aggregates", SequenceAggregatingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(SequenceAggregatingTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Sequence Aggregates", SequenceAggregatingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The <see cref="SequenceAggregatingEstimator"/>'s transformer: reads each row's numeric sequence, keeps the first
/// (latest) elements and writes <c>[count, sum, mean, min, max]</c>.
/// </summary>
public sealed class SequenceAggregatingTransformer : OneToOneTransformerBase
{
    internal const string LoaderSignature = "CtrSequenceAggregates";
    internal const string InputTypes = "Text or a vector of Single";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRSQAGG",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(SequenceAggregatingTransformer).Assembly.FullName);

    private readonly ImmutableArray<SequenceAggregatingEstimator.ColumnOptions> _columns;

    internal SequenceAggregatingTransformer(IHost host, ImmutableArray<SequenceAggregatingEstimator.ColumnOptions> columns)
        : base(host, [.. columns.Select(c => (c.OutputColumnName, c.InputColumnName))])
    {
        _columns = columns;
    }

    internal static void CheckInputColumn(DataViewSchema schema, string name)
    {
        DataViewSchema.Column? column = schema.GetColumnOrNull(name);
        if (column is null)
            CtrThrow.ColumnNotFound(name);
        if (!IsSupported(column.Value.Type))
            CtrThrow.SchemaMismatch(name, InputTypes, column.Value.Type.ToString());
    }

    private static bool IsSupported(DataViewType type) =>
        type is TextDataViewType || type is VectorDataViewType vector && vector.ItemType == NumberDataViewType.Single;

    /// <inheritdoc/>
    protected override void CheckInputColumn(DataViewSchema inputSchema, int col, int srcCol) =>
        CheckInputColumn(inputSchema, _columns[col].InputColumnName);

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   column pairs (OneToOneTransformerBase)
    //   per column: char separator, int max length (0 for none)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        foreach (SequenceAggregatingEstimator.ColumnOptions column in _columns)
        {
            ctx.Writer.Write(column.Separator);
            ctx.Writer.Write(column.MaxLength ?? 0);
        }
    }

    private SequenceAggregatingTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        var columns = ImmutableArray.CreateBuilder<SequenceAggregatingEstimator.ColumnOptions>(ColumnPairs.Length);
        foreach (var (output, input) in ColumnPairs)
        {
            char separator = ctx.Reader.ReadChar();
            int maxLength = ctx.Reader.ReadInt32();
            if (maxLength < 0)
                CtrThrow.Format($"Sequence aggregate column '{output}' has max length {maxLength} in the model file; the file is corrupt.");
            columns.Add(new SequenceAggregatingEstimator.ColumnOptions(output, input)
            {
                Separator = separator,
                MaxLength = maxLength == 0 ? null : maxLength,
            });
        }
        _columns = columns.MoveToImmutable();
    }

    private static SequenceAggregatingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(SequenceAggregatingTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        return new SequenceAggregatingTransformer(host, ctx);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : OneToOneMapperBase
    {
        private readonly SequenceAggregatingTransformer _transformer;

        public Mapper(SequenceAggregatingTransformer transformer, DataViewSchema inputSchema)
            : base(transformer.Host.Register(nameof(Mapper)), transformer, inputSchema)
        {
            _transformer = transformer;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() =>
        [
            .. _transformer._columns.Select(column =>
            {
                var annotations = new DataViewSchema.Annotations.Builder();
                annotations.AddSlotNames(SequenceAggregatingEstimator.AggregateCount, (ref VBuffer<ReadOnlyMemory<char>> dst) =>
                {
                    var editor = VBufferEditor.Create(ref dst, SequenceAggregatingEstimator.AggregateCount);
                    for (int i = 0; i < SequenceAggregatingEstimator.AggregateCount; i++)
                        editor.Values[i] = SequenceAggregatingEstimator.SlotNames[i].AsMemory();
                    dst = editor.Commit();
                });
                return new DataViewSchema.DetachedColumn(column.OutputColumnName,
                    new VectorDataViewType(NumberDataViewType.Single, SequenceAggregatingEstimator.AggregateCount), annotations.ToAnnotations());
            }),
        ];

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            var active = new HashSet<int>();
            for (int i = 0; i < _transformer._columns.Length; i++)
            {
                if (activeOutput(i))
                    active.Add(InputSchema[_transformer._columns[i].InputColumnName].Index);
            }
            return active.Contains;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            SequenceAggregatingEstimator.ColumnOptions options = _transformer._columns[iinfo];
            DataViewSchema.Column column = input.Schema[options.InputColumnName];
            int limit = options.MaxLength ?? int.MaxValue;
            if (column.Type is TextDataViewType)
            {
                ValueGetter<ReadOnlyMemory<char>> getText = input.GetGetter<ReadOnlyMemory<char>>(column);
                ReadOnlyMemory<char> text = default;
                return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
                {
                    getText(ref text);
                    var aggregate = new Aggregate(input, options.InputColumnName);
                    AddText(ref aggregate, text.Span, options.Separator, limit);
                    aggregate.Write(ref dst);
                });
            }
            ValueGetter<VBuffer<float>> getVector = input.GetGetter<VBuffer<float>>(column);
            VBuffer<float> vector = default;
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> dst) =>
            {
                getVector(ref vector);
                var aggregate = new Aggregate(input, options.InputColumnName);
                int length = Math.Min(limit, vector.Length);
                if (vector.IsDense)
                {
                    ReadOnlySpan<float> values = vector.GetValues();
                    for (int i = 0; i < length; i++)
                        aggregate.Add(values[i], i);
                }
                else
                {
                    int i = 0;
                    foreach (float value in vector.DenseValues())
                    {
                        if (i == length)
                            break;
                        aggregate.Add(value, i++);
                    }
                }
                aggregate.Write(ref dst);
            });
        }

        /// <summary>Adds the first <paramref name="limit"/> elements of a delimited string; a blank string has none.</summary>
        private static void AddText(ref Aggregate aggregate, ReadOnlySpan<char> text, char separator, int limit)
        {
            if (text.IsWhiteSpace())
                return;
            int index = 0;
            while (index < limit)
            {
                int end = text.IndexOf(separator);
                ReadOnlySpan<char> element = (end < 0 ? text : text[..end]).Trim();
                if (!float.TryParse(element, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                    aggregate.NotANumber(element, index);
                aggregate.Add(value, index++);
                if (end < 0)
                    break;
                text = text[(end + 1)..];
            }
        }
    }

    /// <summary>Count, sum (in Double), min and max of one row's kept elements.</summary>
    private struct Aggregate(DataViewRow row, string column)
    {
        private int _count;
        private double _sum;
        private float _min;
        private float _max;

        public void Add(float value, int index)
        {
            if (!float.IsFinite(value))
                throw new FormatException($"Row {row.Position + 1}: element {index + 1} of column '{column}' is {value.ToString(CultureInfo.InvariantCulture)}; elements must be finite numbers.");
            if (_count == 0 || value < _min)
                _min = value;
            if (_count == 0 || value > _max)
                _max = value;
            _sum += value;
            _count++;
        }

        [DoesNotReturn]
        public readonly void NotANumber(ReadOnlySpan<char> element, int index) =>
            throw new FormatException($"Row {row.Position + 1}: element {index + 1} of column '{column}' is '{element}', not a number.");

        /// <summary>Writes [count, sum, mean, min, max]; all zeros for an empty sequence.</summary>
        public readonly void Write(ref VBuffer<float> dst)
        {
            float sum = (float)_sum;
            if (!float.IsFinite(sum))
                throw new OverflowException($"Row {row.Position + 1}: the sum of the elements of column '{column}' is {_sum.ToString(CultureInfo.InvariantCulture)}, beyond the range of Single.");
            var editor = VBufferEditor.Create(ref dst, SequenceAggregatingEstimator.AggregateCount);
            Span<float> values = editor.Values;
            values[0] = _count;
            values[1] = sum;
            values[2] = _count == 0 ? 0f : (float)(_sum / _count);
            values[3] = _min;
            values[4] = _max;
            dst = editor.Commit();
        }
    }
}
