using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Torch.Data;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Training;

/// <summary>
/// The Gaussian prior of <see cref="TorchCtrTrainer.Options.EmbeddingL2"/>, applied where a batch looks: every id
/// occurrence in the batch adds <c>L2 · ‖row‖² / (its training count · batch rows)</c>. Over an epoch each row then
/// receives <c>L2 · ‖row‖² / training rows</c> in expectation, the exact MAP objective, while rows a batch does not
/// touch get no gradient at all and no step reads whole tables. Tables of at most the minimum size get no prior.
/// </summary>
internal sealed class EmbeddingPrior : IDisposable
{
    private readonly double _strength;
    private readonly Tensor[] _inverseCounts;
    private readonly List<Parameter>[] _weights;
    private readonly int[][] _categoricalFields, _sequenceFields; // per table: the fields whose ids index it
    private readonly Parameter[] _otherTables;
    private readonly double _otherScale;

    private EmbeddingPrior(FeatureLayout layout, double strength, Tensor[] inverseCounts, List<Parameter>[] weights, Parameter[] otherTables, double otherScale)
    {
        _categoricalFields = [.. layout.Tables.Select((_, t) => Enumerable.Range(0, layout.Categorical.Length).Where(f => layout.Categorical[f].Table == t).ToArray())];
        _sequenceFields = [.. layout.Tables.Select((_, t) => Enumerable.Range(0, layout.Sequences.Length).Where(s => layout.Sequences[s].Table == t).ToArray())];
        _strength = strength;
        _inverseCounts = inverseCounts;
        _weights = weights;
        _otherTables = otherTables;
        _otherScale = otherScale;
    }

    /// <summary>
    /// Finds <paramref name="model"/>'s tables of more than <paramref name="minimumTableSize"/> rows and counts their ids in
    /// <paramref name="train"/> (one pass); null when no table is that large.
    /// </summary>
    public static EmbeddingPrior? Create(CtrModel model, FeatureLayout layout, TrainingData train, double strength, int minimumTableSize)
    {
        var weights = layout.Tables.Select(_ => new List<Parameter>()).ToArray();
        // By module: a parameter's wrapper is a new object at every `weight` call.
        var covered = new HashSet<object>(ReferenceEqualityComparer.Instance);
        foreach (FeatureEmbedding embedding in model.modules().OfType<FeatureEmbedding>())
        {
            for (int t = 0; t < layout.Tables.Length; t++)
            {
                if (layout.Tables[t].Size > minimumTableSize)
                    weights[t].Add(embedding.Table(t).weight!);
                covered.Add(embedding.Table(t));
            }
        }
        // A custom network's own embedding modules have no known ids: they get the prior on every row at every step.
        Parameter[] others = [.. model.modules()
            .Where(m => !covered.Contains(m))
            .Select(m => m switch { EmbeddingBag bag => bag.weight, Embedding e => e.weight, _ => null })
            .OfType<Parameter>()
            .Where(w => w.shape[0] > minimumTableSize)];
        if (others.Length == 0 && weights.All(w => w.Count == 0))
            return null;

        long[][] counts = [.. layout.Tables.Select((t, i) => new long[weights[i].Count == 0 ? 0 : t.Size])];
        foreach (FeatureBlock block in train.Blocks())
        {
            int width = block.CategoricalWidth;
            for (int f = 0; f < width; f++)
            {
                long[] table = counts[layout.Categorical[f].Table];
                if (table.Length == 0)
                    continue;
                for (int r = 0; r < block.Count; r++)
                    table[block.Categorical[r * width + f]]++;
            }
            for (int s = 0; s < block.Sequences.Length; s++)
            {
                long[] table = counts[layout.Sequences[s].Table];
                if (table.Length == 0)
                    continue;
                FeatureBlock.SequenceColumn sequence = block.Sequences[s];
                for (int i = sequence.Offsets[0]; i < sequence.Offsets[block.Count]; i++)
                    table[sequence.Ids[i]]++;
            }
        }
        Tensor[] inverseCounts = [.. counts.Select(c =>
        {
            // Row 0 is padding and stays zero; rows never seen in training get no gradient from data or prior.
            float[] inverse = [.. c.Select((n, i) => i == 0 || n == 0 ? 0f : 1f / n)];
            return tensor(inverse);
        })];
        return new EmbeddingPrior(layout, strength, inverseCounts, weights, others, strength / Math.Max(1, train.RowCount));
    }

    /// <summary>The prior's share of <paramref name="batch"/>'s mean loss.</summary>
    public Tensor Penalty(CtrBatch batch)
    {
        // Explicit scalars, disposed after the calls: an implicit one may be finalized while libtorch reads it (Scalars).
        using TorchSharp.Scalar strength = _strength / batch.Count, otherScale = _otherScale;
        Tensor total = zeros(1);
        for (int t = 0; t < _weights.Length; t++)
        {
            if (_weights[t].Count == 0 || _categoricalFields[t].Length + _sequenceFields[t].Length == 0)
                continue;
            List<Tensor> ids = [.. _categoricalFields[t].Select(f => batch.Categorical![.., f]), .. _sequenceFields[t].Select(s => batch.Sequences[s].Ids)];
            Tensor touched = ids.Count == 1 ? ids[0] : cat(ids);
            Tensor scale = _inverseCounts[t].index_select(0, touched);
            foreach (Parameter weight in _weights[t])
                total = total.add(weight.index_select(0, touched).square().sum(1).mul(scale).sum(), Scalars.One);
        }
        total = total.mul(strength);
        foreach (Parameter other in _otherTables)
            total = total.add(other.square().sum().mul(otherScale), Scalars.One);
        return total.squeeze();
    }

    public void Dispose()
    {
        foreach (Tensor inverse in _inverseCounts)
            inverse.Dispose();
    }
}
