using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Ctr.MLNet.Torch.Data;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Which scalar categorical fields are attributes of a history's items (an item's category or brand), and each item's
/// attribute values, learned from the training rows where the item is the candidate. A history logs item ids alone;
/// with these maps every history element is embedded as its item plus its attributes, so rare and unseen-as-candidate
/// items share strength through their category (the hierarchical item prior of the field's well-specified models).
/// </summary>
internal sealed class HistoryAttributes
{
    /// <summary>Share of a candidate's repeated rows that may disagree with its most frequent value, for auto-detection.</summary>
    internal const double MaxDisagreement = 0.01;

    /// <summary>Fewest rows of repeated candidates that auto-detection needs before it calls a field an attribute.</summary>
    internal const int MinEvidenceRows = 100;

    private HistoryAttributes(ImmutableArray<string> columns, IReadOnlyDictionary<(int Table, int Field), long[]> maps)
    {
        Columns = columns;
        Maps = maps;
    }

    /// <summary>The attribute columns, in the layout's field order (empty for none).</summary>
    public ImmutableArray<string> Columns { get; }

    /// <summary>Per (candidate table, attribute field): the attribute's index for each row of the table, 0 where unknown.</summary>
    public IReadOnlyDictionary<(int Table, int Field), long[]> Maps { get; }

    /// <summary>
    /// The scalar field whose table a sequence field reads (the candidate of the history), per sequence field; −1 for none.
    /// </summary>
    public static int[] CandidateFields(FeatureLayout layout) =>
        [.. layout.Sequences.Select(s => layout.Categorical.Select(c => c.Table).ToList().IndexOf(s.Table))];

    /// <summary>The attribute fields a model with <paramref name="columns"/> uses for candidate field <paramref name="candidate"/>.</summary>
    public static IEnumerable<int> FieldsOf(FeatureLayout layout, int candidate, IEnumerable<string> columns)
    {
        var wanted = columns.ToHashSet(StringComparer.Ordinal);
        for (int f = 0; f < layout.Categorical.Length; f++)
        {
            if (f != candidate && layout.Categorical[f].Table != layout.Categorical[candidate].Table && wanted.Contains(layout.Categorical[f].ColumnName))
                yield return f;
        }
    }

    /// <summary>
    /// The attributes <paramref name="requested"/> names (null: the fields that are a function of a history's candidate
    /// on the training rows) and their maps, from <paramref name="train"/>.
    /// </summary>
    public static HistoryAttributes Fit(TrainingData train, FeatureLayout layout, ImmutableArray<string>? requested)
    {
        int[] candidates = [.. CandidateFields(layout).Where(c => c >= 0).Distinct()];
        if (requested is { } names)
            Check(layout, names, candidates);
        if (candidates.Length == 0 || requested is { IsEmpty: true })
            return new([], new Dictionary<(int, int), long[]>());

        var pairs = new List<(int Candidate, int Field)>();
        foreach (int c in candidates)
        {
            IEnumerable<int> fields = requested is { } named ? FieldsOf(layout, c, named)
                : Enumerable.Range(0, layout.Categorical.Length).Where(f => f != c && layout.Categorical[f].Table != layout.Categorical[c].Table);
            pairs.AddRange(fields.Select(f => (c, f)));
        }
        var counts = pairs.ToDictionary(p => p, _ => new Dictionary<long, int>());
        int width = layout.Categorical.Length;
        foreach (FeatureBlock block in train.Blocks())
        {
            int[] ids = block.Categorical;
            for (int row = 0; row < block.Count; row++)
            {
                foreach (((int c, int f), Dictionary<long, int> count) in counts)
                {
                    int candidate = ids[row * width + c], attribute = ids[row * width + f];
                    // Padding and OOV (0, 1) are not values: an OOV candidate is many items, an OOV attribute says nothing.
                    if (candidate < 2 || attribute < 2)
                        continue;
                    long key = ((long)candidate << 32) | (uint)attribute;
                    count[key] = count.GetValueOrDefault(key) + 1;
                }
            }
        }

        var maps = new Dictionary<(int, int), long[]>();
        var chosen = new HashSet<int>();
        foreach (((int c, int f), Dictionary<long, int> count) in counts)
        {
            var (map, evidence, disagreeing) = Modes(count, layout.Tables[layout.Categorical[c].Table].Size);
            bool isAttribute = requested is not null || (evidence >= MinEvidenceRows && disagreeing <= MaxDisagreement * evidence);
            if (!isAttribute)
                continue;
            maps[(layout.Categorical[c].Table, f)] = map;
            chosen.Add(f);
        }
        return new([.. Enumerable.Range(0, width).Where(chosen.Contains).Select(f => layout.Categorical[f].ColumnName)], maps);
    }

    /// <summary>
    /// Each candidate's most frequent attribute (ties to the smaller index), and, over candidates seen in more than one
    /// row, how many rows there are and how many disagree with their candidate's most frequent value.
    /// </summary>
    private static (long[] Map, long Evidence, long Disagreeing) Modes(Dictionary<long, int> count, int tableSize)
    {
        var map = new long[tableSize];
        var best = new int[tableSize];
        var total = new int[tableSize];
        foreach ((long key, int n) in count)
        {
            int candidate = (int)(key >> 32), attribute = (int)(uint)key;
            total[candidate] += n;
            if (n > best[candidate] || (n == best[candidate] && attribute < map[candidate]))
                (best[candidate], map[candidate]) = (n, attribute);
        }
        long evidence = 0, disagreeing = 0;
        for (int i = 0; i < tableSize; i++)
        {
            if (total[i] < 2)
                continue;
            evidence += total[i];
            disagreeing += total[i] - best[i];
        }
        return (map, evidence, disagreeing);
    }

    private static void Check(FeatureLayout layout, ImmutableArray<string> names, int[] candidates)
    {
        foreach (string name in names)
        {
            int field = layout.Categorical.Select(c => c.ColumnName).ToList().IndexOf(name);
            if (field < 0)
                throw new ArgumentOutOfRangeException(nameof(names), $"HistoryAttributes names '{name}', which is not a scalar categorical input of the network (those are: {string.Join(", ", layout.Categorical.Select(c => c.ColumnName))}).");
            if (candidates.Length == 0)
                throw new ArgumentOutOfRangeException(nameof(names), $"HistoryAttributes names '{name}', but no sequence input shares its vocabulary with a scalar categorical input, so there is no history whose items it could describe; leave HistoryAttributes empty.");
            if (candidates.All(c => layout.Categorical[c].Table == layout.Categorical[field].Table))
                throw new ArgumentOutOfRangeException(nameof(names), $"HistoryAttributes names '{name}', which reads the history's own vocabulary; name an attribute of the items (such as their category) instead.");
        }
    }
}
