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
    public static LoadedModel Load(MLContext ml, string path) => Load(ml, path, bytes: null);

    /// <summary>Loads a model zip from <paramref name="bytes"/> already read from <paramref name="path"/> (named in errors), or from the file when null.</summary>
    public static LoadedModel Load(MLContext ml, string path, byte[]? bytes)
    {
        if (bytes is null)
            InputFiles.RequireFile(path, "Model");
        ITransformer model;
        DataViewSchema inputSchema;
        try
        {
            model = bytes is null ? ml.Ctr().Model.Load(path, out inputSchema) : ml.Ctr().Model.Load(new MemoryStream(bytes, writable: false), out inputSchema);
        }
        catch (FormatException e)
        {
            // The stream loader calls its input "The model"; name the file as the path loader does.
            string message = bytes is not null && e.Message.StartsWith("The model ", StringComparison.Ordinal)
                ? $"Model file '{path}' {e.Message["The model ".Length..]}"
                : e.Message;
            throw new InvalidOperationException(message, e);
        }
        TorchCtrTransformer network = Last<TorchCtrTransformer>(model)
            ?? throw new InvalidOperationException($"Model file '{path}' holds no trained CTR network; it was not written by the train verb.");
        return new LoadedModel(model, inputSchema, network, Last<LogitBlendTransformer>(model)?.Blend);
    }

    /// <summary>The last <typeparamref name="T"/> in <paramref name="model"/>, looking inside nested chains (a hybrid is a chain in the chain).</summary>
    private static T? Last<T>(ITransformer model) where T : class, ITransformer => model switch
    {
        T found => found,
        TransformerChain<ITransformer> chain => chain.Reverse().Select(Last<T>).FirstOrDefault(t => t is not null),
        _ => null,
    };
}

/// <summary>What scoring with a loaded model must never hand on.</summary>
public static class Probabilities
{
    /// <summary>
    /// Throws when a probability is not finite; a NaN written as a prediction would pass for an answer. When no row
    /// scores, the weights are the likely cause (train never saves such a model, so the zip is damaged in a way its
    /// checksums missed, or was made elsewhere); when other rows score, the row's own values overflow the network
    /// (DCN-v2's crosses turn a number near 3.4e38 into NaN).
    /// </summary>
    public static float[] RequireFinite(float[] probabilities, string modelPath)
    {
        int bad = Array.FindIndex(probabilities, p => !float.IsFinite(p));
        if (bad >= 0)
        {
            string cause = Array.Exists(probabilities, float.IsFinite)
                ? "the model scores other rows, so that row's own values overflow it (a number far outside the training data's range in its numeric columns); correct or drop that row. Nothing was written."
                : "its weights are not finite, so nothing was written. Retrain the model, or use an earlier zip.";
            throw new InvalidOperationException($"Model file '{modelPath}' gives data row {bad + 1} (counting rows read) the probability {probabilities[bad]}; {cause}");
        }
        return probabilities;
    }
}

/// <summary>A loaded pipeline, the schema it was trained on, and its network.</summary>
/// <param name="Model">The whole pipeline.</param>
/// <param name="InputSchema">The columns the pipeline reads.</param>
/// <param name="Network">The trained network at its end (inside the hybrid, for a model with trees).</param>
/// <param name="Blend">The blend of network and trees, for a model trained with trees; otherwise null.</param>
public sealed record LoadedModel(ITransformer Model, DataViewSchema InputSchema, TorchCtrTransformer Network, LogitBlend? Blend = null);
