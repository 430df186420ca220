using System;
using System.IO;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>
/// Committed model zips under TestData/backcompat, written by version 1 of a format. Tests read the copies next to
/// the test binaries; with CTR_WRITE_BACKCOMPAT=1 they write the sources again (only when a format version is added).
/// </summary>
internal static class BackCompatFiles
{
    public static bool Writing => Environment.GetEnvironmentVariable("CTR_WRITE_BACKCOMPAT") == "1";

    /// <summary>The copy next to the test binaries.</summary>
    public static string Path(string name) => System.IO.Path.Combine(AppContext.BaseDirectory, "TestData", "backcompat", name);

    /// <summary>The committed source file, for writing.</summary>
    public static string SourcePath(string name)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Ctr.MLNet.Tests.csproj")))
                return System.IO.Path.Combine(directory.FullName, "TestData", "backcompat", name);
        }
        throw new DirectoryNotFoundException("test/Ctr.MLNet.Tests not found above the test binaries.");
    }
}
