using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch;

/// <summary>
/// One embedding table per vocabulary (columns sharing a vocabulary share the table), looked up for every
/// scalar field and pooled over the valid elements of every sequence field, each element weighted by its
/// weight. Fields are ordered scalar fields first, then sequence fields; <c>forward</c> concatenates them.
/// </summary>
/// <remarks>
/// A history (a sequence field sharing its table with a scalar field, its candidate) with
/// <see cref="CtrModelOptions.HistoryAttributes"/> embeds each element as its item plus its attributes (category,
/// brand, ...): one buffer per attribute maps the item's row to the attribute's, filled by the trainer from the
/// training rows; an attribute table of another width is projected (no bias, so pooling and projection commute).
/// </remarks>
public sealed class FeatureEmbedding : nn.Module<CtrBatch, Tensor>
{
    private const EmbeddingBagMode TableMode = EmbeddingBagMode.Sum;
    private const long PaddingIndex = 0;
    private readonly ModuleList<EmbeddingBag> tables;
    private readonly ModuleList<Linear> projections;
    private readonly FeatureLayout _layout;
    private readonly SequencePooling _pooling;
    private readonly int[] _candidateOf;
    private readonly Attribute[][] _attributesOf;
    private readonly Attribute[] _attributes; // each map once, though several histories may read it

    /// <summary>An attribute of a history's items: its scalar field and table, the items' table, the buffer mapping item rows to its rows, its projection (−1: none).</summary>
    private sealed record Attribute(int Field, int Table, int ItemTable, Tensor Map, int Projection)
    {
        public string BufferName => $"history_attribute_{ItemTable}_{Field}";
    }

    /// <summary>Builds the tables for <paramref name="context"/>'s layout.</summary>
    public FeatureEmbedding(CtrModelContext context)
        : base(nameof(FeatureEmbedding))
    {
        _layout = context.Layout;
        _pooling = context.Options.Pooling;
        int[] tableDims = [.. _layout.Tables.Select(t => context.Options.DimOf(t.Name))];
        tables = nn.ModuleList(_layout.Tables.Select((t, i) => nn.EmbeddingBag(t.Size, tableDims[i], mode: TableMode, padding_index: PaddingIndex)).ToArray());
        using (no_grad())
        {
            foreach (EmbeddingBag table in tables)
            {
                nn.init.normal_(table.weight!, 0, context.Options.EmbeddingInitStd);
                table.weight![0].zero_();
            }
        }
        FieldDims = [.. _layout.Categorical.Select(f => tableDims[f.Table]).Concat(_layout.Sequences.Select(f => tableDims[f.Table]))];

        _candidateOf = HistoryAttributes.CandidateFields(_layout);
        var maps = new Dictionary<(int Table, int Field), Attribute>();
        var projectionList = new List<Linear>();
        _attributesOf = new Attribute[_candidateOf.Length][];
        for (int s = 0; s < _candidateOf.Length; s++)
        {
            int candidate = _candidateOf[s];
            _attributesOf[s] = candidate < 0 ? [] : [.. HistoryAttributes.FieldsOf(_layout, candidate, context.Options.HistoryAttributes ?? []).Select(f =>
            {
                int itemTable = _layout.Categorical[candidate].Table, table = _layout.Categorical[f].Table;
                if (!maps.TryGetValue((itemTable, f), out Attribute? attribute))
                {
                    int projection = -1;
                    if (tableDims[table] != tableDims[itemTable])
                    {
                        projection = projectionList.Count;
                        projectionList.Add(nn.Linear(tableDims[table], tableDims[itemTable], hasBias: false));
                    }
                    attribute = new Attribute(f, table, itemTable, zeros(_layout.Tables[itemTable].Size, dtype: int64), projection);
                    maps[(itemTable, f)] = attribute;
                }
                return attribute;
            })];
        }
        _attributes = [.. maps.Values];
        projections = nn.ModuleList(projectionList.ToArray());
        RegisterComponents();
        foreach (Attribute attribute in _attributes)
            register_buffer(attribute.BufferName, attribute.Map);
    }

    /// <summary>The scalar field that is sequence field <paramref name="sequence"/>'s candidate (shares its table), or −1.</summary>
    public int CandidateField(int sequence) => _candidateOf[sequence];

    /// <summary>Whether sequence field <paramref name="sequence"/>'s elements carry attributes of their items.</summary>
    public bool HasAttributes(int sequence) => _attributesOf[sequence].Length > 0;

    /// <summary>Width of each field's embedding, in field order.</summary>
    public ImmutableArray<int> FieldDims { get; }

    /// <summary>Number of fields: scalar categorical plus sequence fields.</summary>
    public int FieldCount => FieldDims.Length;

    /// <summary>Width of <c>forward</c>'s output: the sum of <see cref="FieldDims"/>.</summary>
    public int TotalDim => FieldDims.Sum();

    /// <summary>The table of vocabulary <paramref name="index"/> (see <see cref="FeatureLayout.Tables"/>).</summary>
    public EmbeddingBag Table(int index) => tables[index];

    /// <summary>How sequence fields are pooled.</summary>
    internal SequencePooling Pooling => _pooling;

    /// <summary>
    /// Table <paramref name="index"/> for scoring: the same bag over the same weights (shared, not copied), which do not
    /// require gradients, so libtorch takes its forward-only path (no bookkeeping for a backward pass, the same sums).
    /// </summary>
    internal EmbeddingBag FrozenTable(int index)
    {
        using Tensor weight = tables[index].weight!;
        return nn.EmbeddingBag_from_pretrained(weight.detach(), freeze: true, mode: TableMode, padding_index: PaddingIndex);
    }

