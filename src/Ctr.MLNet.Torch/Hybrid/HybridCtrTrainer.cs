using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Torch.Data;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using Microsoft.ML.Trainers.FastTree;
using Microsoft.ML.Transforms;

namespace Ctr.MLNet.Torch;

/// <summary>
/// A network (or an ensemble of networks trained with different seeds, their logits averaged) and a FastTree ensemble
/// trained on the same features, their logits blended by a logistic regression fitted on validation rows. Trees and networks err differently (trees cut numeric features and their interactions
/// sharply; the network shares strength across ids through embeddings), so the blend beats either. Everything the
/// fit returns is a <see cref="TransformerChain{T}"/> of ML.NET transformers: it saves into one model zip,
/// <c>PredictionEngine</c> scores it, and its last columns are <c>Score</c>, <c>Probability</c>, <c>PredictedLabel</c>.
/// </summary>
/// <remarks>
/// The trees read every numeric column the network reads and every scalar categorical key column whose vocabulary has
/// at most <see cref="Options.MaxOneHotSize"/> entries, one-hot with categorical splits. Larger vocabularies and
/// sequences are the network's alone.
/// </remarks>
public sealed class HybridCtrTrainer : IEstimator<TransformerChain<ITransformer>>
{
    /// <summary>The tree ensemble's margin, kept beside the network's <c>Score</c> for the blend.</summary>
    public const string TreeScoreColumnName = "Ctr.TreeScore";

    /// <summary>The (first) network's logit, copied before the blend replaces <c>Score</c>; network k ≥ 2's is <see cref="NetworkScoreColumn"/>(k).</summary>
    public const string NetworkScoreColumnName = "Ctr.NetworkScore";

    /// <summary>The column that keeps network <paramref name="k"/>'s logit (1-based).</summary>
    public static string NetworkScoreColumn(int k) => k == 1 ? NetworkScoreColumnName : $"{NetworkScoreColumnName}.{k}";

    /// <summary>The smoothed click rate of every scalar categorical id of a row (<see cref="Options.TargetEncoding"/>).</summary>
    public const string TargetEncodingColumnName = "Ctr.TargetEncoding";

    /// <summary>The leaf of every tree a row reaches, as ids the networks embed (<see cref="Options.TreeLeafEmbeddingDim"/>).</summary>
    public const string TreeLeavesColumnName = "Ctr.TreeLeaves";

    private const string TreeFeaturesColumnName = "Ctr.TreeFeatures";
    private const string TreeLabelColumnName = "Ctr.TreeLabel";

    /// <summary>What the hybrid is told: the network's options and the trees'.</summary>
    public sealed record Options
    {
        /// <summary>The network and its training loop (label, numeric columns, epochs, ...).</summary>
        public TorchCtrTrainer.Options Network { get; init; } = new();

        /// <summary>Boosted trees; 0 for none (an ensemble of networks alone).</summary>
        public int NumberOfTrees { get; init; } = 100;

        /// <summary>
        /// Networks trained with seeds seed, seed + 1, ..., whose logits are averaged before the blend. Each costs a full
        /// network fit and a network evaluation per scored row. Networks that memorize ids memorize different noise, so
        /// their mean generalizes better (benchmarks/results/accuracy.md).
        /// </summary>
        public int NumberOfNetworks { get; init; } = 3;

        /// <summary>Leaves per tree.</summary>
        public int NumberOfLeaves { get; init; } = 31;

        /// <summary>Shrinkage of each tree.</summary>
        public double TreeLearningRate { get; init; } = 0.1;

        /// <summary>Fewest training rows in a leaf.</summary>
        public int MinimumExampleCountPerLeaf { get; init; } = 50;

        /// <summary>
        /// Categorical columns with at most this many vocabulary entries go to the trees one-hot (split as categories);
        /// larger ones (user and item ids) are the network's alone, whose embeddings share strength across rare ids.
        /// </summary>
        public int MaxOneHotSize { get; init; } = 10_000;

