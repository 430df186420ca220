using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;

[assembly: LoadableClass(typeof(HashBucketingTransformer), null, typeof(SignatureLoadModel), "Ctr Hash Buckets", HashBucketingTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(HashBucketingTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Hash Buckets", HashBucketingTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The fitted <see cref="HashBucketingEstimator"/>: maps each value to its hash bucket as a key
/// (index 0 padding, 1 OOV, buckets 2 … N + 1). Immutable; <see cref="Refit"/> returns an updated copy.
/// </summary>
public sealed class HashBucketingTransformer : OneToOneTransformerBase, IRefittableTransformer
{
    internal const string LoaderSignature = "CtrHashBucketTransform";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRHASHB",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(HashBucketingTransformer).Assembly.FullName);

    private readonly ColumnSpaces<HashBucketSpace> _spaces;

    internal HashBucketingTransformer(IHost host, (string outputColumnName, string inputColumnName)[] columns, ColumnSpaces<HashBucketSpace> spaces)
        : base(host, columns)
    {
        _spaces = spaces;
    }

    /// <summary>Number of buckets N of output column <paramref name="outputColumnName"/>; its index space has N + 2 entries.</summary>
    /// <param name="outputColumnName">A column this transformer produces.</param>
    public int GetBucketCount(string outputColumnName) => SpaceOf(outputColumnName).BucketCount;

    /// <summary>
    /// Index that output column <paramref name="outputColumnName"/> gives the raw <paramref name="value"/>,
    /// normalized as at fit time: a bucket from 2 to N + 1, or <see cref="Vocabulary.OovIndex"/> (1) for a
    /// missing or outlier value or one rarer than the minimum count.
    /// </summary>
    /// <param name="outputColumnName">A column this transformer produces.</param>
    /// <param name="value">A raw value, as text.</param>
    public int GetBucket(string outputColumnName, string value) => SpaceOf(outputColumnName).GetBucket(value);

    /// <summary>
    /// How often the (normalized) <paramref name="value"/> was seen over all fits by the hash space of
    /// <paramref name="outputColumnName"/>. Tokens are counted only when the minimum count is above 1;
    /// otherwise this is 0.
    /// </summary>
    /// <param name="outputColumnName">A column this transformer produces.</param>
    /// <param name="value">A raw value, as text.</param>
    public long GetCount(string outputColumnName, string value) => SpaceOf(outputColumnName).GetCount(value);

    private HashBucketSpace SpaceOf(string outputColumnName) => _spaces.OfOutput(outputColumnName, ColumnPairs);

    /// <summary>
    /// Counts <paramref name="data"/> too and returns the updated transformer: counts accumulate over fits
    /// (a token seen twice in each of two fits has count 4), so tokens that now reach the minimum count get
    /// their bucket. The number of buckets stays as fitted, automatic or not: the bucket of a token is its
    /// hash modulo N, so a new N would move almost every token to another bucket and every embedding row
    /// learned so far would be read for other tokens. This transformer is unchanged.
    /// </summary>
    /// <param name="data">More training data, with the same input columns.</param>
    public HashBucketingTransformer Refit(IDataView data)
    {
        Host.CheckValue(data, nameof(data));
        foreach (var (_, input) in ColumnPairs)
            VocabularyTransformer.CheckInputColumn(data.Schema, input);
        TermCounts[] counts = CountTokens(data, [.. ColumnPairs.Select(p => p.inputColumnName)], _spaces.SpaceOfColumn,
            [.. _spaces.Spaces.Select(s => s.Normalizer)], [.. _spaces.Spaces.Select(s => s.Settings.FiltersByCount)]);
        return new HashBucketingTransformer(Host, ColumnPairs, _spaces.With([.. _spaces.Spaces.Select((s, i) => s.Grow(counts[i]))]));
    }

    ITransformer IRefittableTransformer.Refit(IDataView data) => Refit(data);

    /// <summary>
    /// Counts, in one pass, the tokens of the columns whose space is marked in <paramref name="counted"/>;
    /// the other spaces get empty counts, and without any marked space the data is not read.
    /// </summary>
    internal static TermCounts[] CountTokens(IDataView data, string[] inputColumns, int[] groups, TokenNormalizer[] normalizers, bool[] counted)
    {
        int[] countedSpaces = [.. Enumerable.Range(0, normalizers.Length).Where(i => counted[i])];
        var result = new TermCounts[normalizers.Length];
        int[] columns = [.. Enumerable.Range(0, inputColumns.Length).Where(c => counted[groups[c]])];
        if (columns.Length > 0)
        {
            TermCounts[] found = TokenCounting.Count(data, [.. columns.Select(c => inputColumns[c])],
                [.. columns.Select(c => Array.IndexOf(countedSpaces, groups[c]))], [.. countedSpaces.Select(s => normalizers[s])]);
            for (int i = 0; i < countedSpaces.Length; i++)
                result[countedSpaces[i]] = found[i];
        }
        for (int i = 0; i < result.Length; i++)
            result[i] ??= new TermCounts();
        return result;
    }

    /// <inheritdoc/>
    protected override void CheckInputColumn(DataViewSchema inputSchema, int col, int srcCol) =>
        VocabularyTransformer.CheckInputColumn(inputSchema, ColumnPairs[col].inputColumnName);

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   column pairs (OneToOneTransformerBase)
    //   hash spaces and the space of each column (see ColumnSpaces.Write)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        _spaces.Write(ctx.Writer);
    }

    private HashBucketingTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        _spaces = ColumnSpaces<HashBucketSpace>.Read(ctx.Reader, ("hash space", "hash spaces"), HashBucketSpace.Read, ColumnPairs);
    }

    private static HashBucketingTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(HashBucketingTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        return new HashBucketingTransformer(host, ctx);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : OneToOneMapperBase
    {
        private readonly HashBucketingTransformer _transformer;

        public Mapper(HashBucketingTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), parent, inputSchema)
        {
            _transformer = parent;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
        {
            var result = new DataViewSchema.DetachedColumn[_transformer.ColumnPairs.Length];
            for (int i = 0; i < result.Length; i++)
            {
                HashBucketSpace space = _transformer._spaces.OfColumn(i);
                DataViewType type = ColumnSpaces<HashBucketSpace>.OutputType(InputSchema[ColMapNewToOld[i]].Type, space);
                var annotations = new DataViewSchema.Annotations.Builder().AddCategorical(space.Name, space.Size).AddSequenceWeightsOf(InputSchema[ColMapNewToOld[i]]);
                result[i] = new DataViewSchema.DetachedColumn(_transformer.ColumnPairs[i].outputColumnName, type, annotations.ToAnnotations());
            }
            return result;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            return ColumnSpaces<HashBucketSpace>.MakeGetter(input, input.Schema[ColMapNewToOld[iinfo]], _transformer._spaces.OfColumn(iinfo));
        }
    }
}
