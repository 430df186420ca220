using System;
using System.Linq;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(TreeLeavesTransformer), null, typeof(SignatureLoadModel), "Tree leaves", TreeLeavesTransformer.LoaderSignature)]
[assembly: LoadableClass(typeof(IRowMapper), typeof(TreeLeavesTransformer), null, typeof(SignatureLoadRowMapper), "Tree leaves", TreeLeavesTransformer.LoaderSignature)]

namespace Ctr.MLNet.Torch;

/// <summary>
/// A hybrid's tree-leaf featurizer: for each row, the leaf its feature vector reaches in every tree of the fitted
/// ensemble, as a list of ids (one per tree) that a network embeds and pools like a history. Each leaf is a learned
/// conjunction of thresholds and categories, so the network gets the trees' cuts of numeric columns and their
/// interactions as ids (the GBDT-leaves-into-a-learner practice of He et al. 2014 and DeepGBM 2019). The ids are key
/// values 2 + the leaf's number over the ensemble (0 padding and 1 OOV unused), annotated as the embedding input
/// <see cref="VocabularyName"/>.
/// </summary>
public sealed class TreeLeavesTransformer : RowToRowTransformerBase
{
    internal const string LoaderSignature = "CtrTreeLeaves";

    /// <summary>The index space of the leaf ids: their embedding table's name.</summary>
    public const string VocabularyName = "Ctr.TreeLeaves";

    private static VersionInfo GetVersionInfo() => new(
        modelSignature: "CTRLEAVS",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(TreeLeavesTransformer).Assembly.FullName);

    private readonly TreeLeaves _leaves;

    internal TreeLeavesTransformer(IHostEnvironment env, string outputColumnName, string featureColumnName, TreeLeaves leaves)
        : base(env.Register(nameof(TreeLeavesTransformer)))
    {
        OutputColumnName = outputColumnName;
        FeatureColumnName = featureColumnName;
        _leaves = leaves;
    }

    /// <summary>The list of leaf ids, one per tree.</summary>
    public string OutputColumnName { get; }

    /// <summary>The feature vector the trees read.</summary>
    public string FeatureColumnName { get; }

    /// <summary>Trees in the ensemble: ids per row.</summary>
    public int TreeCount => _leaves.TreeCount;

    /// <summary>Leaves over every tree.</summary>
    public int LeafCount => _leaves.LeafCount;

    /// <inheritdoc/>
    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema);

    // Binary format
    //   string: output column, string: feature column
    //   the trees' structure (see TreeLeaves.Write)
    /// <inheritdoc/>
    protected override void SaveModel(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.Writer.Write(OutputColumnName);
        ctx.Writer.Write(FeatureColumnName);
        _leaves.Write(ctx.Writer);
    }

    private static TreeLeavesTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        string output = ctx.Reader.ReadString(), features = ctx.Reader.ReadString();
        return new TreeLeavesTransformer(env, output, features, TreeLeaves.Read(ctx.Reader));
    }

    private static IRowMapper Create(IHostEnvironment env, ModelLoadContext ctx, DataViewSchema inputSchema) =>
        Create(env, ctx).MakeRowMapper(inputSchema);

    private sealed class Mapper : MapperBase
    {
        private readonly TreeLeavesTransformer _transformer;
        private readonly int _features;

        public Mapper(TreeLeavesTransformer parent, DataViewSchema inputSchema)
            : base(parent.Host.Register(nameof(Mapper)), inputSchema, parent)
        {
            _transformer = parent;
            DataViewSchema.Column column = inputSchema.GetColumnOrNull(parent.FeatureColumnName)
                ?? throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Could not find input column '{parent.FeatureColumnName}'");
            if (column.Type is not VectorDataViewType { ItemType: NumberDataViewType { RawType: var raw }, Size: var size } || raw != typeof(float) || size != parent._leaves.FeatureCount)
                throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Schema mismatch for input column '{parent.FeatureColumnName}': expected Vector<Single, {parent._leaves.FeatureCount}> (the trees' features), got {column.Type}");
            _features = column.Index;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore()
        {
            int size = _transformer._leaves.LeafCount + 2;
            var type = new VectorDataViewType(new KeyDataViewType(typeof(uint), size - 1));
            var annotations = new DataViewSchema.Annotations.Builder().AddCategorical(VocabularyName, size);
            return [new DataViewSchema.DetachedColumn(_transformer.OutputColumnName, type, annotations.ToAnnotations())];
        }

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput) =>
            activeOutput(0) ? c => c == _features : _ => false;

        protected override void SaveModel(ModelSaveContext ctx) => _transformer.SaveModel(ctx);

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action? disposer)
        {
            disposer = null;
            TreeLeaves leaves = _transformer._leaves;
            ValueGetter<VBuffer<float>> features = input.GetGetter<VBuffer<float>>(input.Schema[_features]);
            VBuffer<float> vector = default;
            var dense = new float[leaves.FeatureCount];
            var found = new int[leaves.TreeCount];
            return (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> value) =>
            {
                features(ref vector);
                if (vector.IsDense)
                {
                    leaves.Find(vector.GetValues(), found);
                }
                else
                {
                    // The one-hot parts make the vector sparse: its values go into a zeroed buffer and are cleared after.
                    ReadOnlySpan<int> indices = vector.GetIndices();
                    ReadOnlySpan<float> values = vector.GetValues();
                    for (int i = 0; i < indices.Length; i++)
                        dense[indices[i]] = values[i];
                    leaves.Find(dense, found);
                    foreach (int i in indices)
                        dense[i] = 0;
                }
                var editor = VBufferEditor.Create(ref value, found.Length);
                for (int t = 0; t < found.Length; t++)
                    editor.Values[t] = (uint)found[t] + 2;
                value = editor.Commit();
            });
        }
    }
}
