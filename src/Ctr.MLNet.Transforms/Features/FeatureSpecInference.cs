using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Numerics;
using Microsoft.ML;
using Microsoft.ML.Data;
using nietras.SeparatedValues;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Infers a <see cref="FeatureSpec"/> from a CSV file or an <see cref="IDataView"/>: which column is the label, which
/// columns are numeric, categorical or lists, list weights, shared vocabularies, and sizes. Print the result with
/// <see cref="FeatureSpec.ToJson"/>, edit it, and read it back with <see cref="FeatureSpec.FromJson"/>.
/// </summary>
/// <remarks>
/// <para>
/// <b>Terms.</b> The rules look at the first <c>sampleRows</c> data rows only. A <i>value</i> is a field with
/// surrounding white space removed; it is <i>empty</i> if nothing is left. A <i>number</i> is a value that
/// <see cref="double.TryParse(ReadOnlySpan{char}, NumberStyles, IFormatProvider, out double)"/> reads with
/// <see cref="NumberStyles.Float"/> in the invariant culture as a finite double (so "NaN", "inf", "1,000" and "1e999"
/// are not numbers). The <i>elements</i> of a non-empty value are its pieces between list separators, trimmed; a value
/// without the separator is one element, and the <i>length</i> of an empty value is 0. A quantile pq of n sorted numbers
/// s₀ ≤ … ≤ sₙ₋₁ is s⌊q·(n−1)⌋.
/// </para>
/// <para><b>Rules</b>, in this order:</para>
/// <list type="number">
/// <item><description><b>Label</b>: the column named by <c>label</c> (exact name); without one, the first header
/// column named click, clicked, label or y, compared ignoring case, trying those names in that order. The label is
/// not a feature.</description></item>
/// <item><description><b>List</b>: a column with at least one non-empty value is a list when at least 5% of its
/// non-empty values contain the separator. Lists are categorical (<c>islist</c>) with no <c>maxlen</c>.</description></item>
/// <item><description><b>Numeric</b>: any other column is numeric when it has a non-empty value, at least 98% of its
/// non-empty values are numbers, it is not mostly fixed-width hex, and it is not a small integer code. <i>Mostly
/// fixed-width hex</i>: at least 90% of the non-empty values are made of 6 to 16 hex digits, all of one length, and at
/// least 10% of the non-empty values are such hex strings containing a letter a–f (hashed ids like "68fd1e64", whose
/// rare all-digit or "1e5"-like members would otherwise parse as numbers). A <i>small integer code</i>: every number is
/// a whole number and there are at most 24 distinct numbers (hour, weekday, flags); it is categorical.
/// A numeric feature gets <c>norm</c> zscore, the mean as fill (<c>fill</c> null), and <c>log1p</c> when its numbers are
/// heavy-tailed: minimum ≥ 0 and (maximum &gt; 1000 or p99 &gt; 50 × max(p50, 1)).</description></item>
/// <item><description><b>Categorical</b>: every other column.</description></item>
/// <item><description><b>Shared vocabulary</b>: a list shares the vocabulary (<c>share_vocab</c>) of the scalar
/// categorical column holding the largest share of its elements (counted with repeats) among that column's sampled
/// values, if that share is at least 50%, or at least 5% and at least half the column's self-coverage (the share of
/// its sampled values that occur more than once: a small sample of a long-tailed id column holds few of its
/// ids); ties go to the column first in the header.</description></item>
/// <item><description><b>Weights</b>: a list that shares no vocabulary and whose elements are at least 98% numbers is a
/// weight candidate. Its partner is the other list, not itself a candidate and not yet paired, whose length equals
/// the candidate's in the most sampled rows (ties: first in the header). The candidate becomes the partner's
/// <c>weight_col</c> (and is no longer a feature) when the lengths agree in at least 99% of sampled rows, or when the
/// candidate's name contains "weight" or "dwell" (ignoring case). Candidates are paired name hint first, then by
/// decreasing agreement, then in header order; an unpaired candidate stays a categorical list.</description></item>
/// <item><description><b>Sizes</b> of a categorical feature with D distinct sampled values (for a list: distinct elements;
/// for a vocabulary shared with lists: the distinct values of the column and of the lists' elements together):
/// <c>min_freq</c> 2 when D &gt; 1000, else 1; <c>emb_dim</c> = clamp(2·⌈log2(D + 1)⌉, 4, 32)
/// (<see cref="EmbeddingDimFor"/>); <c>hash_buckets</c> 0 (sized from the data at fit time) when D &gt; 200,000. A list
/// sharing a vocabulary repeats its owner's <c>min_freq</c> and has no <c>emb_dim</c> of its own.</description></item>
/// <item><description><b>Case</b>: a scalar categorical column, or a list sharing no vocabulary, gets <c>fold_case</c> when at
/// least 2 and at least 1% of its distinct sampled values (for a list: elements) equal another one but for case
/// ("Mobile" and "mobile"): one spelling of a value, not two ids. A vocabulary owner looks at its own values.</description></item>
/// </list>
/// Features keep the order of the header. Nothing else is inferred: no <c>max_vocab</c>, <c>clip</c>, <c>buckets</c>
/// or <c>maxlen</c>.
/// </remarks>
public static partial class FeatureSpecInference
{
    /// <summary>Default number of data rows the rules look at.</summary>
    public const int DefaultSampleRows = 100_000;

