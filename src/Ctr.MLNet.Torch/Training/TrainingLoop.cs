using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctr.MLNet.Torch.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Training;

/// <summary>Epochs of shuffled batches, validation, early stopping and checkpoints for one model.</summary>
internal sealed class TrainingLoop
{
    private readonly CtrModel _model;
    private readonly TorchCtrTrainer.Options _options;
    private readonly FeatureLayout _layout;
    private readonly string _fingerprint;

    public TrainingLoop(CtrModel model, TorchCtrTrainer.Options options, FeatureLayout layout, string fingerprint)
    {
        _model = model;
        _options = options;
        _layout = layout;
        _fingerprint = fingerprint;
    }

    /// <summary>Called with the new optimizer before the first step (and before a resume), e.g. to continue yesterday's state.</summary>
    public Action<optim.Optimizer>? StartOptimizer { get; init; }

    /// <summary>Fingerprints of earlier settings with what to set to resume them, for the error of a checkpoint that does not match.</summary>
    public IReadOnlyDictionary<string, string>? EarlierSettings { get; init; }

    /// <summary>
    /// With <see cref="TorchCtrTrainer.Options.KeepOptimizerState"/>, the optimizer's state after <see cref="Run"/>
    /// (TorchSharp's format), taken at the epoch whose weights the model ends with; otherwise null.
    /// </summary>
    public byte[]? OptimizerState { get; private set; }

    /// <summary>Trains <see cref="_model"/> in place and returns the epochs' metrics.</summary>
    public IReadOnlyList<EpochMetrics> Run(TrainingData train, TrainingData? valid)
    {
        using optim.Optimizer optimizer = _model.CreateOptimizer(_options) ?? CreateOptimizer(_model.parameters(), _options);
        optim.lr_scheduler.LRScheduler? scheduler = _model.CreateScheduler(optimizer, _options);
        if (_options.KeepOptimizerState)
            Checkpointable(optimizer); // fail before training, not after it
        StartOptimizer?.Invoke(optimizer);
        byte[]? bestOptimizerState = null;
        int batchSize = _options.ResolveBatchSize(train.RowCount);
        long stepsPerEpoch = Math.Max(1, (train.RowCount + batchSize - 1) / batchSize);
        using EmbeddingPrior? prior = _options.EmbeddingL2 > 0 ? EmbeddingPrior.Create(_model, _layout, train, _options.EmbeddingL2, _options.EmbeddingL2MinimumTableSize) : null;
        long totalSteps = stepsPerEpoch * _options.Epochs;

        var state = new TrainingState();
        if (_options.Resume && Checkpoint.Exists(_options.CheckpointDirectory!))
        {
            state = Checkpoint.Read(_options.CheckpointDirectory!, _fingerprint, _model, Checkpointable(optimizer), EarlierSettings);
            for (long s = 0; s < state.Step; s++)
                scheduler?.step();
            Report(TrainingPhase.EpochEnd, state.Epoch, 0, null, 0, 0, $"resumed after epoch {state.Epoch} (step {state.Step})");
        }
        int resumedEpoch = state.Epoch;
        bool stopped = state.Epoch > 0 && ShouldStop(state);
        var builder = new BatchBuilder(_layout);

        for (int epoch = state.Epoch + 1; epoch <= _options.Epochs && !stopped; epoch++)
        {
            _model.train();
            manual_seed(_options.SeedValue * 7919L + epoch);
            // Not HashCode.Combine: it is randomized per process, and a seed must repeat across processes.
            var random = new Random(unchecked(_options.SeedValue * 7919 + epoch));
            var clock = Stopwatch.StartNew();
            double lossSum = 0;
            long rows = 0, batches = 0;
            var lastReport = TimeSpan.Zero;

            foreach (FeatureBlock block in train.Blocks())
            {
                int[] order = Permutation(block.Count, random);
                for (int start = 0, count; start < block.Count; start += count)
                {
                    count = Math.Min(batchSize, block.Count - start);
                    if (block.Count - start - count == 1)
                        count++; // a lone last row joins this batch: a one-row batch breaks batch normalization
                    if (count < 2)
                        continue; // a block of one row, which Blocks() makes only of one-row data: batch normalization needs two
                    _options.CancellationToken.ThrowIfCancellationRequested();
                    if (scheduler is null)
                        SetLearningRate(optimizer, LearningRate(state.Step, epoch, totalSteps));

                    using (NewDisposeScope())
                    {
                        CtrBatch batch = builder.Build(block, order.AsSpan(start, count), withLabels: true);
                        optimizer.zero_grad();
                        Tensor loss = _model.TrainingStep(batch);
                        float value = loss.item<float>();
                        if (prior is not null)
                            loss = loss.add(prior.Penalty(batch), Scalars.One);
                        if (!float.IsFinite(value))
                        {
                            throw new InvalidOperationException(
                                $"Training loss became {value} in epoch {epoch}, step {state.Step + 1}. Lower LearningRate"
                                + (prior is null ? "" : $" or EmbeddingL2 ({_options.EmbeddingL2})")
                                + ", set GradientClipNorm, or check the features for extreme values."
                                + (_options.CheckpointDirectory is null ? "" : $" The last good checkpoint (after epoch {state.Epoch}) is in '{_options.CheckpointDirectory}'."));
                        }
                        loss.backward();
                        if (_options.GradientClipNorm is double clip)
                            nn.utils.clip_grad_norm_(_model.parameters(), clip);
                        optimizer.step();
                        scheduler?.step();
                        lossSum += value * count;
                    }
                    state.Step++;
                    rows += count;
                    batches++;
                    if (clock.Elapsed - lastReport > TimeSpan.FromSeconds(1))
                    {
                        lastReport = clock.Elapsed;
                        double rate = rows / clock.Elapsed.TotalSeconds;
                        Report(TrainingPhase.Training, epoch, rows, train.RowCount, rate, lossSum / rows, null,
                            eta: TimeSpan.FromSeconds((train.RowCount - rows) / Math.Max(rate, 1e-9)));
                    }
                }
            }
            double trainRate = rows / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);

            (double auc, double logLoss) = valid is null ? (double.NaN, double.NaN) : Validate(valid, builder, epoch);
            var metrics = new EpochMetrics(epoch, rows == 0 ? double.NaN : lossSum / rows, auc, logLoss, trainRate, CurrentLearningRate(optimizer));
            state.History.Add(metrics);
            state.Epoch = epoch;
            if (UpdateBest(state, metrics) && _options.KeepOptimizerState && _options.KeepBestWeights)
                bestOptimizerState = SaveOptimizer(optimizer);
            if (_options.CheckpointDirectory is not null)
                Checkpoint.Write(_options.CheckpointDirectory, _fingerprint, state, _model, Checkpointable(optimizer));
            Report(TrainingPhase.EpochEnd, epoch, rows, train.RowCount, trainRate, metrics.TrainLoss,
                $"epoch {epoch}/{_options.Epochs}: train loss {metrics.TrainLoss:F5}, valid AUC {auc:F5}, valid log loss {logLoss:F5}, {trainRate:F0} rows/s");
            stopped = ShouldStop(state);
        }

