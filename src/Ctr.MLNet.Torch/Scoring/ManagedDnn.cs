using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading.Tasks;
using Ctr.MLNet.Torch.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// A <see cref="DnnCtrModel"/>'s forward pass in evaluation mode, computed in managed code from the feature block: for
/// the few rows a server scores, libtorch's fixed cost per call (about 25 calls, ~60 µs) was nearly all the time, and the
/// arithmetic (~0.1 M multiply-adds a row) is a few microseconds. Every output is summed in one fixed order whatever the
/// number of rows in the pass (each product a fused multiply-add, inputs in index order), so a row's floats do not depend
/// on the rows scored with it: <see cref="PreparedCtrScorer"/> (serving) and <see cref="TorchCtrTransformer"/>'s batched
/// scoring (offline) both use this and give the same floats. They are the module's own up to float rounding (libtorch's
/// products sum in other orders). The tables, maps and layers are copied when this is built: a network whose weights
/// change in place afterwards needs a new transformer. A history whose items carry attributes is pooled from a table
/// fused then (each item's row plus its attributes' projected rows): the projections were most of the input's time.
/// A scalar field of a small table is folded into the first layer then (each id's row through the layer's columns,
/// one sum per output, added to the layer's sums over the other inputs): its multiply-adds were a fifth of the first
/// layer's on the sample's model. The rows a pass will read are prefetched a few rows ahead: ids spread over tables of
/// megabytes made the input's reads wait on memory.
/// </summary>
internal sealed class ManagedDnn
{
    /// <summary>Output columns a kernel computes per row: two 512-bit vectors (four 256-bit).</summary>
    private const int Panel = 32;

    /// <summary>Rows whose activations are computed together: the panel of weights is reused by each while in cache.</summary>
    private const int Chunk = 64;

    private readonly float[]?[] _tables; // per table of the layout (null: not read): rows × dim
    private readonly int[] _tableDims;
    private readonly int[] _scalarTable; // per scalar field
    private readonly int[] _scalarColumn; // -1: folded into the first layer
    private readonly float[]?[] _folded; // per scalar field: its table through the first layer's columns (rows × first layer's Padded), or null
    private readonly Sequence[] _sequences;
    private readonly Dot[] _dots;
    private readonly int _numericColumn;
    private readonly int _numericWidth;
    private readonly int _inputWidth;
    private readonly Dense[] _layers; // the hidden layers, then the output layer
    private readonly int _widestTable;
    private readonly int _widestRow; // floats per row of a pass's activation buffers: the input or the widest layer
    private readonly bool _mean;

    private ManagedDnn(FeatureLayout layout, FeatureEmbedding embedding, int[] dotSequences, Dense[] layers, bool fuse, bool[] fold)
    {
        _layers = layers;
        _mean = embedding.Pooling == SequencePooling.Mean;
        _tableDims = new int[layout.Tables.Length];
        _tables = new float[]?[layout.Tables.Length];
        float[] Table(int t)
        {
            if (_tables[t] is null)
            {
                Tensor weight = embedding.Table(t).weight!;
                _tableDims[t] = (int)weight.shape[1];
                _tables[t] = Copy(weight);
            }
            return _tables[t]!;
        }

        int column = 0, moduleColumn = 0; // the column here and in the module's input (folded fields have none here)
        var kept = new List<int>(); // the module's input columns the first layer still reads
        _scalarTable = [.. layout.Categorical.Select(f => f.Table)];
        _scalarColumn = new int[_scalarTable.Length];
        _folded = new float[]?[_scalarTable.Length];
        for (int f = 0; f < _scalarTable.Length; f++)
        {
            Table(_scalarTable[f]);
            int dim = _tableDims[_scalarTable[f]];
            if (fold[f])
            {
                _folded[f] = layers[0].Fold(_tables[_scalarTable[f]]!, dim, moduleColumn);
                _scalarColumn[f] = -1;
            }
            else
            {
                _scalarColumn[f] = column;
                column += dim;
                kept.AddRange(Enumerable.Range(moduleColumn, dim));
            }
            moduleColumn += dim;
        }
        FoldedFields = fold.Count(f => f);
        int scalarEnd = column;
        _sequences = new Sequence[layout.Sequences.Length];
        FusesHistories = fuse;
        var fusedTables = new Dictionary<string, (float[] Table, bool SkipsPadding)>(StringComparer.Ordinal);
        var projectedTables = new Dictionary<(int Field, int ItemTable), float[]>();
        for (int s = 0; s < _sequences.Length; s++)
        {
            int table = layout.Sequences[s].Table;
            Table(table);
            Attribute[] attributes = [.. embedding.AttributesOf(s).Select(a =>
            {
                Table(a.Table);
                Projection? projection = Projection.Of(a.Projection);
                float[]? projected = null;
                if (fuse && !projectedTables.TryGetValue((a.Field, table), out projected))
                    projectedTables[(a.Field, table)] = projected = projection is null ? _tables[a.Table]! : projection.Table(_tables[a.Table]!, _tableDims[a.Table]);
                return new Attribute(a.Field, a.Table, [.. a.Map.data<long>().ToArray().Select(id => (int)id)], projection, projected);
            })];
            float[]? fused = null;
            bool skipsPadding = true;
            if (fuse && attributes.Length > 0)
            {
                // Histories on one item table with the same attributes share their fused table.
                string key = FusedKey(table, attributes.Select(a => a.Field));
                if (!fusedTables.TryGetValue(key, out var entry))
                    fusedTables[key] = entry = Fuse(_tables[table]!, _tableDims[table], attributes);
                (fused, skipsPadding) = entry;
            }
            _sequences[s] = new Sequence(table, column, attributes, fused, skipsPadding);
            column += _tableDims[table];
        }
        _dots = new Dot[dotSequences.Length];
        for (int d = 0; d < _dots.Length; d++)
            _dots[d] = new Dot(dotSequences[d], embedding.CandidateField(dotSequences[d]), column++);
        _numericColumn = column;
        _numericWidth = layout.NumericWidth;
        _inputWidth = column + _numericWidth;
        if (FoldedFields > 0)
        {
            // The first layer keeps the columns of every field not folded: the rest of the input follows them unchanged.
            kept.AddRange(Enumerable.Range(moduleColumn, _inputWidth - scalarEnd));
            _layers[0] = layers[0].Keeping([.. kept]);
        }
        _widestTable = _tableDims.Append(0).Max();
        _widestRow = Math.Max(_inputWidth, layers.Max(l => l.Padded));
    }

