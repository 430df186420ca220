using System;
using System.IO;
using Ctr.MLNet.Transforms.Models;
using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace Ctr.MLNet.Transforms;

/// <summary>Entry point of Ctr.MLNet on an <see cref="MLContext"/>: <c>mlContext.Ctr()</c>.</summary>
public static class MLContextCtrExtensions
{
    /// <summary>The CTR catalogs of <paramref name="mlContext"/>.</summary>
    public static CtrCatalog Ctr(this MLContext mlContext) => new(mlContext);
}

/// <summary>Holds the <see cref="MLContext"/> for the CTR catalogs; each project adds extension methods to them.</summary>
public sealed class CtrCatalog
{
    internal CtrCatalog(MLContext mlContext)
    {
        Context = mlContext ?? throw new System.ArgumentNullException(nameof(mlContext));
        Transforms = new TransformsCatalog(mlContext);
        Model = new ModelCatalog(mlContext);
    }

    /// <summary>The context the catalogs create estimators for.</summary>
    public MLContext Context { get; }

    /// <summary>Feature transforms; see <see cref="CtrTransformsCatalog"/>.</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Loading model zips with errors that say what is wrong; see <see cref="ModelCatalog"/>.</summary>
    public ModelCatalog Model { get; }

    /// <summary>Target of the feature-transform extension methods.</summary>
    public sealed class TransformsCatalog
    {
        internal TransformsCatalog(MLContext mlContext) => Environment = mlContext;

        // MLContext is an IHostEnvironment; ML.NET keeps that interface internal.
        internal IHostEnvironment Environment { get; }
    }

    /// <summary>
    /// <c>mlContext.Model.Load</c> with checks and clear errors. ML.NET wraps a loader's error in
    /// <see cref="System.Reflection.TargetInvocationException"/>s and does not check the zip's CRC-32s, so a file with
    /// flipped bytes can load with wrong weights; these methods check every entry first and throw one
    /// <see cref="FormatException"/> naming the cause: empty, not a zip, truncated, a corrupt entry, a component saved
    /// by a newer version, or the loader's own message.
    /// </summary>
    public sealed class ModelCatalog
    {
        private readonly MLContext _mlContext;

        internal ModelCatalog(MLContext mlContext) => _mlContext = mlContext;

        /// <summary>Loads the model zip at <paramref name="filePath"/>, as <c>mlContext.Model.Load</c> would after checking it.</summary>
        /// <exception cref="FileNotFoundException">There is no file at <paramref name="filePath"/>.</exception>
        /// <exception cref="FormatException">The file cannot be loaded; the message starts "Model file 'path' cannot be loaded:".</exception>
        public ITransformer Load(string filePath, out DataViewSchema inputSchema) => ModelZipLoader.Load(_mlContext, filePath, out inputSchema);

        /// <summary>Loads a model zip from <paramref name="stream"/> (read to its end), as <c>mlContext.Model.Load</c> would after checking it.</summary>
        /// <exception cref="FormatException">The stream holds no loadable model; the message starts "The model cannot be loaded:".</exception>
        public ITransformer Load(Stream stream, out DataViewSchema inputSchema) => ModelZipLoader.Load(_mlContext, stream, "The model", out inputSchema);

        /// <summary>
        /// Saves as <c>mlContext.Model.Save</c> does, through <see cref="AtomicFile"/>: until the new zip is complete
        /// and on disk, <paramref name="filePath"/> keeps the previous one, whatever happens to the process.
        /// </summary>
        public void Save(ITransformer model, DataViewSchema inputSchema, string filePath) =>
            AtomicFile.Write(filePath, stream => _mlContext.Model.Save(model, inputSchema, stream));
    }
}
