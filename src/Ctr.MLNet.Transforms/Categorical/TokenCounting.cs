using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;

namespace Ctr.MLNet.Transforms.Categorical;

/// <summary>One pass over the data that counts the normalized tokens of several columns.</summary>
internal static class TokenCounting
{
    /// <summary>
    /// Counts the tokens of each input column into <c>counts[group[i]]</c>; columns with the same group
    /// (a shared vocabulary) add to one table. Missing and outlier values are not counted.
    /// </summary>
    public static TermCounts[] Count(IDataView data, IReadOnlyList<string> inputColumns, IReadOnlyList<int> groups, IReadOnlyList<TokenNormalizer> normalizers)
    {
        var counts = Enumerable.Range(0, normalizers.Count).Select(_ => new TermCounts()).ToArray();
        var columns = inputColumns.Select(name => data.Schema[name]).ToArray();
        using DataViewRowCursor cursor = data.GetRowCursor(columns);
        var readers = columns.Select(c => TokenColumnReader.Create(cursor, c)).ToArray();
        Span<char> scratch = stackalloc char[TokenNormalizer.ScratchLength];
        while (cursor.MoveNext())
        {
            for (int c = 0; c < readers.Length; c++)
            {
                TokenColumnReader reader = readers[c];
                TokenNormalizer normalizer = normalizers[groups[c]];
                TermCounts target = counts[groups[c]];
                reader.Fetch();
                for (int i = 0; i < reader.Count; i++)
                {
                    if (normalizer.TryNormalize(reader[i], scratch, out ReadOnlySpan<char> token))
                        target.Add(token);
                }
            }
        }
        return counts;
    }
}
