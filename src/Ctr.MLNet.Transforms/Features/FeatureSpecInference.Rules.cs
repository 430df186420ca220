using System;
using System.Collections.Generic;
using System.Linq;

namespace Ctr.MLNet.Transforms;

public static partial class FeatureSpecInference
{
    private enum Kind
    {
        Categorical,
        Numeric,
        List,
    }

    /// <summary>Applies the rules (see the remarks of <see cref="FeatureSpecInference"/>) to the profiled columns.</summary>
    /// <param name="label">Name of the label column.</param>
    /// <param name="profiles">One profile per column in header order, null for the label and skipped columns.</param>
    /// <param name="separator">The list separator.</param>
    internal static FeatureSpec Infer(string label, IReadOnlyList<ColumnProfile?> profiles, char separator)
    {
        ColumnProfile[] columns = [.. profiles.Where(p => p is not null).Select(p => p!)];
        Kind[] kinds = [.. columns.Select(Classify)];

        // Shared vocabularies: a list whose elements mostly occur among a scalar categorical column's values.
        var shareOf = new Dictionary<int, int>();
        int[] scalarCategoricals = [.. Enumerable.Range(0, columns.Length).Where(i => kinds[i] == Kind.Categorical)];
        for (int l = 0; l < columns.Length; l++)
        {
            if (kinds[l] != Kind.List || columns[l].Elements == 0)
                continue;
            int best = -1;
            long bestShared = 0;
            foreach (int c in scalarCategoricals)
            {
                long shared = columns[l].ElementCounts.Where(e => columns[c].HasValue(e.Key)).Sum(e => e.Value);
                if (shared > bestShared)
                    (best, bestShared) = (c, shared);
            }
            // A sample of a long-tailed id column holds only part of its ids, so the list's elements are also
            // judged against how well the column covers itself (a fresh draw from the same ids would do no better).
            double coverage = (double)bestShared / columns[l].Elements;
            if (best >= 0 && (AtLeast(bestShared, ShareVocabPercent, columns[l].Elements)
                || coverage >= ShareVocabPercent / 100.0 * columns[best].SelfCoverage && coverage >= ShareVocabMinimumCoverage))
                shareOf[l] = best;
        }

        // Weights: numeric lists that pair with another list of the same lengths.
        var weightOf = new Dictionary<int, int>();   // partner list → weight column
        int[] lists = [.. Enumerable.Range(0, columns.Length).Where(i => kinds[i] == Kind.List)];
        var candidates = lists.Where(l => !shareOf.ContainsKey(l) && columns[l].Elements > 0
            && AtLeast(columns[l].NumericElements, WeightNumericPercent, columns[l].Elements)).ToHashSet();
        var ranked = candidates
            .Select(w => (Weight: w, Hint: HasWeightName(columns[w].Name), Best: lists.Where(p => p != w && !candidates.Contains(p)).Select(p => SameLengths(columns[w], columns[p])).DefaultIfEmpty(0).Max()))
            .OrderByDescending(c => c.Hint).ThenByDescending(c => c.Best).ThenBy(c => c.Weight);
        var isWeight = new HashSet<int>();
        foreach ((int w, bool hint, _) in ranked)
        {
            int partner = -1;
            long agreement = -1;
            foreach (int p in lists)
            {
                if (p == w || candidates.Contains(p) || weightOf.ContainsKey(p))
                    continue;
                long same = SameLengths(columns[w], columns[p]);
                if (same > agreement)
                    (partner, agreement) = (p, same);
            }
            if (partner >= 0 && (AtLeast(agreement, WeightAgreementPercent, columns[w].Rows) || hint))
            {
                weightOf[partner] = w;
                isWeight.Add(w);
            }
        }

        // Sizes: a vocabulary owner counts its own values and the elements of the lists sharing it.
        var sharers = shareOf.GroupBy(s => s.Value).ToDictionary(g => g.Key, g => g.Select(s => s.Key).ToArray());
        var features = new List<FeatureColumnSpec>();
        var minFreqOf = new Dictionary<int, int>();
        for (int i = 0; i < columns.Length; i++)
        {
            if (kinds[i] == Kind.Categorical)
                minFreqOf[i] = MinFreqFor(VocabularyCardinality(columns, i, sharers.GetValueOrDefault(i)));
        }
        for (int i = 0; i < columns.Length; i++)
        {
            if (isWeight.Contains(i))
                continue;
            ColumnProfile column = columns[i];
            switch (kinds[i])
            {
                case Kind.Numeric:
                    features.Add(new FeatureColumnSpec(column.Name, FeatureColumnSpec.Numeric)
                    {
                        Norm = FeatureColumnSpec.ZScore,
                        Log1p = IsHeavyTailed(column.NumberValues),
                    });
                    break;
                case Kind.Categorical:
                    features.Add(Categorical(column.Name, VocabularyCardinality(columns, i, sharers.GetValueOrDefault(i))) with { FoldCase = HasCaseVariants(column.Values) });
                    break;
                default:
                    FeatureColumnSpec list = shareOf.TryGetValue(i, out int owner)
                        ? new FeatureColumnSpec(column.Name, FeatureColumnSpec.Categorical) { ShareVocab = columns[owner].Name, MinFreq = minFreqOf[owner] }
                        : Categorical(column.Name, column.ElementCounts.LongCount()) with { FoldCase = HasCaseVariants(column.ElementCounts.Select(e => e.Key)) };
                    features.Add(list with
                    {
                        IsList = true,
                        WeightCol = weightOf.TryGetValue(i, out int weights) ? columns[weights].Name : null,
                    });
                    break;
            }
        }
        return new FeatureSpec(label, [.. features]) { ListSeparator = separator };
    }

