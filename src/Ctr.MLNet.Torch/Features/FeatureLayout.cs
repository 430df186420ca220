using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Torch;

/// <summary>One embedding table: a vocabulary (possibly shared by several columns) and its size.</summary>
/// <param name="Name">Vocabulary name (from the <c>Ctr.Vocabulary</c> annotation).</param>
/// <param name="Size">Rows: padding, OOV and every term.</param>
public sealed record EmbeddingTable(string Name, int Size);

/// <summary>A scalar categorical input: one id per row.</summary>
/// <param name="ColumnName">Key column.</param>
/// <param name="Table">Index into <see cref="FeatureLayout.Tables"/>.</param>
public sealed record CategoricalField(string ColumnName, int Table);

/// <summary>A variable-length list of ids per row, optionally with one weight per id.</summary>
/// <param name="ColumnName">Key vector column.</param>
/// <param name="Table">Index into <see cref="FeatureLayout.Tables"/>.</param>
/// <param name="WeightColumnName">Float vector column with one weight per id, or null (every weight 1).</param>
public sealed record SequenceField(string ColumnName, int Table, string? WeightColumnName);

/// <summary>A numeric input: a float scalar (width 1) or a fixed-size float vector.</summary>
/// <param name="ColumnName">Float column.</param>
/// <param name="Width">Number of floats.</param>
public sealed record NumericField(string ColumnName, int Width);

/// <summary>
/// What a CTR network sees: embedding tables, categorical and sequence fields, numeric widths. Built
/// from the schema and the annotations our transforms write, so nobody repeats vocabulary sizes by hand.
/// </summary>
public sealed class FeatureLayout
{
    internal FeatureLayout(ImmutableArray<EmbeddingTable> tables, ImmutableArray<CategoricalField> categorical,
        ImmutableArray<SequenceField> sequences, ImmutableArray<NumericField> numeric)
    {
        Tables = tables;
        Categorical = categorical;
        Sequences = sequences;
        Numeric = numeric;
    }

    /// <summary>Embedding tables, one per vocabulary.</summary>
    public ImmutableArray<EmbeddingTable> Tables { get; }

    /// <summary>Scalar categorical fields, in column order.</summary>
    public ImmutableArray<CategoricalField> Categorical { get; }

    /// <summary>Sequence fields, in column order.</summary>
    public ImmutableArray<SequenceField> Sequences { get; }

    /// <summary>Numeric fields, in the order given.</summary>
    public ImmutableArray<NumericField> Numeric { get; }

    /// <summary>Total number of floats over <see cref="Numeric"/>.</summary>
    public int NumericWidth => Numeric.Sum(n => n.Width);

    /// <summary>Every input column the network reads.</summary>
    public IEnumerable<string> InputColumns =>
        Categorical.Select(c => c.ColumnName)
            .Concat(Sequences.SelectMany(s => s.WeightColumnName is null ? [s.ColumnName] : new[] { s.ColumnName, s.WeightColumnName }))
            .Concat(Numeric.Select(n => n.ColumnName));