    /// <summary>Whether <paramref name="count"/> is at least <paramref name="percent"/>% of <paramref name="total"/>, exactly.</summary>
    internal static bool AtLeast(long count, int percent, long total) => 100 * (Int128)count >= percent * (Int128)total;

    /// <summary>Label names tried, in order, ignoring case, when none is given.</summary>
    public static readonly ImmutableArray<string> LabelNames = ["click", "clicked", "label", "y"];

    // Shares in percent, compared exactly in integers: "at least p% of n" is 100·count ≥ p·n.
    internal const int ListPercent = 5;
    internal const int NumericPercent = 98;
    internal const int MaxCategoricalIntegers = 24;
    internal const int HexPercent = 90;
    internal const int HexLetterPercent = 10;
    internal const double HeavyTailMaximum = 1000;
    internal const double HeavyTailRatio = 50;
    internal const int WeightNumericPercent = 98;
    internal const int WeightAgreementPercent = 99;
    internal const int ShareVocabPercent = 50;
    internal const int CaseVariantPercent = 1;
    internal const double ShareVocabMinimumCoverage = 0.05;
    internal const long MinFreqAbove = 1000;
    internal const long HashAbove = 200_000;
    internal const int MinEmbeddingDim = 4;
    internal const int MaxEmbeddingDim = 32;

    /// <summary>
    /// Infers a spec from a CSV file (header row, ',' separated, quoted fields allowed), reading it with Sep and
    /// looking at its first <paramref name="sampleRows"/> data rows (see the rules in the remarks of
    /// <see cref="FeatureSpecInference"/>). Blank lines are skipped.
    /// </summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="label">Label column; null to look for click, clicked, label or y.</param>
    /// <param name="listSeparator">Separator of list values (becomes <see cref="FeatureSpec.ListSeparator"/>).</param>
    /// <param name="sampleRows">Number of data rows to look at, 1 or more.</param>
    /// <param name="badRows">What to do with a row that is malformed as CSV (bytes that are not UTF-8, broken quoting,
    /// another field count than the header, a field over <see cref="CsvDataSource.Options.Defaults.MaxFieldLength"/>):
    /// stop, or leave it out of the sample. Values are not checked here: the rules tolerate some text in a numeric
    /// column, and <see cref="FeatureSpec.LoadCsv(MLContext, string, bool, BadRowPolicy)"/> checks them.</param>
    /// <exception cref="CsvBadRowException">A malformed row with <see cref="BadRowPolicy.Error"/>; the message names the
    /// file, the line and the column.</exception>
    /// <exception cref="FormatException">The file is empty or its header row is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label is not in the header (or none of the usual names is),
    /// the header has no other column, a name is repeated, or an argument is out of range.</exception>
    public static FeatureSpec FromCsv(string path, string? label = null, char listSeparator = SequenceParsingEstimator.Defaults.Separator, int sampleRows = DefaultSampleRows,
        BadRowPolicy badRows = BadRowPolicy.Error)
    {
        CheckArguments(listSeparator, sampleRows);
        using CsvRowReader reader = CsvRowReader.Open(path, CsvDataSource.Options.Defaults.MaxFieldLength);
        ImmutableArray<string> header = reader.Header;
        int labelIndex = FindLabel(header, label, $"the header of '{path}'");
        ColumnProfile?[] profiles = CreateProfiles(header, labelIndex, listSeparator, sampleRows, $"the header of '{path}'");
        int rows = 0;
        while (rows < sampleRows && reader.MoveNext(out CsvBadRow? bad))
        {
            if (bad is not null)
            {
                if (badRows == BadRowPolicy.Error)
                    throw new CsvBadRowException(bad);
                continue;
            }
            SepReader.Row row = reader.Current;
            for (int i = 0; i < profiles.Length; i++)
                profiles[i]?.Add(row[i].Span);
            rows++;
        }
        return Infer(header[labelIndex], profiles, listSeparator);
    }