    /// <summary>
    /// The most bytes of embedding tables copied. Tables of millions of ids would double the server's memory; above this
    /// the network is scored by its module's forward.
    /// </summary>
    internal const long DefaultMaxTableBytes = 256L << 20;

    /// <summary>
    /// The largest table folded into the first layer (its rows through the layer's columns, one row of outputs per id):
    /// a field's dim × width multiply-adds per row become width additions, read from a table that stays in cache. 1 MiB:
    /// about a thousand ids at 256 outputs.
    /// </summary>
    internal const long DefaultMaxFoldedTableBytes = 1L << 20;

    /// <summary>The scalar fields folded into the first layer.</summary>
    internal int FoldedFields { get; }

    /// <summary>
    /// The managed form of a <see cref="DnnCtrModel"/>'s parts, or null when <paramref name="mlp"/>'s layers are not the
    /// ones <see cref="MlpBlock"/> builds or the tables hold more than <paramref name="maxTableBytes"/>. The histories'
    /// fused tables (see <see cref="FusesHistories"/>) count in that limit: above it with them, histories are pooled
    /// from the item and attribute tables per row (as without <paramref name="fuseHistories"/>).
    /// </summary>
    internal static ManagedDnn? TryCreate(FeatureLayout layout, FeatureEmbedding embedding, MlpBlock mlp, int[] dotSequences, long maxTableBytes = DefaultMaxTableBytes, bool fuseHistories = true, long maxFoldedTableBytes = DefaultMaxFoldedTableBytes)
    {
        // From the layout's sizes and the tables' widths: no native call per table.
        int[] fieldTables = [.. layout.Categorical.Select(f => f.Table), .. layout.Sequences.Select(f => f.Table)];
        long tableBytes = fieldTables.Select((t, i) => (Table: t, Bytes: (long)layout.Tables[t].Size * embedding.FieldDims[i] * sizeof(float)))
            .Distinct().Sum(t => t.Bytes);
        if (tableBytes > maxTableBytes)
            return null;
        long fusedBytes = FusedBytes(layout, embedding);
        bool fuse = fuseHistories && tableBytes + fusedBytes <= maxTableBytes;
        var layers = new List<Dense>();
        Linear? pending = null;
        BatchNorm1d? norm = null;
        using (NewDisposeScope())
        using (no_grad())
        {
            foreach (nn.Module<Tensor, Tensor> layer in mlp.Layers())
            {
                switch (layer)
                {
                    case Linear linear when pending is null:
                        pending = linear;
                        break;
                    case BatchNorm1d batchNorm when pending is not null && norm is null:
                        norm = batchNorm;
                        break;
                    case ReLU when pending is not null:
                        layers.Add(Dense.Of(pending, norm, relu: true));
                        (pending, norm) = (null, null);
                        break;
                    case Dropout when pending is null && layers.Count > 0:
                        break; // the identity in evaluation mode
                    default:
                        return null;
                }
            }
            if (pending is null || norm is not null)
                return null;
            layers.Add(Dense.Of(pending, norm: null, relu: false));

            // Small tables folded into the first layer, while the copies stay within the limit. A dot's candidate is
            // read from the input, so it keeps its columns.
            long bytes = tableBytes + (fuse ? fusedBytes : 0);
            var candidates = dotSequences.Select(embedding.CandidateField).ToHashSet();
            bool[] fold = new bool[layout.Categorical.Length];
            for (int f = 0; f < fold.Length; f++)
            {
                long folded = (long)layout.Tables[layout.Categorical[f].Table].Size * layers[0].Padded * sizeof(float);
                if (candidates.Contains(f) || folded > maxFoldedTableBytes || bytes + folded > maxTableBytes)
                    continue;
                fold[f] = true;
                bytes += folded;
            }
            return new ManagedDnn(layout, embedding, dotSequences, [.. layers], fuse, fold) { TableBytes = bytes };
        }
    }

    /// <summary>The bytes of the tables fusing adds: one per history's item table and attributes, and each projected attribute table.</summary>
    private static long FusedBytes(FeatureLayout layout, FeatureEmbedding embedding)
    {
        var fused = new HashSet<string>(StringComparer.Ordinal);
        var projected = new HashSet<(int Field, int ItemTable)>();
        long bytes = 0;
        for (int s = 0; s < layout.Sequences.Length; s++)
        {
            int table = layout.Sequences[s].Table, dim = embedding.FieldDims[layout.Categorical.Length + s];
            var attributes = embedding.AttributesOf(s).ToList();
            if (attributes.Count > 0 && fused.Add(FusedKey(table, attributes.Select(a => a.Field))))
                bytes += (long)layout.Tables[table].Size * dim * sizeof(float);
            foreach (var attribute in attributes.Where(a => a.Projection is not null && projected.Add((a.Field, table))))
                bytes += (long)layout.Tables[attribute.Table].Size * dim * sizeof(float);
        }
        return bytes;
    }

    private static string FusedKey(int itemTable, IEnumerable<int> attributeFields) => $"{itemTable}:{string.Join(",", attributeFields)}";

    /// <summary>
    /// Whether each history with attributes is pooled from one fused table (an item's row plus its attributes' projected
    /// rows, summed once here), one gather per element instead of one per table and no projection per row.
    /// </summary>
    internal bool FusesHistories { get; }

