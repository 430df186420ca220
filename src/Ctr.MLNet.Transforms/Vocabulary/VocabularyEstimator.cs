using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Maps categorical values (text, keys or numbers; scalar or variable-length vectors) to the indices
/// of a vocabulary learned from the data. Fit with <c>mlContext.Ctr().Transforms.MapToVocabulary(...)</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>Does this estimator need to look at the data to train its parameters?</term><description>Yes</description></item>
/// <item><term>Input column data type</term><description>Text, key or numeric; scalar or vector</description></item>
/// <item><term>Output column data type</term><description>Key of UInt32, same shape as the input</description></item>
/// </list>
/// Index 0 is padding, 1 is OOV (unknown, rarer than <see cref="ColumnOptions.MinCount"/>, missing, or an
/// outlier token), terms follow, most frequent first. Columns naming the same
/// <see cref="ColumnOptions.Vocabulary"/> are counted together and share one index space.
/// </remarks>
public sealed class VocabularyEstimator : IEstimator<VocabularyTransformer>
{
    /// <summary>Default values of <see cref="ColumnOptions"/>.</summary>
    public static class Defaults
    {
        /// <summary>Every term seen at least once gets an index.</summary>
        public const long MinCount = 1;

        /// <summary>Case is kept.</summary>
        public const bool FoldCase = false;

        /// <summary>Tokens that mean "missing" in logs; compared after trimming, ignoring case.</summary>
        public static readonly ImmutableArray<string> OutlierTokens = ["", "None", "nan", "null", "unknown"];
    }

    /// <summary>One output column and the vocabulary it maps through.</summary>
    /// <param name="OutputColumnName">Name of the key column to produce.</param>
    /// <param name="InputColumnName">Column to read; defaults to <paramref name="OutputColumnName"/>.</param>
    public sealed record ColumnOptions(string OutputColumnName, string? InputColumnName = null)
    {
        /// <summary>Column to read.</summary>
        public string InputColumnName { get; init; } = InputColumnName ?? OutputColumnName;

        /// <summary>
        /// Name of the vocabulary. Columns giving the same name are counted together and share one index
        /// space, e.g. <c>item_id</c> and the <c>hist_item_ids</c> sequence. Defaults to the output column name.
        /// </summary>
        public string? Vocabulary { get; init; }

        /// <summary>Minimum count, over all fits so far, for a term to get an index (1 or more).</summary>
        public long MinCount { get; init; } = Defaults.MinCount;

        /// <summary>Largest number of terms, most frequent kept; null for no limit.</summary>
        public int? MaxSize { get; init; }

        /// <summary>Lower-case every token (invariant culture) before counting and lookup.</summary>
        public bool FoldCase { get; init; } = Defaults.FoldCase;

        /// <summary>Tokens treated as missing (mapped to OOV); compared after trimming, ignoring case.</summary>
        public ImmutableArray<string> OutlierTokens { get; init; } = Defaults.OutlierTokens;

        internal string VocabularyName => Vocabulary ?? OutputColumnName;

        internal VocabularySettings Settings => new(MinCount, MaxSize, FoldCase, OutlierTokens.IsDefault ? [] : OutlierTokens);
    }

    private readonly IHost _host;
    private readonly ImmutableArray<ColumnOptions> _columns;