    /// <summary>
    /// Infers a spec from a Parquet file or a folder of them (partition keys included), looking at its first
    /// <paramref name="sampleRows"/> rows with the rules of <see cref="FeatureSpecInference"/> applied to each value's
    /// text, as <see cref="ParquetColumnKind.Text"/> reads it; a list column counts as its elements joined by
    /// <paramref name="listSeparator"/>, so a <c>list&lt;string&gt;</c> becomes a list feature (whatever its sampled
    /// rows hold, one element or none included) and a <c>list&lt;float&gt;</c> of the same lengths its <c>weight_col</c>. Partition keys are left out (a <c>date=</c>
    /// folder names a shard, and its values never recur in later data); name one in the spec to use it. Columns of
    /// types that cannot be loaded (dates, binary, structs, maps) are left out too.
    /// </summary>
    /// <param name="path">A <c>.parquet</c> file or a folder.</param>
    /// <param name="label">Label column; null to look for click, clicked, label or y.</param>
    /// <param name="listSeparator">Separator of list values in string columns (becomes <see cref="FeatureSpec.ListSeparator"/>).</param>
    /// <param name="sampleRows">Number of rows to look at, 1 or more.</param>
    /// <exception cref="FormatException">A file is not Parquet, or a folder holds none.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The label is not a column (or none of the usual names is), a
    /// column of another file has a type that cannot be loaded, or an argument is out of range.</exception>
    public static FeatureSpec FromParquet(string path, string? label = null, char listSeparator = SequenceParsingEstimator.Defaults.Separator, int sampleRows = DefaultSampleRows)
    {
        CheckArguments(listSeparator, sampleRows);
        ParquetDataSource files = ParquetDataSource.Load(path, new ParquetDataSource.Options());
        // Like the partition keys, columns of types that cannot be loaded (an export's timestamps) are no feature.
        ImmutableArray<string> names = [.. files.Header.Take(files.Header.Length - files.PartitionKeys.Length).Where(n => !files.Unloadable.Contains(n))];
        int labelIndex = FindLabel(names, label, $"the columns of '{path}'");
        ColumnProfile?[] profiles = CreateProfiles(names, labelIndex, listSeparator, sampleRows, $"the columns of '{path}'");
        ParquetDataSource data = ParquetDataSource.Load(path, new ParquetDataSource.Options
        {
            Columns = [.. names.Where((_, i) => i != labelIndex).Select(n => new ParquetDataSource.Column(n, ParquetColumnKind.Text))],
        });
        using DataViewRowCursor cursor = data.GetRowCursor(data.Schema);
        TextGetter[] getters = [.. data.Schema.Select(c => CreateTextGetter(cursor, c, listSeparator))];
        int[] profileOf = [.. Enumerable.Range(0, names.Length).Where(i => i != labelIndex)];
        for (int c = 0; c < getters.Length; c++)
            profiles[profileOf[c]]!.IsListType = data.Schema[c].Type is VectorDataViewType;
        for (int rows = 0; rows < sampleRows && cursor.MoveNext(); rows++)
        {
            for (int c = 0; c < getters.Length; c++)
                profiles[profileOf[c]]!.Add(getters[c]());
        }
        return Infer(names[labelIndex], profiles, listSeparator);
    }

