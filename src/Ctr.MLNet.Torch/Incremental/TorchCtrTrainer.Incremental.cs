using Ctr.MLNet.Torch.Incremental;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

public sealed partial class TorchCtrTrainer
{
    /// <summary>
    /// Continues training <paramref name="yesterday"/>'s network on today's data: every embedding table grows to
    /// today's vocabulary (the rows of existing ids keep their trained values bit for bit, new rows start as at
    /// initialization: normal(0, <see cref="CtrModelOptions.EmbeddingInitStd"/>)), every other weight and buffer is
    /// copied, and training runs as <see cref="Fit(IDataView, IDataView)"/> from there. Yesterday's optimizer state
    /// continues when it was kept (<see cref="Options.KeepOptimizerState"/>), the rows of new ids with zero state;
    /// otherwise a fresh optimizer starts on the warm weights. <paramref name="yesterday"/> is unchanged.
    /// </summary>
    /// <remarks>
    /// <paramref name="trainData"/> and <paramref name="validationData"/> must come from yesterday's feature pipeline
    /// <b>refit</b> on today's data (see <see cref="IncrementalTraining.RefitFeatures"/>), so that every id keeps its
    /// index. The network keeps yesterday's inputs, label column, type and <see cref="CtrModelOptions"/>; from this
    /// trainer's options come the training settings (epochs, batch size, optimizer, learning rate, schedule, early
    /// stopping, seed, threads, checkpoints, <see cref="Options.KeepOptimizerState"/>).
    /// </remarks>
    /// <param name="yesterday">The network trained before, e.g. the last transformer of a loaded model zip.</param>
    /// <param name="trainData">Today's training data through the refit feature pipeline.</param>
    /// <param name="validationData">Today's validation data through the refit pipeline, or null.</param>
    public TorchCtrTransformer FitIncremental(TorchCtrTransformer yesterday, IDataView trainData, IDataView? validationData = null)
    {
        _host.CheckValue(yesterday, nameof(yesterday));
        _host.CheckValue(trainData, nameof(trainData));
        return Continuing(yesterday).Fit(trainData, validationData, new WarmStart(yesterday));
    }

    /// <summary>
    /// <paramref name="yesterday"/>'s network grown to the vocabularies of <paramref name="schema"/> without training:
    /// the network <see cref="FitIncremental"/> starts from (same seed, same weights). New ids score with their
    /// small initial embeddings rather than the OOV row.
    /// </summary>
    /// <param name="yesterday">The network trained before.</param>
    /// <param name="schema">The schema of today's data through the refit feature pipeline.</param>
    public TorchCtrTransformer Grow(TorchCtrTransformer yesterday, DataViewSchema schema)
    {
        _host.CheckValue(yesterday, nameof(yesterday));
        _host.CheckValue(schema, nameof(schema));
        TorchCtrTrainer trainer = Continuing(yesterday);
        Options options = trainer._options;
        var warmStart = new WarmStart(yesterday);
        FeatureLayout layout = warmStart.GrowLayout(schema);
        manual_seed(options.SeedValue);
        CtrModel model = TorchCtrTransformer.CreateModel(options.ModelType, new CtrModelContext(layout, options.Model));
        try
        {
            warmStart.CopyWeights(model, layout, options.Progress);
            return new TorchCtrTransformer(_host, layout, options.Model, options.ModelType, model, yesterday.History, options.ScoringBatchSize, options.LabelColumnName);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>A trainer with this one's training settings and <paramref name="yesterday"/>'s network and label.</summary>
    private TorchCtrTrainer Continuing(TorchCtrTransformer yesterday) =>
        new(_host, _options with
        {
            LabelColumnName = yesterday.LabelColumnName,
            ModelType = yesterday.Model.GetType(),
            Model = yesterday.ModelOptions,
        });
}