    /// <summary>
    /// Reads the layout from <paramref name="schema"/>: every visible key column with categorical annotations
    /// (or only <paramref name="categoricalColumns"/> when given) plus the named numeric columns, or every visible
    /// normalized column when <paramref name="numericColumns"/> is null.
    /// </summary>
    internal static FeatureLayout FromSchema(DataViewSchema schema, IReadOnlyCollection<string>? categoricalColumns,
        IReadOnlyCollection<string>? numericColumns, IReadOnlyDictionary<string, string> sequenceWeights, string labelColumn)
    {
        var tables = new List<EmbeddingTable>();
        var categorical = ImmutableArray.CreateBuilder<CategoricalField>();
        var sequences = ImmutableArray.CreateBuilder<SequenceField>();

        int TableOf(CategoricalFeature feature)
        {
            int index = tables.FindIndex(t => t.Name == feature.Vocabulary);
            if (index < 0)
            {
                tables.Add(new EmbeddingTable(feature.Vocabulary, feature.Size));
                return tables.Count - 1;
            }
            if (tables[index].Size != feature.Size)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Columns sharing vocabulary '{feature.Vocabulary}' disagree on its size ({tables[index].Size} and {feature.Size} in '{feature.ColumnName}'); fit them with one vocabulary transform.");
            return index;
        }

        IEnumerable<DataViewSchema.Column> candidates = categoricalColumns is null
            ? schema.Where(c => !c.IsHidden && c.Name != labelColumn && c.TryGetCategoricalFeature(out _))
            : categoricalColumns.Select(name => RequireColumn(schema, name));
        foreach (DataViewSchema.Column column in candidates)
        {
            if (!column.TryGetCategoricalFeature(out CategoricalFeature feature) || KeyCount(column.Type) is not ulong count || count + 1 != (ulong)feature.Size)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{column.Name}': expected a key column from MapToVocabulary or HashToBuckets (with Ctr annotations), got {column.Type}");
            int table = TableOf(feature);
            if (!feature.IsSequence)
            {
                categorical.Add(new CategoricalField(column.Name, table));
                continue;
            }
            if (column.Type is VectorDataViewType { Size: > 0 })
                throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{column.Name}': expected a variable-length key vector, got {column.Type}");
            // The option wins; otherwise ParseSequence's pairing, carried through the vocabulary, says it.
            string? weights = sequenceWeights.TryGetValue(column.Name, out string? w) ? w : column.GetSequenceWeightColumn();
            if (weights is not null)
                RequireType(schema, weights, t => t is VectorDataViewType { ItemType: NumberDataViewType n, Size: 0 } && n.RawType == typeof(float), "a variable-length vector of Single");
            sequences.Add(new SequenceField(column.Name, table, weights));
        }
        foreach (string unknown in sequenceWeights.Keys.Where(k => !sequences.Any(s => s.ColumnName == k)))
            throw new ArgumentOutOfRangeException(nameof(sequenceWeights), $"SequenceWeights names '{unknown}', which is not a sequence column the trainer uses.");

        var numeric = ImmutableArray.CreateBuilder<NumericField>();
        numericColumns ??= [.. schema.Where(c => !c.IsHidden && c.Name != labelColumn && IsNormalized(c)).Select(c => c.Name)];
        foreach (string name in numericColumns)
        {
            DataViewType type = RequireType(schema, name, t => IsSingle(t) || t is VectorDataViewType { Size: > 0 } v && IsSingle(v.ItemType), "Single or a fixed-size vector of Single");
            numeric.Add(new NumericField(name, type is VectorDataViewType vector ? vector.Size : 1));
        }
        if (categorical.Count + sequences.Count + numeric.Count == 0)
            throw new ArgumentOutOfRangeException(nameof(schema), "The trainer found no feature columns: map categorical columns with MapToVocabulary or HashToBuckets, or normalize numeric columns (or name them in NumericColumnNames).");
        return new FeatureLayout([.. tables], categorical.ToImmutable(), sequences.ToImmutable(), numeric.ToImmutable());
    }

    /// <summary>Checks that <paramref name="schema"/> still holds every column with the trained type and size.</summary>
    internal void CheckSchema(DataViewSchema schema)
    {
        foreach (CategoricalField field in Categorical)
            CheckKey(schema, field.ColumnName, Tables[field.Table], isSequence: false);
        foreach (SequenceField field in Sequences)
        {
            CheckKey(schema, field.ColumnName, Tables[field.Table], isSequence: true);
            if (field.WeightColumnName is not null)
                RequireType(schema, field.WeightColumnName, t => t is VectorDataViewType { ItemType: NumberDataViewType n } && n.RawType == typeof(float), "a vector of Single");
        }
        foreach (NumericField field in Numeric)
        {
            string expected = field.Width == 1 ? "Single" : $"Vector<Single, {field.Width}>";
            RequireType(schema, field.ColumnName, t => field.Width == 1 ? IsSingle(t) : t is VectorDataViewType v && v.Size == field.Width && IsSingle(v.ItemType), expected);
        }
    }