    private static Kind Classify(ColumnProfile column)
    {
        // Rows of one element hold no separator: a typed list (short histories, a sample of new users) says it itself.
        if (column.IsListType)
            return Kind.List;
        if (column.NonEmpty == 0)
            return Kind.Categorical;
        if (AtLeast(column.WithSeparator, ListPercent, column.NonEmpty))
            return Kind.List;
        bool numbers = AtLeast(column.Numbers, NumericPercent, column.NonEmpty);
        bool hex = AtLeast(column.FixedWidthHex, HexPercent, column.NonEmpty) && AtLeast(column.HexWithLetter, HexLetterPercent, column.NonEmpty);
        bool smallIntegerCode = column.AllIntegers && column.DistinctNumbers <= MaxCategoricalIntegers;
        return numbers && !hex && !smallIntegerCode ? Kind.Numeric : Kind.Categorical;
    }

    /// <summary>min ≥ 0 and (max &gt; 1000 or p99 &gt; 50 × max(p50, 1)), quantiles taken as s⌊q·(n−1)⌋.</summary>
    private static bool IsHeavyTailed(List<double> numbers)
    {
        if (numbers.Count == 0)
            return false;
        double[] sorted = [.. numbers];
        Array.Sort(sorted);
        double Quantile(double q) => sorted[(int)Math.Floor(q * (sorted.Length - 1))];
        return sorted[0] >= 0 && (sorted[^1] > HeavyTailMaximum || Quantile(0.99) > HeavyTailRatio * Math.Max(Quantile(0.5), 1));
    }

    /// <summary>Number of sampled rows where both columns have the same number of elements.</summary>
    private static long SameLengths(ColumnProfile a, ColumnProfile b)
    {
        int rows = Math.Min(a.Lengths.Count, b.Lengths.Count);
        long same = 0;
        for (int r = 0; r < rows; r++)
        {
            if (a.Lengths[r] == b.Lengths[r])
                same++;
        }
        return same;
    }

    private static bool HasWeightName(string name) =>
        name.Contains("weight", StringComparison.OrdinalIgnoreCase) || name.Contains("dwell", StringComparison.OrdinalIgnoreCase);

    private static long VocabularyCardinality(ColumnProfile[] columns, int owner, int[]? sharers)
    {
        if (sharers is null)
            return columns[owner].DistinctValues;
        var union = new HashSet<string>(columns[owner].Values, StringComparer.Ordinal);
        foreach (int s in sharers)
            union.UnionWith(columns[s].ElementCounts.Select(e => e.Key));
        return union.Count;
    }

    private static int MinFreqFor(long distinct) => distinct > MinFreqAbove ? 2 : 1;

    /// <summary>At least 2 and at least 1% of the distinct values equal another one but for case.</summary>
    private static bool HasCaseVariants(IEnumerable<string> distinct)
    {
        var spellings = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        long total = 0;
        foreach (string value in distinct)
        {
            total++;
            spellings[value] = spellings.GetValueOrDefault(value) + 1;
        }
        long variants = spellings.Values.Where(n => n > 1).Sum(n => (long)n);
        return variants >= 2 && AtLeast(variants, CaseVariantPercent, total);
    }

    private static FeatureColumnSpec Categorical(string name, long distinct) => new(name, FeatureColumnSpec.Categorical)
    {
        MinFreq = MinFreqFor(distinct),
        EmbDim = EmbeddingDimFor(distinct),
        HashBuckets = distinct > HashAbove ? 0 : null,
    };
}
