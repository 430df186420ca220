using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;
using Microsoft.ML;

namespace Ctr.MLNet.Torch;

/// <summary>Optimizers the trainer builds.</summary>
public enum CtrOptimizer
{
    /// <summary>Adam (L2 weight decay added to the gradient).</summary>
    Adam,

    /// <summary>AdamW (decoupled weight decay).</summary>
    AdamW,

    /// <summary>SGD with momentum (<see cref="TorchCtrTrainer.Options.Momentum"/>).</summary>
    Sgd,

    /// <summary>Adagrad.</summary>
    Adagrad,
}

/// <summary>Learning-rate schedules, applied per step after the linear warm-up.</summary>
public enum LearningRateSchedule
{
    /// <summary>Constant rate.</summary>
    Constant,

    /// <summary>Multiply by <see cref="TorchCtrTrainer.Options.StepGamma"/> every <see cref="TorchCtrTrainer.Options.StepEpochs"/> epochs.</summary>
    Step,

    /// <summary>Cosine decay from the base rate to 0 over all training steps.</summary>
    Cosine,
}

/// <summary>The validation metric that drives early stopping and "best" weights.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>Validation AUC, higher is better.</summary>
    Auc,

    /// <summary>Validation log loss, lower is better.</summary>
    LogLoss,
}

public sealed partial class TorchCtrTrainer
{
    /// <summary>Everything <see cref="TorchCtrTrainer"/> can be told; every property has a working default.</summary>
    public sealed record Options
    {
        /// <summary>Label column: Boolean, or Single/Double of 0 and 1.</summary>
        public string LabelColumnName { get; init; } = "Label";

        /// <summary>Categorical key columns to use; null for every visible column our categorical transforms produced.</summary>
        public IReadOnlyList<string>? CategoricalColumnNames { get; init; }

        /// <summary>
        /// Float columns (scalars or fixed-size vectors) fed to the network as they are; null (the default) for every
        /// visible Single column a normalizer made (annotated <c>IsNormalized</c>: <c>Normalize</c> and ML.NET's own
        /// normalizers), found from the schema like the categorical ones. <c>[]</c> for none.
        /// </summary>
        public IReadOnlyList<string>? NumericColumnNames { get; init; }

        /// <summary>
        /// Sequence id column → float vector column holding one weight per id. Not needed for sequences parsed
        /// with <c>ParseSequence</c> and a weight column: that pairing is read from the schema.
        /// </summary>
        public IReadOnlyDictionary<string, string> SequenceWeights { get; init; } = ImmutableDictionary<string, string>.Empty;

        /// <summary>
        /// The network: a <see cref="CtrModel"/> with a public constructor taking a <see cref="CtrModelContext"/>,
        /// registered in <see cref="CtrModelRegistry"/> (the library's networks are).
        /// </summary>
        public Type ModelType { get; init; } = typeof(DnnCtrModel);

        /// <summary>Network hyperparameters.</summary>
        public CtrModelOptions Model { get; init; } = new();

        /// <summary>Passes over the training data (at most: early stopping may end sooner).</summary>
        public int Epochs { get; init; } = 10;

        /// <summary>
        /// Rows per training step; null (the default) for <see cref="DefaultBatchSize"/>, halved while an epoch of the
        /// training rows would have fewer than <see cref="MinimumAutoStepsPerEpoch"/> steps, down to
        /// <see cref="MinimumAutoBatchSize"/>. On small data a few large steps per epoch leave the network (and its batch
        /// normalization statistics) barely trained at the epoch early stopping picks: on the 7,200 training rows of the
        /// criteo sample, batches of 64 gave +0.014 test AUC over 1024 (benchmarks/results/accuracy.md).
        /// </summary>
        public int? BatchSize { get; init; }

        /// <summary>Rows per step when <see cref="BatchSize"/> is null and the data is large enough.</summary>
        public const int DefaultBatchSize = 1024;

        /// <summary>The fewest steps per epoch an automatic batch size aims for.</summary>
        public const int MinimumAutoStepsPerEpoch = 100;

        /// <summary>The smallest automatic batch size.</summary>
        public const int MinimumAutoBatchSize = 32;

