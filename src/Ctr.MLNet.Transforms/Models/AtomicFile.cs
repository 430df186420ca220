using System;
using System.Diagnostics;
using System.IO;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Writes a file so that the path holds the old file or the whole new one at every moment, whatever happens to the
/// process: the content goes to <c>PATH.&lt;pid&gt;.tmp</c> in the same directory, is flushed to disk, and is
/// renamed over the path. Model zips, checkpoints and prediction files are written this way.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>; a failure leaves the old file untouched and no temporary file.</summary>
    /// <remarks>Temporary files of earlier writers of the same path whose process no longer runs (killed mid-write) are deleted first.</remarks>
    /// <param name="path">The file to replace or create; its directory is created when missing.</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        RemoveAbandoned(full);
        string temporary = TemporaryPath(full, Environment.ProcessId);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
    }

    /// <summary>Where process <paramref name="processId"/> writes <paramref name="fullPath"/> before renaming it.</summary>
    public static string TemporaryPath(string fullPath, int processId) => $"{fullPath}.{processId}.tmp";

    private static void RemoveAbandoned(string full)
    {
        string prefix = Path.GetFileName(full) + ".";
        foreach (string file in Directory.EnumerateFiles(Path.GetDirectoryName(full)!, prefix + "*.tmp"))
        {
            string name = Path.GetFileName(file);
            if (int.TryParse(name.AsSpan(prefix.Length, name.Length - prefix.Length - ".tmp".Length), out int processId)
                && processId != Environment.ProcessId && !IsRunning(processId))
            {
                try
                {
                    File.Delete(file);
                }
                catch (IOException)
                {
                    // Another writer got there first; nothing is lost either way.
                }
            }
        }
    }

    private static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
