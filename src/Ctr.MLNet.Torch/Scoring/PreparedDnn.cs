using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// A <see cref="DnnCtrModel"/>'s forward pass in evaluation mode, for <see cref="PreparedCtrScorer"/>, in fewer libtorch
/// calls: libtorch's fixed cost per call, not the arithmetic, is most of a small pass. The arithmetic is the model's own,
/// on the same values in the same order (so the same floats); what changes is how values are moved:
/// <list type="bullet">
/// <item>every scalar field's embedding comes from one gather out of a copy of the tables, flattened one after the
/// other, at positions written on the managed side (a gather copies, so the values are those of a lookup per field);</item>
/// <item>the inputs are built once per pass for every network of the layout (<see cref="ScoringInputs"/>), including
/// the history attributes' rows (their maps read on the managed side instead of by a gather per network) and the
/// weighted mean's divisor (clamped and shaped on the managed side);</item>
/// <item>the sequences' bags read the tables' weights through bags that do not require gradients (libtorch's
/// forward-only path);</item>
/// <item>dropout (the identity in evaluation mode) is skipped, modules are called without hooks, and the logits are read
/// without squeezing or converting them.</item>
/// </list>
/// Every tensor a matrix product reads is, as in <c>forward</c>, a freshly allocated contiguous one, since a product's
/// rounding may depend on its operands' layout. The scalar tables and the attribute maps are copied when this is built:
/// a network whose weights change in place afterwards needs a new transformer.
/// </summary>
internal sealed class PreparedDnn : IDisposable
{
    private readonly Tensor? _scalarTable;
    private readonly long[] _tableStart;
    private readonly int[] _fieldDims;
    private readonly int[] _fieldColumn;
    private readonly int _scalarWidth;
    private readonly Sequence[] _sequences;
    private readonly EmbeddingBag[] _frozen;
    private readonly Dot[] _dots;
    private readonly (Linear Linear, BatchNorm1d? Norm)[] _hidden;
    private readonly Linear _output;
    private readonly bool _mean;
    private readonly bool _numeric;

    private PreparedDnn(FeatureLayout layout, FeatureEmbedding embedding, int[] dotSequences, (Linear, BatchNorm1d?)[] hidden, Linear output)
    {
        _hidden = hidden;
        _output = output;
        _mean = embedding.Pooling == SequencePooling.Mean;
        _numeric = layout.NumericWidth > 0;
        _fieldDims = [.. embedding.FieldDims.Take(layout.Categorical.Length)];
        _fieldColumn = new int[_fieldDims.Length];
        for (int f = 1; f < _fieldDims.Length; f++)
            _fieldColumn[f] = _fieldColumn[f - 1] + _fieldDims[f - 1];
        _scalarWidth = _fieldDims.Sum();

        using (NewDisposeScope())
        using (no_grad())
        {
            _tableStart = new long[layout.Tables.Length];
            int[] scalarTables = [.. layout.Categorical.Select(f => f.Table).Distinct().Order()];
            long start = 0;
            var flattened = new List<Tensor>();
            foreach (int t in scalarTables)
            {
                Tensor weight = embedding.Table(t).weight!;
                _tableStart[t] = start;
                start += weight.numel();
                flattened.Add(weight.detach().reshape(-1));
            }
            if (flattened.Count > 0)
                _scalarTable = cat(flattened, 0).DetachFromDisposeScope();

            var frozen = new Dictionary<int, EmbeddingBag>();
            EmbeddingBag Frozen(int table)
            {
                if (!frozen.TryGetValue(table, out EmbeddingBag? bag))
                    frozen[table] = bag = embedding.FrozenTable(table);
                return bag;
            }
            _sequences = new Sequence[layout.Sequences.Length];
            for (int s = 0; s < _sequences.Length; s++)
            {
                Attribute[] attributes = [.. embedding.AttributesOf(s).Select(a => new Attribute(Frozen(a.Table), a.Map.data<long>().ToArray(), a.Projection))];
                _sequences[s] = new Sequence(Frozen(layout.Sequences[s].Table), attributes);
            }
            _frozen = [.. frozen.Values];
            _dots = [.. dotSequences.Select(s => new Dot(s, embedding.CandidateField(s),
                [.. embedding.AttributesOf(s).Select(a => new Part(a.Field, embedding.Table(a.Table).weight!.DetachFromDisposeScope(), a.Projection))]))];
        }
    }

    /// <summary>
    /// The most bytes of scalar-field tables flattened into one copy. Tables of millions of ids would double the
    /// server's memory for a few microseconds a pass; above this the network is scored by its module's forward.
    /// </summary>
    internal const long DefaultMaxFlattenedBytes = 256L << 20;

