using System;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// Gathers rows of a <see cref="FeatureBlock"/> into a <see cref="CtrBatch"/>. Each tensor is allocated by libtorch
/// and the rows are gathered straight into its memory: no staging array, no managed copy, no pinning.
/// </summary>
internal sealed class BatchBuilder
{
    private readonly FeatureLayout _layout;

    public BatchBuilder(FeatureLayout layout) => _layout = layout;

    /// <summary>Builds the batch of <paramref name="rows"/> (indices into <paramref name="block"/>).</summary>
    public CtrBatch Build(FeatureBlock block, ReadOnlySpan<int> rows, bool withLabels)
    {
        int count = rows.Length;
        Tensor? categorical = null;
        int width = block.CategoricalWidth;
        if (width > 0)
        {
            categorical = Allocate(ScalarType.Int64, [count, width], out Span<long> ids);
            int[] source = block.Categorical;
            for (int r = 0; r < count; r++)
            {
                ReadOnlySpan<int> row = source.AsSpan(rows[r] * width, width);
                Span<long> target = ids.Slice(r * width, width);
                for (int f = 0; f < width; f++)
                    target[f] = row[f];
            }
        }

        var sequences = new SequenceBatch[block.Sequences.Length];
        for (int s = 0; s < sequences.Length; s++)
            sequences[s] = BuildSequence(block.Sequences[s], rows);

        Tensor? numeric = null;
        int numericWidth = block.NumericWidth;
        if (numericWidth > 0)
        {
            numeric = Allocate(ScalarType.Float32, [count, numericWidth], out Span<float> values);
            for (int r = 0; r < count; r++)
                block.Numeric.AsSpan(rows[r] * numericWidth, numericWidth).CopyTo(values.Slice(r * numericWidth, numericWidth));
        }

        Tensor? labels = null;
        if (withLabels)
        {
            labels = Allocate(ScalarType.Float32, [count], out Span<float> values);
            for (int r = 0; r < count; r++)
                values[r] = block.Labels[rows[r]];
        }
        return new CtrBatch(_layout, count, categorical, sequences, numeric, labels);
    }

    private static SequenceBatch BuildSequence(FeatureBlock.SequenceColumn column, ReadOnlySpan<int> rows)
    {
        int total = TotalLength(column, rows);
        Tensor idsTensor = Allocate(ScalarType.Int64, [total], out Span<long> ids);
        Tensor offsetsTensor = Allocate(ScalarType.Int64, [rows.Length], out Span<long> offsets);
        Tensor weightsTensor = Allocate(ScalarType.Float32, [total], out Span<float> weights);
        Tensor sumsTensor = Allocate(ScalarType.Float32, [rows.Length], out Span<float> sums);
        FillSequence(column, rows, ids, offsets, weights, sums);
        return new SequenceBatch(idsTensor, offsetsTensor, weightsTensor, sumsTensor);
    }

    /// <summary>The number of elements of <paramref name="rows"/> in <paramref name="column"/>.</summary>
    internal static int TotalLength(FeatureBlock.SequenceColumn column, ReadOnlySpan<int> rows)
    {
        int total = 0;
        foreach (int row in rows)
            total += column.Length(row);
        return total;
    }

    /// <summary>Writes the <see cref="SequenceBatch"/> form of <paramref name="rows"/> of <paramref name="column"/>: ids, offsets, weights and each row's weight sum.</summary>
    internal static void FillSequence(FeatureBlock.SequenceColumn column, ReadOnlySpan<int> rows, Span<long> ids, Span<long> offsets, Span<float> weights, Span<float> sums)
    {
        int position = 0;
        for (int r = 0; r < rows.Length; r++)
        {
            int start = column.Offsets[rows[r]], length = column.Length(rows[r]);
            offsets[r] = position;
            ReadOnlySpan<int> source = column.Ids.AsSpan(start, length);
            Span<long> target = ids.Slice(position, length);
            for (int i = 0; i < length; i++)
                target[i] = source[i];
            float sum = length;
            if (column.Weights is { } rowWeights)
            {
                ReadOnlySpan<float> weight = rowWeights.AsSpan(start, length);
                weight.CopyTo(weights.Slice(position, length));
                sum = 0;
                foreach (float w in weight)
                    sum += w;
            }
            else
            {
                weights.Slice(position, length).Fill(1f);
            }
            sums[r] = sum;
            position += length;
        }
    }

    /// <summary>An uninitialized tensor of <paramref name="shape"/> in the current dispose scope, and its memory to fill.</summary>
    internal static Tensor Allocate<T>(ScalarType type, long[] shape, out Span<T> data)
        where T : unmanaged
    {
        Tensor tensor = empty(shape, type);
        // A CPU tensor's bytes are its own storage (no copy); an empty one has none to touch.
        data = tensor.numel() == 0 ? [] : MemoryMarshal.Cast<byte, T>(tensor.bytes);
        return tensor;
    }
}
