using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Maps categorical values (text, keys or numbers; scalar or variable-length vectors) to hash buckets:
/// <c>2 + murmur3_32(utf8(token), seed) mod N</c>. Fit with <c>mlContext.Ctr().Transforms.HashToBuckets(...)</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>Only for a minimum count above 1 or automatic bucket sizing</description></item>
/// <item><term>Input column data type</term><description>Text, key or numeric; scalar or vector</description></item>
/// <item><term>Output column data type</term><description>Key of UInt32 with N + 1 values, same shape as the input</description></item>
/// </list>
/// The index layout is the vocabulary's: 0 is padding (never produced), 1 is OOV (missing, an outlier
/// token, or rarer than <see cref="ColumnOptions.MinCount"/>), buckets are 2 … N + 1. Tokens are normalized
/// as by <see cref="VocabularyEstimator"/> (trim, outliers, optional case folding, canonical decimals) and
/// hashed with <see cref="MurmurHash3.HashUtf8"/>. Buckets have no text, so the output carries no key values.
/// Columns naming the same <see cref="ColumnOptions.Vocabulary"/> are counted together and share one hash space.
/// </remarks>
public sealed class HashBucketingEstimator : IEstimator<HashBucketingTransformer>
{
    /// <summary>Default values of <see cref="ColumnOptions"/> and of automatic bucket sizing.</summary>
    public static class Defaults
    {
        /// <summary>Seed of the hash; the same default as ML.NET's <c>Hash</c> transform.</summary>
        public const uint Seed = 314489979;

        /// <summary>Every token is hashed, whatever its count.</summary>
        public const long MinCount = 1;

        /// <summary>Case is kept.</summary>
        public const bool FoldCase = false;

        /// <summary>Automatic sizing gives this many buckets per distinct qualifying token.</summary>
        public const int AutoBucketsPerToken = 4;

        /// <summary>Fewest buckets automatic sizing gives.</summary>
        public const int MinAutoBuckets = 16;

        /// <summary>Most buckets automatic sizing gives (2^22), which bounds the embedding table.</summary>
        public const int MaxAutoBuckets = 4_194_304;

        /// <summary>Tokens that mean "missing"; the vocabulary's list.</summary>
        public static readonly ImmutableArray<string> OutlierTokens = VocabularyEstimator.Defaults.OutlierTokens;
    }

    /// <summary>Largest number of buckets: the index space N + 2 must fit an Int32.</summary>
    internal const int MaxNumBuckets = int.MaxValue - 2;

    /// <summary>One output column and the hash space it maps through.</summary>
    /// <param name="OutputColumnName">Name of the key column to produce.</param>
    /// <param name="InputColumnName">Column to read; defaults to <paramref name="OutputColumnName"/>.</param>
    public sealed record ColumnOptions(string OutputColumnName, string? InputColumnName = null)
    {
        /// <summary>Column to read.</summary>
        public string InputColumnName { get; init; } = InputColumnName ?? OutputColumnName;

        /// <summary>
        /// Name of the hash space. Columns giving the same name are counted together and share one index
        /// space (and one embedding table). Defaults to the output column name.
        /// </summary>
        public string? Vocabulary { get; init; }

        /// <summary>
        /// Number of buckets N (1 to 2,147,483,645; any value, not only powers of two), or null to size from
        /// the data: see <see cref="AutoBucketCount"/>.
        /// </summary>
        public int? NumBuckets { get; init; }

        /// <summary>Seed of the hash.</summary>
        public uint Seed { get; init; } = Defaults.Seed;

        /// <summary>
        /// Minimum count, over all fits so far, for a token to be hashed (1 or more); rarer tokens map to OOV.
        /// Above 1 the transformer keeps every token's count, so that <see cref="HashBucketingTransformer.Refit"/>
        /// can accumulate them.
        /// </summary>
        public long MinCount { get; init; } = Defaults.MinCount;

        /// <summary>Lower-case every token (invariant culture) before counting and hashing.</summary>
        public bool FoldCase { get; init; } = Defaults.FoldCase;

        /// <summary>Tokens treated as missing (mapped to OOV); compared after trimming, ignoring case.</summary>
        public ImmutableArray<string> OutlierTokens { get; init; } = Defaults.OutlierTokens;

        internal string VocabularyName => Vocabulary ?? OutputColumnName;

        internal HashBucketSettings Settings => new(NumBuckets, Seed, MinCount, FoldCase, OutlierTokens.IsDefault ? [] : OutlierTokens);
    }

    private readonly IHost _host;
    private readonly ImmutableArray<ColumnOptions> _columns;