        /// <summary>
        /// Above 0, the networks also read the leaf each row reaches in every tree, as ids embedded this wide and pooled
        /// like a history (<see cref="TreeLeavesTransformer"/>): the trees' cuts and interactions as inputs of the
        /// network, besides their margin in the blend. 0 (the default) leaves them out: on the accuracy benchmark they
        /// did not help (benchmarks/results/accuracy.md, "Tree leaves as network inputs"), and wide leaf embeddings let a network memorize
        /// its training rows (100 leaves nearly single out a row). Needs trees.
        /// </summary>
        public int TreeLeafEmbeddingDim { get; init; }

        /// <summary>
        /// Whether the trees and the networks also read each scalar categorical id's smoothed click rate in the training
        /// rows (<see cref="TargetEncodingTransformer"/>; out of fold for the training rows themselves). On by default:
        /// on the accuracy benchmark it lifted criteo-10k in every test period and left planted data level
        /// (benchmarks/results/accuracy.md, "Target encoding").
        /// </summary>
        public bool TargetEncoding { get; init; } = true;

        /// <summary>The smoothing of <see cref="TargetEncoding"/>: how many rows at the overall rate each id's rate starts from.</summary>
        public double TargetEncodingSmoothing { get; init; } = 10;

        /// <summary>FastTree's threads; null for its default (one per core).</summary>
        public int? TreeThreads { get; init; } = 1;

        /// <summary>
        /// Without validation data (<c>Fit(train)</c>, as in a pipeline), this share of the training rows is held out,
        /// seeded by <see cref="TorchCtrTrainer.Options.Seed"/>, for early stopping and for fitting the blend.
        /// </summary>
        public double HoldOutFraction { get; init; } = 0.1;

        internal void Validate()
        {
            ArgumentNullException.ThrowIfNull(Network);
            if (NumberOfTrees < 0)
                throw new ArgumentOutOfRangeException(nameof(NumberOfTrees), $"NumberOfTrees must not be negative, got {NumberOfTrees}.");
            if (NumberOfNetworks is < 1 or > 64)
                throw new ArgumentOutOfRangeException(nameof(NumberOfNetworks), $"NumberOfNetworks must be in 1..64, got {NumberOfNetworks}.");
            if (NumberOfTrees == 0 && NumberOfNetworks == 1)
                throw new ArgumentOutOfRangeException(nameof(NumberOfTrees), "With NumberOfTrees 0 and one network there is nothing to blend: set NumberOfTrees ≥ 1 or NumberOfNetworks ≥ 2, or train the network alone with TorchCtr.");
            if (TreeLeafEmbeddingDim < 0)
                throw new ArgumentOutOfRangeException(nameof(TreeLeafEmbeddingDim), $"TreeLeafEmbeddingDim must not be negative, got {TreeLeafEmbeddingDim}.");
            if (TreeLeafEmbeddingDim > 0 && NumberOfTrees == 0)
                throw new ArgumentOutOfRangeException(nameof(TreeLeafEmbeddingDim), "TreeLeafEmbeddingDim needs trees: set NumberOfTrees ≥ 1, or TreeLeafEmbeddingDim 0.");
            if (NumberOfLeaves < 2)
                throw new ArgumentOutOfRangeException(nameof(NumberOfLeaves), $"NumberOfLeaves must be at least 2, got {NumberOfLeaves}.");
            if (!(TreeLearningRate > 0) || !double.IsFinite(TreeLearningRate))
                throw new ArgumentOutOfRangeException(nameof(TreeLearningRate), $"TreeLearningRate must be positive, got {TreeLearningRate}.");
            if (MinimumExampleCountPerLeaf < 1)
                throw new ArgumentOutOfRangeException(nameof(MinimumExampleCountPerLeaf), $"MinimumExampleCountPerLeaf must be at least 1, got {MinimumExampleCountPerLeaf}.");
            if (MaxOneHotSize < 0)
                throw new ArgumentOutOfRangeException(nameof(MaxOneHotSize), $"MaxOneHotSize must not be negative, got {MaxOneHotSize}.");
            if (TreeThreads is < 1)
                throw new ArgumentOutOfRangeException(nameof(TreeThreads), $"TreeThreads must be at least 1, got {TreeThreads}.");
            if (!(TargetEncodingSmoothing > 0) || !double.IsFinite(TargetEncodingSmoothing))
                throw new ArgumentOutOfRangeException(nameof(TargetEncodingSmoothing), $"TargetEncodingSmoothing must be positive, got {TargetEncodingSmoothing}.");
            if (HoldOutFraction is <= 0 or >= 1)
                throw new ArgumentOutOfRangeException(nameof(HoldOutFraction), $"HoldOutFraction must be in (0, 1), got {HoldOutFraction}.");
        }
    }