    /// <summary>
    /// The scoring form of a <see cref="DnnCtrModel"/>'s parts, or null when <paramref name="mlp"/>'s layers are not the
    /// ones <see cref="MlpBlock"/> builds or the scalar fields' tables hold more than <paramref name="maxFlattenedBytes"/>.
    /// </summary>
    internal static PreparedDnn? TryCreate(FeatureLayout layout, FeatureEmbedding embedding, MlpBlock mlp, int[] dotSequences, long maxFlattenedBytes = DefaultMaxFlattenedBytes)
    {
        // From the layout's sizes and the fields' widths: no native call (a weight getter makes a tensor each time).
        long flattenedBytes = layout.Categorical.Select((f, i) => (f.Table, Bytes: (long)layout.Tables[f.Table].Size * embedding.FieldDims[i] * sizeof(float)))
            .Distinct().Sum(t => t.Bytes);
        if (flattenedBytes > maxFlattenedBytes)
            return null;
        var hidden = new List<(Linear, BatchNorm1d?)>();
        Linear? pending = null;
        BatchNorm1d? norm = null;
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
                    hidden.Add((pending, norm));
                    (pending, norm) = (null, null);
                    break;
                case Dropout when pending is null && hidden.Count > 0:
                    break; // the identity in evaluation mode
                default:
                    return null;
            }
        }
        return pending is not null && norm is null ? new PreparedDnn(layout, embedding, dotSequences, [.. hidden], pending) : null;
    }

    /// <summary>
    /// Builds every input tensor <see cref="Score"/> reads from <paramref name="inputs"/>: in the pass's scope, before the
    /// first network's own scope opens, so the next networks can still read them.
    /// </summary>
    public void ReadInputs(ScoringInputs inputs)
    {
        if (_scalarTable is not null)
            inputs.ScalarIndex(_fieldDims, _tableStart);
        for (int s = 0; s < _sequences.Length; s++)
        {
            inputs.SequenceOf(s);
            foreach (Attribute attribute in _sequences[s].Attributes)
                inputs.AttributeIds(s, attribute.Map);
        }
        foreach (Dot dot in _dots)
        {
            foreach (Part part in dot.Parts)
                inputs.FieldIds(part.Field);
        }
        if (_numeric)
            inputs.Numeric();
    }

    /// <summary>Writes the logit of each row of <paramref name="inputs"/> to <paramref name="logits"/>; the caller holds a dispose scope and inference mode.</summary>
    public void Score(ScoringInputs inputs, Span<float> logits)
    {
        int rows = inputs.Count;
        var pieces = new List<Tensor>(2 + _sequences.Length + _dots.Length);
        Tensor? scalars = null;
        if (_scalarTable is not null)
        {
            Tensor gathered = _scalarTable.index_select(0, inputs.ScalarIndex(_fieldDims, _tableStart));
            scalars = gathered.view(rows, _scalarWidth);
            pieces.Add(scalars);
        }
        var pooled = new Tensor[_sequences.Length];
        for (int s = 0; s < _sequences.Length; s++)
        {
            ScoringInputs.Sequence sequence = inputs.SequenceOf(s);
            Tensor sum = _sequences[s].Table.forward(sequence.Ids, sequence.Offsets, sequence.Weights);
            foreach (Attribute attribute in _sequences[s].Attributes)
            {
                Tensor rowsPooled = attribute.Table.forward(inputs.AttributeIds(s, attribute.Map), sequence.Offsets, sequence.Weights);
                sum.add_(attribute.Projection is null ? rowsPooled : attribute.Projection.forward(rowsPooled), Scalars.One);
            }
            pooled[s] = _mean ? sum.div(sequence.Denominators) : sum;
            pieces.Add(pooled[s]);
        }
        foreach (Dot dot in _dots)
        {
            // forward: the candidate's embedding cloned, each attribute's (projected) embedding added in turn.
            Tensor candidate = scalars!.narrow(1, _fieldColumn[dot.Candidate], _fieldDims[dot.Candidate]);
            for (int p = 0; p < dot.Parts.Length; p++)
            {
                Part part = dot.Parts[p];
                Tensor rowsOfField = part.Weight.index_select(0, inputs.FieldIds(part.Field));
                Tensor projected = part.Projection is null ? rowsOfField : part.Projection.forward(rowsOfField);
                candidate = p == 0 ? candidate.add(projected, Scalars.One) : candidate.add_(projected, Scalars.One);
            }
            pieces.Add(candidate.mul(pooled[dot.Sequence]).sum(1, keepdim: true));
        }
        if (_numeric)
            pieces.Add(inputs.Numeric());
        Tensor x = pieces.Count == 1 ? pieces[0] : cat(pieces, 1);
        foreach ((Linear linear, BatchNorm1d? norm) in _hidden)
        {
            x = linear.forward(x);
            if (norm is not null)
                x = norm.forward(x);
            x = x.relu_();
        }
        Tensor output = _output.forward(x); // [rows, 1]: its floats are the logits in row order
        MemoryMarshal.Cast<byte, float>(output.bytes).CopyTo(logits[..rows]);
    }

    /// <summary>Frees the copy of the tables, the frozen bags and the weights held.</summary>
    public void Dispose()
    {
        _scalarTable?.Dispose();
        foreach (EmbeddingBag table in _frozen)
            table.Dispose();
        foreach (Dot dot in _dots)
        {
            foreach (Part part in dot.Parts)
                part.Weight.Dispose();
        }
    }

    private sealed record Attribute(EmbeddingBag Table, long[] Map, Linear? Projection);

    private sealed record Sequence(EmbeddingBag Table, Attribute[] Attributes);

    private sealed record Part(int Field, Tensor Weight, Linear? Projection);

    private sealed record Dot(int Sequence, int Candidate, Part[] Parts);
}
