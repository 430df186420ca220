using System;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Annotations our categorical transforms put on their key-typed outputs, so a trainer sizes its
/// embedding tables (and shares them) from the schema alone.
/// </summary>
public static class CtrAnnotations
{
    /// <summary>Text: name of the index space; columns with the same name share one embedding table.</summary>
    public const string Vocabulary = "Ctr.Vocabulary";

    /// <summary>Int32: rows an embedding table needs (padding and OOV included).</summary>
    public const string VocabularySize = "Ctr.VocabularySize";

    /// <summary>Int32: index of out-of-vocabulary values.</summary>
    public const string OovIndex = "Ctr.OovIndex";

    /// <summary>Int32: index used to pad sequences; never produced for a value.</summary>
    public const string PaddingIndex = "Ctr.PaddingIndex";

    /// <summary>
    /// Text, on a sequence column: name of the column holding one weight per element. Put there by
    /// <c>ParseSequence</c> and carried from input to output by the categorical transforms.
    /// </summary>
    public const string SequenceWeights = "Ctr.SequenceWeights";

    /// <summary>The weight column paired with a sequence column, if it has one.</summary>
    public static string? GetSequenceWeightColumn(this DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull(SequenceWeights) is null)
            return null;
        ReadOnlyMemory<char> name = default;
        column.Annotations.GetValue(SequenceWeights, ref name);
        return name.ToString();
    }

    /// <summary>Copies the sequence-weights pairing of <paramref name="input"/>, if any.</summary>
    internal static DataViewSchema.Annotations.Builder AddSequenceWeightsOf(this DataViewSchema.Annotations.Builder builder, DataViewSchema.Column input)
    {
        string? weights = input.GetSequenceWeightColumn();
        if (weights is not null)
            builder.Add(SequenceWeights, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = weights.AsMemory());
        return builder;
    }

    /// <summary>Reads the categorical annotations of a column, if it has them.</summary>
    public static bool TryGetCategoricalFeature(this DataViewSchema.Column column, out CategoricalFeature feature)
    {
        var annotations = column.Annotations;
        if (annotations.Schema.GetColumnOrNull(Vocabulary) is null || annotations.Schema.GetColumnOrNull(VocabularySize) is null)
        {
            feature = default;
            return false;
        }
        ReadOnlyMemory<char> name = default;
        int size = 0, oov = 0, padding = 0;
        annotations.GetValue(Vocabulary, ref name);
        annotations.GetValue(VocabularySize, ref size);
        annotations.GetValue(OovIndex, ref oov);
        annotations.GetValue(PaddingIndex, ref padding);
        feature = new CategoricalFeature(column.Name, name.ToString(), size, oov, padding, column.Type is VectorDataViewType);
        return true;
    }

    /// <summary>
    /// Marks a key column as an embedding input: ids of the index space <paramref name="vocabulary"/> with
    /// <paramref name="size"/> rows (padding 0 and OOV 1 included), so a transform of one's own can feed a trainer.
    /// </summary>
    public static DataViewSchema.Annotations.Builder AddCategorical(this DataViewSchema.Annotations.Builder builder, string vocabulary, int size)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(vocabulary);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 2);
        builder.Add(Vocabulary, TextDataViewType.Instance, (ref ReadOnlyMemory<char> v) => v = vocabulary.AsMemory());
        builder.Add(VocabularySize, NumberDataViewType.Int32, (ref int v) => v = size);
        builder.Add(OovIndex, NumberDataViewType.Int32, (ref int v) => v = Transforms.Vocabulary.OovIndex);
        builder.Add(PaddingIndex, NumberDataViewType.Int32, (ref int v) => v = Transforms.Vocabulary.PaddingIndex);
        return builder;
    }
}

/// <summary>A key-typed column produced by a vocabulary or hash-bucket transform, as a trainer sees it.</summary>
/// <param name="ColumnName">The column.</param>
/// <param name="Vocabulary">The index space; equal names share an embedding table.</param>
/// <param name="Size">Rows an embedding table needs (padding and OOV included).</param>
/// <param name="OovIndex">Index of unknown values.</param>
/// <param name="PaddingIndex">Index used for padding.</param>
/// <param name="IsSequence">Whether the column holds a variable-length list of ids.</param>
public readonly record struct CategoricalFeature(string ColumnName, string Vocabulary, int Size, int OovIndex, int PaddingIndex, bool IsSequence);