        if (valid is not null && _options.KeepBestWeights && state.BestWeights is not null)
        {
            using var stream = new MemoryStream(state.BestWeights);
            using var reader = new BinaryReader(stream);
            _model.load(reader);
            // After a resume past the best epoch its optimizer state is gone; the last epoch's is the closest.
            if (_options.KeepOptimizerState)
                OptimizerState = bestOptimizerState ?? SaveOptimizer(optimizer);
        }
        else if (_options.KeepOptimizerState)
        {
            OptimizerState = SaveOptimizer(optimizer);
        }
        _model.eval();
        // A run resumed after its last epoch validates nothing above; the weights it ends with are checked all the same.
        if (valid is not null && state.Epoch == resumedEpoch)
            Validate(valid, builder, state.Epoch);
        return state.History;
    }

    /// <summary>AUC and log loss of the model on <paramref name="valid"/>, in evaluation mode.</summary>
    private (double Auc, double LogLoss) Validate(TrainingData valid, BatchBuilder builder, int epoch)
    {
        _model.eval();
        var labels = new float[valid.RowCount];
        var probabilities = new float[valid.RowCount];
        int done = 0;
        using (no_grad())
        {
            foreach (FeatureBlock block in valid.Blocks())
            {
                int[] rows = Permutation(block.Count, random: null);
                for (int start = 0; start < block.Count; start += _options.ScoringBatchSize)
                {
                    int count = Math.Min(_options.ScoringBatchSize, block.Count - start);
                    using (NewDisposeScope())
                    {
                        CtrBatch batch = builder.Build(block, rows.AsSpan(start, count), withLabels: true);
                        Tensor probability = _model.ValidationStep(batch);
                        probability.to(float32).data<float>().CopyTo(probabilities, done);
                    }
                    Array.Copy(block.Labels, start, labels, done, count);
                    done += count;
                }
            }
        }
        int bad = Array.FindIndex(probabilities, p => !float.IsFinite(p));
        if (bad >= 0)
        {
            throw new InvalidOperationException(
                $"After epoch {epoch} the model gives validation row {bad + 1} the probability {probabilities[bad]}; a model that yields non-finite probabilities is never saved. "
                + "Lower LearningRate, set GradientClipNorm, or check the features for extreme values; if training resumed, the checkpoint may be damaged: delete it to start over.");
        }
        Report(TrainingPhase.Validating, epoch, done, valid.RowCount, 0, 0, null);
        return (BinaryMetrics.Auc(labels, probabilities), BinaryMetrics.LogLoss(labels, probabilities));
    }

    /// <summary>Records <paramref name="metrics"/>; true when they are the best so far.</summary>
    private bool UpdateBest(TrainingState state, EpochMetrics metrics)
    {
        double value = _options.EarlyStoppingMetric == EarlyStoppingMetric.Auc ? metrics.ValidAuc : -metrics.ValidLogLoss;
        if (double.IsNaN(value))
            return false;
        if (double.IsNaN(state.BestMetric) || value > state.BestMetric)
        {
            state.BestMetric = value;
            state.BestEpoch = metrics.Epoch;
            state.EpochsWithoutImprovement = 0;
            if (_options.KeepBestWeights)
            {
                using var stream = new MemoryStream();
                using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                    _model.save(writer);
                state.BestWeights = stream.ToArray();
            }
            return true;
        }
        state.EpochsWithoutImprovement++;
        return false;
    }

    private byte[] SaveOptimizer(optim.Optimizer optimizer)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            Checkpointable(optimizer).save_state_dict(writer);
        return stream.ToArray();
    }

    private bool ShouldStop(TrainingState state) =>
        _options.Patience is int patience && state.EpochsWithoutImprovement >= patience;

    private double LearningRate(long step, int epoch, long totalSteps)
    {
        double rate = _options.LearningRate;
        if (_options.WarmupSteps > 0 && step < _options.WarmupSteps)
            return rate * (step + 1) / _options.WarmupSteps;
        return _options.Schedule switch
        {
            LearningRateSchedule.Step => rate * Math.Pow(_options.StepGamma, (epoch - 1) / _options.StepEpochs),
            LearningRateSchedule.Cosine => rate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1.0, (double)(step - _options.WarmupSteps) / Math.Max(1, totalSteps - _options.WarmupSteps)))),
            _ => rate,
        };
    }

    internal static optim.Optimizer CreateOptimizer(IEnumerable<Parameter> parameters, TorchCtrTrainer.Options options) => options.Optimizer switch
    {
        CtrOptimizer.AdamW => optim.AdamW(parameters, options.LearningRate, weight_decay: options.WeightDecay),
        CtrOptimizer.Sgd => optim.SGD(parameters, options.LearningRate, momentum: options.Momentum, weight_decay: options.WeightDecay),
        CtrOptimizer.Adagrad => optim.Adagrad(parameters, options.LearningRate, weight_decay: options.WeightDecay),
        _ => optim.Adam(parameters, options.LearningRate, weight_decay: options.WeightDecay),
    };

    private static void SetLearningRate(optim.Optimizer optimizer, double rate)
    {
        foreach (var group in optimizer.ParamGroups)
            group.LearningRate = rate;
    }

    private static double CurrentLearningRate(optim.Optimizer optimizer) => optimizer.ParamGroups.First().LearningRate;

    private OptimizerHelper Checkpointable(optim.Optimizer optimizer) => optimizer as OptimizerHelper
        ?? throw new NotSupportedException($"Checkpoints and KeepOptimizerState need an optimizer whose state TorchSharp can save; {optimizer.GetType().Name} cannot. Remove CheckpointDirectory and KeepOptimizerState, or use a built-in optimizer.");

    /// <summary>0..n-1, shuffled when <paramref name="random"/> is given.</summary>
    private static int[] Permutation(int n, Random? random)
    {
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
            order[i] = i;
        random?.Shuffle(order);
        return order;
    }

    private void Report(TrainingPhase phase, int epoch, long rows, long? total, double rate, double loss, string? message, TimeSpan? eta = null) =>
        _options.Progress?.Report(new TrainingProgress(phase, epoch, _options.Epochs, rows, total, rate, loss, eta, message));
}
