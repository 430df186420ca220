using System;
using System.Collections.Generic;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// A model bound once for scoring request views: through <see cref="PreparedCtrScorer"/> (the feature transforms
/// bound once as a row mapper, run once per row, buffers kept between calls) when the chain is one it knows, else
/// through the transform chain bound once to a view whose rows are swapped per call. When the prepared scorer throws,
/// the rows are scored again through the chain, whose errors name the row of the call as offline scoring does. One
/// instance serves one caller at a time; <see cref="ServedModel"/> keeps a pool of them.
/// </summary>
internal sealed class PreparedScorer
{
    private readonly ITransformer _model;
    private readonly DataViewSchema _schema;
    private readonly PreparedCtrScorer? _prepared;
    private SwappableView? _input;
    private IDataView? _scored;

    public PreparedScorer(ITransformer model, DataViewSchema schema, bool prepared)
    {
        _model = model;
        _schema = schema;
        _prepared = prepared ? PreparedCtrScorer.TryCreate(model, schema) : null;
    }

    /// <summary>Whether rows go through <see cref="PreparedCtrScorer"/>.</summary>
    public bool IsPrepared => _prepared is not null;

    /// <summary>Writes one probability per row of <paramref name="rows"/> to <paramref name="probabilities"/>.</summary>
    public void Score(ColumnarDataView rows, Span<float> probabilities)
    {
        if (_prepared is not null)
        {
            try
            {
                _prepared.Score(rows, probabilities);
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or OverflowException)
            {
                // Scored again below: the chain's error names the row as offline scoring names it.
            }
        }
        ScoreThroughChain(rows, probabilities);
    }

    /// <summary>Scores through <see cref="PreparedCtrScorer"/> alone (<see cref="IsPrepared"/> must be true).</summary>
    public void ScorePrepared(ColumnarDataView rows, Span<float> probabilities) =>
        (_prepared ?? throw new InvalidOperationException("This model is not scored through a prepared scorer.")).Score(rows, probabilities);

    /// <summary>Scores through the whole transform chain, as offline batched scoring does.</summary>
    public void ScoreThroughChain(ColumnarDataView rows, Span<float> probabilities)
    {
        if (_scored is null)
        {
            _input = new SwappableView(_schema);
            _scored = _model.Transform(_input);
        }
        DataViewSchema.Column probability = _scored.Schema["Probability"];
        _input!.Current = rows;
        try
        {
            using DataViewRowCursor cursor = _scored.GetRowCursor([probability]);
            ValueGetter<float> getter = cursor.GetGetter<float>(probability);
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
