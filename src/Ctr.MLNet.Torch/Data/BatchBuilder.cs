using System;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// Gathers rows of a <see cref="FeatureBlock"/> into a <see cref="CtrBatch"/>, writing them straight into the
/// memory of tensors that libtorch allocated, so building a batch allocates only the tensors.
/// </summary>
/// <remarks>
/// Not <c>torch.tensor(array)</c>: TorchSharp copies the array into a pinned managed array, whose data is only
/// 8-byte aligned and lies wherever the garbage collector put it, and libtorch's matrix products (MKL) round
/// differently with the alignment of their operands. A model that multiplies a batch tensor directly (DeepFM's
/// linear term on the numeric features) then computed different sums in every run, so a seeded fit did not repeat.
/// libtorch's allocator aligns every tensor to 64 bytes.
/// </remarks>
internal sealed class BatchBuilder
{
    private readonly FeatureLayout _layout;

    public BatchBuilder(FeatureLayout layout)
    {
        _layout = layout;
    }

    /// <summary>Builds the batch of <paramref name="rows"/> (indices into <paramref name="block"/>).</summary>
    public CtrBatch Build(FeatureBlock block, ReadOnlySpan<int> rows, bool withLabels)
    {
        int count = rows.Length;
        Tensor? categorical = null;
        int width = block.CategoricalWidth;
        if (width > 0)
        {
            categorical = Allocate([count, width], ScalarType.Int64, out Span<long> ids);
            for (int r = 0; r < count; r++)
            {
                int source = rows[r] * width;
                for (int f = 0; f < width; f++)
                    ids[r * width + f] = block.Categorical[source + f];
            }
        }

        var sequences = new SequenceBatch[block.Sequences.Length];
        for (int s = 0; s < sequences.Length; s++)
            sequences[s] = BuildSequence(block.Sequences[s], rows);

        Tensor? numeric = null;
        int numericWidth = block.NumericWidth;
        if (numericWidth > 0)
        {
            numeric = Allocate([count, numericWidth], ScalarType.Float32, out Span<float> values);
            for (int r = 0; r < count; r++)
                block.Numeric.AsSpan(rows[r] * numericWidth, numericWidth).CopyTo(values.Slice(r * numericWidth, numericWidth));
        }

        Tensor? labels = null;
        if (withLabels)
        {
            labels = Allocate([count], ScalarType.Float32, out Span<float> values);
            for (int r = 0; r < count; r++)
                values[r] = block.Labels[rows[r]];
        }
        return new CtrBatch(_layout, count, categorical, sequences, numeric, labels);
    }

    private static SequenceBatch BuildSequence(FeatureBlock.SequenceColumn column, ReadOnlySpan<int> rows)
    {
        int total = 0;
        foreach (int row in rows)
            total += column.Length(row);
        Tensor idTensor = Allocate([total], ScalarType.Int64, out Span<long> ids);
        Tensor offsetTensor = Allocate([rows.Length], ScalarType.Int64, out Span<long> offsets);
        Tensor weightTensor = Allocate([total], ScalarType.Float32, out Span<float> weights);
        Tensor sumTensor = Allocate([rows.Length], ScalarType.Float32, out Span<float> sums);

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
        return new SequenceBatch(idTensor, offsetTensor, weightTensor, sumTensor);
    }

    /// <summary>A new tensor of <paramref name="shape"/> in libtorch's memory, uninitialized, and its elements to fill.</summary>
    private static Tensor Allocate<T>(long[] shape, ScalarType type, out Span<T> elements)
        where T : unmanaged
    {
        Tensor tensor = empty(shape, type);
        elements = MemoryMarshal.Cast<byte, T>(tensor.bytes);
        return tensor;
    }
}
