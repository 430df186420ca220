using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Ctr.MLNet.Torch;

/// <summary><c>mlContext.BinaryClassification.Trainers.TorchCtr(...)</c>.</summary>
public static class CtrTrainersCatalog
{
    /// <summary>A TorchSharp CTR trainer with every option.</summary>
    /// <param name="catalog">The binary-classification trainers catalog.</param>
    /// <param name="options">Trainer options.</param>
    public static TorchCtrTrainer TorchCtr(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, TorchCtrTrainer.Options options) =>
        new(Environment(catalog), options);

    /// <summary>A TorchSharp CTR trainer with the common options.</summary>
    /// <param name="catalog">The binary-classification trainers catalog.</param>
    /// <param name="labelColumnName">Label column (Boolean, or 0/1 Single).</param>
    /// <param name="numericColumnNames">Float columns fed as they are; null for every normalized column of the schema.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Rows per step; null for <see cref="TorchCtrTrainer.Options.BatchSize"/>'s automatic size.</param>
    public static TorchCtrTrainer TorchCtr(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, string labelColumnName = "Label",
        string[]? numericColumnNames = null, int epochs = 10, int? batchSize = null) =>
        new(Environment(catalog), new TorchCtrTrainer.Options
        {
            LabelColumnName = labelColumnName,
            NumericColumnNames = numericColumnNames,
            Epochs = epochs,
            BatchSize = batchSize,
        });

    /// <summary>A network and a FastTree ensemble on the same features, blended on validation rows (<see cref="HybridCtrTrainer"/>).</summary>
    /// <param name="catalog">The binary-classification trainers catalog.</param>
    /// <param name="options">The network's and the trees' options.</param>
    public static HybridCtrTrainer TorchCtrWithTrees(this BinaryClassificationCatalog.BinaryClassificationTrainers catalog, HybridCtrTrainer.Options options) =>
        new(Environment(catalog), options);

    // ML.NET keeps the catalog's environment internal; it is the MLContext.
    private static IHostEnvironment Environment(BinaryClassificationCatalog.BinaryClassificationTrainers catalog) =>
        ((IInternalCatalog)catalog).Environment;
}
