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

    private readonly ImmutableArray<Vocabulary> _vocabularies;
    private readonly int[] _columnVocabulary;

    internal VocabularyTransformer(IHost host, (string outputColumnName, string inputColumnName)[] columns, ImmutableArray<Vocabulary> vocabularies, int[] columnVocabulary)
        : base(host, columns)
    {
        _vocabularies = vocabularies;
        _columnVocabulary = columnVocabulary;
    }

    /// <summary>The vocabulary that output column <paramref name="outputColumnName"/> maps through.</summary>
    public Vocabulary GetVocabulary(string outputColumnName)
    {
        int column = Array.FindIndex(ColumnPairs, p => p.outputColumnName == outputColumnName);
        if (column < 0)
            CtrThrow.ArgumentOutOfRange(nameof(outputColumnName), $"This transformer produces no column '{outputColumnName}'; it produces {string.Join(", ", ColumnPairs.Select(p => $"'{p.outputColumnName}'"))}.");
        return _vocabularies[_columnVocabulary[column]];
    }

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
        TermCounts[] counts = TokenCounting.Count(data, [.. ColumnPairs.Select(p => p.inputColumnName)], _columnVocabulary, [.. _vocabularies.Select(v => v.Normalizer)]);
        ImmutableArray<Vocabulary> grown = [.. _vocabularies.Select((v, i) => v.Grow(counts[i]))];
        return new VocabularyTransformer(Host, ColumnPairs, grown, _columnVocabulary);
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
    //   int: number of vocabularies, then each (see Vocabulary.Write)
    //   per column: int index of its vocabulary
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        Host.CheckValue(ctx, nameof(ctx));
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        SaveColumns(ctx);
        ctx.Writer.Write(_vocabularies.Length);
        foreach (Vocabulary vocabulary in _vocabularies)
            vocabulary.Write(ctx.Writer);
        foreach (int vocabulary in _columnVocabulary)
            ctx.Writer.Write(vocabulary);
    }

    private VocabularyTransformer(IHost host, ModelLoadContext ctx)
        : base(host, ctx)
    {
        int count = Vocabulary.ReadCount(ctx.Reader, "vocabularie");
        _vocabularies = [.. Enumerable.Range(0, count).Select(_ => Vocabulary.Read(ctx.Reader))];
        _columnVocabulary = new int[ColumnPairs.Length];
        for (int i = 0; i < _columnVocabulary.Length; i++)
        {
            _columnVocabulary[i] = ctx.Reader.ReadInt32();
            if ((uint)_columnVocabulary[i] >= (uint)count)
                CtrThrow.Format($"Column '{ColumnPairs[i].outputColumnName}' refers to vocabulary {_columnVocabulary[i]} of {count}; the model file is corrupt.");
        }
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
                Vocabulary vocabulary = _transformer._vocabularies[_transformer._columnVocabulary[i]];
                var keyType = new KeyDataViewType(typeof(uint), vocabulary.Size - 1);
                DataViewType inputType = InputSchema[ColMapNewToOld[i]].Type;
                DataViewType type = inputType is VectorDataViewType vector ? new VectorDataViewType(keyType, vector.Size) : keyType;

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
            var reader = TokenColumnReader.Create(input, input.Schema[ColMapNewToOld[iinfo]]);
            Vocabulary vocabulary = _transformer._vocabularies[_transformer._columnVocabulary[iinfo]];
            var scratch = new char[TokenNormalizer.ScratchLength];

            uint IndexOf(int i) =>
                vocabulary.Normalizer.TryNormalize(reader[i], scratch, out ReadOnlySpan<char> token) ? (uint)vocabulary.IndexOfToken(token) : Vocabulary.OovIndex;

            if (input.Schema[ColMapNewToOld[iinfo]].Type is not VectorDataViewType)
            {
                return (ValueGetter<uint>)((ref uint dst) =>
                {
                    reader.Fetch();
                    dst = IndexOf(0);
                });
            }
            return (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> dst) =>
            {
                reader.Fetch();
                var editor = VBufferEditor.Create(ref dst, reader.Count);
                for (int i = 0; i < reader.Count; i++)
                    editor.Values[i] = IndexOf(i);
                dst = editor.Commit();
            });
        }
    }
}
