using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using Microsoft.ML;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// Training (or validation) rows as the loop consumes them. A first pass reads the data into one compact
/// <see cref="FeatureBlock"/>; if that grows past the cache limit, the cache is dropped and every epoch streams
/// the data again in blocks of bounded size. <see cref="IsCached"/> says which happened.
/// </summary>
internal sealed class TrainingData
{
    private readonly IDataView _data;
    private readonly FeatureLayout _layout;
    private readonly string? _labelColumn;
    private readonly int _blockRows;
    private readonly FeatureBlock? _cache;

    private TrainingData(IDataView data, FeatureLayout layout, string? labelColumn, int blockRows, FeatureBlock? cache, long rows)
    {
        _data = data;
        _layout = layout;
        _labelColumn = labelColumn;
        _blockRows = blockRows;
        _cache = cache;
        RowCount = rows;
    }

    public bool IsCached => _cache is not null;

    /// <summary>Rows in the data (counted by the first pass).</summary>
    public long RowCount { get; }

    public long CachedBytes => _cache?.ApproximateBytes ?? 0;

    public static TrainingData Load(IDataView data, FeatureLayout layout, string? labelColumn, long maxCacheBytes, int blockRows,
        Action<long, double>? progress, CancellationToken cancellation)
    {
        var cache = new FeatureBlock(layout, capacity: (int)Math.Min(data.GetRowCount() ?? blockRows, 1 << 20));
        long rows = 0;
        var clock = Stopwatch.StartNew();
        using DataViewRowCursor cursor = data.GetRowCursor(FeatureReader.Columns(data.Schema, layout, labelColumn));
        var reader = new FeatureReader(cursor, layout, labelColumn);
        FeatureBlock? block = cache;
        while (cursor.MoveNext())
        {
            if (block is null)
            {
                rows++;
                continue;
            }
            reader.Append(block);
            rows++;
            // Checked often enough that a small limit holds on small data too; too large to keep: count the rest and stream every epoch.
            if ((rows & 0x3FF) == 0 && block.UsedBytes > maxCacheBytes)
                block = null;
            if ((rows & 0xFFFF) == 0)
            {
                cancellation.ThrowIfCancellationRequested();
                progress?.Invoke(rows, rows / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
            }
        }
        if (block is not null && block.UsedBytes > maxCacheBytes)
            block = null;
        progress?.Invoke(rows, rows / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
        return new TrainingData(data, layout, labelColumn, blockRows, block, rows);
    }

    /// <summary>The rows, block by block: the cache itself, or fresh blocks read from the data.</summary>
    public IEnumerable<FeatureBlock> Blocks()
    {
        if (_cache is not null)
        {
            yield return _cache;
            yield break;
        }
        var block = new FeatureBlock(_layout, _blockRows);
        using DataViewRowCursor cursor = _data.GetRowCursor(FeatureReader.Columns(_data.Schema, _layout, _labelColumn));
        var reader = new FeatureReader(cursor, _layout, _labelColumn);
        long read = 0;
        while (cursor.MoveNext())
        {
            reader.Append(block);
            read++;
            // A lone last row stays with this block: a block of one row cannot be trained on (batch normalization).
            if (block.Count >= _blockRows && RowCount - read != 1)
            {
                yield return block;
                block.Clear();
            }
        }
        if (block.Count > 0)
            yield return block;
    }
}