    /// <summary>The bytes of tables this holds, fused ones included: what <see cref="TryCreate"/>'s limit is held to.</summary>
    internal long TableBytes { get; private init; }

    /// <summary>
    /// A history's fused table: row <c>i</c> is item row <c>i</c> (not the padding row 0) plus, for each attribute whose
    /// map gives item <c>i</c> a row other than 0, that row projected, so an element adds what the unfused pass adds for it
    /// (in another order: other roundings). And whether pooling skips id 0 as before: when every map gives the padding
    /// item the padding row (as training's maps do), fused row 0 holds nothing.
    /// </summary>
    private static (float[] Table, bool SkipsPadding) Fuse(float[] items, int dim, Attribute[] attributes)
    {
        var fused = new float[items.Length];
        items.AsSpan(dim).CopyTo(fused.AsSpan(dim));
        int rows = items.Length / dim;
        foreach (Attribute attribute in attributes)
        {
            for (int i = 0; i < rows; i++)
            {
                int id = attribute.Map[i];
                if (id == 0)
                    continue;
                Span<float> row = fused.AsSpan(i * dim, dim);
                ReadOnlySpan<float> projected = attribute.Projected.AsSpan(id * dim, dim);
                for (int j = 0; j < dim; j++)
                    row[j] += projected[j];
            }
        }
        return (fused, attributes.All(a => a.Map[0] == 0));
    }

    /// <summary>
    /// Writes the logit of each of <paramref name="rows"/> of <paramref name="block"/> to <paramref name="logits"/>. Large
    /// passes are split in chunks over libtorch's intra-op thread count (the rows are independent, so the floats are the
    /// same). Safe to call from several threads at once.
    /// </summary>
    public void Score(FeatureBlock block, ReadOnlySpan<int> rows, Span<float> logits)
    {
        int chunks = (rows.Length + Chunk - 1) / Chunk;
        int threads = chunks > 1 ? Math.Min(chunks, get_num_threads()) : 1;
        if (threads <= 1)
        {
            for (int c = 0; c < chunks; c++)
            {
                int start = c * Chunk, count = Math.Min(Chunk, rows.Length - start);
                ScoreChunk(block, rows.Slice(start, count), logits.Slice(start, count));
            }
            return;
        }
        int[] rowArray = rows.ToArray();
        float[] results = new float[rows.Length];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, c =>
        {
            int start = c * Chunk, count = Math.Min(Chunk, rowArray.Length - start);
            ScoreChunk(block, rowArray.AsSpan(start, count), results.AsSpan(start, count));
        });
        results.CopyTo(logits);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
    private void ScoreChunk(FeatureBlock block, ReadOnlySpan<int> rows, Span<float> logits)
    {
        float[] a = ArrayPool<float>.Shared.Rent(rows.Length * _widestRow);
        float[] b = ArrayPool<float>.Shared.Rent(rows.Length * _widestRow);
        float[] scratch = ArrayPool<float>.Shared.Rent(2 * _widestTable);
        int first = _layers[0].Padded;
        float[]? folded = FoldedFields > 0 ? ArrayPool<float>.Shared.Rent(rows.Length * first) : null;
        try
        {
            for (int r = 0; r < rows.Length; r++)
            {
                if (r + PrefetchAhead < rows.Length)
                    Prefetch(block, rows[r + PrefetchAhead]);
                ReadInputs(block, rows[r], a.AsSpan(r * _inputWidth, _inputWidth), scratch, folded is null ? default : folded.AsSpan(r * first, first));
            }
            int width = _inputWidth;
            for (int l = 0; l < _layers.Length; l++)
            {
                _layers[l].Apply(a, width, rows.Length, b, l == 0 ? folded : null);
                (a, b) = (b, a);
                width = _layers[l].Padded;
            }
            for (int r = 0; r < rows.Length; r++)
                logits[r] = a[r * width];
        }
        finally
        {
            ArrayPool<float>.Shared.Return(a);
            ArrayPool<float>.Shared.Return(b);
            ArrayPool<float>.Shared.Return(scratch);
            if (folded is not null)
                ArrayPool<float>.Shared.Return(folded);
        }
    }

