using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Ctr.MLNet.Transforms;

public static partial class FeatureSpecInference
{
    /// <summary>What the inference rules need to know about one column, gathered value by value over the sampled rows.</summary>
    internal sealed class ColumnProfile
    {
        private const int MinHexLength = 6;
        private const int MaxHexLength = 16;

        private readonly char _separator;
        private readonly long _multiValueCap;
        private readonly Dictionary<string, long> _singles = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _singlesLookup;
        private readonly Dictionary<string, long> _splitElements = new(StringComparer.Ordinal);
        private readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _splitLookup;
        private readonly HashSet<string> _multiValues = new(StringComparer.Ordinal);
        private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _multiLookup;
        private readonly HashSet<double> _distinctNumbers = [];
        private readonly long[] _hexByLength = new long[MaxHexLength + 1];

        public ColumnProfile(string name, char separator, int sampleRows)
        {
            Name = name;
            _separator = separator;
            // Once this many values hold the separator, the column is a list whatever follows, and its distinct
            // whole values (only needed for a scalar column) stop being tracked.
            _multiValueCap = ((long)sampleRows * ListPercent + 99) / 100;
            _singlesLookup = _singles.GetAlternateLookup<ReadOnlySpan<char>>();
            _splitLookup = _splitElements.GetAlternateLookup<ReadOnlySpan<char>>();
            _multiLookup = _multiValues.GetAlternateLookup<ReadOnlySpan<char>>();
        }

        public string Name { get; }

        /// <summary>The column's type is a list (a Parquet list column): a list whatever its sampled values hold.</summary>
        public bool IsListType { get; set; }

        public long Rows { get; private set; }

        /// <summary>Values that are not empty after trimming.</summary>
        public long NonEmpty { get; private set; }

        /// <summary>Non-empty values holding the list separator.</summary>
        public long WithSeparator { get; private set; }

        /// <summary>Non-empty values that are finite numbers.</summary>
        public long Numbers { get; private set; }

        /// <summary>The finite numbers, in row order.</summary>
        public List<double> NumberValues { get; } = [];

        /// <summary>Whether every finite number is a whole number.</summary>
        public bool AllIntegers { get; private set; } = true;

        /// <summary>Distinct finite numbers, counted up to <see cref="MaxCategoricalIntegers"/> + 1.</summary>
        public int DistinctNumbers => _distinctNumbers.Count;

        /// <summary>Values made of hex digits only, 6 to 16 of them, with at least one letter a–f.</summary>
        public long HexWithLetter { get; private set; }

        /// <summary>The most values that are hex digits only and share one length from 6 to 16.</summary>
        public long FixedWidthHex
        {
            get
            {
                long best = 0;
                foreach (long count in _hexByLength)
                    best = Math.Max(best, count);
                return best;
            }
        }

        /// <summary>List elements of the non-empty values (a value without the separator is one element).</summary>
        public long Elements { get; private set; }

        /// <summary>List elements that are finite numbers.</summary>
        public long NumericElements { get; private set; }

        /// <summary>Number of elements of each sampled row, 0 for an empty value.</summary>
        public List<int> Lengths { get; } = [];

        /// <summary>Distinct non-empty whole values: the cardinality of a scalar column.</summary>
        public long DistinctValues => _singles.Count + _multiValues.Count;

        /// <summary>
        /// Share of the sampled values that occur more than once: about the chance that a new draw from this
        /// column is already in the sample. A small sample of a long-tailed id column covers little of it.
        /// </summary>
        public double SelfCoverage
        {
            get
            {
                long repeated = 0, total = 0;
                foreach (long count in _singles.Values)
                {
                    total += count;
                    if (count > 1)
                        repeated += count;
                }
                return total == 0 ? 0 : (double)repeated / total;
            }
        }

        /// <summary>Whether the whole value occurs among the sampled values.</summary>
        public bool HasValue(string value) => _singles.ContainsKey(value) || _multiValues.Contains(value);

        /// <summary>The distinct non-empty whole values.</summary>
        public IEnumerable<string> Values
        {
            get
            {
                foreach (string value in _singles.Keys)
                    yield return value;
                foreach (string value in _multiValues)
                    yield return value;
            }
        }

        /// <summary>Every distinct element with its number of occurrences.</summary>
        public IEnumerable<KeyValuePair<string, long>> ElementCounts
        {
            get
            {
                foreach (KeyValuePair<string, long> pair in _singles)
                    yield return _splitElements.TryGetValue(pair.Key, out long more) ? new(pair.Key, pair.Value + more) : pair;
                foreach (KeyValuePair<string, long> pair in _splitElements)
                {
                    if (!_singles.ContainsKey(pair.Key))
                        yield return pair;
                }
            }
        }

        public void Add(ReadOnlySpan<char> raw)
        {
            Rows++;
            ReadOnlySpan<char> value = raw.Trim();
            if (value.IsEmpty)
            {
                Lengths.Add(0);
                return;
            }
            NonEmpty++;
            bool isNumber = TryParseNumber(value, out double number);
            if (isNumber)
            {
                Numbers++;
                NumberValues.Add(number);
                if (number != Math.Floor(number))
                    AllIntegers = false;
                if (_distinctNumbers.Count <= MaxCategoricalIntegers)
                    _distinctNumbers.Add(number);
            }
            CountHex(value);

            if (value.IndexOf(_separator) < 0)
            {
                Elements++;
                if (isNumber)
                    NumericElements++;
                CollectionsMarshal.GetValueRefOrAddDefault(_singlesLookup, value, out _)++;
                Lengths.Add(1);
                return;
            }

            WithSeparator++;
            if (WithSeparator <= _multiValueCap)
                _multiLookup.Add(value);
            int length = 0;
            foreach (Range range in value.Split(_separator))
            {
                ReadOnlySpan<char> element = value[range].Trim();
                length++;
                Elements++;
                if (TryParseNumber(element, out _))
                    NumericElements++;
                CollectionsMarshal.GetValueRefOrAddDefault(_splitLookup, element, out _)++;
            }
            Lengths.Add(length);
        }

        private void CountHex(ReadOnlySpan<char> value)
        {
            if (value.Length is < MinHexLength or > MaxHexLength)
                return;
            bool letter = false;
            foreach (char c in value)
            {
                if (char.IsAsciiHexDigit(c))
                    letter |= !char.IsAsciiDigit(c);
                else
                    return;
            }
            _hexByLength[value.Length]++;
            if (letter)
                HexWithLetter++;
        }
    }

    /// <summary>A finite number in the invariant culture (sign, decimals, exponent; no thousands separators).</summary>
    /// <remarks>
    /// A trimmed finite number starts with a digit, a sign or a decimal point; anything else is rejected before the
    /// (much slower) parse, which matters for hashed ids.
    /// </remarks>
    internal static bool TryParseNumber(ReadOnlySpan<char> text, out double value)
    {
        value = 0;
        ReadOnlySpan<char> trimmed = text.TrimStart();
        if (trimmed.IsEmpty || !(char.IsAsciiDigit(trimmed[0]) || trimmed[0] is '+' or '-' or '.' or '\u2212'))
            return false;
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }
}