        /// <summary>
        /// The batch size training uses on <paramref name="trainingRows"/> rows: <see cref="BatchSize"/> when set, else
        /// the largest power of two from <see cref="DefaultBatchSize"/> down to <see cref="MinimumAutoBatchSize"/> that
        /// gives an epoch at least <see cref="MinimumAutoStepsPerEpoch"/> steps (never above <see cref="StreamingBlockRows"/>).
        /// </summary>
        public int ResolveBatchSize(long trainingRows)
        {
            if (BatchSize is int fixedSize)
                return fixedSize;
            int size = DefaultBatchSize;
            while (size > MinimumAutoBatchSize && trainingRows / size < MinimumAutoStepsPerEpoch)
                size /= 2;
            return Math.Min(size, StreamingBlockRows);
        }

        /// <summary>
        /// Optimizer. Default Adagrad: on the planted benchmark data it beat Adam by about 0.008 AUC at 200k rows
        /// (benchmarks/results/trainer-sweep-200k*.md), as sparse-feature CTR models commonly find.
        /// </summary>
        public CtrOptimizer Optimizer { get; init; } = CtrOptimizer.Adagrad;

        /// <summary>Base learning rate (default suits Adagrad; use about 1e-3 with Adam).</summary>
        public double LearningRate { get; init; } = 1e-2;

        /// <summary>Weight decay (L2 for Adam, SGD and Adagrad; decoupled for AdamW).</summary>
        public double WeightDecay { get; init; }

        /// <summary>
        /// Gaussian prior on the rows of the embedding tables larger than <see cref="EmbeddingL2MinimumTableSize"/>, as a
        /// MAP fit has it: every id occurrence in a batch adds <c>EmbeddingL2 · ‖row‖² / (the id's training count · batch
        /// rows)</c> to the loss, so over an epoch every row, rare or frequent, is pulled toward zero by
        /// <c>EmbeddingL2 · ‖row‖² / training rows</c> (1 / (2σ²) of its weights), and a batch touches only its own rows.
        /// Rare ids then stay near zero instead of memorizing their few clicks. Default 1000: with the default ensemble it
        /// lifts planted 200k by +0.007 test AUC on each of 3 seeds (benchmarks/results/accuracy.md); 0 turns it off.
        /// Custom networks' own embedding modules (not <see cref="FeatureEmbedding"/>) of more than
        /// <see cref="EmbeddingL2MinimumTableSize"/> rows get the prior on every row at every step.
        /// </summary>
        public double EmbeddingL2 { get; init; } = 1000;

        /// <summary>
        /// The prior of <see cref="EmbeddingL2"/> applies to tables of more than this many rows: id tables (users, items)
        /// where a network memorizes. Smaller vocabularies (a device, a category, every field of a 10k-row sample) are
        /// seen often per row and are left alone: on criteo-10k, whose largest table is under 10,000 rows, a prior on
        /// every table cost 0.013 to 0.015 test AUC (benchmarks/results/sweep-prior.md). 0 puts it on every table.
        /// </summary>
        public int EmbeddingL2MinimumTableSize { get; init; } = 10_000;

        /// <summary>Momentum of SGD.</summary>
        public double Momentum { get; init; } = 0.9;

        /// <summary>Schedule after warm-up.</summary>
        public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

        /// <summary>Epochs between decays of <see cref="LearningRateSchedule.Step"/>.</summary>
        public int StepEpochs { get; init; } = 1;

        /// <summary>Decay factor of <see cref="LearningRateSchedule.Step"/>.</summary>
        public double StepGamma { get; init; } = 0.5;

        /// <summary>Steps of linear warm-up from 0 to the base rate.</summary>
        public int WarmupSteps { get; init; }

        /// <summary>Clip the gradients' global L2 norm to this value; null for no clipping.</summary>
        public double? GradientClipNorm { get; init; }

        /// <summary>Metric for early stopping and best weights.</summary>
        public EarlyStoppingMetric EarlyStoppingMetric { get; init; } = EarlyStoppingMetric.Auc;

