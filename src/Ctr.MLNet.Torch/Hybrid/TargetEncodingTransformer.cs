using System;
using System.Collections.Immutable;
using System.Linq;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Torch.Data;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(TargetEncodingTransformer), null, typeof(SignatureLoadModel), "Target encoding", TargetEncodingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(TargetEncodingTransformer), null, typeof(SignatureLoadRowMapper), "Target encoding", TargetEncodingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Torch;

/// <summary>
/// A hybrid's target encoding: for each scalar categorical key column, the smoothed click rate of the row's id in the
/// training rows, <c>(clicks + a · prior) / (rows + a)</c>, as one vector column the trees and the networks read. FastTree
/// splits thousands of ids poorly (one-hot, or not at all above <see cref="HybridCtrTrainer.Options.MaxOneHotSize"/>);
/// one number per id that orders them by their rate is what it can cut. Ids the training rows never had, and ids
/// beyond the tables, get the prior.
/// </summary>
/// <remarks>
/// Fitted on the training rows by <see cref="HybridCtrTrainer"/>, which trains on each training row's rate computed
/// <b>out of fold</b> (<see cref="Folds"/> folds, a row's fold a hash of its ids): a row never sees its own label, else
/// the rate of an id seen once would be that row's label and the learners would trust it.
/// </remarks>
public sealed class TargetEncodingTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "CtrTargetEncoding";

    /// <summary>Folds of the out-of-fold rates of the training rows.</summary>
    public const int Folds = 5;

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRTGENC",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(TargetEncodingTransformer).Assembly.FullName);

    private readonly float[][] _rates; // per input column, per key value
    private readonly float[][][]? _foldRates; // training only: per fold, the rates without that fold's rows

    private TargetEncodingTransformer(IHostEnvironment env, string outputColumnName, ImmutableArray<string> inputColumnNames, float prior, double smoothing,
        float[][] rates, float[][][]? foldRates)
        : base(env.Register(nameof(TargetEncodingTransformer)))
    {
        OutputColumnName = outputColumnName;
        InputColumnNames = inputColumnNames;
        Prior = prior;
        Smoothing = smoothing;
        _rates = rates;
        _foldRates = foldRates;
    }

    /// <summary>The vector column written: one rate per input column, in their order.</summary>
    public string OutputColumnName { get; }

    /// <summary>The key columns encoded.</summary>
    public ImmutableArray<string> InputColumnNames { get; }

    /// <summary>The training rows' click rate: the rate of an id never seen.</summary>
    public float Prior { get; }

    /// <summary>The smoothing <c>a</c>: how many rows at the prior each id's rate starts from.</summary>
    public double Smoothing { get; }

    /// <summary>
    /// Fits the rates on <paramref name="trainData"/>. Returns the transformer to score with (every training row counted)
    /// and the one to train on, which gives each row of <paramref name="trainData"/> the rates without its fold's rows.
    /// </summary>
    internal static (TargetEncodingTransformer Scoring, TargetEncodingTransformer Training) Fit(IHostEnvironment env, IDataView trainData,
        ImmutableArray<string> keyColumns, string labelColumn, string outputColumnName, double smoothing)
    {
        int[] sizes = [.. keyColumns.Select(c => KeyCount(trainData.Schema, c) + 1)];
        var rows = new long[Folds][][];
        var clicks = new double[Folds][][];
        for (int f = 0; f < Folds; f++)
        {
            rows[f] = [.. sizes.Select(n => new long[n])];
            clicks[f] = [.. sizes.Select(n => new double[n])];
        }
        DataViewSchema.Column[] columns = [.. keyColumns.Select(c => trainData.Schema[c])];
        long total = 0;
        double clicked = 0;
        using (DataViewRowCursor cursor = trainData.GetRowCursor([.. columns, trainData.Schema[labelColumn]]))
        {
            ValueGetter<uint>[] getters = [.. columns.Select(cursor.GetGetter<uint>)];
            Func<float> label = FeatureReader.LabelReader(cursor, labelColumn);
            var keys = new uint[columns.Length];
            while (cursor.MoveNext())
            {
                for (int c = 0; c < keys.Length; c++)
                    getters[c](ref keys[c]);
                int fold = Fold(keys);
                float y = label();
                total++;
                clicked += y;
                for (int c = 0; c < keys.Length; c++)
                {
                    rows[fold][c][keys[c]]++;
                    clicks[fold][c][keys[c]] += y;
                }
            }
        }
        if (total == 0)
            throw new InvalidOperationException("Target encoding needs training rows; the training data has none.");
        float prior = (float)(clicked / total);

        float[][] Rates(int? leftOut) => [.. sizes.Select((n, c) =>
        {
            var rate = new float[n];
            for (int k = 0; k < n; k++)
            {
                double r = 0, y = 0;
                for (int f = 0; f < Folds; f++)
                {
                    if (f == leftOut)
                        continue;
                    r += rows[f][c][k];
                    y += clicks[f][c][k];
                }
                rate[k] = (float)((y + smoothing * prior) / (r + smoothing));
            }
            return rate;
        })];
        float[][] all = Rates(null);
        float[][][] byFold = [.. Enumerable.Range(0, Folds).Select(f => Rates(f))];
        return (new TargetEncodingTransformer(env, outputColumnName, keyColumns, prior, smoothing, all, null),
            new TargetEncodingTransformer(env, outputColumnName, keyColumns, prior, smoothing, all, byFold));
    }

    /// <summary>The rate of key value <paramref name="key"/> (0: missing) in input column <paramref name="column"/>, over every training row.</summary>
    public float RateOf(int column, uint key) => Rate(_rates[column], key, Prior);

    private static float Rate(float[] rates, uint key, float prior) => key < (uint)rates.Length ? rates[key] : prior;

    /// <summary>A row's fold, from its ids: the same row lands in the same fold in every pass.</summary>
    internal static int Fold(ReadOnlySpan<uint> keys)
    {
        ulong h = 14695981039346656037; // FNV-1a over the ids, then a finalizer that spreads them over the low bits
        foreach (uint k in keys)
            h = (h ^ k) * 1099511628211;
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccd;
        h ^= h >> 33;
        return (int)(h % Folds);
    }

    private static int KeyCount(DataViewSchema schema, string name)
    {
        DataViewSchema.Column column = schema.GetColumnOrNull(name)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{name}'");
        if (column.Type is not KeyDataViewType { RawType: var raw, Count: > 0 and <= int.MaxValue - 1 } key || raw != typeof(uint))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{name}': target encoding reads a scalar UInt32 key column, got {column.Type}");
        return (int)key.Count;
    }

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   string: output column; int: input columns C, C strings: their names
    //   float: prior; double: smoothing
    //   per input column: int: table length L, L floats: the rate of key values 0 .. L − 1
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        if (_foldRates is not null)
            throw new InvalidOperationException("The training rows' target encoding (out of fold) is not saved; save the scoring one.");
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.Writer.Write(OutputColumnName);
        ctx.Writer.Write(InputColumnNames.Length);
        foreach (string column in InputColumnNames)
            ctx.Writer.Write(column);
        ctx.Writer.Write(Prior);
        ctx.Writer.Write(Smoothing);
        foreach (float[] rates in _rates)
        {
            ctx.Writer.Write(rates.Length);
            foreach (float rate in rates)
                ctx.Writer.Write(rate);
        }
    }

    private static TargetEncodingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        string output = ctx.Reader.ReadString();
        int count = ctx.Reader.ReadInt32();
        if (count is < 0 or > 100_000)
            throw new FormatException($"The model file's target encoding names {count} input columns; the file is corrupt.");
        ImmutableArray<string> inputs = [.. Enumerable.Range(0, count).Select(_ => ctx.Reader.ReadString())];
        float prior = ctx.Reader.ReadSingle();
        double smoothing = ctx.Reader.ReadDouble();
        var rates = new float[count][];
        for (int c = 0; c < count; c++)
        {
            int length = ctx.Reader.ReadInt32();
            if (length is < 1 or > int.MaxValue / sizeof(float))
                throw new FormatException($"The model file's target encoding of '{inputs[c]}' has {length} entries; the file is corrupt.");
            rates[c] = new float[length];
            for (int k = 0; k < length; k++)
                rates[c][k] = ctx.Reader.ReadSingle();
        }
        if (!float.IsFinite(prior) || rates.Any(r => r.Any(v => !float.IsFinite(v))))
            throw new FormatException("The model file's target encoding holds a rate that is not finite; the file is corrupt.");
        return new TargetEncodingTransformer(env, output, inputs, prior, smoothing, rates, null);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : MapperBase
    {
        private readonly TargetEncodingTransformer _encoding;
        private readonly int[] _inputs;

        public Mapper(TargetEncodingTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _encoding = parent;
            _inputs = [.. parent.InputColumnNames.Select(name =>
            {
                KeyCount(inputSchema, name);
                return inputSchema[name].Index;
            })];
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() =>
            [new DataViewSchema.DetachedColumn(_encoding.OutputColumnName, new VectorDataViewType(NumberDataViewType.Single, _inputs.Length))];

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput) =>
            activeOutput(0) ? c => _inputs.Contains(c) : _ => false;

        protected override void SaveModel(ModelSaveContext ctx) => _encoding.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            ValueGetter<uint>[] getters = [.. _inputs.Select(c => input.GetGetter<uint>(input.Schema[c]))];
            float[][] scoring = _encoding._rates;
            float[][][]? byFold = _encoding._foldRates;
            float prior = _encoding.Prior;
            var keys = new uint[getters.Length];
            return (ValueGetter<VBuffer<float>>)((ref VBuffer<float> value) =>
            {
                for (int c = 0; c < keys.Length; c++)
                    getters[c](ref keys[c]);
                float[][] rates = byFold is null ? scoring : byFold[Fold(keys)];
                var editor = VBufferEditor.Create(ref value, keys.Length);
                for (int c = 0; c < keys.Length; c++)
                    editor.Values[c] = Rate(rates[c], keys[c], prior);
                value = editor.Commit();
            });
        }
    }
}