    /// <summary>
    /// Sequence field <paramref name="sequence"/>'s attributes in the order <see cref="PoolSequence"/> adds them: the
    /// attribute's scalar field and table, the map from item rows to its rows, and its projection (null: none).
    /// </summary>
    internal IEnumerable<(int Field, int Table, Tensor Map, Linear? Projection)> AttributesOf(int sequence) =>
        _attributesOf[sequence].Select(a => (a.Field, a.Table, a.Map, a.Projection < 0 ? null : projections[a.Projection]));

    /// <summary>[rows, <see cref="TotalDim"/>]: every field's embedding, concatenated.</summary>
    public override Tensor forward(CtrBatch batch)
    {
        List<Tensor> fields = Fields(batch);
        Tensor joined = cat(fields, dim: 1);
        foreach (Tensor field in fields)
            field.Dispose();
        return joined;
    }

    /// <summary>Each field's embedding, [rows, dim] per field, in field order. The caller disposes them.</summary>
    public List<Tensor> Fields(CtrBatch batch)
    {
        var fields = new List<Tensor>(FieldCount);
        for (int f = 0; f < _layout.Categorical.Length; f++)
        {
            using Tensor ids = batch.Categorical!.select(1, f); // the view [.., f] gives, one native call instead of an index list
            fields.Add(tables[_layout.Categorical[f].Table].weight!.index_select(0, ids));
        }
        for (int s = 0; s < _layout.Sequences.Length; s++)
            fields.Add(PoolSequence(s, batch.Sequences[s]));
        return fields;
    }

    /// <summary>Pooled embedding [rows, dim] of sequence field <paramref name="index"/>.</summary>
    public Tensor PoolSequence(int index, SequenceBatch sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        Tensor sum = tables[_layout.Sequences[index].Table].call(sequence.Ids, sequence.Offsets, sequence.Weights);
        foreach (Attribute attribute in _attributesOf[index])
        {
            using Tensor ids = attribute.Map.index_select(0, sequence.Ids);
            using Tensor pooled = tables[attribute.Table].call(ids, sequence.Offsets, sequence.Weights);
            using Tensor projected = Project(attribute, pooled);
            sum.add_(projected, Scalars.One);
        }
        if (_pooling == SequencePooling.Sum)
            return sum;
        using (sum)
            return sequence.MeanOf(sum);
    }

    /// <summary>[elements, dim]: each of sequence field <paramref name="index"/>'s elements <paramref name="ids"/> embedded with its attributes.</summary>
    public Tensor ElementEmbeddings(int index, Tensor ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Tensor elements = tables[_layout.Sequences[index].Table].weight!.index_select(0, ids);
        foreach (Attribute attribute in _attributesOf[index])
        {
            using Tensor attributeIds = attribute.Map.index_select(0, ids);
            using Tensor rows = tables[attribute.Table].weight!.index_select(0, attributeIds);
            using Tensor projected = Project(attribute, rows);
            elements.add_(projected, Scalars.One);
        }
        return elements;
    }

    /// <summary>
    /// [rows, dim]: sequence field <paramref name="index"/>'s candidate embedded as its history's elements are (its own
    /// embedding plus its row's attributes), from <paramref name="fields"/> as <see cref="Fields"/> returned them.
    /// </summary>
    public Tensor CandidateOf(int index, IReadOnlyList<Tensor> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        int candidate = _candidateOf[index];
        if (candidate < 0)
            throw new ArgumentOutOfRangeException(nameof(index), $"Sequence field '{_layout.Sequences[index].ColumnName}' shares its vocabulary with no scalar field, so it has no candidate.");
        Tensor sum = fields[candidate].clone();
        foreach (Attribute attribute in _attributesOf[index])
        {
            using Tensor projected = Project(attribute, fields[attribute.Field]);
            sum.add_(projected, Scalars.One);
        }
        return sum;
    }

    /// <summary>
    /// Sets each history attribute map from <paramref name="maps"/> (per item table and attribute field, the attribute's
    /// row for every item row, 0 where unknown); an item a map does not know keeps its value (yesterday's, when warm).
    /// </summary>
    internal void SetHistoryAttributes(IReadOnlyDictionary<(int Table, int Field), long[]> maps)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (Attribute attribute in _attributes)
        {
            if (!maps.TryGetValue((attribute.ItemTable, attribute.Field), out long[]? values))
                continue;
            Tensor today = tensor(values);
            attribute.Map.copy_(where(today.gt(Scalars.Zero), today, attribute.Map));
        }
    }

    /// <summary>
    /// Checks that every history attribute map loaded from a file points into its attribute's table: a damaged map
    /// would otherwise fail only when a history holds the damaged item, at scoring time.
    /// </summary>
    internal void CheckHistoryAttributes()
    {
        using var scope = NewDisposeScope();
        foreach (Attribute attribute in _attributes)
        {
            long size = _layout.Tables[attribute.Table].Size, low = attribute.Map.min().item<long>(), high = attribute.Map.max().item<long>();
            if (low < 0 || high >= size)
                throw new FormatException($"The model file's history attribute map '{attribute.BufferName}' holds {(low < 0 ? low : high)}, outside the {size} rows of table '{_layout.Tables[attribute.Table].Name}'; the file is corrupt.");
        }
    }

    private Tensor Project(Attribute attribute, Tensor rows) => attribute.Projection < 0 ? rows.alias() : projections[attribute.Projection].call(rows);
}