    /// <summary>
    /// Row <paramref name="row"/>'s input to the first layer, in <c>forward</c>'s order: scalar fields, pooled sequences,
    /// dots, numerics; the folded fields' rows summed in field order into <paramref name="folded"/> instead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
    private void ReadInputs(FeatureBlock block, int row, Span<float> x, float[] scratch, Span<float> folded)
    {
        ReadOnlySpan<int> ids = block.Categorical.AsSpan(row * block.CategoricalWidth, block.CategoricalWidth);
        bool firstFolded = true;
        for (int f = 0; f < ids.Length; f++)
        {
            if (_folded[f] is { } table)
            {
                ReadOnlySpan<float> part = TableRow(table, folded.Length, ids[f]);
                if (firstFolded)
                    part.CopyTo(folded);
                else
                    Add(part, folded);
                firstFolded = false;
                continue;
            }
            int dim = _tableDims[_scalarTable[f]];
            Row(_scalarTable[f], ids[f]).CopyTo(x.Slice(_scalarColumn[f], dim));
        }
        for (int s = 0; s < _sequences.Length; s++)
        {
            Sequence sequence = _sequences[s];
            FeatureBlock.SequenceColumn column = block.Sequences[s];
            int start = column.Offsets[row], length = column.Length(row);
            ReadOnlySpan<int> items = column.Ids.AsSpan(start, length);
            ReadOnlySpan<float> weights = column.Weights is { } w ? w.AsSpan(start, length) : default;
            int dim = _tableDims[sequence.Table];
            Span<float> pooled = x.Slice(sequence.Column, dim);
            // EmbeddingBag's weighted sum, the padding id left out.
            if (sequence.Fused is { } fused)
            {
                Pool(fused, dim, items, weights, map: null, sequence.SkipsPadding, pooled);
            }
            else
            {
                // Each attribute pooled apart, then (projected and) added.
                Pool(_tables[sequence.Table]!, dim, items, weights, map: null, skipsPadding: true, pooled);
                foreach (Attribute attribute in sequence.Attributes)
                {
                    Span<float> part = scratch.AsSpan(0, _tableDims[attribute.Table]);
                    Pool(_tables[attribute.Table]!, part.Length, items, weights, attribute.Map, skipsPadding: true, part);
                    AddProjected(attribute.Projection, part, pooled, scratch.AsSpan(_widestTable, dim));
                }
            }
            if (_mean)
            {
                // SequenceBatch.MeanOf: the weights summed in element order (as many ones without weights), floored.
                float total = length;
                if (!weights.IsEmpty)
                {
                    total = 0;
                    foreach (float weight in weights)
                        total += weight;
                }
                float denominator = MathF.Max(total, SequenceBatch.MeanFloor);
                for (int j = 0; j < pooled.Length; j++)
                    pooled[j] /= denominator;
            }
        }
        foreach (Dot dot in _dots)
        {
            // The candidate embedded as its history's elements are: its own row plus its attributes' (projected) rows.
            int dim = _tableDims[_scalarTable[dot.Candidate]];
            Span<float> candidate = scratch.AsSpan(0, dim);
            x.Slice(_scalarColumn[dot.Candidate], dim).CopyTo(candidate);
            foreach (Attribute attribute in _sequences[dot.Sequence].Attributes)
            {
                // A projected table's row is the product the unfused pass computes: the same floats either way.
                if (attribute.Projected is { } projected)
                    Add(TableRow(projected, dim, ids[attribute.Field]), candidate);
                else
                    AddProjected(attribute.Projection, Row(attribute.Table, ids[attribute.Field]), candidate, scratch.AsSpan(_widestTable, dim));
            }
            ReadOnlySpan<float> pooled = x.Slice(_sequences[dot.Sequence].Column, dim);
            float sum = 0;
            for (int j = 0; j < dim; j++)
                sum = MathF.FusedMultiplyAdd(candidate[j], pooled[j], sum);
            x[dot.Column] = sum;
        }
        block.Numeric.AsSpan(row * _numericWidth, _numericWidth).CopyTo(x.Slice(_numericColumn, _numericWidth));
    }

    /// <summary>Rows ahead whose table rows are prefetched while a row's inputs are read.</summary>
    private const int PrefetchAhead = 4;

    /// <summary>
    /// Asks the cache for the table rows <see cref="ReadInputs"/> will read for <paramref name="row"/>: the ids of a
    /// request are spread over tables of megabytes, and the reads that miss were most of the input's time. Only a hint:
    /// ids outside a table are left to <see cref="ReadInputs"/> to report.
    /// </summary>
    private void Prefetch(FeatureBlock block, int row)
    {
        if (!Sse.IsSupported)
            return;
        ReadOnlySpan<int> ids = block.Categorical.AsSpan(row * block.CategoricalWidth, block.CategoricalWidth);
        for (int f = 0; f < ids.Length; f++)
        {
            if (_folded[f] is { } folded)
                PrefetchRow(folded, ids[f], _layers[0].Padded);
            else
                PrefetchRow(_tables[_scalarTable[f]]!, ids[f], _tableDims[_scalarTable[f]]);
        }
        for (int s = 0; s < _sequences.Length; s++)
        {
            Sequence sequence = _sequences[s];
            FeatureBlock.SequenceColumn column = block.Sequences[s];
            float[] table = sequence.Fused ?? _tables[sequence.Table]!;
            int start = column.Offsets[row], length = Math.Min(column.Length(row), 64);
            foreach (int item in column.Ids.AsSpan(start, length))
                PrefetchRow(table, item, _tableDims[sequence.Table]);
        }
    }

    private static unsafe void PrefetchRow(float[] table, int id, int width)
    {
        long start = (long)id * width, end = Math.Min(start + width, table.Length);
        if (start < 0 || start >= end)
            return;
        fixed (float* first = table)
        {
            for (long at = start; at < end; at += 16)
                Sse.Prefetch0(first + at);
            Sse.Prefetch0(first + end - 1);
        }
    }

    private ReadOnlySpan<float> Row(int table, int id) => TableRow(_tables[table]!, _tableDims[table], id);

    /// <summary>
    /// Σ weight × row of <paramref name="table"/> over <paramref name="items"/> (through <paramref name="map"/> when
    /// given), rows of id 0 (padding) left out when <paramref name="skipsPadding"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
    internal static void Pool(float[] table, int dim, ReadOnlySpan<int> items, ReadOnlySpan<float> weights, int[]? map, bool skipsPadding, Span<float> sum)
    {
        if (Vector512.IsHardwareAccelerated && dim <= 4 * Vector512<float>.Count)
        {
            PoolInLanes(table, dim, items, weights, map, skipsPadding, sum);
            return;
        }
        sum.Clear();
        for (int e = 0; e < items.Length; e++)
        {
            int id = map is null ? items[e] : map[items[e]];
            if (id != 0 || !skipsPadding)
                MultiplyAdd(TableRow(table, dim, id), weights.IsEmpty ? 1f : weights[e], sum);
        }
    }

    /// <summary>Row <paramref name="id"/> of <paramref name="table"/>; an id outside it (negative, past its end, or whose offset would wrap) throws.</summary>
    private static ReadOnlySpan<float> TableRow(float[] table, int dim, int id)
    {
        if (id < 0 || (long)id * dim + dim > table.Length)
            throw new ArgumentOutOfRangeException(nameof(id), id, $"The id is outside the table's {table.Length / Math.Max(dim, 1)} rows.");
        return table.AsSpan(id * dim, dim);
    }

