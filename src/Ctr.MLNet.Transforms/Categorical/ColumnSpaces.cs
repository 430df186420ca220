using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Ctr.MLNet.Transforms.Internals;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Transforms.Categorical;

/// <summary>A map from normalized tokens to indices (0 padding, 1 OOV, then its own): a vocabulary or a hash space.</summary>
internal interface IIndexSpace
{
    string Name { get; }

    /// <summary>Number of indices, the reserved ones included.</summary>
    int Size { get; }

    TokenNormalizer Normalizer { get; }

    int IndexOfToken(ReadOnlySpan<char> normalizedToken);

    void Write(BinaryWriter writer);
}

/// <summary>
/// The index spaces of a categorical transformer and the one each output column maps through (columns may share
/// one): what <see cref="VocabularyTransformer"/> and <see cref="HashBucketingTransformer"/> both keep, save and map by.
/// </summary>
internal sealed class ColumnSpaces<TSpace>
    where TSpace : class, IIndexSpace
{
    public ColumnSpaces(ImmutableArray<TSpace> spaces, int[] spaceOfColumn)
    {
        Spaces = spaces;
        SpaceOfColumn = spaceOfColumn;
    }

    public ImmutableArray<TSpace> Spaces { get; }

    /// <summary>Per output column, the index of its space in <see cref="Spaces"/>.</summary>
    public int[] SpaceOfColumn { get; }

    public TSpace OfColumn(int column) => Spaces[SpaceOfColumn[column]];

    /// <summary>The space of the output column named <paramref name="outputColumnName"/>.</summary>
    public TSpace OfOutput(string outputColumnName, (string outputColumnName, string inputColumnName)[] columns)
    {
        int column = Array.FindIndex(columns, p => p.outputColumnName == outputColumnName);
        if (column < 0)
            CtrThrow.ArgumentOutOfRange(nameof(outputColumnName), $"This transformer produces no column '{outputColumnName}'; it produces {string.Join(", ", columns.Select(p => $"'{p.outputColumnName}'"))}.");
        return OfColumn(column);
    }

    /// <summary>The same columns over updated spaces (a refit keeps every column's space).</summary>
    public ColumnSpaces<TSpace> With(ImmutableArray<TSpace> spaces) => new(spaces, SpaceOfColumn);

    // Binary format
    //   int: number of spaces, then each (see TSpace.Write)
    //   per column: int index of its space
    public void Write(BinaryWriter writer)
    {
        writer.Write(Spaces.Length);
        foreach (TSpace space in Spaces)
            space.Write(writer);
        foreach (int space in SpaceOfColumn)
            writer.Write(space);
    }

    /// <param name="reader">Positioned after the column pairs.</param>
    /// <param name="spaceKind">What a space is called in error messages: ("vocabulary", "vocabularies").</param>
    /// <param name="readSpace">Reads one space as its <c>Write</c> wrote it.</param>
    /// <param name="columns">The transformer's column pairs, already read.</param>
    public static ColumnSpaces<TSpace> Read(BinaryReader reader, (string One, string Many) spaceKind, Func<BinaryReader, TSpace> readSpace, (string outputColumnName, string inputColumnName)[] columns)
    {
        int count = Vocabulary.ReadCount(reader, spaceKind.Many);
        ImmutableArray<TSpace> spaces = [.. Enumerable.Range(0, count).Select(_ => readSpace(reader))];
        int[] spaceOfColumn = new int[columns.Length];
        for (int i = 0; i < spaceOfColumn.Length; i++)
        {
            spaceOfColumn[i] = reader.ReadInt32();
            if ((uint)spaceOfColumn[i] >= (uint)count)
                CtrThrow.Format($"Column '{columns[i].outputColumnName}' refers to {spaceKind.One} {spaceOfColumn[i]} of {count}; the model file is corrupt.");
        }
        return new ColumnSpaces<TSpace>(spaces, spaceOfColumn);
    }

    /// <summary>Key type of a column mapped through <paramref name="space"/>: keys 1 … Size − 1 are the indices 1 (OOV) … Size − 1; key 0 (missing) is padding.</summary>
    public static DataViewType OutputType(DataViewType inputType, TSpace space)
    {
        var keyType = new KeyDataViewType(typeof(uint), space.Size - 1);
        return inputType is VectorDataViewType vector ? new VectorDataViewType(keyType, vector.Size) : keyType;
    }

    /// <summary>A getter of the indices of <paramref name="column"/>'s tokens in <paramref name="space"/>: uint for a scalar, VBuffer&lt;uint&gt; for a vector.</summary>
    public static Delegate MakeGetter(DataViewRow input, DataViewSchema.Column column, TSpace space)
    {
        var reader = TokenColumnReader.Create(input, column);
        var scratch = new char[TokenNormalizer.ScratchLength];
        TokenNormalizer normalizer = space.Normalizer;

        uint IndexOf(int i) =>
            normalizer.TryNormalize(reader[i], scratch, out ReadOnlySpan<char> token) ? (uint)space.IndexOfToken(token) : Vocabulary.OovIndex;

        if (column.Type is not VectorDataViewType)
        {
            return (ValueGetter<uint>)((ref uint dst) =>
            {
                reader.Fetch();
                dst = IndexOf(0);
            });
        }
        return (ValueGetter<VBuffer<uint>>)((ref VBuffer<uint> dst) =>
        {
            reader.Fetch();
            var editor = VBufferEditor.Create(ref dst, reader.Count);
            for (int i = 0; i < reader.Count; i++)
                editor.Values[i] = IndexOf(i);
            dst = editor.Commit();
        });
    }
}

