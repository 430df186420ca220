using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// A model's transform chain bound once to a view whose rows are swapped per call: scoring a batch opens one cursor
/// over the bound chain instead of binding every transformer again (what <c>Transform</c> on a fresh view costs,
/// and what used to dominate a small request). One instance serves one caller at a time; <see cref="ServedModel"/>
/// keeps a pool of them.
/// </summary>
internal sealed class PreparedScorer
{
    private readonly SwappableView _input;
    private readonly IDataView _scored;
    private readonly DataViewSchema.Column _probability;

    public PreparedScorer(ITransformer model, DataViewSchema schema)
    {
        _input = new SwappableView(schema);
        _scored = model.Transform(_input);
        _probability = _scored.Schema["Probability"];
    }

    /// <summary>Writes one probability per row of <paramref name="rows"/> to <paramref name="probabilities"/>.</summary>
    public void Score(ColumnarDataView rows, Span<float> probabilities)
    {
        _input.Current = rows;
        try
        {
            using DataViewRowCursor cursor = _scored.GetRowCursor([_probability]);
            ValueGetter<float> getter = cursor.GetGetter<float>(_probability);
            int row = 0;
            while (cursor.MoveNext())
                getter(ref probabilities[row++]);
            if (row != rows.RowCount)
                throw new InvalidOperationException($"Scoring gave {row} probabilities for {rows.RowCount} rows.");
        }
        finally
        {
            _input.Current = null;
        }
    }

    /// <summary>A view with a fixed schema whose rows are those of <see cref="Current"/> when a cursor opens.</summary>
    private sealed class SwappableView(DataViewSchema schema) : IDataView
    {
        public ColumnarDataView? Current { get; set; }

        public bool CanShuffle => false;

        public DataViewSchema Schema => schema;

        public long? GetRowCount() => Current?.RowCount ?? 0;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
            (Current ?? throw new InvalidOperationException("No rows to score.")).GetRowCursor(columnsNeeded, rand);

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
            [GetRowCursor(columnsNeeded, rand)];
    }
}
