using TorchSharp;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Scalars passed to libtorch explicitly. TorchSharp's <c>a + b</c>, <c>add</c>, <c>add_</c> and <c>ne(0)</c> make an
/// implicit <see cref="Scalar"/> temporary that nothing references during the native call, so under load its
/// finalizer can free it while libtorch still reads it (an HTTP 500 "Exception raised from toFloat" under wrk). These
/// are static, so they are never finalized.
/// </summary>
internal static class Scalars
{
    /// <summary>0, for comparisons.</summary>
    public static readonly Scalar Zero = 0;

    /// <summary>1: the alpha of an addition, or the step of a subtraction.</summary>
    public static readonly Scalar One = 1;
}