/// <summary>The column options both categorical estimators take: columns naming the same space share it and its settings.</summary>
internal static class SpaceColumns
{
    /// <summary>Checks names, output uniqueness, and that columns sharing a space agree on its settings.</summary>
    /// <param name="columns">Output column, input column, space name and settings of each column.</param>
    /// <param name="spaceKind">"vocabulary" or "hash space", for messages.</param>
    /// <param name="settingNames">The options that make up the settings, for messages.</param>
    public static void Check<TSettings>(IReadOnlyList<(string Output, string Input, string Space, TSettings Settings)> columns, string spaceKind, string settingNames)
        where TSettings : IEquatable<TSettings>
    {
        if (columns.Any(c => string.IsNullOrEmpty(c.Output) || string.IsNullOrEmpty(c.Input)))
            CtrThrow.ArgumentOutOfRange(nameof(columns), "Column names must not be empty.");
        foreach (var group in columns.GroupBy(c => c.Space))
        {
            var first = group.First();
            foreach (var other in group.Skip(1))
            {
                if (!other.Settings.Equals(first.Settings))
                    CtrThrow.ArgumentOutOfRange(nameof(columns), $"Columns '{first.Output}' and '{other.Output}' share {spaceKind} '{group.Key}' but give different {settingNames}; give them the same settings.");
            }
        }
        var duplicate = columns.GroupBy(c => c.Output).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            CtrThrow.ArgumentOutOfRange(nameof(columns), $"Output column '{duplicate.Key}' is given more than once.");
    }

    /// <summary>The distinct spaces in order of first use, the settings of each, and each column's space index.</summary>
    public static (string[] Names, TSettings[] Settings, int[] SpaceOfColumn) Group<TSettings>(IReadOnlyList<(string Space, TSettings Settings)> columns)
    {
        string[] names = [.. columns.Select(c => c.Space).Distinct()];
        TSettings[] settings = [.. names.Select(n => columns.First(c => c.Space == n).Settings)];
        int[] spaceOfColumn = [.. columns.Select(c => Array.IndexOf(names, c.Space))];
        return (names, settings, spaceOfColumn);
    }
}
