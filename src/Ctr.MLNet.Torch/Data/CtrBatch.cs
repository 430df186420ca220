using System;
using System.Collections.Generic;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// One batch of features as tensors, the input of a <see cref="CtrModel"/>. Tensors live in the dispose
/// scope the batch was built in; the trainer opens one scope per batch.
/// </summary>
public sealed class CtrBatch : IDisposable
{
    internal CtrBatch(FeatureLayout layout, int count, Tensor? categorical, IReadOnlyList<SequenceBatch> sequences, Tensor? numeric, Tensor? labels)
    {
        Layout = layout;
        Count = count;
        Categorical = categorical;
        Sequences = sequences;
        Numeric = numeric;
        Labels = labels;
    }

    /// <summary>What the columns are.</summary>
    public FeatureLayout Layout { get; }

    /// <summary>Rows in the batch.</summary>
    public int Count { get; }

    /// <summary>Int64 [Count, Layout.Categorical.Length]: one id per scalar categorical field; null without such fields.</summary>
    public Tensor? Categorical { get; }

    /// <summary>One entry per <see cref="FeatureLayout.Sequences"/> field.</summary>
    public IReadOnlyList<SequenceBatch> Sequences { get; }

    /// <summary>Float32 [Count, Layout.NumericWidth]; null without numeric fields.</summary>
    public Tensor? Numeric { get; }

    /// <summary>Float32 [Count] of 0/1 when the batch has labels (training, validation); otherwise null.</summary>
    public Tensor? Labels { get; }

    /// <summary>Disposes the tensors now rather than with their scope.</summary>
    public void Dispose()
    {
        Categorical?.Dispose();
        Numeric?.Dispose();
        Labels?.Dispose();
        foreach (SequenceBatch sequence in Sequences)
        {
            sequence.Ids.Dispose();
            sequence.Offsets.Dispose();
            sequence.Weights.Dispose();
            sequence.WeightSums.Dispose();
        }
    }
}

/// <summary>A sequence field in <c>nn.EmbeddingBag</c> form.</summary>
/// <param name="Ids">Int64 [total elements]: every row's ids, one row after the other.</param>
/// <param name="Offsets">Int64 [Count]: where each row starts in <paramref name="Ids"/> (an empty row repeats the next offset).</param>
/// <param name="Weights">Float32 [total elements]: one weight per id (1 when the field has no weight column).</param>
/// <param name="WeightSums">Float32 [Count]: each row's total weight (0 for an empty row), for weighted means.</param>
public sealed record SequenceBatch(Tensor Ids, Tensor Offsets, Tensor Weights, Tensor WeightSums)
{
    /// <summary>The least weight sum a mean divides by: an empty row's zero sum stays zero.</summary>
    internal const float MeanFloor = 1e-12f;

    /// <summary>Each row of <paramref name="sums"/> [Count, dim] divided by its weight sum: the weighted mean.</summary>
    public Tensor MeanOf(Tensor sums)
    {
        ArgumentNullException.ThrowIfNull(sums);
        // An empty row sums to zero with weight 0: dividing by a tiny positive number keeps it zero.
        // The scalar is disposed here, after libtorch has read it: an implicit temporary is left to its finalizer,
        // which under load can free it while the native call still reads it (a 500 seen under wrk).
        using TorchSharp.Scalar floor = MeanFloor;
        using Tensor clamped = WeightSums.clamp_min(floor);
        using Tensor denominator = clamped.unsqueeze(1);
        return sums.div(denominator);
    }
}