    private static void CheckKey(DataViewSchema schema, string name, EmbeddingTable table, bool isSequence)
    {
        string expected = $"{(isSequence ? "Vector<" : "")}Key<UInt32, 0-{table.Size - 2}>{(isSequence ? ">" : "")} (vocabulary '{table.Name}' as trained)";
        RequireType(schema, name, t => (isSequence ? t is VectorDataViewType : t is KeyDataViewType) && KeyCount(t) == (ulong)(table.Size - 1), expected);
    }

    private static ulong? KeyCount(DataViewType type) =>
        (type is VectorDataViewType v ? v.ItemType : type) is KeyDataViewType key && key.RawType == typeof(uint) ? key.Count : null;

    private static bool IsNormalized(DataViewSchema.Column column)
    {
        if (column.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.IsNormalized) is not { Type: BooleanDataViewType })
            return false;
        bool normalized = false;
        column.Annotations.GetValue(AnnotationUtils.Kinds.IsNormalized, ref normalized);
        return normalized;
    }

    private static bool IsSingle(DataViewType type) => type is NumberDataViewType && type.RawType == typeof(float);

    private static DataViewSchema.Column RequireColumn(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name) ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{name}'");

    private static DataViewType RequireType(DataViewSchema schema, string name, Func<DataViewType, bool> isValid, string expected)
    {
        DataViewType type = RequireColumn(schema, name).Type;
        if (!isValid(type))
            throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{name}': expected {expected}, got {type}");
        return type;
    }

    // Binary format
    //   int: tables, then per table: string name, int size
    //   int: categorical fields, then per field: string column, int table
    //   int: sequence fields, then per field: string column, int table, bool has weights, [string weight column]
    //   int: numeric fields, then per field: string column, int width
    internal void Write(BinaryWriter writer)
    {
        writer.Write(Tables.Length);
        foreach (EmbeddingTable table in Tables)
        {
            writer.Write(table.Name);
            writer.Write(table.Size);
        }
        writer.Write(Categorical.Length);
        foreach (CategoricalField field in Categorical)
        {
            writer.Write(field.ColumnName);
            writer.Write(field.Table);
        }
        writer.Write(Sequences.Length);
        foreach (SequenceField field in Sequences)
        {
            writer.Write(field.ColumnName);
            writer.Write(field.Table);
            writer.Write(field.WeightColumnName is not null);
            if (field.WeightColumnName is not null)
                writer.Write(field.WeightColumnName);
        }
        writer.Write(Numeric.Length);
        foreach (NumericField field in Numeric)
        {
            writer.Write(field.ColumnName);
            writer.Write(field.Width);
        }
    }

    internal static FeatureLayout Read(BinaryReader reader)
    {
        var tables = ReadList(reader, r => new EmbeddingTable(r.ReadString(), Positive(r.ReadInt32(), "table size")));
        int Table(int index) => index >= 0 && index < tables.Length ? index : throw new FormatException($"Feature layout refers to embedding table {index} of {tables.Length}; the model file is corrupt.");
        var categorical = ReadList(reader, r => new CategoricalField(r.ReadString(), Table(r.ReadInt32())));
        var sequences = ReadList(reader, r => new SequenceField(r.ReadString(), Table(r.ReadInt32()), r.ReadBoolean() ? r.ReadString() : null));
        var numeric = ReadList(reader, r => new NumericField(r.ReadString(), Positive(r.ReadInt32(), "numeric width")));
        return new FeatureLayout(tables, categorical, sequences, numeric);
    }

    private static int Positive(int value, string what) =>
        value > 0 ? value : throw new FormatException($"The model file gives {what} {value}; the file is corrupt.");

    private static ImmutableArray<T> ReadList<T>(BinaryReader reader, Func<BinaryReader, T> read)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1_000_000)
            throw new FormatException($"The model file gives {count} feature entries; the file is corrupt.");
        var items = ImmutableArray.CreateBuilder<T>(count);
        for (int i = 0; i < count; i++)
            items.Add(read(reader));
        return items.MoveToImmutable();
    }
}
