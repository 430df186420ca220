using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(FeatureCrossingTransformer), null, typeof(SignatureLoadModel), "Ctr Feature Crossing", FeatureCrossingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(FeatureCrossingTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Feature Crossing", FeatureCrossingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>The <see cref="FeatureCrossingEstimator"/>'s transformer: joins each row's parts into one crossed token.</summary>
public sealed class FeatureCrossingTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "CtrFeatureCrossing";
    internal const string InputTypes = "Text";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRCROSS",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(FeatureCrossingTransformer).Assembly.FullName);

    private readonly ImmutableArray<FeatureCrossingEstimator.ColumnOptions> _columns;

    internal FeatureCrossingTransformer(IHost host, ImmutableArray<FeatureCrossingEstimator.ColumnOptions> columns)
        : base(host)
    {
        _columns = columns;
    }

    /// <summary>The crosses: output column and the input columns it joins.</summary>
    public IReadOnlyList<(string Output, ImmutableArray<string> Inputs)> Columns => [.. _columns.Select(c => (c.OutputColumnName, c.Inputs))];

    internal static void CheckInputColumns(DataViewSchema schema, IEnumerable<string> names)
    {
        foreach (string name in names)
        {
            DataViewSchema.Column? column = schema.GetColumnOrNull(name);
            if (column is null)
                CtrThrow.ColumnNotFound(name);
            if (column.Value.Type is not TextDataViewType)
                CtrThrow.SchemaMismatch(name, InputTypes, column.Value.Type.ToString());
        }
    }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   int: crosses
    //   per cross: string output column, int inputs, then each input column name
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.Writer.Write(_columns.Length);
        foreach (FeatureCrossingEstimator.ColumnOptions column in _columns)
        {
            ctx.Writer.Write(column.OutputColumnName);
            ctx.Writer.Write(column.InputColumnNames.Length);
            foreach (string input in column.InputColumnNames)
                ctx.Writer.Write(input);
        }
    }

    private static FeatureCrossingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(FeatureCrossingTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        int count = ctx.Reader.ReadInt32();
        if (count < 1)
            CtrThrow.Format($"A feature cross holds {count} columns in the model file; the file is corrupt.");
        var columns = ImmutableArray.CreateBuilder<FeatureCrossingEstimator.ColumnOptions>(count);
        for (int i = 0; i < count; i++)
        {
            string output = ctx.Reader.ReadString();
            int inputs = ctx.Reader.ReadInt32();
            if (inputs < 2)
                CtrThrow.Format($"Feature cross '{output}' has {inputs} inputs in the model file; the file is corrupt.");
            string[] names = new string[inputs];
            for (int j = 0; j < inputs; j++)
                names[j] = ctx.Reader.ReadString();
            columns.Add(new FeatureCrossingEstimator.ColumnOptions(output, names));
        }
        return new FeatureCrossingTransformer(host, columns.MoveToImmutable());
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : MapperBase
    {
        private readonly FeatureCrossingTransformer _transformer;
        private readonly int[][] _inputs;

        public Mapper(FeatureCrossingTransformer transformer, DataViewSchema inputSchema)
            : base(transformer.Host.Register(nameof(Mapper)), inputSchema, transformer)
        {
            _transformer = transformer;
            _inputs = new int[transformer._columns.Length][];
            for (int i = 0; i < _inputs.Length; i++)
            {
                string[] names = transformer._columns[i].InputColumnNames;
                CheckInputColumns(inputSchema, names);
                _inputs[i] = [.. names.Select(n => inputSchema[n].Index)];
            }
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() =>
            [.. _transformer._columns.Select(c => new DataViewSchema.DetachedColumn(c.OutputColumnName, TextDataViewType.Instance))];

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            var needed = new HashSet<int>();
            for (int i = 0; i < _inputs.Length; i++)
            {
                if (activeOutput(i))
                    needed.UnionWith(_inputs[i]);
            }
            return needed.Contains;
        }

        protected override void SaveModel(ModelSaveContext ctx) => _transformer.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            ValueGetter<ReadOnlyMemory<char>>[] parts = [.. _inputs[iinfo].Select(i => input.GetGetter<ReadOnlyMemory<char>>(input.Schema[i]))];
            var builder = new StringBuilder();
            // The parts are normalized as the categorical transforms normalize a token, so "3.0" and "3" cross alike.
            var normalizer = new TokenNormalizer(foldCase: false, VocabularyEstimator.Defaults.OutlierTokens);
            char[] scratch = new char[TokenNormalizer.ScratchLength];
            ReadOnlyMemory<char> part = default;
            ValueGetter<ReadOnlyMemory<char>> getter = (ref ReadOnlyMemory<char> value) =>
            {
                builder.Clear();
                for (int p = 0; p < parts.Length; p++)
                {
                    parts[p](ref part);
                    if (!normalizer.TryNormalize(part.Span, scratch, out ReadOnlySpan<char> token))
                    {
                        value = ReadOnlyMemory<char>.Empty;
                        return;
                    }
                    if (p > 0)
                        builder.Append(FeatureCrossingEstimator.PartSeparator);
                    builder.Append(token);
                }
                value = builder.ToString().AsMemory();
            };
            return getter;
        }
    }
}