    internal HashBucketingEstimator(IHostEnvironment env, params ColumnOptions[] columns)
    {
        _host = env.Register(nameof(HashBucketingEstimator));
        if (columns is null || columns.Length == 0)
            CtrThrow.ArgumentOutOfRange(nameof(columns), "At least one column is required.");
        foreach (ColumnOptions column in columns)
        {
            if (column.MinCount < 1)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.MinCount), $"MinCount of column '{column.OutputColumnName}' must be at least 1, got {column.MinCount}.");
            if (column.NumBuckets is < 1 or > MaxNumBuckets)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.NumBuckets), $"NumBuckets of column '{column.OutputColumnName}' must be from 1 to {MaxNumBuckets} or null, got {column.NumBuckets}.");
        }
        SpaceColumns.Check([.. columns.Select(c => (c.OutputColumnName, c.InputColumnName, c.VocabularyName, c.Settings))], "hash space", "NumBuckets, Seed, MinCount, FoldCase or OutlierTokens");
        _columns = [.. columns];
    }

    /// <summary>
    /// The number of buckets chosen when <see cref="ColumnOptions.NumBuckets"/> is null:
    /// N = clamp(4 · D, 16, 4,194,304) for D distinct qualifying tokens (count at least the minimum).
    /// </summary>
    /// <remarks>
    /// Hashing D tokens into N = 4D buckets, a token shares its bucket with at least one other token with
    /// probability 1 − (1 − 1/N)^(D − 1) ≈ 1 − e^(−1/4) ≈ 22%; fewer buckets collide more, more buckets
    /// mostly add embedding rows that are never trained. The floor keeps tiny fits usable, and the cap
    /// (2^22 rows) bounds the embedding table; past it the collision rate rises instead. The count is taken
    /// at the first fit only (see <see cref="HashBucketingTransformer.Refit"/>).
    /// </remarks>
    /// <param name="distinctTokens">Number of distinct qualifying tokens D (0 or more).</param>
    public static int AutoBucketCount(long distinctTokens)
    {
        if (distinctTokens < 0)
            CtrThrow.ArgumentOutOfRange(nameof(distinctTokens), $"The number of distinct tokens must be 0 or more, got {distinctTokens}.");
        return distinctTokens >= Defaults.MaxAutoBuckets / Defaults.AutoBucketsPerToken
            ? Defaults.MaxAutoBuckets
            : Math.Max(Defaults.MinAutoBuckets, (int)distinctTokens * Defaults.AutoBucketsPerToken);
    }

    /// <summary>
    /// Builds the hash spaces; passes over <paramref name="input"/> once if some space filters by count or
    /// sizes itself from the data, and not at all otherwise.
    /// </summary>
    /// <param name="input">Training data.</param>
    public HashBucketingTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        return FromCounts(CountTokens(input));
    }

    /// <summary>The hash spaces' names, in the order of <see cref="CountTokens"/>.</summary>
    internal string[] SpaceNames => SpaceColumns.Group([.. _columns.Select(c => (c.VocabularyName, c.Settings))]).Names;

    /// <summary>One pass (none when no space counts): token counts per hash space, empty for spaces that need none.</summary>
    internal TermCounts[] CountTokens(IDataView input)
    {
        foreach (ColumnOptions column in _columns)
            VocabularyTransformer.CheckInputColumn(input.Schema, column.InputColumnName);
        var (_, settings, groups) = SpaceColumns.Group([.. _columns.Select(c => (c.VocabularyName, c.Settings))]);
        return HashBucketingTransformer.CountTokens(input, [.. _columns.Select(c => c.InputColumnName)], groups,
            [.. settings.Select(s => s.CreateNormalizer())], [.. settings.Select(s => s.FiltersByCount || s.NumBuckets is null)]);
    }

    /// <summary>The transformer of counts per hash space (in <see cref="SpaceNames"/> order).</summary>
    internal HashBucketingTransformer FromCounts(TermCounts[] counts)
    {
        var (names, settings, groups) = SpaceColumns.Group([.. _columns.Select(c => (c.VocabularyName, c.Settings))]);
        ImmutableArray<HashBucketSpace> spaces = [.. names.Select((n, i) => HashBucketSpace.Create(n, settings[i], counts[i]))];
        return new HashBucketingTransformer(_host, [.. _columns.Select(c => (c.OutputColumnName, c.InputColumnName))], new ColumnSpaces<HashBucketSpace>(spaces, groups));
    }

    /// <summary>The schema <see cref="Fit"/>'s transformer will produce from <paramref name="inputSchema"/>.</summary>
    /// <param name="inputSchema">Shape of the input.</param>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        _host.CheckValue(inputSchema, nameof(inputSchema));
        var result = inputSchema.ToDictionary(c => c.Name);
        foreach (ColumnOptions column in _columns)
        {
            if (!inputSchema.TryFindColumn(column.InputColumnName, out SchemaShape.Column input))
                CtrThrow.ColumnNotFound(column.InputColumnName);
            if (!TokenColumnReader.IsSupportedItem(input.ItemType) || input.Kind == SchemaShape.Column.VectorKind.Scalar && input.ItemType is VectorDataViewType)
                CtrThrow.SchemaMismatch(column.InputColumnName, TokenColumnReader.SupportedTypes, input.GetTypeString());
            // The vocabulary's annotations without KeyValues (a bucket has no text), plus the input's sequence weights.
            result[column.OutputColumnName] = new SchemaShape.Column(column.OutputColumnName, input.Kind, NumberDataViewType.UInt32, isKey: true,
                VocabularyEstimator.CategoricalAnnotations(input, withKeyValues: false));
        }
        return new SchemaShape(result.Values);
    }
}
