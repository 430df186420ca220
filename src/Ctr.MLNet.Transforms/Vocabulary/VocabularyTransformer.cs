using System;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Ctr.MLNet.Transforms;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;

[assembly: LoadableClass(typeof(VocabularyTransformer), null, typeof(SignatureLoadModel), "Ctr Vocabulary", VocabularyTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(VocabularyTransformer), null, typeof(SignatureLoadRowMapper), "Ctr Vocabulary", VocabularyTransformer.LoaderSignature)]

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The fitted <see cref="VocabularyEstimator"/>: maps each value to its vocabulary index as a key
/// (index 0 padding, 1 OOV, terms from 2). Immutable; <see cref="Refit"/> returns a grown copy.
/// </summary>
public sealed class VocabularyTransformer : OneToOneTransformerBase, IRefittableTransformer
{
    internal const string LoaderSignature = "CtrVocabularyTransform";
    private const string OovKeyValue = "__OOV__";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRVOCAB",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(VocabularyTransformer).Assembly.FullName);

    private readonly ColumnSpaces<Vocabulary> _vocabularies;

    internal VocabularyTransformer(IHost host, (string outputColumnName, string inputColumnName)[] columns, ColumnSpaces<Vocabulary> vocabularies)
        : base(host, columns)
    {
        _vocabularies = vocabularies;
    }

    /// <summary>The vocabulary that output column <paramref name="outputColumnName"/> maps through.</summary>
    public Vocabulary GetVocabulary(string outputColumnName) => _vocabularies.OfOutput(outputColumnName, ColumnPairs);

    /// <summary>
    /// Counts <paramref name="data"/> too and returns the grown transformer: every existing index is kept,
    /// counts accumulate over fits (a term seen twice in each of two fits has count 4), and terms that now
    /// reach the minimum count are appended. This transformer is unchanged.
    /// </summary>
    public VocabularyTransformer Refit(IDataView data)
    {
        Host.CheckValue(data, nameof(data));
        foreach (var (_, input) in ColumnPairs)
            CheckInputColumn(data.Schema, input);
        TermCounts[] counts = TokenCounting.Count(data, [.. ColumnPairs.Select(p => p.inputColumnName)], _vocabularies.SpaceOfColumn, [.. _vocabularies.Spaces.Select(v => v.Normalizer)]);
        return new VocabularyTransformer(Host, ColumnPairs, _vocabularies.With([.. _vocabularies.Spaces.Select((v, i) => v.Grow(counts[i]))]));
    }

    ITransformer IRefittableTransformer.Refit(IDataView data) => Refit(data);

    internal static void CheckInputColumn(DataViewSchema schema, string inputColumnName)
    {
        DataViewSchema.Column? column = schema.GetColumnOrNull(inputColumnName);
        if (column is null)
            CtrThrow.ColumnNotFound(inputColumnName);
        if (!TokenColumnReader.IsSupported(column.Value.Type))
            CtrThrow.SchemaMismatch(inputColumnName, TokenColumnReader.SupportedTypes, column.Value.Type.ToString());
    }

    /// <inheritdoc/>
    protected override void CheckInputColumn(DataViewSchema inputSchema, int col, int srcCol) =>
        CheckInputColumn(inputSchema, ColumnPairs[col].inputColumnName);

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   column pairs (OneToOneTransformerBase)
    //   vocabularies and the vocabulary of each column (see ColumnSpaces.Write)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        _vocabularies.Write(ctx.Writer);
    }

    private VocabularyTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        _vocabularies = ColumnSpaces<Vocabulary>.Read(ctx.Reader, ("vocabulary", "vocabularies"), Vocabulary.Read, ColumnPairs);
    }

    private static VocabularyTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        IHost host = env.Register(nameof(VocabularyTransformer));
        ctx.CheckAtModel(GetVersionInfo());
        return new VocabularyTransformer(host, ctx);
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : OneToOneMapperBase
    {
        private readonly VocabularyTransformer _transformer;

        public Mapper(VocabularyTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), parent, inputSchema)
        {
            _transformer = parent;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
        {
            var result = new DataViewSchema.DetachedColumn[_transformer.ColumnPairs.Length];
            for (int i = 0; i < result.Length; i++)
            {
                Vocabulary vocabulary = _transformer._vocabularies.OfColumn(i);
                DataViewType type = ColumnSpaces<Vocabulary>.OutputType(InputSchema[ColMapNewToOld[i]].Type, vocabulary);

                var annotations = new DataViewSchema.Annotations.Builder();
                annotations.AddKeyValues(vocabulary.Size - 1, TextDataViewType.Instance, (ref VBuffer<ReadOnlyMemory<char>> dst) =>
                {
                    var editor = VBufferEditor.Create(ref dst, vocabulary.Size - 1);
                    editor.Values[0] = OovKeyValue.AsMemory();
                    for (int t = 0; t < vocabulary.Terms.Length; t++)
                        editor.Values[t + 1] = vocabulary.Terms[t].AsMemory();
                    dst = editor.Commit();
                });
                annotations.AddCategorical(vocabulary.Name, vocabulary.Size).AddSequenceWeightsOf(InputSchema[ColMapNewToOld[i]]);
                result[i] = new DataViewSchema.DetachedColumn(_transformer.ColumnPairs[i].outputColumnName, type, annotations.ToAnnotations());
            }
            return result;
        }

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            return ColumnSpaces<Vocabulary>.MakeGetter(input, input.Schema[ColMapNewToOld[iinfo]], _transformer._vocabularies.OfColumn(iinfo));
        }
    }
}
