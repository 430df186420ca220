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

[TestClass]
public sealed class CsvDataSourceTest
{
    private const string Header = "click,user,price,tags";
    private const string GoodBefore = "1,u1,2.5,\"a|b\"";
    private const string GoodAfter = "0,u2,,c";

    private static readonly CsvDataSource.Options Columns = new()
    {
        Columns =
        [
            new("click", CsvColumnKind.Label),
            new("user", CsvColumnKind.Text),
            new("price", CsvColumnKind.Single),
            new("tags", CsvColumnKind.Text),
        ],
    };

    // Each case: a bad data row on line 3 between two good ones (or last, where a quote swallows the rest of the
    // file), the column the message must name, and words of the problem.
    public static IEnumerable<object[]> BadRows =>
    [
        ["too few fields", Bytes("0,u9,1.5"), false, "column 'tags' (4)", "the row has 3 fields but the header has 4"],
        ["too many fields", Bytes("0,u9,1.5,x,extra"), false, "column 5", "the row has 5 fields but the header has 4"],
        ["unclosed quote", Bytes("0,\"u9,1.5,x"), true, "column 'user' (2)", "its closing quote never comes"],
        ["stray quote", Bytes("0,u\"9,1.5,x"), true, "column 'user' (2)", "has a quote but does not start with one"],
        ["text after a closing quote", Bytes("0,\"u9\"x,1.5,t"), false, "column 'user' (2)", "text after its closing quote"],
        ["text in a numeric column", Bytes("0,u9,abc,x"), false, "column 'price' (3)", "'abc' is not a number"],
        ["NaN literal", Bytes("0,u9,NaN,x"), false, "column 'price' (3)", "'NaN' is not a finite number"],
        ["Infinity literal", Bytes("0,u9,-Infinity,x"), false, "column 'price' (3)", "'-Infinity' is not a finite number"],
        ["float overflow", Bytes("0,u9,1e39,x"), false, "column 'price' (3)", "'1e39' is too large for a 32-bit float"],
        ["2 MB field", Bytes("0,u9,1.5," + new string('x', 2_000_000)), false, "column 'tags' (4)", "the field has 2,000,000 characters, over the limit of 1,048,576"],
        ["not UTF-8", (byte[])[.. Bytes("0,u"), 0xFF, 0xFE, .. Bytes("9,1.5,x")], false, "column 'user' (2)", "bytes that are not UTF-8"],
        ["label not 0 or 1", Bytes("2,u9,1.5,x"), false, "column 'click' (1)", "'2' is not a label"],
        ["empty label", Bytes(",u9,1.5,x"), false, "column 'click' (1)", "the label is empty"],
    ];

    public static string CaseName(System.Reflection.MethodInfo method, object[] data) => $"{method.Name} ({data[0]})";

    [TestMethod]
    [DynamicData(nameof(BadRows), DynamicDataDisplayName = nameof(CaseName))]
    public void CsvDataSourceTest_BadRowErrorNamesFileLineAndColumn(string name, byte[] badRow, bool last, string column, string problem)
    {
        using var dir = new TemporaryDirectory();
        string path = WriteCase(dir, badRow, last);
        CsvDataSource sut = CsvDataSource.Load(path, Columns);

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => sut.GetColumn<float>("click").ToArray(), name);