    /// <summary>
    /// Infers a spec from a data file, picking the reader by <paramref name="path"/>: a folder or a <c>.parquet</c>
    /// file with <see cref="FromParquet"/>, anything else with <see cref="FromCsv"/>.
    /// </summary>
    /// <param name="path">A CSV file, a <c>.parquet</c> file or a folder of Parquet files.</param>
    /// <param name="label">Label column; null to look for the usual names.</param>
    /// <param name="listSeparator">Separator of list values.</param>
    /// <param name="sampleRows">Number of rows to look at.</param>
    /// <param name="badRows">What to do with a malformed CSV row (Parquet rows are read as text and cannot be malformed here).</param>
    public static FeatureSpec FromFile(string path, string? label = null, char listSeparator = SequenceParsingEstimator.Defaults.Separator, int sampleRows = DefaultSampleRows,
        BadRowPolicy badRows = BadRowPolicy.Error) =>
        ParquetDataSource.IsParquet(path) ? FromParquet(path, label, listSeparator, sampleRows) : FromCsv(path, label, listSeparator, sampleRows, badRows);

    private static TextGetter CreateTextGetter(DataViewRow row, DataViewSchema.Column column, char separator)
    {
        if (column.Type is not VectorDataViewType)
            return CreateTextGetter(row, column);
        ValueGetter<VBuffer<ReadOnlyMemory<char>>> getter = row.GetGetter<VBuffer<ReadOnlyMemory<char>>>(column);
        VBuffer<ReadOnlyMemory<char>> values = default;
        var builder = new System.Text.StringBuilder();
        return () =>
        {
            getter(ref values);
            builder.Clear();
            ReadOnlySpan<ReadOnlyMemory<char>> elements = values.GetValues();
            for (int i = 0; i < elements.Length; i++)
            {
                if (i > 0)
                    builder.Append(separator);
                builder.Append(elements[i].Span);
            }
            return builder.ToString();
        };
    }

    /// <summary>
    /// Infers a spec from the first <paramref name="sampleRows"/> rows of <paramref name="data"/> with the rules of
    /// <see cref="FeatureSpecInference"/>, applied to each value's text: scalar Text columns as they are, scalar
    /// Single, Double and integer columns in invariant "R" form (NaN as empty). Columns of other types (vectors,
    /// keys, Boolean, dates) and hidden columns are skipped.
    /// </summary>
    /// <remarks>A numeric feature builds only when its column is Single or Double (what <c>Normalize</c> reads); integer
    /// columns inferred numeric need a conversion first.</remarks>
    /// <param name="data">The data.</param>
    /// <param name="label">Label column (exact name).</param>
    /// <param name="listSeparator">Separator of list values in Text columns.</param>
    /// <param name="sampleRows">Number of rows to look at, 1 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException">The label is not a visible column of <paramref name="data"/>, no
    /// other column is usable, or an argument is out of range.</exception>
    public static FeatureSpec FromDataView(IDataView data, string label, char listSeparator = SequenceParsingEstimator.Defaults.Separator, int sampleRows = DefaultSampleRows)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentException.ThrowIfNullOrEmpty(label);
        CheckArguments(listSeparator, sampleRows);
        DataViewSchema.Column[] usable = [.. data.Schema.Where(c => !c.IsHidden && (c.Name == label || IsSupported(c.Type)))];
        ImmutableArray<string> names = [.. usable.Select(c => c.Name)];
        int labelIndex = names.IndexOf(label);
        if (labelIndex < 0)
            CtrThrow.ArgumentOutOfRange(nameof(label), $"The data has no column '{label}' to use as the label.");
        ColumnProfile?[] profiles = CreateProfiles(names, labelIndex, listSeparator, sampleRows, "the data");

