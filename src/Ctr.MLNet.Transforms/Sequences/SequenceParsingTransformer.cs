using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Internals;

[assembly: LoadableClass(typeof(SequenceParsingTransformer), null, typeof(SignatureLoadModel), "Ctr Sequence Parsing", SequenceParsingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(SequenceParsingTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Sequence Parsing", SequenceParsingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>The <see cref="SequenceParsingEstimator"/>'s transformer: splits, truncates and pairs weights, row by row.</summary>
public sealed class SequenceParsingTransformer : OneToOneTransformerBase
{
    internal const string LoaderSignature = "CtrSequenceParsing";
    internal const string ElementTypes = "Text or a vector of Text";
    internal const string WeightTypes = "Text or a vector of Text or Single";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRSEQNC",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(SequenceParsingTransformer).Assembly.FullName);

    private readonly ImmutableArray<SequenceParsingEstimator.ColumnOptions> _columns;

    internal SequenceParsingTransformer(IHost host, ImmutableArray<SequenceParsingEstimator.ColumnOptions> columns)
        : base(host, [.. columns.Select(c => (c.OutputColumnName, c.InputColumnName))])
    {
        _columns = columns;
    }

    /// <summary>The columns parsed: input, separator, maximum length, weights.</summary>
    public ImmutableArray<SequenceParsingEstimator.ColumnOptions> Columns => _columns;

    internal static void CheckInputColumns(DataViewSchema schema, string input, string? weights)
    {
        Check(schema, input, t => t is TextDataViewType || t is VectorDataViewType { ItemType: TextDataViewType }, ElementTypes);
        if (weights is not null)
            Check(schema, weights, t => t is TextDataViewType || t is VectorDataViewType { ItemType: TextDataViewType } || t is VectorDataViewType v && v.ItemType == NumberDataViewType.Single, WeightTypes);
    }

    private static void Check(DataViewSchema schema, string name, Func<DataViewType, bool> isValid, string expected)
    {
        DataViewSchema.Column? column = schema.GetColumnOrNull(name);
        if (column is null)
            CtrThrow.ColumnNotFound(name);
        if (!isValid(column.Value.Type))
            CtrThrow.SchemaMismatch(name, expected, column.Value.Type.ToString());
    }

    /// <inheritdoc/>
    protected override void CheckInputColumn(DataViewSchema inputSchema, int col, int srcCol) =>
        CheckInputColumns(inputSchema, _columns[col].InputColumnName, _columns[col].WeightColumnName);

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   column pairs (OneToOneTransformerBase)
    //   per column: char separator, int max length (0 for none), bool has weights, [string weight input, string weight output]
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        foreach (SequenceParsingEstimator.ColumnOptions column in _columns)
        {
            ctx.Writer.Write(column.Separator);
            ctx.Writer.Write(column.MaxLength ?? 0);
            ctx.Writer.Write(column.WeightColumnName is not null);
            if (column.WeightColumnName is not null)
            {
                ctx.Writer.Write(column.WeightColumnName);
                ctx.Writer.Write(column.WeightOutput!);
            }
        }
    }

    private SequenceParsingTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        var columns = ImmutableArray.CreateBuilder<SequenceParsingEstimator.ColumnOptions>(ColumnPairs.Length);
        foreach (var (output, input) in ColumnPairs)
        {
            char separator = ctx.Reader.ReadChar();
            int maxLength = ctx.Reader.ReadInt32();
            if (maxLength < 0)
                CtrThrow.Format($"Sequence column '{output}' has max length {maxLength} in the model file; the file is corrupt.");
            bool weighted = ctx.Reader.ReadBoolean();
            columns.Add(new SequenceParsingEstimator.ColumnOptions(output, input)
            {
                Separator = separator,
                MaxLength = maxLength == 0 ? null : maxLength,
                WeightColumnName = weighted ? ctx.Reader.ReadString() : null,
                OutputWeightColumnName = weighted ? ctx.Reader.ReadString() : null,
            });
        }
        _columns = columns.MoveToImmutable();
    }

    private static SequenceParsingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(SequenceParsingTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        return new SequenceParsingTransformer(host, ctx);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : OneToOneMapperBase
    {
        private readonly SequenceParsingTransformer _transformer;

        // Output i is the elements of column _outputs[i].Column, or its weights.
        private readonly (int Column, bool IsWeights)[] _outputs;

        public Mapper(SequenceParsingTransformer transformer, DataViewSchema inputSchema)
            : base(transformer.Host.Register(nameof(Mapper)), transformer, inputSchema)
        {
            _transformer = transformer;
            _outputs = [.. transformer._columns.SelectMany((c, i) => c.WeightColumnName is null ? new[] { (i, false) } : [(i, false), (i, true)])];
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() =>
        [
            .. _outputs.Select(o =>
            {
                SequenceParsingEstimator.ColumnOptions column = _transformer._columns[o.Column];
                if (o.IsWeights)
                    return new DataViewSchema.DetachedColumn(column.WeightOutput!, new VectorDataViewType(NumberDataViewType.Single));
                var annotations = new DataViewSchema.Annotations.Builder();
                if (column.WeightOutput is not null)
                    annotations.Add(CtrAnnotations.SequenceWeights, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = column.WeightOutput.AsMemory());
                return new DataViewSchema.DetachedColumn(column.OutputColumnName, new VectorDataViewType(TextDataViewType.Instance), annotations.ToAnnotations());
            }),
        ];

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            var active = new HashSet<int>();
            for (int i = 0; i < _outputs.Length; i++)
            {
                if (!activeOutput(i))
                    continue;
                // Elements and weights are checked against each other, so either output needs both inputs.
                SequenceParsingEstimator.ColumnOptions column = _transformer._columns[_outputs[i].Column];
                active.Add(InputSchema[column.InputColumnName].Index);
                if (column.WeightColumnName is not null)
                    active.Add(InputSchema[column.WeightColumnName].Index);
            }
            return active.Contains;
        }

        // One parser per column and row cursor, shared by the elements and weights getters, so reading both
        // outputs parses each row once.
        public override Delegate[] CreateGetters(DataViewRow input, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            var parsers = new RowParser?[_transformer._columns.Length];
            var getters = new Delegate[_outputs.Length];
            for (int i = 0; i < _outputs.Length; i++)
            {
                if (!activeOutput(i))
                    continue;
                var (index, isWeights) = _outputs[i];
                RowParser parser = parsers[index] ??= new RowParser(input, _transformer._columns[index]);
                getters[i] = isWeights ? WeightsGetter(parser) : ElementsGetter(parser);
            }
            return getters;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer) =>
            throw new NotSupportedException("CreateGetters builds the getters together, sharing one parser per column.");

        private static ValueGetter<VBuffer<float>> WeightsGetter(RowParser parser) => (ref VBuffer<float> dst) =>
        {
            parser.Parse();
            var editor = VBufferEditor.Create(ref dst, parser.Length);
            parser.Weights.AsSpan(0, parser.Length).CopyTo(editor.Values);
            dst = editor.Commit();
        };

        private static ValueGetter<VBuffer<ReadOnlyMemory<char>>> ElementsGetter(RowParser parser) => (ref VBuffer<ReadOnlyMemory<char>> dst) =>
        {
            parser.Parse();
            var editor = VBufferEditor.Create(ref dst, parser.Length);
            parser.Elements.AsSpan(0, parser.Length).CopyTo(editor.Values);
            dst = editor.Commit();
        };
    }

    /// <summary>Parses the current row's elements and weights once, however many outputs read them.</summary>
    private sealed class RowParser
    {
        private readonly DataViewRow _row;
        private readonly SequenceParsingEstimator.ColumnOptions _options;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _text;
        private readonly ValueGetter<VBuffer<ReadOnlyMemory<char>>>? _textVector;
        private readonly ValueGetter<ReadOnlyMemory<char>>? _weightText;
        private readonly ValueGetter<VBuffer<ReadOnlyMemory<char>>>? _weightTextVector;
        private readonly ValueGetter<VBuffer<float>>? _weightVector;
        private ReadOnlyMemory<char> _value;
        private VBuffer<ReadOnlyMemory<char>> _values;
        private VBuffer<float> _floats;
        private long _position = -1;

        public RowParser(DataViewRow row, SequenceParsingEstimator.ColumnOptions options)
        {
            _row = row;
            _options = options;
            DataViewSchema.Column input = row.Schema[options.InputColumnName];
            if (input.Type is VectorDataViewType)
                _textVector = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(input);
            else
                _text = row.GetGetter<ReadOnlyMemory<char>>(input);
            if (options.WeightColumnName is not null)
            {
                DataViewSchema.Column weights = row.Schema[options.WeightColumnName];
                if (weights.Type is TextDataViewType)
                    _weightText = row.GetGetter<ReadOnlyMemory<char>>(weights);
                else if (weights.Type is VectorDataViewType { ItemType: TextDataViewType })
                    _weightTextVector = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(weights);
                else
                    _weightVector = row.GetGetter<VBuffer<float>>(weights);
            }
        }

        public ReadOnlyMemory<char>[] Elements { get; private set; } = new ReadOnlyMemory<char>[16];

        public float[] Weights { get; private set; } = new float[16];

        public int Length { get; private set; }

        public void Parse()
        {
            if (_position == _row.Position)
                return;
            _position = _row.Position;
            int total;
            if (_text is not null)
            {
                _text(ref _value);
                total = Split(_value, Elements, out ReadOnlyMemory<char>[] grown);
                Elements = grown;
            }
            else
            {
                _textVector!(ref _values);
                total = _values.Length;
                Elements = EnsureLength(Elements, total);
                _values.CopyTo(Elements);
            }
            Length = _options.MaxLength is int max ? Math.Min(max, total) : total;
            if (_options.WeightColumnName is not null)
                ParseWeights(total);
        }

        private void ParseWeights(int elements)
        {
            int count;
            if (_weightVector is not null)
            {
                _weightVector(ref _floats);
                count = _floats.Length;
                Weights = EnsureLength(Weights, count);
                _floats.CopyTo(Weights);
            }
            else
            {
                if (_weightText is not null)
                {
                    _weightText(ref _value);
                    count = Split(_value, _scratch, out _scratch);
                }
                else
                {
                    _weightTextVector!(ref _values);
                    count = _values.Length;
                    _scratch = EnsureLength(_scratch, count);
                    _values.CopyTo(_scratch);
                }
                Weights = EnsureLength(Weights, count);
                for (int i = 0; i < count; i++)
                {
                    ReadOnlySpan<char> text = _scratch[i].Span.Trim();
                    if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out Weights[i]))
                        throw new FormatException($"Row {_row.Position + 1}: weight {i + 1} of column '{_options.WeightColumnName}' is '{text}', not a number.");
                }
            }
            if (count != elements)
                throw new InvalidOperationException($"Row {_row.Position + 1}: sequence column '{_options.InputColumnName}' has {elements} elements but weight column '{_options.WeightColumnName}' has {count} weights; each element needs exactly one weight.");
            for (int i = 0; i < count; i++)
            {
                if (!float.IsFinite(Weights[i]))
                    throw new FormatException($"Row {_row.Position + 1}: weight {i + 1} of column '{_options.WeightColumnName}' is {Weights[i]}; weights must be finite.");
            }
        }

        private ReadOnlyMemory<char>[] _scratch = new ReadOnlyMemory<char>[16];

        /// <summary>Splits on the separator; an empty (or all-blank) string has no elements.</summary>
        private int Split(ReadOnlyMemory<char> text, ReadOnlyMemory<char>[] buffer, out ReadOnlyMemory<char>[] grown)
        {
            grown = buffer;
            if (text.Span.IsWhiteSpace())
                return 0;
            int count = 0, start = 0;
            ReadOnlySpan<char> span = text.Span;
            for (int i = 0; i <= span.Length; i++)
            {
                if (i < span.Length && span[i] != _options.Separator)
                    continue;
                grown = EnsureLength(grown, count + 1);
                grown[count++] = text[start..i];
                start = i + 1;
            }
            return count;
        }

        private static T[] EnsureLength<T>(T[] array, int length)
        {
            if (array.Length < length)
                Array.Resize(ref array, Math.Max(length, array.Length * 2));
            return array;
        }
    }
}
