using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// A model name and the zip it serves, with hot swapping: the file is checked every reload interval, and when it was
/// replaced (our saves rename a finished temporary file over it, so a reader never sees half a zip) the new zip is
/// loaded in the background and swapped in. Requests already holding the old model finish on it; it is freed after
/// the last one. A replacement that fails to load leaves the old model serving, and the failure is kept in
/// <see cref="LastError"/> (shown by <c>GET /models</c>) and logged; the same file is not retried until it changes.
/// </summary>
public sealed class ModelSlot : IDisposable
{
    private readonly Action<string> _log;
    private readonly ServeMetrics? _metrics;
    private ServedModel _current;
    private (DateTime WriteTime, long Length) _seen;
    private int _disposed;

    internal ModelSlot(ServedModel model, Action<string> log, ServeMetrics? metrics)
    {
        _current = model;
        _log = log;
        _metrics = metrics;
        metrics?.Loaded(model);
        _seen = Stamp(model.Path);
    }

    /// <summary>The name requests use.</summary>
    public string Name => _current.Name;

    /// <summary>The zip's full path.</summary>
    public string Path => _current.Path;

    /// <summary>The model serving now.</summary>
    public ServedModel Current => Volatile.Read(ref _current);

    /// <summary>How many times a replacement was swapped in.</summary>
    public int Swaps { get; private set; }

    /// <summary>Why the last replacement failed to load (null after a successful load), and when.</summary>
    public (string Message, DateTimeOffset At)? LastError { get; private set; }

    /// <summary>The model serving now, with a lease the caller ends with <see cref="ServedModel.ReleaseLease"/>.</summary>
    public ServedModel Acquire()
    {
        while (true)
        {
            ServedModel model = Current;
            if (model.TryAcquire())
                return model;
            if (Volatile.Read(ref _disposed) != 0)
                throw new ObjectDisposedException(nameof(ModelSlot), "The server is shutting down.");
        }
    }

    /// <summary>Loads the zip again if it changed on disk since the last look; true when a new model was swapped in.</summary>
    public bool Refresh()
    {
        (DateTime, long) stamp = Stamp(Path);
        if (stamp == _seen || stamp.Item2 < 0)
            return false;
        _seen = stamp;
        ServedModel next;
        try
        {
            next = ServedModel.Load(Name, Path);
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            LastError = (e.Message, DateTimeOffset.UtcNow);
            _metrics?.Reload(Name, swapped: false);
            _log($"model '{Name}': the replaced file failed to load; still serving the previous one (sha256 {Current.Sha256}): {e.Message}");
            return false;
        }
        if (next.Sha256 == Current.Sha256)
        {
            next.Dispose(); // touched, not changed
            LastError = null;
            return false;
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            next.Dispose();
            return false;
        }
        ServedModel old = Interlocked.Exchange(ref _current, next);
        old.Dispose(); // freed once the requests holding it finish
        Swaps++;
        LastError = null;
        _metrics?.Loaded(next);
        _metrics?.Reload(Name, swapped: true);
        _log($"model '{Name}': reloaded {Path} (sha256 {next.Sha256}, {next.LoadTime.TotalSeconds:F2} s)");
        return true;
    }

    /// <summary>Checks the file every <paramref name="interval"/> until <paramref name="stopping"/> is cancelled.</summary>
    internal async Task WatchAsync(TimeSpan interval, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                await Task.Run(Refresh, stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Frees the model once no request holds it.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
            Current.Dispose();
    }

    private static (DateTime, long) Stamp(string path)
    {
        try
        {
            var info = new FileInfo(path);
            return info.Exists ? (info.LastWriteTimeUtc, info.Length) : (default, -1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (default, -1);
        }
    }
}