        DataViewSchema.Column[] read = [.. usable.Where((c, i) => profiles[i] is not null)];
        using (DataViewRowCursor cursor = data.GetRowCursor(read))
        {
            TextGetter[] getters = [.. usable.Select((c, i) => profiles[i] is null ? null! : CreateTextGetter(cursor, c))];
            int rows = 0;
            while (rows < sampleRows && cursor.MoveNext())
            {
                for (int i = 0; i < profiles.Length; i++)
                    profiles[i]?.Add(getters[i]());
                rows++;
            }
        }
        return Infer(label, profiles, listSeparator);
    }

    /// <summary>The embedding width inference gives a vocabulary of D distinct values: clamp(2·⌈log2(D + 1)⌉, 4, 32).</summary>
    /// <param name="distinctValues">Number of distinct values D, 0 or more.</param>
    public static int EmbeddingDimFor(long distinctValues)
    {
        if (distinctValues < 0)
            CtrThrow.ArgumentOutOfRange(nameof(distinctValues), $"The number of distinct values must be 0 or more, got {distinctValues}.");
        // ⌈log2(D + 1)⌉ is the bit length of D.
        int bits = distinctValues == 0 ? 0 : BitOperations.Log2((ulong)distinctValues) + 1;
        return Math.Clamp(2 * bits, MinEmbeddingDim, MaxEmbeddingDim);
    }

    private static void CheckArguments(char listSeparator, int sampleRows)
    {
        if (sampleRows < 1)
            CtrThrow.ArgumentOutOfRange(nameof(sampleRows), $"sampleRows must be at least 1, got {sampleRows}.");
        if (listSeparator is '"' or '\r' or '\n' or '\0' or CsvFeatureData.Separator)
            CtrThrow.ArgumentOutOfRange(nameof(listSeparator), $"The list separator cannot be the field separator, a quote or a line break, got '{listSeparator}'.");
    }

    private static int FindLabel(ImmutableArray<string> names, string? label, string where)
    {
        if (label is not null)
        {
            int index = names.IndexOf(label);
            if (index < 0)
                CtrThrow.ArgumentOutOfRange(nameof(label), $"There is no label column '{label}' in {where}.");
            return index;
        }
        foreach (string candidate in LabelNames)
        {
            int index = names.IndexOf(candidate, 0, names.Length, StringComparer.OrdinalIgnoreCase);
            if (index >= 0)
                return index;
        }
        CtrThrow.ArgumentOutOfRange(nameof(label), $"None of the usual label names ({string.Join(", ", LabelNames)}) is in {where}; give the label column.");
        return -1;
    }

    private static ColumnProfile?[] CreateProfiles(ImmutableArray<string> names, int labelIndex, char separator, int sampleRows, string where)
    {
        var duplicate = names.Where(n => n.Length > 0).GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            CtrThrow.ArgumentOutOfRange(nameof(names), $"Column '{duplicate.Key}' appears more than once in {where}; a feature spec names columns uniquely.");
        if (names.Any(n => n.Length == 0))
            CtrThrow.ArgumentOutOfRange(nameof(names), $"A column of {where} has an empty name; a feature spec names every column.");
        if (names.Length < 2)
            CtrThrow.ArgumentOutOfRange(nameof(names), $"There is no column besides the label in {where}.");
        return [.. names.Select((n, i) => i == labelIndex ? null : new ColumnProfile(n, separator, sampleRows))];
    }

    private delegate ReadOnlySpan<char> TextGetter();

    private static bool IsSupported(DataViewType type) =>
        type is TextDataViewType || type is NumberDataViewType;

    private static TextGetter CreateTextGetter(DataViewRow row, DataViewSchema.Column column)
    {
        if (column.Type is TextDataViewType)
        {
            ValueGetter<ReadOnlyMemory<char>> text = row.GetGetter<ReadOnlyMemory<char>>(column);
            ReadOnlyMemory<char> value = default;
            return () =>
            {
                text(ref value);
                return value.Span;
            };
        }
        Type raw = column.Type.RawType;
        if (raw == typeof(float))
            return Formatted<float>(row, column, static v => float.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture));
        if (raw == typeof(double))
            return Formatted<double>(row, column, static v => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture));
        if (raw == typeof(sbyte))
            return Formatted<sbyte>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        if (raw == typeof(byte))
            return Formatted<byte>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        if (raw == typeof(short))
            return Formatted<short>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        if (raw == typeof(ushort))
            return Formatted<ushort>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        if (raw == typeof(int))
            return Formatted<int>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        if (raw == typeof(uint))
            return Formatted<uint>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        if (raw == typeof(long))
            return Formatted<long>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
        return Formatted<ulong>(row, column, static v => v.ToString(CultureInfo.InvariantCulture));
    }

    private static TextGetter Formatted<T>(DataViewRow row, DataViewSchema.Column column, Func<T, string> format)
    {
        ValueGetter<T> getter = row.GetGetter<T>(column);
        T value = default!;
        return () =>
        {
            getter(ref value);
            return format(value);
        };
    }
}
