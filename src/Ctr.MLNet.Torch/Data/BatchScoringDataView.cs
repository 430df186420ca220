using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// The output of <see cref="TorchCtrTransformer.Transform"/>: the input columns plus the scores. A second cursor
/// over the same input reads features ahead and scores them a batch at a time, so the network runs once per
/// batch rather than once per row. ML.NET cursors over the same view without shuffling visit rows in the same order.
/// </summary>
internal sealed class BatchScoringDataView : IDataView
{
    private readonly TorchCtrTransformer _transformer;
    private readonly IDataView _input;

    public BatchScoringDataView(TorchCtrTransformer transformer, IDataView input)
    {
        _transformer = transformer;
        _input = input;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        foreach (DataViewSchema.DetachedColumn column in TorchCtrTransformer.OutputColumns())
            builder.AddColumn(column.Name, column.Type, column.Annotations);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var active = new bool[Schema.Count];
        foreach (DataViewSchema.Column column in columnsNeeded)
            active[column.Index] = true;
        int inputCount = _input.Schema.Count;
        bool scoring = active.Skip(inputCount).Any(a => a);
        var inputColumns = _input.Schema.Where(c => active[c.Index]);
        return new Cursor(this, _input.GetRowCursor(inputColumns), scoring, active);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly BatchScoringDataView _parent;
        private readonly DataViewRowCursor _input;
        private readonly bool[] _active;
        private readonly DataViewRowCursor? _features;
        private readonly FeatureReader? _reader;
        private readonly FeatureBlock? _block;
        private readonly BatchBuilder? _builder;
        private readonly int[] _rows;
        private readonly float[] _logits;
        private int _inBatch;
        private int _batchCount;
        private long _position = -1;

        public Cursor(BatchScoringDataView parent, DataViewRowCursor input, bool scoring, bool[] active)
        {
            _parent = parent;
            _input = input;
            _active = active;
            TorchCtrTransformer transformer = parent._transformer;
            // A small request (serving one row) should not pay for buffers sized for a full scoring batch.
            int batchSize = (int)Math.Clamp(parent._input.GetRowCount() ?? transformer.ScoringBatchSize, 1, transformer.ScoringBatchSize);
            _rows = [.. Enumerable.Range(0, batchSize)];
            _logits = new float[batchSize];
            if (scoring)
            {
                IDataView data = parent._input;
                _features = data.GetRowCursor(FeatureReader.Columns(data.Schema, transformer.Layout, labelColumn: null));
                _reader = new FeatureReader(_features, transformer.Layout, labelColumn: null);
                _block = new FeatureBlock(transformer.Layout, batchSize);
                _builder = new BatchBuilder(transformer.Layout);
            }
        }

        public override long Position => _position;

        public override long Batch => _input.Batch;

        public override DataViewSchema Schema => _parent.Schema;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<DataViewRowId> GetIdGetter() => _input.GetIdGetter();

        public override bool MoveNext()
        {
            if (!_input.MoveNext())
                return false;
            _position++;
            if (_features is not null && ++_inBatch >= _batchCount)
                ScoreNextBatch();
            return true;
        }

        private void ScoreNextBatch()
        {
            _block!.Clear();
            while (_block.Count < _rows.Length && _features!.MoveNext())
                _reader!.Append(_block);
            _batchCount = _block.Count;
            _inBatch = 0;
            if (_batchCount == 0)
                throw new InvalidOperationException("The input data gave fewer rows on its second cursor than on its first; scoring needs a data view that reads the same rows every time.");
            _parent._transformer.Score(_block, _builder!, _rows.AsSpan(0, _batchCount), _logits);
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            int inputCount = _parent._input.Schema.Count;
            if (column.Index < inputCount)
                return _input.GetGetter<TValue>(_input.Schema[column.Index]);
            if (!_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' is not active in this cursor.");
            Delegate getter = (column.Index - inputCount) switch
            {
                0 => (ValueGetter<float>)((ref float v) => v = _logits[_inBatch]),
                1 => (ValueGetter<float>)((ref float v) => v = TorchCtrTransformer.Sigmoid(_logits[_inBatch])),
                _ => (ValueGetter<bool>)((ref bool v) => v = _logits[_inBatch] > 0),
            };
            return getter as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' is {column.Type}, not {typeof(TValue).Name}.");
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _input.Dispose();
                _features?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
