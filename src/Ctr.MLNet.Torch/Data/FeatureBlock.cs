using System;

namespace Ctr.MLNet.Torch.Data;

/// <summary>
/// Rows of features in compact arrays (ids as int, floats as float, sequences as offsets + values):
/// the in-memory cache of a training set, or one block of a streamed one.
/// </summary>
internal sealed class FeatureBlock
{
    private readonly int _categoricalWidth;
    private readonly int _numericWidth;

    public FeatureBlock(FeatureLayout layout, int capacity = 1024)
    {
        _categoricalWidth = layout.Categorical.Length;
        _numericWidth = layout.NumericWidth;
        capacity = Math.Max(1, capacity);
        Categorical = new int[capacity * _categoricalWidth];
        Numeric = new float[capacity * _numericWidth];
        Labels = new float[capacity];
        Sequences = new SequenceColumn[layout.Sequences.Length];
        for (int i = 0; i < Sequences.Length; i++)
            Sequences[i] = new SequenceColumn(capacity, layout.Sequences[i].WeightColumnName is not null);
    }

    public int Count { get; private set; }

    public int CategoricalWidth => _categoricalWidth;

    public int NumericWidth => _numericWidth;

    /// <summary>Row r's field f is at <c>r * CategoricalWidth + f</c>.</summary>
    public int[] Categorical { get; private set; }

    /// <summary>Row r's floats start at <c>r * NumericWidth</c>.</summary>
    public float[] Numeric { get; private set; }

    public float[] Labels { get; private set; }

    public SequenceColumn[] Sequences { get; }

    public long ApproximateBytes
    {
        get
        {
            long bytes = (long)Categorical.Length * sizeof(int) + (long)Numeric.Length * sizeof(float) + (long)Labels.Length * sizeof(float);
            foreach (SequenceColumn sequence in Sequences)
                bytes += sequence.ApproximateBytes;
            return bytes;
        }
    }

    /// <summary>Bytes the rows so far fill (not the arrays' spare capacity): what a cache of these rows costs.</summary>
    public long UsedBytes
    {
        get
        {
            long bytes = (long)Count * (_categoricalWidth + _numericWidth + 1) * sizeof(int);
            foreach (SequenceColumn sequence in Sequences)
                bytes += (Count + 1L) * sizeof(int) + (long)sequence.Offsets[Count] * (sequence.Weights is null ? sizeof(int) : sizeof(int) + sizeof(float));
            return bytes;
        }
    }

    /// <summary>Makes room for one more row and returns its index; the caller fills every field.</summary>
    public int AddRow()
    {
        if (Count == Labels.Length)
        {
            int capacity = Labels.Length * 2;
            Categorical = Grow(Categorical, capacity * _categoricalWidth);
            Numeric = Grow(Numeric, capacity * _numericWidth);
            Labels = Grow(Labels, capacity);
        }
        return Count++;
    }

    public void Clear()
    {
        Count = 0;
        foreach (SequenceColumn sequence in Sequences)
            sequence.Clear();
    }

    internal static T[] Grow<T>(T[] array, int length)
    {
        Array.Resize(ref array, length);
        return array;
    }

    /// <summary>Ids (and weights) of one sequence field for every row, CSR style.</summary>
    internal sealed class SequenceColumn
    {
        public SequenceColumn(int capacity, bool hasWeights)
        {
            Offsets = new int[capacity + 1];
            Ids = new int[capacity * 4];
            Weights = hasWeights ? new float[capacity * 4] : null;
        }

        /// <summary>Row r's elements are <c>[Offsets[r], Offsets[r + 1])</c>.</summary>
        public int[] Offsets { get; private set; }

        public int[] Ids { get; private set; }

        /// <summary>Null when every weight is 1.</summary>
        public float[]? Weights { get; private set; }

        public int Length(int row) => Offsets[row + 1] - Offsets[row];

        public long ApproximateBytes => (long)Offsets.Length * sizeof(int) + (long)Ids.Length * sizeof(int) + (Weights?.LongLength ?? 0) * sizeof(float);

        /// <summary>Appends row <paramref name="row"/> (the next row) with <paramref name="length"/> elements and returns where they start.</summary>
        public int Append(int row, int length)
        {
            if (row + 2 > Offsets.Length)
                Offsets = Grow(Offsets, Offsets.Length * 2);
            int start = Offsets[row];
            int end = start + length;
            if (end > Ids.Length)
            {
                int capacity = Math.Max(end, Ids.Length * 2);
                Ids = Grow(Ids, capacity);
                if (Weights is not null)
                    Weights = Grow(Weights, capacity);
            }
            Offsets[row + 1] = end;
            return start;
        }

        public void Clear() => Offsets[0] = 0;
    }
}