    private readonly IHostEnvironment _env;
    private readonly int _seed;
    private readonly DataOperationsCatalog _data;
    private readonly TransformsCatalog _transforms;
    private readonly BinaryClassificationCatalog _binary;
    private readonly Options _options;

    internal HybridCtrTrainer(IHostEnvironment env, Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.NumberOfNetworks > 1 && options.Network.Resume)
        {
            // An ensemble's checkpoints are in network-k folders; a network that never started trains afresh.
            options.Network.Validate(resuming: false);
            // One network's checkpoint.ctr resumes none of them: each would look in its folder and start over.
            if (options.Network.CheckpointDirectory is string directory
                && !Enumerable.Range(1, options.NumberOfNetworks).Any(k => TorchCtrTrainer.HasCheckpoint(NetworkCheckpointDirectory(directory, k))))
            {
                throw new ArgumentOutOfRangeException(nameof(options), TorchCtrTrainer.HasCheckpoint(directory)
                    ? $"Resume: '{directory}' holds one network's checkpoint ({Training.Checkpoint.FileName}), and an ensemble of {options.NumberOfNetworks} resumes from its network-k folders; resume it with one network (NumberOfNetworks = 1), or train without resuming to start over."
                    : $"Resume: there is no checkpoint in '{directory}' or its network-k folders; check the directory, or train without resuming to start over.");
            }
        }
        else
        {
            options.Network.Validate();
        }
        // The catalogs of the caller's environment (the MLContext behind the catalog), so every part logs and seeds there.
        _env = env;
        // One seed for the hold-out, the trees and the network: the options' own, else the MLContext's (as TorchCtrTrainer does).
        _seed = options.Network.Seed ?? (env as IHostEnvironmentInternal)?.Seed ?? env.Register(nameof(HybridCtrTrainer)).Rand.Next();
        _data = new DataOperationsCatalog(env);
        _transforms = new TransformsCatalog(env);
        _binary = new BinaryClassificationCatalog(env);
        _options = options;
    }

    /// <summary>Trains on all but a seeded hold-out of <paramref name="input"/>, which early-stops the network and fits the blend.</summary>
    public TransformerChain<ITransformer> Fit(IDataView input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var split = _data.TrainTestSplit(input, _options.HoldOutFraction, seed: _seed);
        return Fit(split.TrainSet, split.TestSet);
    }

    /// <summary>Trains the trees and the network on <paramref name="trainData"/>; <paramref name="validationData"/> early-stops the network and fits the blend.</summary>
    public TransformerChain<ITransformer> Fit(IDataView trainData, IDataView validationData)
    {
        ArgumentNullException.ThrowIfNull(trainData);
        ArgumentNullException.ThrowIfNull(validationData);
        TorchCtrTrainer.Options network = _options.Network with { Seed = _seed };
        FeatureLayout layout = FeatureLayout.FromSchema(trainData.Schema, network.CategoricalColumnNames, network.NumericColumnNames, network.SequenceWeights, network.LabelColumnName);
        // The network's inputs are fixed now, from the schema it was given: the trees' columns added below (one-hot
        // vectors and a probability, both marked normalized) must not become network inputs.
        network = network with { NumericColumnNames = [.. layout.Numeric.Select(n => n.ColumnName)] };
        if (_options.TreeLeafEmbeddingDim > 0)
        {
            network = network with { Model = network.Model with { EmbeddingDims = network.Model.EmbeddingDims.SetItem(TreeLeavesTransformer.VocabularyName, _options.TreeLeafEmbeddingDim) } };
            if (network.CategoricalColumnNames is not null)
                network = network with { CategoricalColumnNames = [.. network.CategoricalColumnNames, TreeLeavesColumnName] };
        }
        HistoryAttributes.Check(layout, network.Model.HistoryAttributes); // before the trees, not after them
        var chain = new List<ITransformer>();
        IDataView treeTrain = trainData, treeValid = validationData;
        string[] encoded = [];
        if (_options.TargetEncoding && layout.Categorical.Length > 0)
        {
            Report("fitting the target encoding");
            var (scoring, training) = TargetEncodingTransformer.Fit(_env, trainData, [.. layout.Categorical.Select(f => f.ColumnName)], network.LabelColumnName,
                TargetEncodingColumnName, _options.TargetEncodingSmoothing);
            chain.Add(scoring);
            (treeTrain, treeValid) = (training.Transform(trainData), scoring.Transform(validationData));
            encoded = [TargetEncodingColumnName];
            network = network with { NumericColumnNames = [.. network.NumericColumnNames!, .. encoded] };
        }
        if (_options.NumberOfTrees > 0)
        {
            Report("fitting the trees");
            ITransformer[] trees = FitTrees(layout, encoded, treeTrain);
            chain.AddRange(trees);
            var treePart = new TransformerChain<ITransformer>(trees);
            (treeTrain, treeValid) = (treePart.Transform(treeTrain), treePart.Transform(treeValid));
        }

        string[] networkColumns = new string[_options.NumberOfNetworks];
        for (int k = 1; k <= _options.NumberOfNetworks; k++)
        {
            Report(_options.NumberOfNetworks == 1 ? "training the network" : $"training network {k} of {_options.NumberOfNetworks}");
            // Each network reads the same columns; the ones before it in the chain add only their outputs.
            TorchCtrTransformer model = _binary.Trainers.TorchCtr(NetworkOptions(network, k)).Fit(treeTrain, treeValid);
            networkColumns[k - 1] = NetworkScoreColumn(k);
            chain.Add(model);
            chain.Add(_transforms.CopyColumns(networkColumns[k - 1], "Score").Fit(model.Transform(_data.TakeRows(treeValid, 1))));
        }

        string? treeColumn = _options.NumberOfTrees > 0 ? TreeScoreColumnName : null;
        IDataView scored = new TransformerChain<ITransformer>([.. chain]).Transform(validationData);
        var (networkLogits, treeMargins, labels) = ReadScores(scored, networkColumns, treeColumn, network.LabelColumnName);
        LogitBlend blend = LogitBlend.Fit(networkLogits, treeMargins, labels);
        Report($"blend: network AUC {blend.NetworkValidAuc:F5}, trees {blend.TreesValidAuc:F5}, blend {blend.BlendValidAuc:F5} on the validation rows " +
            $"(logit = {blend.Intercept:F4} + {blend.NetworkWeight:F4}·network + {blend.TreeWeight:F4}·trees)");
        chain.Add(new LogitBlendTransformer(_env, [.. networkColumns], treeColumn, blend));
        return new TransformerChain<ITransformer>([.. chain]);
    }

    /// <summary>
    /// Whether <paramref name="directory"/> holds a checkpoint that <see cref="TorchCtrTrainer.Options.Resume"/> can continue:
    /// a network's own, or, for an ensemble, one in a network's folder (<c>network-k</c>).
    /// </summary>
    public static bool HasCheckpoint(string directory) =>
        TorchCtrTrainer.HasCheckpoint(directory)
        || (System.IO.Directory.Exists(directory) && System.IO.Directory.EnumerateDirectories(directory, "network-*").Any(TorchCtrTrainer.HasCheckpoint));

    /// <summary>Network <paramref name="k"/>'s options: its own seed, and its own checkpoint folder when there are several.</summary>
    private TorchCtrTrainer.Options NetworkOptions(TorchCtrTrainer.Options network, int k) => network with
    {
        Seed = unchecked(_seed + k - 1),
        CheckpointDirectory = NetworkCheckpoints(network.CheckpointDirectory, k),
        Resume = network.Resume && (_options.NumberOfNetworks == 1 || TorchCtrTrainer.HasCheckpoint(NetworkCheckpoints(network.CheckpointDirectory, k)!)),
    };

    private string? NetworkCheckpoints(string? directory, int k) =>
        directory is null || _options.NumberOfNetworks == 1 ? directory : NetworkCheckpointDirectory(directory, k);

    /// <summary>Where network <paramref name="k"/> (1-based) of an ensemble keeps its checkpoints under the checkpoint directory <paramref name="directory"/>.</summary>
    public static string NetworkCheckpointDirectory(string directory, int k)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        return System.IO.Path.Combine(directory, $"network-{k}");
    }

    /// <summary>The trees' features, the trees, and the copy that keeps their margin.</summary>
    private ITransformer[] FitTrees(FeatureLayout layout, string[] extraNumeric, IDataView trainData)
    {
        ITransformer treeFeatures = TreeFeatures(layout, extraNumeric).Fit(trainData);
        IDataView treeTrain = WithTreeLabel(treeFeatures.Transform(trainData), trainData.Schema);
        var fastTree = _binary.Trainers.FastTree(new FastTreeBinaryTrainer.Options
        {
            LabelColumnName = TreeLabelColumnName,
            FeatureColumnName = TreeFeaturesColumnName,
            NumberOfTrees = _options.NumberOfTrees,
            NumberOfLeaves = _options.NumberOfLeaves,
            LearningRate = _options.TreeLearningRate,
            MinimumExampleCountPerLeaf = _options.MinimumExampleCountPerLeaf,
            CategoricalSplit = true,
            NumberOfThreads = _options.TreeThreads,
            Seed = _seed,
        });
        ITransformer trees = fastTree.Fit(treeTrain);
        ITransformer keepTreeScore = _transforms.CopyColumns(TreeScoreColumnName, "Score").Fit(trees.Transform(treeFeatures.Transform(_data.TakeRows(trainData, 1))));
        if (_options.TreeLeafEmbeddingDim == 0)
            return [treeFeatures, trees, keepTreeScore];
        var model = (FastTreeBinaryModelParameters)((ISingleFeaturePredictionTransformer<CalibratedModelParametersBase>)trees).Model.SubModel;
        int featureCount = treeTrain.Schema[TreeFeaturesColumnName].Type.GetVectorSize();
        var leaves = new TreeLeavesTransformer(_env, TreeLeavesColumnName, TreeFeaturesColumnName, TreeLeaves.Create(model.TrainedTreeEnsemble, featureCount));
        return [treeFeatures, trees, keepTreeScore, leaves];
    }

    /// <summary>The input schema plus <c>Score</c>, <c>Probability</c> and <c>PredictedLabel</c>.</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema) =>
        _binary.Trainers.TorchCtr(_options.Network).GetOutputSchema(inputSchema);

    /// <summary>The trees' feature vector: numerics as they are, small vocabularies one-hot.</summary>
    private IEstimator<ITransformer> TreeFeatures(FeatureLayout layout, string[] extraNumeric)
    {
        var parts = new List<string>();
        IEstimator<ITransformer> chain = new EstimatorChain<ITransformer>();
        foreach (CategoricalField field in layout.Categorical.Where(f => layout.Tables[f.Table].Size <= _options.MaxOneHotSize))
        {
            string output = "Ctr.Tree." + field.ColumnName;
            chain = chain.Append(_transforms.Conversion.MapKeyToVector(output, field.ColumnName));
            parts.Add(output);
        }
        parts.AddRange(layout.Numeric.Select(n => n.ColumnName));
        parts.AddRange(extraNumeric);
        if (parts.Count == 0)
            throw new ArgumentOutOfRangeException(nameof(layout), $"The trees need a numeric column or a categorical one of at most {_options.MaxOneHotSize} entries (MaxOneHotSize); the schema has neither.");
        return chain.Append(_transforms.Concatenate(TreeFeaturesColumnName, [.. parts]));
    }

    /// <summary>
    /// The columns of a fitted concatenation as <see cref="TreeFeatures"/> makes the trees' vector with it: its output
    /// and its inputs in order, or null when <paramref name="step"/> is not a concatenation into one column. ML.NET keeps
    /// these lists internal; they are read here, beside the code that makes the steps (<see cref="PreparedTrees"/>).
    /// </summary>
    internal static (string Output, string[] Inputs)? ConcatenatedColumns(ITransformer step) =>
        step is ColumnConcatenatingTransformer { Columns: { Count: 1 } columns } ? (columns.First().outputColumnName, columns.First().inputColumnNames) : null;

    /// <summary>The (one-hot vector, key column) pairs of a fitted <c>MapKeyToVector</c>, or null for another step.</summary>
    internal static (string Output, string Key)[]? OneHotColumns(ITransformer step) =>
        step is KeyToVectorMappingTransformer oneHot ? [.. oneHot.Columns.Select(c => (c.Name, c.InputColumnName))] : null;

    /// <summary>FastTree takes a Boolean label; a 0/1 Single or Double label is converted beside it.</summary>
    private IDataView WithTreeLabel(IDataView data, DataViewSchema schema)
    {
        string label = _options.Network.LabelColumnName;
        DataViewSchema.Column column = schema.GetColumnOrNull(label)
            ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find label column '{label}'");
        return column.Type is BooleanDataViewType
            ? _transforms.CopyColumns(TreeLabelColumnName, label).Fit(data).Transform(data)
            : _transforms.Conversion.ConvertType(TreeLabelColumnName, label, DataKind.Boolean).Fit(data).Transform(data);
    }

    /// <summary>
    /// The networks' mean logits, the trees' margins (empty without trees) and the labels of <paramref name="scored"/>, in
    /// one pass: each pass scores every validation row through the trees and the networks again.
    /// </summary>
    private static (float[] Network, float[] Trees, float[] Labels) ReadScores(IDataView scored, string[] networkColumns, string? treeColumn, string labelColumn)
    {
        DataViewSchema.Column[] networks = [.. networkColumns.Select(c => scored.Schema[c])];
        DataViewSchema.Column? trees = treeColumn is null ? null : scored.Schema[treeColumn];
        using DataViewRowCursor cursor = scored.GetRowCursor([.. networks, .. trees is null ? [] : new[] { trees.Value }, scored.Schema[labelColumn]]);
        ValueGetter<float>[] networkGetters = [.. networks.Select(c => cursor.GetGetter<float>(c))];
        ValueGetter<float>? treeGetter = trees is null ? null : cursor.GetGetter<float>(trees.Value);
        Func<float> label = FeatureReader.LabelReader(cursor, labelColumn);
        var (network, treeMargins, labels) = (new List<float>(), new List<float>(), new List<float>());
        var logits = new float[networkGetters.Length];
        float value = 0;
        while (cursor.MoveNext())
        {
            for (int k = 0; k < networkGetters.Length; k++)
                networkGetters[k](ref logits[k]);
            network.Add(LogitBlend.MeanLogit(logits));
            if (treeGetter is not null)
            {
                treeGetter(ref value);
                treeMargins.Add(value);
            }
            labels.Add(label());
        }
        return ([.. network], [.. treeMargins], [.. labels]);
    }

    private void Report(string message) =>
        _options.Network.Progress?.Report(new TrainingProgress(TrainingPhase.Reading, 0, _options.Network.Epochs, 0, null, 0, 0, null, message));
}