        /// <summary>
        /// Validation data in its <b>raw</b> form, with the columns of the raw training data: when the trainer is the last
        /// step of a pipeline, <c>pipeline.Fit(train)</c> runs it through the fitted transforms before the trainer and
        /// scores it after every epoch (early stopping, best weights). Null for none; not with <see cref="ValidationFraction"/>
        /// or with validation data passed to <see cref="TorchCtrTrainer.Fit(IDataView, IDataView)"/>.
        /// </summary>
        public IDataView? ValidationData { get; init; }

        /// <summary>
        /// Hold out this fraction of the training rows (above 0, below 1) as validation data: random rows drawn with
        /// <see cref="Seed"/>, or the latest rows by <see cref="ValidationTimeColumnName"/>. The held-out rows are not trained
        /// on; the transforms before the trainer were fit on every row. Null for none.
        /// </summary>
        public double? ValidationFraction { get; init; }

        /// <summary>
        /// With <see cref="ValidationFraction"/>: a Single or Double column (e.g. a Unix time) whose largest values are
        /// held out, so validation looks at the latest rows like tomorrow's traffic. Null holds out random rows.
        /// </summary>
        public string? ValidationTimeColumnName { get; init; }

        /// <summary>Stop after this many epochs without improvement; null to always run every epoch.</summary>
        public int? Patience { get; init; } = 2;

        /// <summary>With validation data, end with the best epoch's weights rather than the last epoch's.</summary>
        public bool KeepBestWeights { get; init; } = true;

        /// <summary>Directory for the checkpoint written after every epoch; null for none.</summary>
        public string? CheckpointDirectory { get; init; }

        /// <summary>Continue from the checkpoint in <see cref="CheckpointDirectory"/> when there is one.</summary>
        public bool Resume { get; init; }

        /// <summary>
        /// Keep the optimizer's state (e.g. Adam's moment estimates, at the epoch whose weights are kept) with the
        /// trained network and in its model zip, so that <see cref="TorchCtrTrainer.FitIncremental"/> continues it
        /// tomorrow. With Adam the zip holds about three times the weights.
        /// </summary>
        public bool KeepOptimizerState { get; init; }

        /// <summary>
        /// Seed of initialization, shuffling and dropout: a CPU run with one thread repeats exactly. Null (the
        /// default) takes the <c>MLContext</c>'s seed, so <c>new MLContext(seed: 1)</c> repeats and <c>new MLContext()</c>
        /// varies. libtorch's random generator is process-wide: each fit seeds it
        /// at its start and at every epoch, which other torch code in the process sees.
        /// </summary>
        public int? Seed { get; init; }

        /// <summary>The seed after the trainer resolved it (never null inside the trainer).</summary>
        internal int SeedValue => Seed ?? throw new InvalidOperationException("The trainer resolves Seed when it is created.");

        /// <summary>
        /// libtorch intra-op threads during a fit; null leaves libtorch's setting. libtorch's thread count is
        /// process-wide: each fit sets it at its start and restores the previous count when it ends, so scoring and
        /// other torch code keep the process's own setting (<c>torch.set_num_threads</c>); two fits at once in one
        /// process share it. Default 1: at CTR batch sizes (around 1,000 rows) one thread is as fast as two on a quiet
        /// 2-core machine and many times faster on a busy one (benchmarks/results/threads.md).
        /// </summary>
        public int? Threads { get; init; } = 1;

        /// <summary>Training data larger than this (in compact form) is streamed every epoch instead of cached.</summary>
        public long MaxCacheBytes { get; init; } = 2L << 30;

        /// <summary>Rows per block when streaming; shuffling happens within a block.</summary>
        public int StreamingBlockRows { get; init; } = 1 << 18;

        /// <summary>
        /// Rows per forward pass when scoring (Transform and validation). 2048 keeps the MLP's activations in cache:
        /// on the default model it scored about twice as fast per row as 8192 (benchmarks/results/performance.md).
        /// </summary>
        public int ScoringBatchSize { get; init; } = 2048;

        /// <summary>Receives progress: rows/s, loss, ETA, end-of-epoch metrics.</summary>
        public IProgress<TrainingProgress>? Progress { get; init; }

        /// <summary>Cancels training between batches.</summary>
        public CancellationToken CancellationToken { get; init; }

