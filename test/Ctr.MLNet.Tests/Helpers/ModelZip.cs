using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>Edits the saved state of one transformer inside a model zip, to test how loading meets a corrupt file.</summary>
internal static class ModelZip
{
    /// <summary>
    /// Saves <paramref name="transformer"/>, replaces the first occurrence of <paramref name="find"/> in the entry
    /// whose header carries <paramref name="modelSignature"/> with <paramref name="replace"/> (same length), and
    /// returns the edited zip.
    /// </summary>
    public static MemoryStream SaveAndPatch(ITransformer transformer, DataViewSchema inputSchema, string modelSignature, byte[] find, byte[] replace)
    {
        var stream = new MemoryStream();
        new MLContext(seed: 1).Model.Save(transformer, inputSchema, stream);
        return Patch(stream, modelSignature, find, replace);
    }

    /// <summary>A copy of the model zip <paramref name="path"/> patched as <see cref="SaveAndPatch"/> patches.</summary>
    public static MemoryStream Patch(string path, string modelSignature, byte[] find, byte[] replace)
    {
        var stream = new MemoryStream();
        stream.Write(File.ReadAllBytes(path));
        return Patch(stream, modelSignature, find, replace);
    }

    private static MemoryStream Patch(MemoryStream stream, string modelSignature, byte[] find, byte[] replace)
    {
        Assert.AreEqual(find.Length, replace.Length, "a patch keeps every offset");
        // ML.NET packs the signature into a ulong whose byte order we do not depend on: look for either order.
        byte[] signature = System.Text.Encoding.ASCII.GetBytes(modelSignature);
        byte[] reversed = [.. signature.Reverse()];
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Update, leaveOpen: true))
        {
            ZipArchiveEntry? target = null;
            byte[] content = [];
            foreach (ZipArchiveEntry entry in zip.Entries.ToArray())
            {
                using var copy = new MemoryStream();
                using (Stream read = entry.Open())
                    read.CopyTo(copy);
                byte[] bytes = copy.ToArray();
                if (bytes.AsSpan().IndexOf(signature) >= 0 || bytes.AsSpan().IndexOf(reversed) >= 0)
                {
                    target = entry;
                    content = bytes;
                    break;
                }
            }
            Assert.IsNotNull(target, $"no entry carries model signature {modelSignature}");
            int at = content.AsSpan().IndexOf(find);
            Assert.IsGreaterThanOrEqualTo(0, at, "the bytes to patch are not in the saved state");
            replace.CopyTo(content, at);
            string name = target.FullName;
            target.Delete();
            using Stream write = zip.CreateEntry(name).Open();
            write.Write(content);
        }
        stream.Position = 0;
        return stream;
    }
}
