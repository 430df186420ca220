using System;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// Gathers rows of a <see cref="FeatureBlock"/> into a <see cref="CtrBatch"/>. The staging arrays are reused
/// from batch to batch, so building a batch allocates only the tensors.
/// </summary>
internal sealed class BatchBuilder
{
    private readonly FeatureLayout _layout;
    private long[] _categorical = [];
    private float[] _numeric = [];
    private float[] _labels = [];
    private long[][] _ids;
    private long[][] _offsets;
    private float[][] _weights;
    private float[][] _weightSums;

    public BatchBuilder(FeatureLayout layout)
    {
        _layout = layout;
        int sequences = layout.Sequences.Length;
        _ids = new long[sequences][];
        _offsets = new long[sequences][];
        _weights = new float[sequences][];
        _weightSums = new float[sequences][];
        for (int s = 0; s < sequences; s++)
        {
            _ids[s] = [];
            _offsets[s] = [];
            _weights[s] = [];
            _weightSums[s] = [];
        }
    }

    /// <summary>Builds the batch of <paramref name="rows"/> (indices into <paramref name="block"/>).</summary>
    public CtrBatch Build(FeatureBlock block, ReadOnlySpan<int> rows, bool withLabels)
    {
        int count = rows.Length;
        Tensor? categorical = null;
        int width = block.CategoricalWidth;
        if (width > 0)
        {
            EnsureLength(ref _categorical, count * width);
            for (int r = 0; r < count; r++)
            {
                int source = rows[r] * width;
                for (int f = 0; f < width; f++)
                    _categorical[r * width + f] = block.Categorical[source + f];
            }
            categorical = tensor(_categorical.AsMemory(0, count * width), [count, width]);
        }

        var sequences = new SequenceBatch[block.Sequences.Length];
        for (int s = 0; s < sequences.Length; s++)
            sequences[s] = BuildSequence(block.Sequences[s], s, rows);

        Tensor? numeric = null;
        int numericWidth = block.NumericWidth;
        if (numericWidth > 0)
        {
            EnsureLength(ref _numeric, count * numericWidth);
            for (int r = 0; r < count; r++)
                Array.Copy(block.Numeric, rows[r] * numericWidth, _numeric, r * numericWidth, numericWidth);
            numeric = tensor(_numeric.AsMemory(0, count * numericWidth), [count, numericWidth]);
        }

        Tensor? labels = null;
        if (withLabels)
        {
            EnsureLength(ref _labels, count);
            for (int r = 0; r < count; r++)
                _labels[r] = block.Labels[rows[r]];
            labels = tensor(_labels.AsMemory(0, count), [count]);
        }
        return new CtrBatch(_layout, count, categorical, sequences, numeric, labels);
    }

    private SequenceBatch BuildSequence(FeatureBlock.SequenceColumn column, int s, ReadOnlySpan<int> rows)
    {
        int total = 0;
        foreach (int row in rows)
            total += column.Length(row);
        EnsureLength(ref _ids[s], total);
        EnsureLength(ref _weights[s], total);
        EnsureLength(ref _offsets[s], rows.Length);
        EnsureLength(ref _weightSums[s], rows.Length);
        long[] ids = _ids[s], offsets = _offsets[s];
        float[] weights = _weights[s], sums = _weightSums[s];

        int position = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            int start = column.Offsets[rows[r]], length = column.Length(rows[r]);
            offsets[r] = position;
            float sum = 0;
            for (int i = 0; i < length; i++)
            {
                ids[position + i] = column.Ids[start + i];
                float weight = column.Weights?[start + i] ?? 1f;
                weights[position + i] = weight;
                sum += weight;
            }
            sums[r] = sum;
            position += length;
        }
        return new SequenceBatch(
            tensor(ids.AsMemory(0, total), [total]),
            tensor(offsets.AsMemory(0, rows.Length), [rows.Length]),
            tensor(weights.AsMemory(0, total), [total]),
            tensor(sums.AsMemory(0, rows.Length), [rows.Length]));
    }

    private static void EnsureLength<T>(ref T[] array, int length)
    {
        if (array.Length < length)
            array = new T[Math.Max(length, array.Length * 2)];
    }
}
