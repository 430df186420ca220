using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

/// <summary>Runaway rows at sizes beyond Sep's own limit, and list and weight fields, as bad rows named and skippable.</summary>
[TestClass]
public sealed class CsvHostileInputTest
{
    // Ten columns: the old runaway limit, 2·(10+1)·1 MiB + 64 Ki, was above Sep's 16 Mi characters.
    private const string Header = "click,c1,c2,c3,c4,c5,c6,c7,c8,c9";
    private const string Good = "0,a,b,c,d,e,f,g,h,i";

    private static readonly CsvDataSource.Options Columns = new()
    {
        Columns = [new("click", CsvColumnKind.Label), .. Enumerable.Range(1, 9).Select(i => new CsvDataSource.Column($"c{i}", CsvColumnKind.Text))],
    };

    /// <summary>Header, 3 good rows, <paramref name="bad"/> on line 5, then good rows worth over 16 Mi characters.</summary>
    private static string WriteBigFile(TemporaryDirectory dir, string bad, out int goodRows)
    {
        string path = Path.Combine(dir.Path, "big.csv");
        string filler = new('x', 1000);
        string row = $"1,a,b,c,d,e,f,g,h,{filler}";
        int after = 17_500_000 / row.Length;
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            writer.Write(Header + "\n" + Good + "\n" + Good + "\n" + Good + "\n");
            writer.Write(bad);
            writer.Write('\n');
            for (int i = 0; i < after; i++)
            {
                writer.Write(row);
                writer.Write('\n');
            }
        }
        goodRows = 3 + after;
        return path;
    }

    [TestMethod]
    public void CsvHostileInputTest_AnUnclosedQuoteInABigFileIsABadRowNamedAndSkippable()
    {
        using var dir = new TemporaryDirectory();
        string path = WriteBigFile(dir, "0,a,\"b,c,d,e,f,g,h,i", out int goodRows);

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => CsvDataSource.Load(path, Columns).GetColumn<float>("click").Count());
        CsvDataSource skipping = CsvDataSource.Load(path, Columns with { BadRows = BadRowPolicy.Skip });
        float[] labels = [.. skipping.GetColumn<float>("click")];

        Assert.AreEqual($"{path} line 5, column 'c2' (3): a quoted field starts here and its closing quote never comes, and the row runs on past 8,388,608 characters", error.BadRow.ToString());
        StringAssert.EndsWith(error.Message, "or set BadRowPolicy.Skip to skip such rows.");
        Assert.HasCount(goodRows, labels, "only the line with the unclosed quote is left out");
        Assert.AreEqual(1, skipping.Summary!.BadRowsSkipped);
        CollectionAssert.AreEqual(new long[] { 3 }, skipping.Summary.SkippedRows.ToArray());
        Assert.AreEqual(goodRows - 3, labels.Count(l => l == 1f), "every row after it is read");
    }

    [TestMethod]
    public void CsvHostileInputTest_ALineOf20MillionCharactersIsABadRowNamedAndSkippable()
    {
        using var dir = new TemporaryDirectory();
        string path = WriteBigFile(dir, "0,a,b,c,d,e,f,g,h," + new string('y', 20_000_000), out int goodRows);

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => CsvDataSource.Load(path, Columns).GetColumn<float>("click").Count());
        CsvDataSource skipping = CsvDataSource.Load(path, Columns with { BadRows = BadRowPolicy.Skip });

        Assert.AreEqual($"{path} line 5, column 'c9' (10): the line runs on past 8,388,608 characters", error.BadRow.ToString());
        StringAssert.Contains(error.Message, "shorten the line");
        Assert.AreEqual(goodRows, skipping.GetColumn<float>("click").Count());
        Assert.AreEqual(1, skipping.Summary!.BadRowsSkipped);
    }

    [TestMethod]
    public void CsvHostileInputTest_RowsAfterASkippedRunawayKeepTheirLineNumbers()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "small.csv");
        File.WriteAllText(path, "click,user,price\n1,u1,1\n0,\"u2,2\n1,u3,3\n1,u4,abc\n" + string.Concat(Enumerable.Repeat("0,u5,5\n", 20_000)));
        var options = new CsvDataSource.Options
        {
            Columns = [new("click", CsvColumnKind.Label), new("user", CsvColumnKind.Text), new("price", CsvColumnKind.Single)],
            MaxFieldLength = 100,
            BadRows = BadRowPolicy.Skip,
        };
        CsvDataSource sut = CsvDataSource.Load(path, options);

        string[] users = [.. sut.GetColumn<ReadOnlyMemory<char>>("user").Select(u => u.ToString())];

        CollectionAssert.AreEqual(new[] { "u1", "u3", "u5" }, users.Take(3).ToArray());
        Assert.HasCount(2 + 20_000, users);
        var error = Assert.ThrowsExactly<CsvBadRowException>(() => CsvDataSource.Load(path, options with { BadRows = BadRowPolicy.Error }).GetColumn<float>("price").Count());
        StringAssert.StartsWith(error.Message, $"{path} line 3, column 'user' (2)");
        // The runaway row and the bad number after it (line 5) are both left out.
        Assert.AreEqual(2, sut.Summary!.BadRowsSkipped);
        StringAssert.StartsWith(sut.Summary.FirstBadRow!.ToString(), $"{path} line 3,");
        CollectionAssert.AreEqual(new long[] { 1, 3 }, sut.Summary.SkippedRows.ToArray());
    }

    private static readonly FeatureSpec Spec = FeatureSpec.FromJson("""
        {
          "label": "click",
          "features": [
            { "name": "item", "dtype": "categorical" },
            { "name": "hist", "dtype": "categorical", "islist": true, "weight_col": "w" }
          ]
        }
        """);

    // Each case: the history and weights fields of line 3, and words of the problem.
    public static IEnumerable<object[]> BadWeights =>
    [
        ["empty weights", "i3|i4", "", "the row has 0 weight(s) for the 2 element(s) of 'hist'"],
        ["one weight short", "i3|i4|i5", "1|2", "the row has 2 weight(s) for the 3 element(s) of 'hist'"],
        ["trailing separator", "i3|i4|", "1|2", "the row has 2 weight(s) for the 3 element(s) of 'hist'"],
        ["NaN", "i3|i4", "1|NaN", "weight 2 ('NaN') is not a finite 32-bit float"],
        ["Infinity", "i3|i4", "Infinity|1", "weight 1 ('Infinity') is not a finite 32-bit float"],
        ["1e39", "i3|i4", "1e39|1", "weight 1 ('1e39') is not a finite 32-bit float"],
        ["text", "i3|i4", "1|heavy", "weight 2 ('heavy') is not a number"],
        ["empty weight", "i3|i4|i5", "1||2", "weight 2 ('') is not a number"],
        ["negative", "i3|i4", "1|-2", "weight 2 ('-2') is negative"],
        ["sum past Single", "i3|i4", "3e38|3e38", "the weights add up to 6E+38, beyond the range of a 32-bit float"],
    ];

    public static string CaseName(System.Reflection.MethodInfo method, object[] data) => $"{method.Name} ({data[0]})";

    private static string WriteLists(TemporaryDirectory dir, string hist, string weights)
    {
        string path = Path.Combine(dir.Path, "lists.csv");
        File.WriteAllText(path, $"click,item,hist,w\n1,i1,i1|i2,1|2\n0,i2,\"{hist}\",\"{weights}\"\n1,i3,,\n");
        return path;
    }

    [TestMethod]
    [DynamicData(nameof(BadWeights), DynamicDataDisplayName = nameof(CaseName))]
    public void CsvHostileInputTest_AListWeightErrorIsABadRowNamedAndSkippable(string name, string hist, string weights, string problem)
    {
        using var dir = new TemporaryDirectory();
        string path = WriteLists(dir, hist, weights);
        var ml = new MLContext(seed: 1);

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => Spec.LoadCsv(ml, path).GetColumn<float>("click").Count(), name);
        CsvDataSource skipping = Spec.LoadCsv(ml, path, badRows: BadRowPolicy.Skip);

        Assert.AreEqual($"{path} line 3, column 'w' (4): {problem}", error.BadRow.ToString(), name);
        CollectionAssert.AreEqual(new[] { 1f, 1f }, skipping.GetColumn<float>("click").ToArray(), name);
        Assert.AreEqual(1, skipping.Summary!.BadRowsSkipped, name);
    }

    [TestMethod]
    public void CsvHostileInputTest_AnEmptyListElementIsAMissingElementNotABadRow()
    {
        using var dir = new TemporaryDirectory();
        string path = WriteLists(dir, "i3||i4", "1|2|3");
        var ml = new MLContext(seed: 1);
        CsvDataSource data = Spec.LoadCsv(ml, path);

        IDataView parsed = ml.Ctr().Transforms.ParseSequence("hist_parsed", "hist", weightColumnName: "w").Fit(data).Transform(data);
        string[][] lists = [.. parsed.GetColumn<ReadOnlyMemory<char>[]>("hist_parsed").Select(l => l.Select(e => e.ToString()).ToArray())];

        Assert.AreEqual(3, data.GetColumn<float>("click").Count());
        CollectionAssert.AreEqual(new[] { "i3", "", "i4" }, lists[1], "kept in its place, with its weight");
    }
}
