using System;
using System.Diagnostics;
using System.IO;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Writes a file so that the path holds the old file or the whole new one at every moment, whatever happens to the
/// process: the content goes to <c>PATH.&lt;pid&gt;.tmp</c> in the same directory, is flushed to disk, and is
/// renamed over the path. Model zips, checkpoints, prediction files and generated data sets are written this way.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>; a failure leaves the old file untouched and no temporary file.</summary>
    /// <remarks>Temporary files of earlier writers of the same path whose process no longer runs (killed mid-write) are deleted first.</remarks>
    /// <param name="path">The file to replace or create; its directory is created when missing.</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        using Pending file = Begin(path);
        write(file.Stream);
        file.Commit();
    }

    /// <summary>
    /// Starts writing <paramref name="path"/> for a writer that cannot hand its whole content to one callback (several
    /// files filled in one pass): write to <see cref="Pending.Stream"/>, then <see cref="Pending.Commit"/>. Disposing it
    /// without a commit leaves the old file untouched and no temporary file.
    /// </summary>
    /// <param name="path">The file to replace or create; its directory is created when missing.</param>
    public static Pending Begin(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        RemoveAbandoned(full);
        return new Pending(full, TemporaryPath(full, Environment.ProcessId));
    }

    /// <summary>A file being written beside its path: <see cref="Commit"/> renames it into place.</summary>
    public sealed class Pending : IDisposable
    {
        private readonly string _path, _temporary;
        private readonly FileStream _stream;
        private bool _committed;

        internal Pending(string path, string temporary)
        {
            _path = path;
            _temporary = temporary;
            _stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
        }

        /// <summary>Where the content goes.</summary>
        public Stream Stream => _stream;

        /// <summary>Flushes the content to disk and renames it over the path.</summary>
        public void Commit()
        {
            ObjectDisposedException.ThrowIf(_committed, this);
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(_temporary, _path, overwrite: true);
            _committed = true;
        }

        /// <summary>Without a commit: deletes what was written, the old file stays.</summary>
        public void Dispose()
        {
            _stream.Dispose();
            if (File.Exists(_temporary))
                File.Delete(_temporary);
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
