using System;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms;

namespace Ctr.MLNet.Sample.Data;

/// <summary>The checks every path the verbs read or write gets before any long work starts.</summary>
public static class InputFiles
{
    /// <summary>
    /// Returns <paramref name="path"/> when it is a regular file (or, for data, a folder of Parquet files); otherwise an <see cref="InvalidOperationException"/>
    /// saying what it is instead: missing, a directory, or a stream (a pipe such as <c>/dev/stdin</c> or <c>&lt;(...)</c>,
    /// a device), which the verbs cannot read since they read a file more than once.
    /// </summary>
    /// <param name="path">The path given.</param>
    /// <param name="what">What the file is, for the message: "Data", "Model", "Spec".</param>
    public static string RequireFile(string path, string what)
    {
        if (Directory.Exists(path))
        {
            // A folder of Parquet partitions reads as one data set; its files are checked when they are opened.
            if (what == "Data" && ParquetDataSource.IsParquet(path) && Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).Any())
                return path;
            throw new InvalidOperationException(what == "Data"
                ? $"{what} file '{path}' is a directory with no Parquet file in it; give a CSV or .parquet file, or a folder of Parquet files."
                : $"{what} file '{path}' is a directory; give the path of a file in it.");
        }
        if (!File.Exists(path))
            throw new InvalidOperationException($"{what} file '{path}' does not exist.");
        bool seekable;
        try
        {
            // Opening a pipe waits for its writer, as any reader of it would; only the open is needed to tell.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            seekable = stream.CanSeek;
        }
        catch (UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{what} file '{path}' cannot be read: permission denied.");
        }
        if (!seekable)
            throw new InvalidOperationException($"{what} file '{path}' is a stream (a pipe or a device), not a file; streams are not supported because the file is read more than once: save it to a file first.");
        return path;
    }

    /// <summary>
    /// Checks, before any long work, that <paramref name="path"/> can be written: not a directory, not one of
    /// <paramref name="inputs"/>, and its directory (created when missing) writable.
    /// </summary>
    /// <param name="path">The file to be written.</param>
    /// <param name="option">The option that gave it, for the message, e.g. "--model".</param>
    /// <param name="inputs">The options and paths read by the same run, which must not be overwritten.</param>
    public static void RequireWritable(string path, string option, params (string Option, string? Path)[] inputs)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new InvalidOperationException($"{option} must not be empty; give a file path.");
        string full = Path.GetFullPath(path);
        // A path ending in '/' names a folder, even one yet to be made.
        if (Directory.Exists(full) || Path.EndsInDirectorySeparator(path))
        {
            throw new InvalidOperationException(option switch
            {
                "--model" or "--plot" => $"{option} '{path}' is a directory; give a file path, such as '{Path.Combine(path, option == "--plot" ? "curves.png" : "model.zip")}'.",
                "--checkpoint-dir" => $"{option}: '{path}' is a directory where the checkpoint file goes; remove it, or give another {option}.",
                _ => $"{option} '{path}' is a directory; give the path of a file in it.",
            });
        }
        foreach ((string inputOption, string? input) in inputs)
        {
            if (input is not null && SameFile(full, input))
                throw new InvalidOperationException($"{option} '{path}' is also the {inputOption} file; writing it would overwrite that input. Choose another path.");
        }
        string directory = Path.GetDirectoryName(full)!;
        string probe = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}.probe");
        try
        {
            Directory.CreateDirectory(directory);
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{option} '{path}' cannot be written: directory '{directory}' is not writable ({e.Message}). Choose another path or fix the directory's permissions.", e);
        }
    }

    private static bool SameFile(string full, string other)
    {
        string otherFull = Path.GetFullPath(other);
        if (string.Equals(full, otherFull, StringComparison.Ordinal))
            return true;
        return File.Exists(full) && File.Exists(otherFull) && string.Equals(Resolve(full), Resolve(otherFull), StringComparison.Ordinal);
    }

    private static string Resolve(string path) => File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
}