    internal VocabularyEstimator(IHostEnvironment env, params ColumnOptions[] columns)
    {
        _host = env.Register(nameof(VocabularyEstimator));
        if (columns is null || columns.Length == 0)
            CtrThrow.ArgumentOutOfRange(nameof(columns), "At least one column is required.");
        foreach (ColumnOptions column in columns)
        {
            if (column.MinCount < 1)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.MinCount), $"MinCount of column '{column.OutputColumnName}' must be at least 1, got {column.MinCount}.");
            if (column.MaxSize is < 1)
                CtrThrow.ArgumentOutOfRange(nameof(ColumnOptions.MaxSize), $"MaxSize of column '{column.OutputColumnName}' must be at least 1 or null, got {column.MaxSize}.");
        }
        SpaceColumns.Check([.. columns.Select(c => (c.OutputColumnName, c.InputColumnName, c.VocabularyName, c.Settings))], "vocabulary", "MinCount, MaxSize, FoldCase or OutlierTokens");
        _columns = [.. columns];
    }

    /// <summary>Counts the tokens in one pass over <paramref name="input"/> and builds the vocabularies.</summary>
    public VocabularyTransformer Fit(IDataView input)
    {
        _host.CheckValue(input, nameof(input));
        return FromCounts(CountTerms(input));
    }

    /// <summary>The vocabularies' names, in the order of <see cref="CountTerms"/>.</summary>
    internal string[] SpaceNames => SpaceColumns.Group([.. _columns.Select(c => (c.VocabularyName, c.Settings))]).Names;

    /// <summary>One pass: every term's count per vocabulary, before MinCount and MaxSize (what sharded fitting sums).</summary>
    internal TermCounts[] CountTerms(IDataView input)
    {
        foreach (ColumnOptions column in _columns)
            VocabularyTransformer.CheckInputColumn(input.Schema, column.InputColumnName);
        var (_, settings, groups) = SpaceColumns.Group([.. _columns.Select(c => (c.VocabularyName, c.Settings))]);
        return TokenCounting.Count(input, [.. _columns.Select(c => c.InputColumnName)], groups, [.. settings.Select(s => s.CreateNormalizer())]);
    }

    /// <summary>The transformer of counts per vocabulary (in <see cref="SpaceNames"/> order): indices assigned here, once.</summary>
    internal VocabularyTransformer FromCounts(TermCounts[] counts)
    {
        var (names, settings, groups) = SpaceColumns.Group([.. _columns.Select(c => (c.VocabularyName, c.Settings))]);
        ImmutableArray<Vocabulary> vocabularies = [.. names.Select((n, i) => Vocabulary.Create(n, settings[i], counts[i]))];
        return new VocabularyTransformer(_host, [.. _columns.Select(c => (c.OutputColumnName, c.InputColumnName))], new ColumnSpaces<Vocabulary>(vocabularies, groups));
    }

    /// <summary>The schema <see cref="Fit"/>'s transformer will produce from <paramref name="inputSchema"/>.</summary>
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
            result[column.OutputColumnName] = new SchemaShape.Column(column.OutputColumnName, input.Kind, NumberDataViewType.UInt32, isKey: true, CategoricalAnnotations(input));
        }
        return new SchemaShape(result.Values);
    }

    /// <summary>The annotations of a categorical output: key values, Ctr annotations, and the input's sequence weights.</summary>
    internal static SchemaShape CategoricalAnnotations(SchemaShape.Column input, bool withKeyValues = true) =>
        new(CategoricalAnnotationShape.Where(c => withKeyValues || c.Name != AnnotationUtils.Kinds.KeyValues)
            .Concat(input.Annotations.Where(c => c.Name == CtrAnnotations.SequenceWeights)));

    internal static readonly SchemaShape CategoricalAnnotationShape = new([
        new SchemaShape.Column(AnnotationUtils.Kinds.KeyValues, SchemaShape.Column.VectorKind.Vector, TextDataViewType.Instance, isKey: false),
        new SchemaShape.Column(CtrAnnotations.Vocabulary, SchemaShape.Column.VectorKind.Scalar, TextDataViewType.Instance, isKey: false),
        new SchemaShape.Column(CtrAnnotations.VocabularySize, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32, isKey: false),
        new SchemaShape.Column(CtrAnnotations.OovIndex, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32, isKey: false),
        new SchemaShape.Column(CtrAnnotations.PaddingIndex, SchemaShape.Column.VectorKind.Scalar, NumberDataViewType.Int32, isKey: false),
    ]);
}
