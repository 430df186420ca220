using System;
using System.IO;
using System.IO.Compression;
using System.Text.RegularExpressions;
using Microsoft.ML;

namespace Ctr.MLNet.Transforms.Models;

/// <summary>
/// Loads a model zip so that any broken file fails with one <see cref="FormatException"/> that says what is wrong:
/// empty, not a zip, truncated, a damaged entry (its CRC-32, which ML.NET does not check), a component saved by a
/// newer version, or the loader's own complaint, instead of ML.NET's nested wrappers.
/// </summary>
internal static partial class ModelZipLoader
{
    private static ReadOnlySpan<byte> ZipSignature => "PK\u0003\u0004"u8;

    public static ITransformer Load(MLContext mlContext, string filePath, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(filePath);
        if (!File.Exists(filePath))
            throw new FileNotFoundException($"Model file '{filePath}' does not exist.", filePath);
        using var stream = new FileStream(filePath, FileMode.Open, FileAccess.Read, FileShare.Read);
        return Load(mlContext, stream, $"Model file '{filePath}'", out inputSchema);
    }

    public static ITransformer Load(MLContext mlContext, Stream stream, string what, out DataViewSchema inputSchema)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(stream);
        Stream seekable = stream;
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            seekable = copy;
        }
        long start = seekable.Position;
        string? problem = Check(seekable);
        if (problem is not null)
            throw new FormatException($"{what} cannot be loaded: {problem}");
        seekable.Position = start;
        try
        {
            return mlContext.Model.Load(seekable, out inputSchema);
        }
        catch (Exception e) when (Cause(e) is string cause)
        {
            throw new FormatException($"{what} cannot be loaded: {cause}", e);
        }
    }

    /// <summary>What is wrong with the zip as a zip, or null when every entry reads back with its CRC-32.</summary>
    private static string? Check(Stream stream)
    {
        long length = stream.Length - stream.Position;
        if (length == 0)
            return "the file is empty.";
        Span<byte> head = stackalloc byte[4];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position -= read;
        if (read < head.Length || !head.SequenceEqual(ZipSignature))
            return "it is not a zip archive (a model zip starts with the bytes 'PK').";
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            foreach (ZipArchiveEntry entry in zip.Entries)
            {
                uint crc;
                try
                {
                    using Stream content = entry.Open();
                    crc = Crc32.Of(content);
                }
                catch (InvalidDataException e)
                {
                    return $"its entry '{entry.FullName}' is corrupt ({e.Message}).";
                }
                if (crc != entry.Crc32)
                    return $"its entry '{entry.FullName}' is corrupt (its CRC-32 is {crc:X8}, the zip says {entry.Crc32:X8}).";
            }
        }
        catch (InvalidDataException e)
        {
            return $"the zip archive is truncated or damaged ({e.Message}).";
        }
        return null;
    }

    /// <summary>The message to show for a load failure, or null for a failure that is not about the file.</summary>
    private static string? Cause(Exception e)
    {
        Exception inner = e;
        while (inner.InnerException is not null)
            inner = inner.InnerException;
        if (inner is not (FormatException or InvalidDataException or InvalidOperationException or EndOfStreamException or IOException or ArgumentException or NotSupportedException))
            return null;
        Match tooNew = TooNew().Match(inner.Message);
        if (tooNew.Success)
        {
            return $"its component '{tooNew.Groups["component"].Value}' was saved by a newer version of the library that defines it; "
                + "load the model with that version or a later one.";
        }
        return inner.Message;
    }

    // ML.NET's wording (with its typo) for a component whose saved version is newer than the loader reads.
    [GeneratedRegex("component '(?<component>[^']+)' of the model, because the model is too new")]
    private static partial Regex TooNew();

    /// <summary>CRC-32 as zip computes it (IEEE 802.3, reflected, polynomial 0xEDB88320).</summary>
    private static class Crc32
    {
        private static readonly uint[] Table = CreateTable();

        public static uint Of(Stream content)
        {
            uint crc = 0xFFFFFFFF;
            byte[] buffer = new byte[81920];
            int count;
            while ((count = content.Read(buffer, 0, buffer.Length)) > 0)
            {
                foreach (byte b in buffer.AsSpan(0, count))
                    crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            }
            return ~crc;
        }

        private static uint[] CreateTable()
        {
            uint[] table = new uint[256];
            for (uint i = 0; i < 256; i++)
            {
                uint c = i;
                for (int k = 0; k < 8; k++)
                    c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
                table[i] = c;
            }
            return table;
        }
    }
}
