using Microsoft.ML;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// A fitted transform whose state can take in more data: <see cref="Refit"/> returns a new transformer fitted on
/// everything seen so far, with ids and output types that stay compatible with the ones it replaces (vocabularies
/// grow with stable indices, statistics merge). Incremental training refits every such stage of a pipeline in order.
/// </summary>
public interface IRefittableTransformer : ITransformer
{
    /// <summary>Takes in <paramref name="data"/> too and returns the updated transformer; this one is unchanged.</summary>
    /// <param name="data">More training data with the input columns this transformer was fitted on.</param>
    ITransformer Refit(IDataView data);
}
