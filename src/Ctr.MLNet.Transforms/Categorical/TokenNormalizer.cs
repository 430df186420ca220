using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace Ctr.MLNet.Transforms.Categorical;

/// <summary>
/// Turns a raw categorical value into the token that is counted, looked up or hashed.
/// Order: trim, drop missing and outlier tokens (compared case-insensitively), fold case if asked,
/// and write plain decimal numbers canonically ("3.0", "3.00" and "+3" all become "3").
/// Leading zeros are kept on purpose: "007" and "7" are different ids.
/// </summary>
internal sealed class TokenNormalizer
{
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _outliers;
    // Bit n set: an outlier token has n chars (bit 63: 63 or more). Case-insensitive ordinal equality keeps the
    // length, so most ids skip the hash of the set, which costs as much as the vocabulary lookup that follows.
    private readonly ulong _outlierLengths;
    private readonly bool _foldCase;

    public TokenNormalizer(bool foldCase, IEnumerable<string> outlierTokens)
    {
        _foldCase = foldCase;
        var outliers = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string token in outlierTokens)
        {
            string trimmed = token.Trim();
            outliers.Add(trimmed);
            _outlierLengths |= LengthBit(trimmed);
        }
        _outliers = outliers.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Longest token written to <c>scratch</c>; longer tokens are normalized in a heap buffer.</summary>
    public const int ScratchLength = 256;

    /// <summary>
    /// Returns false when the value is missing or an outlier (it maps to the OOV index).
    /// <paramref name="token"/> may point into <paramref name="scratch"/>.
    /// </summary>
    // Inlined into the lookup loops: as a call, returning the token through `out`, it cost nearly as much per value
    // (~27 ns, benchmarks/results/serving-vocab-lookup.md) as the table lookup that follows it.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryNormalize(ReadOnlySpan<char> raw, Span<char> scratch, out ReadOnlySpan<char> token)
    {
        token = raw.Trim();
        if (token.IsEmpty || ((_outlierLengths & LengthBit(token)) != 0 && _outliers.Contains(token)))
            return false;

        if (_foldCase && HasUpper(token))
        {
            Span<char> lower = token.Length <= scratch.Length ? scratch[..token.Length] : new char[token.Length];
            token.ToLowerInvariant(lower);
            token = lower;
        }
        token = CanonicalDecimal(token);
        return !token.IsEmpty;
    }

    private static ulong LengthBit(ReadOnlySpan<char> token) => 1UL << Math.Min(token.Length, 63);

    private static bool HasUpper(ReadOnlySpan<char> token)
    {
        foreach (char c in token)
        {
            if (char.IsUpper(c))
                return true;
        }
        return false;
    }

    /// <summary>
    /// For a plain decimal ([+-]digits[.digits]) drops a leading '+', trailing fractional zeros and a bare
    /// point, and turns "-0" into "0". Anything else (hex ids, exponents, text) is returned unchanged.
    /// The result is always a slice of the input.
    /// </summary>
    internal static ReadOnlySpan<char> CanonicalDecimal(ReadOnlySpan<char> token)
    {
        int start = token.Length > 0 && (token[0] == '+' || token[0] == '-') ? 1 : 0;
        int point = -1;
        int digits = 0;
        for (int i = start; i < token.Length; i++)
        {
            char c = token[i];
            if (c == '.' && point < 0)
                point = i;
            else if (char.IsAsciiDigit(c))
                digits++;
            else
                return token;
        }
        // Needs a digit before and after any point: ".5" and "5." are left alone.
        if (digits == 0 || (point >= 0 && (point == start || point == token.Length - 1)))
            return token;

        if (point >= 0)
        {
            int end = token.Length;
            while (token[end - 1] == '0')
                end--;
            if (end - 1 == point)
                end--;
            token = token[..end];
        }
        if (token[0] == '+')
            token = token[1..];
        if (token[0] == '-' && token[1..].TrimStart('0') is var magnitude && (magnitude.IsEmpty || magnitude is "."))
            token = token[1..];
        return token;
    }
}
