using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Internals;

[assembly: LoadableClass(typeof(QuantileBucketingTransformer), null, typeof(SignatureLoadModel), "Ctr Quantile Bucketing", QuantileBucketingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(QuantileBucketingTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Quantile Bucketing", QuantileBucketingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The fitted <see cref="QuantileBucketingEstimator"/>: maps each value to its bucket id as a key (0 padding,
/// 1 missing, buckets from 2 in increasing order of value). Immutable.
/// </summary>
public sealed class QuantileBucketingTransformer : OneToOneTransformerBase, IRefittableTransformer
{
    internal const string LoaderSignature = "CtrQuantileBucketing";
    private const string OovKeyValue = "__OOV__";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRQBUCK",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(QuantileBucketingTransformer).Assembly.FullName);

    private readonly ImmutableArray<QuantileBuckets> _buckets;

    internal QuantileBucketingTransformer(IHost host, (string outputColumnName, string inputColumnName)[] columns, ImmutableArray<QuantileBuckets> buckets)
        : base(host, columns)
    {
        _buckets = buckets;
    }

    /// <summary>
    /// The strictly increasing boundaries of output column <paramref name="outputColumnName"/>: value x goes to
    /// bucket id 2 + (number of boundaries ≤ x); empty when the column had no finite value.
    /// </summary>
    public ImmutableArray<double> GetBoundaries(string outputColumnName) => _buckets[IndexOf(outputColumnName)].Boundaries;

    /// <summary>
    /// Refit policy: the boundaries are frozen. This checks that <paramref name="data"/> has the input columns
    /// and returns a transformer with the same boundaries, so bucket ids keep their meaning for embeddings
    /// trained on them, and a pipeline can refit every stage alike. To move the boundaries to new data, fit
    /// the estimator again (and retrain the embeddings).
    /// </summary>
    public QuantileBucketingTransformer Refit(IDataView data)
    {
        Host.CheckValue(data, nameof(data));
        foreach (var (_, input) in ColumnPairs)
            ScalarNumericColumn.Check(data.Schema, input);
        return new QuantileBucketingTransformer(Host, ColumnPairs, _buckets);
    }

    ITransformer IRefittableTransformer.Refit(IDataView data) => Refit(data);

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
    //   per column: buckets (see QuantileBuckets.Write)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        foreach (QuantileBuckets buckets in _buckets)
            buckets.Write(ctx.Writer);
    }

    private QuantileBucketingTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        _buckets = [.. ColumnPairs.Select(p => QuantileBuckets.Read(ctx.Reader, p.outputColumnName))];
    }

    private static QuantileBucketingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(QuantileBucketingTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        return new QuantileBucketingTransformer(host, ctx);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : OneToOneMapperBase
    {
        private readonly QuantileBucketingTransformer _transformer;

        public Mapper(QuantileBucketingTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), parent, inputSchema)
        {
            _transformer = parent;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
        {
            var result = new DataViewSchema.DetachedColumn[_transformer.ColumnPairs.Length];
            for (int i = 0; i < result.Length; i++)
            {
                QuantileBuckets buckets = _transformer._buckets[i];
                string name = _transformer.ColumnPairs[i].outputColumnName;
                // Key values cover the raw keys 1 … Size − 1: OOV, then one interval per bucket.
                var annotations = new DataViewSchema.Annotations.Builder();
                annotations.AddKeyValues(buckets.Size - 1, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> dst) =>
                {
                    var editor = VBufferEditor.Create(ref dst, buckets.Size - 1);
                    editor.Values[0] = OovKeyValue.AsMemory();
                    for (int b = 0; b <= buckets.Boundaries.Length; b++)
                        editor.Values[b + 1] = buckets.Describe(b).AsMemory();
                    dst = editor.Commit();
                });
                annotations.AddCategorical(name, buckets.Size);
                result[i] = new DataViewSchema.DetachedColumn(name, new KeyDataViewType(typeof(uint), buckets.Size - 1), annotations.ToAnnotations());
            }
            return result;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            ValueGetter<double> getter = ScalarNumericColumn.CreateGetter(input, input.Schema[ColMapNewToOld[iinfo]]);
            QuantileBuckets buckets = _transformer._buckets[iinfo];
            double value = 0;
            return (ValueGetter<uint>)((ref uint dst) =>
            {
                getter(ref value);
                dst = buckets.IdOf(value);
            });
        }
    }
}