        /// <param name="resuming">False to leave out the check that <see cref="CheckpointDirectory"/> holds a checkpoint to resume.</param>
        internal void Validate(bool resuming = true)
        {
            static void Check(bool ok, string name, string message)
            {
                if (!ok)
                    throw new ArgumentOutOfRangeException(name, message);
            }
            Check(!string.IsNullOrEmpty(LabelColumnName), nameof(LabelColumnName), "LabelColumnName is required.");
            Check(Epochs >= 1, nameof(Epochs), $"Epochs must be at least 1, got {Epochs}.");
            Check(BatchSize is null or >= 2, nameof(BatchSize), $"BatchSize must be at least 2, got {BatchSize}.");
            Check(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), $"LearningRate must be positive, got {LearningRate}.");
            Check(WeightDecay >= 0, nameof(WeightDecay), $"WeightDecay must not be negative, got {WeightDecay}.");
            Check(EmbeddingL2 >= 0 && double.IsFinite(EmbeddingL2), nameof(EmbeddingL2), $"EmbeddingL2 must be a finite number ≥ 0, got {EmbeddingL2}.");
            Check(EmbeddingL2MinimumTableSize >= 0, nameof(EmbeddingL2MinimumTableSize), $"EmbeddingL2MinimumTableSize must not be negative, got {EmbeddingL2MinimumTableSize}.");
            Check(StepEpochs >= 1, nameof(StepEpochs), $"StepEpochs must be at least 1, got {StepEpochs}.");
            Check(WarmupSteps >= 0, nameof(WarmupSteps), $"WarmupSteps must not be negative, got {WarmupSteps}.");
            Check(GradientClipNorm is null or > 0, nameof(GradientClipNorm), $"GradientClipNorm must be positive, got {GradientClipNorm}.");
            Check(Patience is null or >= 1, nameof(Patience), $"Patience must be at least 1, got {Patience}.");
            Check(Threads is null or >= 1, nameof(Threads), $"Threads must be at least 1, got {Threads}.");
            Check(StreamingBlockRows >= (BatchSize ?? 2), nameof(StreamingBlockRows), BatchSize is null
                ? $"StreamingBlockRows must be at least 2 (a batch of the automatic BatchSize has at least 2 rows), got {StreamingBlockRows}."
                : $"StreamingBlockRows ({StreamingBlockRows}) must be at least BatchSize ({BatchSize}).");
            Check(ScoringBatchSize >= 1, nameof(ScoringBatchSize), $"ScoringBatchSize must be at least 1, got {ScoringBatchSize}.");
            Check(typeof(CtrModel).IsAssignableFrom(ModelType) && ModelType.GetConstructor([typeof(CtrModelContext)]) is not null, nameof(ModelType),
                $"ModelType {ModelType} must derive from CtrModel and have a public constructor taking a CtrModelContext.");
            Check(ValidationFraction is null or (> 0 and < 1), nameof(ValidationFraction), $"ValidationFraction must be above 0 and below 1, got {ValidationFraction}.");
            Check(ValidationData is null || ValidationFraction is null, nameof(ValidationFraction), "Set ValidationData or ValidationFraction, not both.");
            Check(ValidationTimeColumnName is null || ValidationFraction is not null, nameof(ValidationTimeColumnName), "ValidationTimeColumnName needs ValidationFraction.");
            Check(CtrModelRegistry.TryGetName(ModelType, out _), nameof(ModelType),
                $"ModelType {ModelType} has no registered name, which the model zip stores: call CtrModelRegistry.Register<{ModelType.Name}>(\"a-short-name\") once per process, before training it and before loading its models.");
            Check(!Resume || CheckpointDirectory is not null, nameof(Resume), "Resume needs a CheckpointDirectory.");
            // Resuming nothing is not resuming: a misspelled or empty directory must not silently start over.
            Check(!Resume || !resuming || Training.Checkpoint.Exists(CheckpointDirectory!), nameof(Resume),
                $"Resume: there is no checkpoint in '{CheckpointDirectory}' (no {Training.Checkpoint.FileName}); check the directory, or train without resuming to start over.");
            Model.Validate();
        }
    }
}