    /// <summary>
    /// <see cref="Pool"/> for rows of up to 64 floats, each element's row in whole 512-bit vectors: the lanes beyond
    /// <paramref name="dim"/> add the next rows' floats and are never read; a row too near the table's end for that is
    /// added float by float. The same fused multiply-add per float as <see cref="MultiplyAdd"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
    private static void PoolInLanes(float[] table, int dim, ReadOnlySpan<int> items, ReadOnlySpan<float> weights, int[]? map, bool skipsPadding, Span<float> sum)
    {
        const int Lanes = 16;
        int vectors = (dim + Lanes - 1) / Lanes;
        int lastWhole = table.Length - vectors * Lanes; // the last start whose vectors stay inside the table
        // The ids whose vectors stay inside the table; any other (past them, negative, or so large that id × dim would
        // wrap) is added float by float, which checks it: the vectors' loads are not.
        uint wholeRows = lastWhole < 0 ? 0u : (uint)(lastWhole / dim) + 1;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        Span<float> lanes = stackalloc float[4 * Lanes];
        ref float start = ref MemoryMarshal.GetArrayDataReference(table);
        for (int e = 0; e < items.Length; e++)
        {
            int id = map is null ? items[e] : map[items[e]];
            if (id == 0 && skipsPadding)
                continue;
            float weight = weights.IsEmpty ? 1f : weights[e];
            if ((uint)id >= wholeRows)
            {
                Spill(s0, s1, s2, s3, lanes);
                MultiplyAdd(TableRow(table, dim, id), weight, lanes[..dim]);
                (s0, s1, s2, s3) = (Vector512.Create(lanes), Vector512.Create(lanes[Lanes..]), Vector512.Create(lanes[(2 * Lanes)..]), Vector512.Create(lanes[(3 * Lanes)..]));
                continue;
            }
            var w = Vector512.Create(weight);
            ref float row = ref Unsafe.Add(ref start, id * dim);
            s0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row), w, s0);
            if (vectors > 1)
                s1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, Lanes), w, s1);
            if (vectors > 2)
                s2 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, 2 * Lanes), w, s2);
            if (vectors > 3)
                s3 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref row, 3 * Lanes), w, s3);
        }
        Spill(s0, s1, s2, s3, lanes);
        lanes[..dim].CopyTo(sum);

        static void Spill(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3, Span<float> lanes)
        {
            s0.CopyTo(lanes);
            s1.CopyTo(lanes[Lanes..]);
            s2.CopyTo(lanes[(2 * Lanes)..]);
            s3.CopyTo(lanes[(3 * Lanes)..]);
        }
    }

    /// <summary><paramref name="sum"/> += <paramref name="projection"/> × <paramref name="value"/> (or <paramref name="value"/> itself without one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
    private static void AddProjected(Projection? projection, ReadOnlySpan<float> value, Span<float> sum, Span<float> scratch)
    {
        if (projection is null)
        {
            Add(value, sum);
            return;
        }
        projection.Apply(value, scratch);
        Add(scratch, sum);
    }

    /// <summary><paramref name="sum"/> += <paramref name="value"/>, element by element.</summary>
    private static void Add(ReadOnlySpan<float> value, Span<float> sum)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + 16 <= sum.Length; j += 16)
                (Vector512.Create(sum.Slice(j, 16)) + Vector512.Create(value.Slice(j, 16))).CopyTo(sum.Slice(j, 16));
        }
        for (; j < sum.Length; j++)
            sum[j] += value[j];
    }

    /// <summary><paramref name="sum"/>[j] = fma(<paramref name="row"/>[j], <paramref name="weight"/>, sum[j]): the same float per element in the vector and scalar parts.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
    private static void MultiplyAdd(ReadOnlySpan<float> row, float weight, Span<float> sum)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var w = Vector256.Create(weight);
            for (; j + 8 <= row.Length; j += 8)
                Vector256.FusedMultiplyAdd(Vector256.Create(row.Slice(j, 8)), w, Vector256.Create(sum.Slice(j, 8))).CopyTo(sum.Slice(j, 8));
        }
        for (; j < row.Length; j++)
            sum[j] = MathF.FusedMultiplyAdd(row[j], weight, sum[j]);
    }

    /// <summary>A tensor's values, row-major; called inside a dispose scope (the weight getters' handles are left to it: some getters return the module's own).</summary>
    private static float[] Copy(Tensor tensor) => tensor.detach().contiguous().data<float>().ToArray();

    /// <summary>An attribute of a history's items; <paramref name="Projected"/>: its table projected to the items' width (fused networks only; null: projected per row).</summary>
    private sealed record Attribute(int Field, int Table, int[] Map, Projection? Projection, float[]? Projected);

    /// <summary>A sequence field; <paramref name="Fused"/>: its item and attribute rows summed per item (null: pooled table by table).</summary>
    private sealed record Sequence(int Table, int Column, Attribute[] Attributes, float[]? Fused, bool SkipsPadding);

    private sealed record Dot(int Sequence, int Candidate, int Column);

    /// <summary>A projection without bias: its weight [outputs × inputs], row-major.</summary>
    private sealed record Projection(float[] Weight)
    {
        public static Projection? Of(Linear? linear)
        {
            if (linear is null)
                return null;
            return new Projection(Copy(linear.weight!));
        }

        /// <summary><paramref name="product"/> = weight × <paramref name="value"/>, each output's sum in input order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // loops run hot from the first call: a short evaluate would spend its seconds in unoptimized code
        public void Apply(ReadOnlySpan<float> value, Span<float> product)
        {
            for (int j = 0; j < product.Length; j++)
            {
                ReadOnlySpan<float> weights = Weight.AsSpan(j * value.Length, value.Length);
                float sum = 0;
                for (int k = 0; k < value.Length; k++)
                    sum = MathF.FusedMultiplyAdd(weights[k], value[k], sum);
                product[j] = sum;
            }
        }

        /// <summary>Every row of <paramref name="table"/> (<paramref name="dim"/> wide) projected.</summary>
        public float[] Table(float[] table, int dim)
        {
            int outputs = Weight.Length / dim;
            var projected = new float[table.Length / dim * outputs];
            for (int i = 0; i < table.Length / dim; i++)
                Apply(table.AsSpan(i * dim, dim), projected.AsSpan(i * outputs, outputs));
            return projected;
        }
    }

    /// <summary>
    /// A linear layer, then (hidden layers) its batch norm in evaluation mode and ReLU. The weights are kept transposed in
    /// panels of <see cref="Panel"/> output columns ([panel][input][column]) so a kernel reads them in order; the outputs
    /// are padded to whole panels (zero weights, so the padding columns are 0 and are never read as inputs).
    /// </summary>
    internal sealed class Dense
    {
        private readonly float[] _weight; // [outputs × inputs], as the module holds it
        private readonly float[] _packed;
        private readonly float[] _bias;
        private readonly float[]? _scale;
        private readonly float[] _shift;
        private readonly bool _relu;

        internal Dense(int inputs, int outputs, float[] weight, float[] bias, float[]? scale, float[]? shift, bool relu)
        {
            Inputs = inputs;
            Outputs = outputs;
            _weight = weight;
            Padded = (outputs + Panel - 1) / Panel * Panel;
            _packed = new float[Padded * inputs];
            for (int j = 0; j < outputs; j++)
            {
                for (int k = 0; k < inputs; k++)
                    _packed[(j / Panel * inputs + k) * Panel + j % Panel] = weight[j * inputs + k];
            }
            _bias = Pad(bias, Padded);
            _scale = scale is null ? null : Pad(scale, Padded);
            _shift = Pad(shift ?? [], Padded);
            _relu = relu;
        }

        public int Inputs { get; }

        public int Outputs { get; }

        /// <summary>
        /// Every row of <paramref name="table"/> (<paramref name="dim"/> floats, the inputs from <paramref name="column"/>)
        /// through this layer's weights, without bias: row <c>i</c>'s output <c>j</c> is Σ_c fma(table[i, c], w[j, column + c], ·)
        /// from 0 in c order. Rows of <see cref="Padded"/> floats.
        /// </summary>
        public float[] Fold(float[] table, int dim, int column)
        {
            int rows = table.Length / dim;
            var folded = new float[rows * Padded];
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = table.AsSpan(i * dim, dim);
                for (int j = 0; j < Outputs; j++)
                {
                    ReadOnlySpan<float> weights = _weight.AsSpan(j * Inputs + column, dim);
                    float sum = 0;
                    for (int c = 0; c < dim; c++)
                        sum = MathF.FusedMultiplyAdd(row[c], weights[c], sum);
                    folded[i * Padded + j] = sum;
                }
            }
            return folded;
        }

        /// <summary>This layer reading only the inputs <paramref name="kept"/> names, in that order (the others are folded).</summary>
        public Dense Keeping(int[] kept)
        {
            var weight = new float[Outputs * kept.Length];
            for (int j = 0; j < Outputs; j++)
            {
                for (int k = 0; k < kept.Length; k++)
                    weight[j * kept.Length + k] = _weight[j * Inputs + kept[k]];
            }
            return new Dense(kept.Length, Outputs, weight, _bias, _scale, _scale is null ? null : _shift, _relu);
        }

        public int Padded { get; }

        public static Dense Of(Linear linear, BatchNorm1d? norm, bool relu)
        {
            Tensor weight = linear.weight!;
            int outputs = (int)weight.shape[0], inputs = (int)weight.shape[1];
            float[] bias = linear.bias is { } b ? Copy(b) : new float[outputs];
            float[]? scale = null, shift = null;
            if (norm is not null)
            {
                // libtorch's batch norm in evaluation mode: x × (γ / √(var + ε)) + (β − mean × γ / √(var + ε)).
                float[] mean = Copy(norm.running_mean!), variance = Copy(norm.running_var!);
                float[] gamma = norm.weight is { } g ? Copy(g) : [.. Enumerable.Repeat(1f, outputs)];
                float[] beta = norm.bias is { } bb ? Copy(bb) : new float[outputs];
                scale = new float[outputs];
                shift = new float[outputs];
                for (int j = 0; j < outputs; j++)
                {
                    scale[j] = gamma[j] / MathF.Sqrt(variance[j] + (float)norm.eps);
                    shift[j] = beta[j] - mean[j] * scale[j];
                }
            }
            return new Dense(inputs, outputs, Copy(weight), bias, scale, shift, relu);
        }

        private static float[] Pad(float[] values, int length)
        {
            var padded = new float[length];
            values.CopyTo(padded, 0);
            return padded;
        }

        /// <summary>Rows of <paramref name="x"/> (each <paramref name="stride"/> floats, the first <see cref="Inputs"/> read) through the layer into <paramref name="y"/> (rows × <see cref="Padded"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Apply(float[] x, int stride, int rows, float[] y, float[]? folded = null)
        {
            if (Outputs == 1)
                Dot(x, stride, rows, y);
            else
                Panels(x, stride, rows, y);
            for (int r = 0; r < rows; r++)
            {
                Span<float> outputs = y.AsSpan(r * Padded, Padded);
                if (folded is not null)
                    Add(folded.AsSpan(r * Padded, Padded), outputs);
                Finish(outputs);
            }
        }

        /// <summary>
        /// A layer of one output (the logit): the kernels would compute a panel of 32 outputs for it. Each row's sum is
        /// the fused multiply-adds a panel's first lane makes, four rows at a time for independent sums; the padding
        /// outputs are 0.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Dot(float[] x, int stride, int rows, float[] y)
        {
            ReadOnlySpan<float> w = _weight.AsSpan(0, Inputs);
            int r = 0;
            for (; r + 4 <= rows; r += 4)
            {
                ReadOnlySpan<float> x0 = x.AsSpan(r * stride, Inputs), x1 = x.AsSpan((r + 1) * stride, Inputs);
                ReadOnlySpan<float> x2 = x.AsSpan((r + 2) * stride, Inputs), x3 = x.AsSpan((r + 3) * stride, Inputs);
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int k = 0; k < w.Length; k++)
                {
                    s0 = MathF.FusedMultiplyAdd(x0[k], w[k], s0);
                    s1 = MathF.FusedMultiplyAdd(x1[k], w[k], s1);
                    s2 = MathF.FusedMultiplyAdd(x2[k], w[k], s2);
                    s3 = MathF.FusedMultiplyAdd(x3[k], w[k], s3);
                }
                (y[r * Padded], y[(r + 1) * Padded], y[(r + 2) * Padded], y[(r + 3) * Padded]) = (s0, s1, s2, s3);
            }
            for (; r < rows; r++)
            {
                ReadOnlySpan<float> x0 = x.AsSpan(r * stride, Inputs);
                float s0 = 0;
                for (int k = 0; k < w.Length; k++)
                    s0 = MathF.FusedMultiplyAdd(x0[k], w[k], s0);
                y[r * Padded] = s0;
            }
            for (r = 0; r < rows; r++)
                y.AsSpan(r * Padded + 1, Padded - 1).Clear();
        }

        /// <summary>Every output's sum over the inputs, panel by panel.</summary>
        private void Panels(float[] x, int stride, int rows, float[] y)
        {
            int blocked = rows / 4 * 4;
            for (int p = 0; p < Padded; p += Panel)
            {
                for (int r = 0; r < blocked; r += 4)
                    Kernel4(x, r * stride, stride, p, y, r * Padded + p);
            }
            // The last rows (all of a pass of fewer than 4): one row, two panels at a time for more independent sums.
            for (int r = blocked; r < rows; r++)
            {
                int p = 0;
                for (; p + 2 * Panel <= Padded; p += 2 * Panel)
                    Kernel1(x, r * stride, p, 2, y, r * Padded + p);
                if (p < Padded)
                    Kernel1(x, r * stride, p, 1, y, r * Padded + p);
            }
        }

        /// <summary>
        /// Bias, norm and ReLU on one row's outputs, in vectors (<see cref="Panel"/> divides the row): per element the
        /// same two roundings (+ bias; × scale, + shift) as libtorch's, and ReLU as <see cref="MathF.Max(float, float)"/>
        /// (NaN stays NaN, −0 becomes +0).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal void Finish(Span<float> y)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (int j = 0; j < y.Length; j += Vector512<float>.Count)
                {
                    var v = Vector512.Create(y.Slice(j, Vector512<float>.Count)) + Vector512.Create(_bias.AsSpan(j, Vector512<float>.Count));
                    if (_scale is not null)
                        v = v * Vector512.Create(_scale.AsSpan(j, Vector512<float>.Count)) + Vector512.Create(_shift.AsSpan(j, Vector512<float>.Count));
                    // An overflowed sum: see the scalar form's note in FinishOne.
                    v = Vector512.ConditionalSelect(Vector512.IsFinite(v), v, Vector512.Create(float.NaN));
                    if (_relu)
                        v = Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero) | Vector512.IsNaN(v), v, Vector512<float>.Zero);
                    v.CopyTo(y.Slice(j, Vector512<float>.Count));
                }
                return;
            }
            for (int j = 0; j < y.Length; j++)
                y[j] = FinishOne(y[j], j);
        }

        /// <summary>What <see cref="Finish"/> gives output <paramref name="j"/> of sum <paramref name="y"/>.</summary>
        internal float FinishOne(float y, int j)
        {
            float v = y + _bias[j];
            if (_scale is not null)
                v = v * _scale[j] + _shift[j];
            // An overflowed sum: the fused multiply-adds keep the first infinity (an exact product added to ∞ stays
            // ∞, the rest of the sum lost), where libtorch's partial sums mostly meet as ∞ − ∞. No probability
            // follows from either: NaN, which the later layers carry to the logit.
            if (!float.IsFinite(v))
                v = float.NaN;
            return _relu ? MathF.Max(v, 0) : v;
        }

        // The kernels: each output is Σ_k fma(x[k], w[k, j], ·) from 0 in k order, however many rows or panels a kernel
        // takes and whatever the vector width (a fused multiply-add rounds once, in any lane), so a row's floats do not
        // depend on the pass. 512-bit vectors where the processor has them (half the instructions), else 256-bit halves.

        /// <summary>Four rows × one panel.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Kernel4(float[] x, int at, int stride, int panel, float[] y, int to)
        {
            if (!Vector512.IsHardwareAccelerated)
            {
                Kernel4Half(x, at, stride, panel, 0, y, to);
                Kernel4Half(x, at, stride, panel, Panel / 2, y, to);
                return;
            }
            ref float w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), panel * Inputs);
            ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), at);
            ref float x1 = ref Unsafe.Add(ref x0, stride);
            ref float x2 = ref Unsafe.Add(ref x1, stride);
            ref float x3 = ref Unsafe.Add(ref x2, stride);
            Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (int k = 0; k < Inputs; k++)
            {
                ref float wk = ref Unsafe.Add(ref w, k * Panel);
                Vector512<float> w0 = Vector512.LoadUnsafe(ref wk), w1 = Vector512.LoadUnsafe(ref wk, 16);
                var v = Vector512.Create(Unsafe.Add(ref x0, k));
                a0 = Vector512.FusedMultiplyAdd(v, w0, a0);
                a1 = Vector512.FusedMultiplyAdd(v, w1, a1);
                v = Vector512.Create(Unsafe.Add(ref x1, k));
                b0 = Vector512.FusedMultiplyAdd(v, w0, b0);
                b1 = Vector512.FusedMultiplyAdd(v, w1, b1);
                v = Vector512.Create(Unsafe.Add(ref x2, k));
                c0 = Vector512.FusedMultiplyAdd(v, w0, c0);
                c1 = Vector512.FusedMultiplyAdd(v, w1, c1);
                v = Vector512.Create(Unsafe.Add(ref x3, k));
                d0 = Vector512.FusedMultiplyAdd(v, w0, d0);
                d1 = Vector512.FusedMultiplyAdd(v, w1, d1);
            }
            ref float out0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(y), to);
            a0.StoreUnsafe(ref out0);
            a1.StoreUnsafe(ref out0, 16);
            b0.StoreUnsafe(ref out0, (nuint)Padded);
            b1.StoreUnsafe(ref out0, (nuint)Padded + 16);
            c0.StoreUnsafe(ref out0, (nuint)(2 * Padded));
            c1.StoreUnsafe(ref out0, (nuint)(2 * Padded) + 16);
            d0.StoreUnsafe(ref out0, (nuint)(3 * Padded));
            d1.StoreUnsafe(ref out0, (nuint)(3 * Padded) + 16);
        }

        /// <summary>Four rows × the half of a panel from <paramref name="half"/>, in 256-bit vectors.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Kernel4Half(float[] x, int at, int stride, int panel, int half, float[] y, int to)
        {
            ref float w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), panel * Inputs + half);
            ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), at);
            ref float x1 = ref Unsafe.Add(ref x0, stride);
            ref float x2 = ref Unsafe.Add(ref x1, stride);
            ref float x3 = ref Unsafe.Add(ref x2, stride);
            Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
            for (int k = 0; k < Inputs; k++)
            {
                ref float wk = ref Unsafe.Add(ref w, k * Panel);
                Vector256<float> w0 = Vector256.LoadUnsafe(ref wk), w1 = Vector256.LoadUnsafe(ref wk, 8);
                var v = Vector256.Create(Unsafe.Add(ref x0, k));
                a0 = Vector256.FusedMultiplyAdd(v, w0, a0);
                a1 = Vector256.FusedMultiplyAdd(v, w1, a1);
                v = Vector256.Create(Unsafe.Add(ref x1, k));
                b0 = Vector256.FusedMultiplyAdd(v, w0, b0);
                b1 = Vector256.FusedMultiplyAdd(v, w1, b1);
                v = Vector256.Create(Unsafe.Add(ref x2, k));
                c0 = Vector256.FusedMultiplyAdd(v, w0, c0);
                c1 = Vector256.FusedMultiplyAdd(v, w1, c1);
                v = Vector256.Create(Unsafe.Add(ref x3, k));
                d0 = Vector256.FusedMultiplyAdd(v, w0, d0);
                d1 = Vector256.FusedMultiplyAdd(v, w1, d1);
            }
            ref float out0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(y), to + half);
            a0.StoreUnsafe(ref out0);
            a1.StoreUnsafe(ref out0, 8);
            b0.StoreUnsafe(ref out0, (nuint)Padded);
            b1.StoreUnsafe(ref out0, (nuint)Padded + 8);
            c0.StoreUnsafe(ref out0, (nuint)(2 * Padded));
            c1.StoreUnsafe(ref out0, (nuint)(2 * Padded) + 8);
            d0.StoreUnsafe(ref out0, (nuint)(3 * Padded));
            d1.StoreUnsafe(ref out0, (nuint)(3 * Padded) + 8);
        }

        /// <summary>One row × <paramref name="panels"/> (1 or 2) panels from <paramref name="panel"/>: up to eight vectors of sums.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Kernel1(float[] x, int at, int panel, int panels, float[] y, int to)
        {
            ref float w = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_packed), panel * Inputs);
            ref float x0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), at);
            ref float out0 = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(y), to);
            nuint next = (nuint)(Panel * Inputs); // the next panel's weights
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default;
                for (int k = 0; k < Inputs; k++)
                {
                    ref float wk = ref Unsafe.Add(ref w, k * Panel);
                    var v = Vector512.Create(Unsafe.Add(ref x0, k));
                    a0 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref wk), a0);
                    a1 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref wk, 16), a1);
                    if (panels == 2)
                    {
                        b0 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref wk, next), b0);
                        b1 = Vector512.FusedMultiplyAdd(v, Vector512.LoadUnsafe(ref wk, next + 16), b1);
                    }
                }
                a0.StoreUnsafe(ref out0);
                a1.StoreUnsafe(ref out0, 16);
                if (panels == 2)
                {
                    b0.StoreUnsafe(ref out0, Panel);
                    b1.StoreUnsafe(ref out0, Panel + 16);
                }
                return;
            }
            Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default, f0 = default, f1 = default, f2 = default, f3 = default;
            for (int k = 0; k < Inputs; k++)
            {
                ref float wk = ref Unsafe.Add(ref w, k * Panel);
                var v = Vector256.Create(Unsafe.Add(ref x0, k));
                e0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk), e0);
                e1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, 8), e1);
                e2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, 16), e2);
                e3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, 24), e3);
                if (panels == 2)
                {
                    f0 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, next), f0);
                    f1 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, next + 8), f1);
                    f2 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, next + 16), f2);
                    f3 = Vector256.FusedMultiplyAdd(v, Vector256.LoadUnsafe(ref wk, next + 24), f3);
                }
            }
            e0.StoreUnsafe(ref out0);
            e1.StoreUnsafe(ref out0, 8);
            e2.StoreUnsafe(ref out0, 16);
            e3.StoreUnsafe(ref out0, 24);
            if (panels == 2)
            {
                f0.StoreUnsafe(ref out0, Panel);
                f1.StoreUnsafe(ref out0, Panel + 8);
                f2.StoreUnsafe(ref out0, Panel + 16);
                f3.StoreUnsafe(ref out0, Panel + 24);
            }
        }
    }
}
