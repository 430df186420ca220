using System;

namespace Ctr.MLNet.Torch;

/// <summary>A progress report from <see cref="TorchCtrTrainer"/>, sent through <see cref="TorchCtrTrainer.Options.Progress"/>.</summary>
/// <param name="Phase">What the trainer is doing.</param>
/// <param name="Epoch">Current epoch (1-based; 0 while reading data).</param>
/// <param name="Epochs">Epochs planned.</param>
/// <param name="RowsDone">Rows processed in this phase so far.</param>
/// <param name="RowsTotal">Rows in this phase, when known.</param>
/// <param name="RowsPerSecond">Throughput over this phase.</param>
/// <param name="Loss">Mean training loss over the epoch so far.</param>
/// <param name="Eta">Estimated time left in this phase.</param>
/// <param name="Message">A line for a log, e.g. the end-of-epoch metrics.</param>
public sealed record TrainingProgress(TrainingPhase Phase, int Epoch, int Epochs, long RowsDone, long? RowsTotal, double RowsPerSecond, double Loss, TimeSpan? Eta, string? Message = null);

/// <summary>Phases of <see cref="TorchCtrTrainer.Fit(Microsoft.ML.IDataView, Microsoft.ML.IDataView)"/>.</summary>
public enum TrainingPhase
{
    /// <summary>Reading the training data into memory (or finding it too large and streaming it).</summary>
    Reading,

    /// <summary>Training steps.</summary>
    Training,

    /// <summary>Scoring the validation set.</summary>
    Validating,

    /// <summary>An epoch ended; <see cref="TrainingProgress.Message"/> has its metrics.</summary>
    EpochEnd,
}

/// <summary>Metrics of one epoch.</summary>
/// <param name="Epoch">1-based epoch.</param>
/// <param name="TrainLoss">Mean training loss.</param>
/// <param name="ValidAuc">Validation AUC (NaN without validation data).</param>
/// <param name="ValidLogLoss">Validation log loss, natural log (NaN without validation data).</param>
/// <param name="TrainRowsPerSecond">Training throughput: feeding, forward, backward and step.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double ValidAuc, double ValidLogLoss, double TrainRowsPerSecond, double LearningRate);