        int line = last ? 4 : 3;
        StringAssert.StartsWith(error.Message, $"{path} line {line}, {column}: ");
        StringAssert.Contains(error.Message, problem);
        StringAssert.Contains(error.Message, "to skip such rows.");
        Assert.AreEqual(line, error.BadRow.Line);
        Assert.AreEqual(path, error.BadRow.Path);
        Assert.IsNull(sut.Summary, "no complete pass");
    }

    [TestMethod]
    [DynamicData(nameof(BadRows), DynamicDataDisplayName = nameof(CaseName))]
    public void CsvDataSourceTest_SkipLeavesTheBadRowOutAndCountsIt(string name, byte[] badRow, bool last, string column, string problem)
    {
        using var dir = new TemporaryDirectory();
        string path = WriteCase(dir, badRow, last);
        CsvDataSource sut = CsvDataSource.Load(path, Columns with { BadRows = BadRowPolicy.Skip });

        float[] clicks = [.. sut.GetColumn<float>("click")];
        string[] users = [.. sut.GetColumn<ReadOnlyMemory<char>>("user").Select(v => v.ToString())];
        float[] prices = [.. sut.GetColumn<float>("price")];
        string[] tags = [.. sut.GetColumn<ReadOnlyMemory<char>>("tags").Select(v => v.ToString())];

        CollectionAssert.AreEqual(new[] { 1f, 0f }, clicks, name);
        CollectionAssert.AreEqual(new[] { "u1", "u2" }, users);
        CollectionAssert.AreEqual(new[] { 2.5f, float.NaN }, prices, "an empty numeric field is NaN, the missing value");
        CollectionAssert.AreEqual(new[] { "a|b", "c" }, tags);
        CsvReadSummary summary = sut.Summary!;
        Assert.AreEqual(2, summary.Rows);
        Assert.AreEqual(1, summary.BadRowsSkipped, "counted once however many passes were made");
        StringAssert.StartsWith(summary.FirstBadRow!.ToString(), $"{path} line {(last ? 4 : 3)}, {column}: ");
        StringAssert.Contains(summary.FirstBadRow.ToString(), problem);
        CollectionAssert.AreEqual(new[] { last ? 2L : 1L }, summary.SkippedRows.ToArray());
    }

    // With the bad row last, the good rows are both before it.
    private static string WriteCase(TemporaryDirectory dir, byte[] badRow, bool last)
    {
        string path = Path.Combine(dir.Path, "train.csv");
        byte[] newline = Bytes("\n");
        byte[][] lines = last
            ? [Bytes(Header), Bytes(GoodBefore), Bytes(GoodAfter), badRow]
            : [Bytes(Header), Bytes(GoodBefore), badRow, Bytes(GoodAfter)];
        File.WriteAllBytes(path, [.. lines.SelectMany(l => l.Concat(newline))]);
        return path;
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [TestMethod]
    [DataRow(BadRowPolicy.Error)]
    [DataRow(BadRowPolicy.Skip)]
    public void CsvDataSourceTest_EmptyFileIsAnErrorWhateverThePolicy(BadRowPolicy policy)
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, "\n \n");

        FormatException sut = Assert.ThrowsExactly<FormatException>(() => CsvDataSource.Load(path, Columns with { BadRows = policy }));

        Assert.AreEqual($"{path} line 1: the file is empty; expected a header row with the column names, separated by ','.", sut.Message);
    }

    [TestMethod]
    [DataRow(BadRowPolicy.Error)]
    [DataRow(BadRowPolicy.Skip)]
    public void CsvDataSourceTest_HeaderWithoutTheLabelIsAnErrorWhateverThePolicy(BadRowPolicy policy)
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, "user,price,tags\nu1,2.5,a\n");
        CsvDataSource.Options options = Columns with { BadRows = policy, Columns = [new("click", CsvColumnKind.Label, "it is the label"), .. Columns.Columns.Skip(1)] };

        ArgumentOutOfRangeException sut = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CsvDataSource.Load(path, options));

        StringAssert.StartsWith(sut.Message, $"{path} line 1 (header): there is no column 'click'; it is the label. Add the column to the file (the header has: user, price, tags).");
    }

    [TestMethod]
    public void CsvDataSourceTest_HeaderThatIsNotUtf8IsAnError()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllBytes(path, [.. Bytes("click,us"), 0xC3, 0x28, .. Bytes("er,price,tags\n1,u1,2.5,a\n")]);

        FormatException sut = Assert.ThrowsExactly<FormatException>(() => CsvDataSource.Load(path, Columns with { BadRows = BadRowPolicy.Skip }));

        StringAssert.StartsWith(sut.Message, $"{path} line 1, column ");
        StringAssert.Contains(sut.Message, "(2): the field has bytes that are not UTF-8 text (in the header row); save the file as UTF-8.");
    }

    [TestMethod]
    public void CsvDataSourceTest_MaxFieldLengthIsAnOption()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, $"{Header}\n1,u1,2.5,abcd\n0,u2,1,abcdef\n");

        CsvDataSource sut = CsvDataSource.Load(path, Columns with { MaxFieldLength = 5, BadRows = BadRowPolicy.Skip });

        Assert.AreEqual(1, sut.GetColumn<float>("click").Count());
        Assert.AreEqual($"{path} line 3, column 'tags' (4): the field has 6 characters, over the limit of 5", sut.Summary!.FirstBadRow!.ToString());
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => CsvDataSource.Load(path, Columns with { MaxFieldLength = 0 }));
    }

    [TestMethod]
    public void CsvDataSourceTest_AnUnclosedQuoteStopsBeforeReadingTheWholeFileIntoMemory()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllLines(path, [Header, GoodBefore, "0,\"u9,1.5,x", .. Enumerable.Repeat(GoodAfter, 50_000)]);
        CsvDataSource sut = CsvDataSource.Load(path, Columns with { MaxFieldLength = 100 });
        CsvDataSource skipping = CsvDataSource.Load(path, Columns with { MaxFieldLength = 100, BadRows = BadRowPolicy.Skip });

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => sut.GetColumn<float>("click").ToArray());

        Assert.AreEqual($"{path} line 3, column 'user' (2): a quoted field starts here and its closing quote never comes, and the row runs on past 66,536 characters", error.BadRow.ToString());
        StringAssert.EndsWith(error.Message, "or set BadRowPolicy.Skip to skip such rows.");
        Assert.AreEqual(1 + 50_000, skipping.GetColumn<float>("click").Count(), "skipping leaves out the quote's line and reads on from the next");
    }

    [TestMethod]
    public void CsvDataSourceTest_AnUnclosedQuoteInTheHeaderStopsToo()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllLines(path, ["click,\"user,price,tags", .. Enumerable.Repeat(GoodAfter, 50_000)]);

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => CsvDataSource.Load(path, Columns with { MaxFieldLength = 100 }));

        StringAssert.StartsWith(error.Message, $"{path} line 1, column 2: a quoted field starts here and its closing quote never comes, and the row runs on past ");
    }

    [TestMethod]
    public void CsvDataSourceTest_ReadsQuotingCrLfBomAndBlankLinesLikeACsvFile()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Bytes("click,user,price,tags,extra\r\n1,\"u,1\", 3.25 ,\"say \"\"hi\"\"\nthere\",z\r\n\r\n0,é,-1e-3,,z\r\n")]);

        CsvDataSource sut = CsvDataSource.Load(path, Columns);

        Assert.AreEqual("click", sut.Header[0], "the BOM is not part of the first name");
        CollectionAssert.AreEqual(new[] { "u,1", "é" }, sut.GetColumn<ReadOnlyMemory<char>>("user").Select(v => v.ToString()).ToArray());
        CollectionAssert.AreEqual(new[] { 3.25f, -1e-3f }, sut.GetColumn<float>("price").ToArray());
        CollectionAssert.AreEqual(new[] { "say \"hi\"\nthere", "" }, sut.GetColumn<ReadOnlyMemory<char>>("tags").Select(v => v.ToString()).ToArray());
        Assert.AreEqual(new CsvReadSummary(2, 0, null, []).Rows, sut.Summary!.Rows);
    }

    [TestMethod]
    public void CsvDataSourceTest_EveryPassSeesTheSameRowsWhicheverColumnsItReads()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, $"{Header}\n1,u1,2.5,a\n0,u2,oops,b\n1,u3,4,c\n");
        CsvDataSource sut = CsvDataSource.Load(path, Columns with { BadRows = BadRowPolicy.Skip });

        string[] users = [.. sut.GetColumn<ReadOnlyMemory<char>>("user").Select(v => v.ToString())];
        float[] clicks = [.. sut.GetColumn<float>("click")];

        CollectionAssert.AreEqual(new[] { "u1", "u3" }, users, "a pass that does not read price still skips the row whose price is bad");
        CollectionAssert.AreEqual(new[] { 1f, 1f }, clicks);
        Assert.AreEqual(1, sut.Summary!.BadRowsSkipped);
    }

    [TestMethod]
    public void CsvDataSourceTest_AFileWhoseHeaderChangedBetweenPassesIsAnError()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, $"{Header}\n1,u1,2.5,a\n");
        CsvDataSource sut = CsvDataSource.Load(path, Columns);
        Assert.AreEqual(1, sut.GetColumn<float>("price").Count());

        File.WriteAllText(path, "click,price,user,tags\n1,2.5,u1,a\n");

        InvalidOperationException error = Assert.ThrowsExactly<InvalidOperationException>(() => sut.GetColumn<float>("price").ToArray());
        StringAssert.Contains(error.Message, "the header changed since the file was loaded");
    }

    [TestMethod]
    public void CsvDataSourceTest_TextValuesStayValidAfterTheCursorMoves()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllLines(path, [Header, .. Enumerable.Range(0, 20_000).Select(i => $"{i % 2},user{i},{i},tag{i}")]);
        CsvDataSource sut = CsvDataSource.Load(path, Columns);

        var kept = new List<ReadOnlyMemory<char>>();
        using (DataViewRowCursor cursor = sut.GetRowCursor(sut.Schema))
        {
            ValueGetter<ReadOnlyMemory<char>> user = cursor.GetGetter<ReadOnlyMemory<char>>(sut.Schema["user"]);
            while (cursor.MoveNext())
            {
                ReadOnlyMemory<char> value = default;
                user(ref value);
                kept.Add(value);
            }
        }

        CollectionAssert.AreEqual(Enumerable.Range(0, 20_000).Select(i => $"user{i}").ToArray(), kept.Select(v => v.ToString()).ToArray());
    }

    [TestMethod]
    public void CsvDataSourceTest_FeatureSpecLoadCsvReadsTheSameWay()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, $"{Header}\n1,u1,2.5,a\n0,u2,abc,b\n");
        var spec = new FeatureSpec("click", [new FeatureColumnSpec("user", FeatureColumnSpec.Categorical), new FeatureColumnSpec("price", FeatureColumnSpec.Numeric)]);
        var ml = new MLContext(seed: 1);

        CsvBadRowException error = Assert.ThrowsExactly<CsvBadRowException>(() => spec.LoadCsv(ml, path).GetColumn<float>("price").ToArray());
        CsvDataSource skipping = spec.LoadCsv(ml, path, badRows: BadRowPolicy.Skip);

        Assert.AreEqual($"{path} line 3, column 'price' (3): 'abc' is not a number; fix the value, or leave the field empty for a missing value, or set BadRowPolicy.Skip to skip such rows.", error.Message);
        CollectionAssert.AreEqual(new[] { 2.5f }, skipping.GetColumn<float>("price").ToArray());
        Assert.AreEqual(1, skipping.Summary!.BadRowsSkipped);
    }

    [TestMethod]
    public void CsvDataSourceTest_InferenceSkipsMalformedRowsWhenAsked()
    {
        using var dir = new TemporaryDirectory();
        string path = Path.Combine(dir.Path, "train.csv");
        File.WriteAllText(path, "click,user,price\n1,u1,2.5\n0,u2\n1,u3,4\n");

        Assert.Throws<FormatException>(() => FeatureSpecInference.FromCsv(path));
        FeatureSpec sut = FeatureSpecInference.FromCsv(path, badRows: BadRowPolicy.Skip);

        Assert.IsTrue(sut.Features.Single(f => f.Name == "price").IsNumeric);
    }
}
