using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// Dynamic micro-batching, as model servers do it (Triton's dynamic batcher, TF-Serving's batching): requests for the
/// same loaded model that are waiting together are scored in one pass of up to <see cref="ServeSettings.MaxBatchRows"/>
/// rows. A request on an idle server (no pass running, nothing queued or being read) is scored on its own thread at
/// once, so a lone client pays no added latency. Otherwise it is queued, and a worker takes whatever is queued and,
/// while other requests are being read or another pass is running, waits up to <see cref="ServeSettings.MaxBatchWait"/>
/// for more: each pass pays a fixed cost for the network forwards, so under load a few large passes beat many
/// single-row ones. A request larger than the limit is scored on its own. When a batch fails, each of its requests is
/// scored alone, so an error reaches only the request that caused it, with its own row numbers.
/// </summary>
public sealed class ScoringBatcher : IDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });
    private readonly Thread[] _workers;
    private readonly int _maxRows;
    private readonly long _maxWaitTicks;
    private int _arriving;
    private int _running;
    private int _waiting;

    /// <summary>Starts <paramref name="workers"/> scoring threads.</summary>
    public ScoringBatcher(int maxRows, TimeSpan maxWait, int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _maxRows = maxRows;
        _maxWaitTicks = (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        _workers = new Thread[workers];
        for (int i = 0; i < workers; i++)
        {
            _workers[i] = new Thread(Work) { IsBackground = true, Name = $"ctr-scoring-{i}" };
            _workers[i].Start();
        }
    }

    /// <summary>Called after each scored batch with the model and the batch's size in rows.</summary>
    public Action<ServedModel, int>? BatchScored { get; init; }

    /// <summary>Requests queued (or gathered by a worker) and not yet in a pass.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Says that a request is being read: workers may wait for it (see <see cref="Arrived"/>).</summary>
    public void Arriving() => Interlocked.Increment(ref _arriving);

    /// <summary>Says that a request announced with <see cref="Arriving"/> was queued or failed.</summary>
    public void Arrived() => Interlocked.Decrement(ref _arriving);

    /// <summary>
    /// Scores <paramref name="rows"/> with <paramref name="model"/>, on which the caller holds a lease
    /// (<see cref="ServedModel.TryAcquire"/>) until the returned task completes.
    /// </summary>
    public Task<float[]> ScoreAsync(ServedModel model, ColumnarDataView rows)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(rows);
        // An idle server (nothing queued, on its way or being scored): score here, sparing a lone client two thread hops.
        // While a pass runs, queue instead: a second single-row pass beside it would pay the fixed cost again.
        if (Volatile.Read(ref _arriving) == 0 && _queue.Reader.Count == 0 && Interlocked.CompareExchange(ref _running, 1, 0) == 0)
        {
            try
            {
                float[] probabilities = model.ScoreLeased(rows);
                BatchScored?.Invoke(model, rows.RowCount);
                return Task.FromResult(probabilities);
            }
            catch (Exception e)
            {
                return Task.FromException<float[]>(e);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
        var pending = new Pending(model, rows);
        Interlocked.Increment(ref _waiting);
        if (!_queue.Writer.TryWrite(pending))
        {
            Interlocked.Decrement(ref _waiting);
            throw new ObjectDisposedException(nameof(ScoringBatcher), "The server is shutting down.");
        }
        return pending.Done.Task;
    }

    /// <summary>Scores what is queued, then stops the workers.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        foreach (Thread worker in _workers)
            worker.Join();
    }

    private void Work()
    {
        ChannelReader<Pending> reader = _queue.Reader;
        var batch = new List<Pending>();
        Pending? carried = null;
        while (true)
        {
            Pending? first = carried;
            carried = null;
            if (first is null && !reader.TryRead(out first))
            {
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                    return;
                continue;
            }
            batch.Clear();
            batch.Add(first);
            int rows = first.Rows.RowCount;
            long deadline = Stopwatch.GetTimestamp() + _maxWaitTicks;
            var spin = new SpinWait();
            while (rows < _maxRows)
            {
                if (reader.TryRead(out Pending? next))
                {
                    if (!ReferenceEquals(next.Model, first.Model) || rows + next.Rows.RowCount > _maxRows)
                    {
                        carried = next;
                        break;
                    }
                    batch.Add(next);
                    rows += next.Rows.RowCount;
                    continue;
                }
                // Wait while more can come soon, and never past the deadline: requests on their way, or another pass
                // running (a pass beside it with few rows would pay the networks' fixed cost again; its clients send
                // their next requests when it ends).
                if ((Volatile.Read(ref _arriving) == 0 && Volatile.Read(ref _running) == 0) || Stopwatch.GetTimestamp() >= deadline)
                    break;
                spin.SpinOnce(sleep1Threshold: -1);
            }
            Interlocked.Increment(ref _running);
            Interlocked.Add(ref _waiting, -batch.Count);
            try
            {
                Score(batch, rows);
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }

    private void Score(List<Pending> batch, int rows)
    {
        ServedModel model = batch[0].Model;
        float[] probabilities;
        try
        {
            probabilities = model.ScoreLeased(ColumnarDataView.Concat([.. batch.ConvertAll(p => p.Rows)]));
        }
        catch (Exception) when (batch.Count > 1)
        {
            foreach (Pending pending in batch)
                Score([pending], pending.Rows.RowCount);
            return;
        }
        catch (Exception e)
        {
            batch[0].Done.TrySetException(e);
            return;
        }
        BatchScored?.Invoke(model, rows);
        int at = 0;
        foreach (Pending pending in batch)
        {
            int count = pending.Rows.RowCount;
            pending.Done.TrySetResult(batch.Count == 1 ? probabilities : probabilities[at..(at + count)]);
            at += count;
        }
    }

    private sealed class Pending(ServedModel model, ColumnarDataView rows)
    {
        public ServedModel Model { get; } = model;

        public ColumnarDataView Rows { get; } = rows;

        public TaskCompletionSource<float[]> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
