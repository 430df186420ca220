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
    }

    /// <summary>The context the catalogs create estimators for.</summary>
    public MLContext Context { get; }

    /// <summary>Feature transforms; see <see cref="CtrTransformsCatalog"/>.</summary>
    public TransformsCatalog Transforms { get; }

    /// <summary>Target of the feature-transform extension methods.</summary>
    public sealed class TransformsCatalog
    {
        internal TransformsCatalog(MLContext mlContext) => Environment = mlContext;

        // MLContext is an IHostEnvironment; ML.NET keeps that interface internal.
        internal IHostEnvironment Environment { get; }
    }
}
