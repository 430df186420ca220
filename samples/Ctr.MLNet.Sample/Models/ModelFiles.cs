using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Ctr.MLNet.Sample.Data;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Models;

/// <summary>Saving and loading model zips so that a failure never costs the previous file and always says what is wrong.</summary>
public static class ModelFiles
{
    /// <summary>Writes the zip next to <paramref name="path"/> and renames it into place (<see cref="AtomicFile"/>): a crash leaves the old file whole.</summary>
    public static void Save(MLContext ml, ITransformer model, DataViewSchema inputSchema, string path) =>
        ml.Ctr().Model.Save(model, inputSchema, path);

    /// <summary>Loads a model zip; a file that cannot be loaded gives one <see cref="InvalidOperationException"/> naming the file and the cause.</summary>
    public static LoadedModel Load(MLContext ml, string path)
    {
        InputFiles.RequireFile(path, "Model");
        ITransformer model;
        DataViewSchema inputSchema;
        try
        {
            model = ml.Ctr().Model.Load(path, out inputSchema);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException(e.Message, e);
        }
        TorchCtrTransformer? network = (model as TransformerChain<ITransformer>)?.LastOrDefault() as TorchCtrTransformer ?? model as TorchCtrTransformer;
        if (network is null)
            throw new InvalidOperationException($"Model file '{path}' holds no trained CTR network; it was not written by the train verb.");
        return new LoadedModel(model, inputSchema, network);
    }
}

/// <summary>A loaded pipeline, the schema it was trained on, and its network.</summary>
/// <param name="Model">The whole pipeline.</param>
/// <param name="InputSchema">The columns the pipeline reads.</param>
/// <param name="Network">The trained network at its end.</param>
public sealed record LoadedModel(ITransformer Model, DataViewSchema InputSchema, TorchCtrTransformer Network);
