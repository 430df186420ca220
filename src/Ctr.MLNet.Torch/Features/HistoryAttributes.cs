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
    /// <summary>Share of repeated candidates' rows that may disagree with the candidate's first value, for auto-detection.</summary>
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
        return PossibleFields(layout, candidate).Where(f => wanted.Contains(layout.Categorical[f].ColumnName));
    }

    /// <summary>The scalar fields that could describe candidate field <paramref name="candidate"/>'s items: every one on another table.</summary>
    private static IEnumerable<int> PossibleFields(FeatureLayout layout, int candidate) =>
        Enumerable.Range(0, layout.Categorical.Length).Where(f => layout.Categorical[f].Table != layout.Categorical[candidate].Table);

    /// <summary>The distinct candidate fields of <paramref name="layout"/>'s histories.</summary>
    private static int[] Candidates(FeatureLayout layout) => [.. CandidateFields(layout).Where(c => c >= 0).Distinct()];

    /// <summary>
    /// The attributes <paramref name="requested"/> names (null: the fields that are a function of a history's candidate
    /// on the training rows) and their maps, from <paramref name="train"/>. The names were checked by <see cref="Check"/>.
    /// </summary>
    public static HistoryAttributes Fit(TrainingData train, FeatureLayout layout, ImmutableArray<string>? requested)
    {
        int[] candidates = Candidates(layout);
        if (candidates.Length == 0 || requested is { IsEmpty: true })
            return new([], new Dictionary<(int, int), long[]>());

        var pairs = new List<(int Candidate, int Field)>();
        foreach (int c in candidates)
        {
            IEnumerable<int> fields = requested is { } named ? FieldsOf(layout, c, named) : PossibleFields(layout, c);
            pairs.AddRange(fields.Select(f => (c, f)));
        }
        if (requested is null)
            pairs = Functional(train, layout, pairs);

        // The most frequent value per candidate, counted only for the fields kept: an attribute has about one value per item.
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
                    if (candidate < 2 || attribute < 2)
                        continue;
                    long key = ((long)candidate << 32) | (uint)attribute;
                    count[key] = count.GetValueOrDefault(key) + 1;
                }
            }
        }
        var maps = new Dictionary<(int, int), long[]>();
        foreach (((int c, int f), Dictionary<long, int> count) in counts)
            maps[(layout.Categorical[c].Table, f)] = Modes(count, layout.Tables[layout.Categorical[c].Table].Size);
        var chosen = pairs.Select(p => p.Field).ToHashSet();
        return new([.. Enumerable.Range(0, width).Where(chosen.Contains).Select(f => layout.Categorical[f].ColumnName)], maps);
    }

    /// <summary>
    /// The pairs whose field is a function of the candidate: of the rows of candidates seen more than once (at least
    /// <see cref="MinEvidenceRows"/>), at most <see cref="MaxDisagreement"/> differ from the value the candidate was first
    /// seen with. That bounds the disagreement with the most frequent value from above, in one pass and memory of one
    /// int per candidate and pair, whatever the field's cardinality.
    /// </summary>
    private static List<(int Candidate, int Field)> Functional(TrainingData train, FeatureLayout layout, List<(int Candidate, int Field)> pairs)
    {
        int width = layout.Categorical.Length;
        // The candidate's first value: 0 unseen, positive seen once, negated once seen again (values are at least 2),
        // so one int per candidate tells both the value and whether the candidate repeats (a catalog of millions of items).
        int[][] first = [.. pairs.Select(p => new int[layout.Tables[layout.Categorical[p.Candidate].Table].Size])];
        var rows = new long[pairs.Count];
        var disagreeing = new long[pairs.Count];
        foreach (FeatureBlock block in train.Blocks())
        {
            int[] ids = block.Categorical;
            for (int row = 0; row < block.Count; row++)
            {
                for (int p = 0; p < pairs.Count; p++)
                {
                    int candidate = ids[row * width + pairs[p].Candidate], attribute = ids[row * width + pairs[p].Field];
                    // Padding and OOV (0, 1) are not values: an OOV candidate is many items, an OOV attribute says nothing.
                    if (candidate < 2 || attribute < 2)
                        continue;
                    rows[p]++;
                    ref int value = ref first[p][candidate];
                    if (value == 0)
                    {
                        value = attribute;
                        continue;
                    }
                    if (value > 0)
                        value = -value;
                    if (-value != attribute)
                        disagreeing[p]++;
                }
            }
        }
        var functional = new List<(int, int)>();
        for (int p = 0; p < pairs.Count; p++)
        {
            long evidence = rows[p] - first[p].Count(v => v > 0);
            if (evidence >= MinEvidenceRows && disagreeing[p] <= MaxDisagreement * evidence)
                functional.Add(pairs[p]);
        }
        return functional;
    }

    /// <summary>Each candidate's most frequent attribute (ties to the smaller index); 0 for candidates never seen.</summary>
    private static long[] Modes(Dictionary<long, int> count, int tableSize)
    {
        var map = new long[tableSize];
        var best = new int[tableSize];
        foreach ((long key, int n) in count)
        {
            int candidate = (int)(key >> 32), attribute = (int)(uint)key;
            if (n > best[candidate] || (n == best[candidate] && attribute < map[candidate]))
                (best[candidate], map[candidate]) = (n, attribute);
        }
        return map;
    }

    /// <summary>
    /// Checks the list a model file holds against the network's <paramref name="layout"/>: a damaged list would build a
    /// network without the maps the weights carry, or with maps nothing fills.
    /// </summary>
    public static void CheckSaved(FeatureLayout layout, ImmutableArray<string>? names)
    {
        const string Field = "The model file's network option 'history_attributes'";
        if (names is not { } list)
            throw new FormatException($"{Field} holds no list (a model holds the columns it was trained with); the file is corrupt.");
        if (list.Any(string.IsNullOrWhiteSpace) || list.Distinct().Count() != list.Length)
            throw new FormatException($"{Field} holds a blank or repeated column name; the file is corrupt.");
        int[] candidates = Candidates(layout);
        foreach (string name in list)
        {
            if (Problem(layout, name, candidates) is { } problem)
                throw new FormatException($"{Field} {problem.What}; the file is corrupt.");
        }
    }

    /// <summary>Checks the columns <paramref name="requested"/> names against <paramref name="layout"/>, before any row is read.</summary>
    public static void Check(FeatureLayout layout, ImmutableArray<string>? requested)
    {
        int[] candidates = Candidates(layout);
        foreach (string name in requested ?? [])
        {
            if (Problem(layout, name, candidates) is { } problem)
                throw new ArgumentOutOfRangeException(nameof(CtrModelOptions.HistoryAttributes), $"HistoryAttributes {problem.What}{problem.Advice}");
        }
    }

    /// <summary>Why column <paramref name="name"/> cannot describe a history's items, and what to do; null when it can.</summary>
    private static (string What, string Advice)? Problem(FeatureLayout layout, string name, int[] candidates)
    {
        int field = layout.Categorical.Select(c => c.ColumnName).ToList().IndexOf(name);
        if (field < 0)
            return ($"names '{name}', which is not a scalar categorical input of the network (those are: {string.Join(", ", layout.Categorical.Select(c => c.ColumnName))})", ".");
        if (candidates.Length == 0)
            return ($"names '{name}', but no sequence input shares its vocabulary with a scalar categorical input, so there is no history whose items it could describe", "; leave HistoryAttributes empty.");
        if (candidates.All(c => layout.Categorical[c].Table == layout.Categorical[field].Table))
            return ($"names '{name}', which reads the history's own vocabulary", "; name an attribute of the items (such as their category) instead.");
        return null;
    }
}
