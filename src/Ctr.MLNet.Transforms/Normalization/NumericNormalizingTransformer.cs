using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Internals;

[assembly: LoadableClass(typeof(NumericNormalizingTransformer), null, typeof(SignatureLoadModel), "Ctr Numeric Normalizer", NumericNormalizingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(NumericNormalizingTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Numeric Normalizer", NumericNormalizingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The fitted <see cref="NumericNormalizingEstimator"/>: maps each value to a finite Single with the fitted
/// statistics. Immutable; <see cref="Refit"/> returns a copy whose statistics also cover new data.
/// </summary>
public sealed class NumericNormalizingTransformer : OneToOneTransformerBase, IRefittableTransformer
{
    internal const string LoaderSignature = "CtrNumericNormalizer";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRNORML",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(NumericNormalizingTransformer).Assembly.FullName);

    private readonly ImmutableArray<NormalizationSettings> _settings;
    private readonly ImmutableArray<NumericStatistics> _statistics;

    internal NumericNormalizingTransformer(IHost host, (string outputColumnName, string inputColumnName)[] columns,
        ImmutableArray<NormalizationSettings> settings, ImmutableArray<NumericStatistics> statistics)
        : base(host, columns)
    {
        _settings = settings;
        _statistics = statistics;
    }

    /// <summary>
    /// The statistics output column <paramref name="outputColumnName"/> is scaled with (after log1p when
    /// that option is on), accumulated over the fit and every refit.
    /// </summary>
    public NumericStatistics GetStatistics(string outputColumnName) => _statistics[IndexOf(outputColumnName)];

    /// <summary>
    /// Accumulates the statistics of <paramref name="data"/> too and returns the new transformer: count, mean,
    /// variance (Chan's parallel update), minimum, maximum and missing count equal those of one fit on all the
    /// data seen so far, up to rounding. The options (mode, log1p, fill, clipping) stay as fitted. This
    /// transformer is unchanged.
    /// </summary>
    public NumericNormalizingTransformer Refit(IDataView data)
    {
        Host.CheckValue(data, nameof(data));
        NumericStatistics[] added = ComputeStatistics(data, [.. ColumnPairs.Select(p => p.inputColumnName)], [.. _settings]);
        return new NumericNormalizingTransformer(Host, ColumnPairs, _settings, [.. _statistics.Select((s, i) => s.Merge(added[i]))]);
    }

    ITransformer IRefittableTransformer.Refit(IDataView data) => Refit(data);

    /// <summary>One pass over <paramref name="data"/> accumulating the statistics of every column.</summary>
    internal static NumericStatistics[] ComputeStatistics(IDataView data, string[] inputColumns, NormalizationSettings[] settings)
    {
        DataViewSchema.Column[] columns = [.. inputColumns.Select(name => ScalarNumericColumn.Check(data.Schema, name))];
        var accumulators = new NumericStatisticsAccumulator[columns.Length];
        for (int i = 0; i < accumulators.Length; i++)
            accumulators[i] = new NumericStatisticsAccumulator();
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        ValueGetter<double>[] getters = [.. columns.Select(c => ScalarNumericColumn.CreateGetter(cursor, c))];
        double value = 0;
        while (cursor.MoveNext())
        {
            for (int i = 0; i < getters.Length; i++)
            {
                getters[i](ref value);
                accumulators[i].Add(settings[i].Prepare(value));
            }
        }
        return [.. accumulators.Select(a => a.ToStatistics())];
    }

    private int IndexOf(string outputColumnName)
    {
        int column = Array.FindIndex(ColumnPairs, p => p.outputColumnName == outputColumnName);
        if (column < 0)
            CtrThrow.ArgumentOutOfRange(nameof(outputColumnName), $"This transformer produces no column '{outputColumnName}'; it produces {string.Join(", ", ColumnPairs.Select(p => $"'{p.outputColumnName}'"))}.");
        return column;
    }

    /// <inheritdoc/>
    protected override void CheckInputColumn(DataViewSchema inputSchema, int col, int srcCol) =>
        ScalarNumericColumn.Check(inputSchema, ColumnPairs[col].inputColumnName);

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   column pairs (OneToOneTransformerBase)
    //   per column: settings (see NormalizationSettings.Write), then statistics (see NumericStatistics.Write)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        for (int i = 0; i < ColumnPairs.Length; i++)
        {
            _settings[i].Write(ctx.Writer);
            _statistics[i].Write(ctx.Writer);
        }
    }

    private NumericNormalizingTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        var settings = ImmutableArray.CreateBuilder<NormalizationSettings>(ColumnPairs.Length);
        var statistics = ImmutableArray.CreateBuilder<NumericStatistics>(ColumnPairs.Length);
        foreach (var (output, _) in ColumnPairs)
        {
            settings.Add(NormalizationSettings.Read(ctx.Reader, output));
            statistics.Add(NumericStatistics.Read(ctx.Reader, output));
        }
        _settings = settings.MoveToImmutable();
        _statistics = statistics.MoveToImmutable();
    }

    private static NumericNormalizingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(NumericNormalizingTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        return new NumericNormalizingTransformer(host, ctx);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : OneToOneMapperBase
    {
        private readonly NumericNormalizingTransformer _transformer;

        public Mapper(NumericNormalizingTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), parent, inputSchema)
        {
            _transformer = parent;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
        {
            var result = new DataViewSchema.DetachedColumn[_transformer.ColumnPairs.Length];
            for (int i = 0; i < result.Length; i++)
            {
                var annotations = new DataViewSchema.Annotations.Builder();
                annotations.Add(AnnotationUtils.Kinds.IsNormalized, BooleanDataViewType.Instance, (ref bool v) => v = true);
                result[i] = new DataViewSchema.DetachedColumn(_transformer.ColumnPairs[i].outputColumnName, NumberDataViewType.Single, annotations.ToAnnotations());
            }
            return result;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            ValueGetter<double> getter = ScalarNumericColumn.CreateGetter(input, input.Schema[ColMapNewToOld[iinfo]]);
            var map = new NormalizationMap(_transformer._settings[iinfo], _transformer._statistics[iinfo]);
            double value = 0;
            return (ValueGetter<float>)((ref float dst) =>
            {
                getter(ref value);
                dst = map.Map(value);
            });
        }
    }
}
