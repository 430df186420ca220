using System;
using System.Collections.Immutable;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// The contract between <see cref="TorchCtrTrainer"/> and a network: <c>forward</c> maps a batch to one
/// logit per row; the trainer calls <see cref="TrainingStep"/> and <see cref="ValidationStep"/>, and takes the
/// optimizer and scheduler from the model when it offers them. A model class needs a public constructor
/// taking a <see cref="CtrModelContext"/>: the trainer calls it to build the network, and model loading calls
/// it again before restoring the weights, so the class must be loadable where the model zip is loaded.
/// </summary>
public abstract class CtrModel : nn.Module<CtrBatch, Tensor>
{
    /// <summary>Names the module (state-dict keys are the field names below it).</summary>
    protected CtrModel(string name)
        : base(name)
    {
    }

    /// <summary>The loss to minimize on a labelled batch; by default binary cross-entropy on the logits.</summary>
    public virtual Tensor TrainingStep(CtrBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch.Labels);
        using Tensor logits = call(batch);
        return nn.functional.binary_cross_entropy_with_logits(logits, batch.Labels);
    }

    /// <summary>Click probabilities [rows] for a batch, in evaluation mode; by default the sigmoid of the logits.</summary>
    public virtual Tensor ValidationStep(CtrBatch batch)
    {
        using Tensor logits = call(batch);
        return logits.sigmoid();
    }

    /// <summary>An optimizer of the model's own, or null for the one the trainer options describe.</summary>
    public virtual optim.Optimizer? CreateOptimizer(TorchCtrTrainer.Options options) => null;

    /// <summary>
    /// A scheduler of the model's own, stepped once per batch, or null for the options' schedule. On resume the
    /// trainer replays its steps, so it must depend only on the step count.
    /// </summary>
    public virtual optim.lr_scheduler.LRScheduler? CreateScheduler(optim.Optimizer optimizer, TorchCtrTrainer.Options options) => null;
}

/// <summary>How sequence fields are pooled into one vector.</summary>
public enum SequencePooling
{
    /// <summary>Weighted mean over the elements (an empty sequence gives zeros).</summary>
    Mean,

    /// <summary>Weighted sum over the elements (an empty sequence gives zeros).</summary>
    Sum,
}

/// <summary>Hyperparameters of the network; saved in the model zip with the weights.</summary>
public sealed record CtrModelOptions
{
    /// <summary>Embedding width of every table not named in <see cref="EmbeddingDims"/>.</summary>
    public int EmbeddingDim { get; init; } = 16;

    /// <summary>Embedding width per vocabulary name (e.g. from a feature spec's <c>emb_dim</c>).</summary>
    public ImmutableDictionary<string, int> EmbeddingDims { get; init; } = ImmutableDictionary<string, int>.Empty;

    /// <summary>The width of vocabulary <paramref name="vocabulary"/>'s table.</summary>
    public int DimOf(string vocabulary) => EmbeddingDims.TryGetValue(vocabulary, out int dim) ? dim : EmbeddingDim;

    /// <summary>Hidden layer widths of the MLP.</summary>
    public ImmutableArray<int> HiddenUnits { get; init; } = [256, 128, 64];

    /// <summary>Dropout after each hidden layer (0 for none).</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Batch normalization after each hidden linear layer.</summary>
    public bool BatchNorm { get; init; } = true;

    /// <summary>How sequence fields are pooled.</summary>
    public SequencePooling Pooling { get; init; } = SequencePooling.Mean;

    /// <summary>Standard deviation of the initial embedding weights (the padding row starts and stays at zero).</summary>
    public double EmbeddingInitStd { get; init; } = 0.01;

    /// <summary>Free-form settings for custom models.</summary>
    public ImmutableDictionary<string, string> Parameters { get; init; } = ImmutableDictionary<string, string>.Empty;

    /// <summary>
    /// Scalar categorical columns that describe a history's items (such as the item's category and brand): each history
    /// element is embedded as its item plus the embeddings of its attributes, each item's values taken from the training
    /// rows where it is the candidate. A history is a sequence column sharing its vocabulary with a scalar one (the
    /// candidate). Null (the default): the trainer picks the columns that are a function of a candidate on the training
    /// rows (of the rows of candidates seen more than once, at most 1% differ from the candidate's first value); empty: none.
    /// A trained model holds the resolved list.
    /// </summary>
    public ImmutableArray<string>? HistoryAttributes { get; init; }

    internal void Validate()
    {
        if (EmbeddingDim < 1 || EmbeddingDims.Values.Any(d => d < 1))
            throw new ArgumentOutOfRangeException(nameof(EmbeddingDim), "Embedding widths must be at least 1.");
        if (HiddenUnits.IsDefault || HiddenUnits.Any(u => u < 1))
            throw new ArgumentOutOfRangeException(nameof(HiddenUnits), "HiddenUnits must be positive widths.");
        if (Dropout is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(Dropout), $"Dropout must be in [0, 1), got {Dropout}.");
        if (HistoryAttributes is { } attributes)
        {
            const string Rule = "HistoryAttributes must be distinct column names (empty for none, null to detect them).";
            if (attributes.IsDefault)
                throw new ArgumentOutOfRangeException(nameof(HistoryAttributes), $"HistoryAttributes is an uninitialized array. {Rule}");
            if (attributes.ToList().FindIndex(string.IsNullOrWhiteSpace) is int blank and >= 0)
                throw new ArgumentOutOfRangeException(nameof(HistoryAttributes), $"HistoryAttributes holds a blank column name at position {blank + 1}. {Rule}");
            if (attributes.GroupBy(a => a, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
                throw new ArgumentOutOfRangeException(nameof(HistoryAttributes), $"HistoryAttributes names '{repeated.Key}' twice. {Rule}");
        }
    }
}

/// <summary>What a <see cref="CtrModel"/> constructor gets: the feature layout and the hyperparameters.</summary>
/// <param name="Layout">Tables, fields and numeric width, read from the training schema.</param>
/// <param name="Options">Hyperparameters.</param>
public sealed record CtrModelContext(FeatureLayout Layout, CtrModelOptions Options);
