using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using Parquet;
using Parquet.Schema;
using static Ctr.MLNet.Tests.Helpers.ParquetTestFiles;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class ParquetDataSourceTest
{
    private static readonly ParquetDataSource.Options AllKinds = new()
    {
        Columns =
        [
            new("click", ParquetColumnKind.Label),
            new("user", ParquetColumnKind.Text),
            new("uid", ParquetColumnKind.Text),
            new("price", ParquetColumnKind.Single),
            new("ratio", ParquetColumnKind.Single),
            new("flag", ParquetColumnKind.Boolean),
            new("tags", ParquetColumnKind.Text),
            new("dwell", ParquetColumnKind.Weights),
            new("cost", ParquetColumnKind.Single),
        ],
    };

    private static string WriteAllKinds(string directory, int rowGroupRows = 2)
    {
        string path = Path.Combine(directory, "all.parquet");
        Write(path, rowGroupRows,
            new Column(new DataField<int>("click"), [1, 0, 1, 0, 1]),
            new Column(new DataField<string>("user"), ["u1", null, "u3", "", "ü5"]),
            new Column(new DataField<long>("uid"), [9_007_199_254_740_993L, 2L, -3L, 4L, 5L]),
            new Column(new DataField<double?>("price"), [2.5, null, double.NaN, 1e10, -0.125]),
            new Column(new DataField<float>("ratio"), [0.5f, 1f, 2f, 3f, 4f]),
            new Column(new DataField<bool>("flag"), [true, false, true, false, true]),
            new Column(List<string>("tags"), [new[] { "a", "b" }, null, new[] { "c" }, Array.Empty<string>(), new[] { "d", "e", "f" }]),
            new Column(List<float>("dwell"), [new[] { 1.5f, 2f }, null, new[] { 3f }, Array.Empty<float>(), new[] { 4f, 5f, 6f }]),
            new Column(new DataField<string>("unused"), ["x", "x", "x", "x", "x"]),
            new Column(new DecimalDataField("cost", 10, 2, isNullable: true), [12.25m, null, 0m, 1m, -3.5m]));
        return path;
    }

    private static List<object[]> ReadAll(IDataView data)
    {
        var rows = new List<object[]>();
        using DataViewRowCursor cursor = data.GetRowCursor(data.Schema);
        var getters = data.Schema.Select<DataViewSchema.Column, Func<object>>(c => c.Type switch
        {
            TextDataViewType => Get<ReadOnlyMemory<char>>(cursor, c, v => v.ToString()),
            BooleanDataViewType => Get<bool>(cursor, c, v => v),
            VectorDataViewType { ItemType: TextDataViewType } => Get<VBuffer<ReadOnlyMemory<char>>>(cursor, c, v => string.Join("|", v.DenseValues())),
            VectorDataViewType => Get<VBuffer<float>>(cursor, c, v => Joined(v.DenseValues())),
            _ => Get<float>(cursor, c, v => v),
        }).ToArray();
        while (cursor.MoveNext())
            rows.Add([.. getters.Select(g => g())]);
        return rows;
    }

    /// <summary>Numbers as the list columns' text is compared: invariant, whatever the machine's culture.</summary>
    private static string Joined(IEnumerable<float> values) => string.Join("|", values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    private static Func<object> Get<T>(DataViewRow row, DataViewSchema.Column column, Func<T, object> show)
    {
        ValueGetter<T> getter = row.GetGetter<T>(column);
        return () =>
        {
            T value = default!;
            getter(ref value);
            return show(value);
        };
    }

    [TestMethod]
    public void ParquetDataSourceTest_TypesNullsAndListsMapToTheViewsColumns()
    {
        using var directory = new TemporaryDirectory();
        ParquetDataSource sut = ParquetDataSource.Load(WriteAllKinds(directory.Path), AllKinds);

        Assert.AreEqual(NumberDataViewType.Single, sut.Schema["click"].Type);
        Assert.AreEqual(TextDataViewType.Instance, sut.Schema["uid"].Type);
        Assert.AreEqual(new VectorDataViewType(TextDataViewType.Instance), sut.Schema["tags"].Type);
        Assert.AreEqual(new VectorDataViewType(NumberDataViewType.Single), sut.Schema["dwell"].Type);
        Assert.IsNull(sut.Schema.GetColumnOrNull("unused"), "columns not asked for are not loaded");
        CollectionAssert.AreEqual(new[] { "click", "user", "uid", "price", "ratio", "flag", "tags", "dwell", "unused", "cost" }, sut.Header.ToArray());

        List<object[]> rows = ReadAll(sut);
        Assert.HasCount(5, rows);
        CollectionAssert.AreEqual(new object[] { 1f, "u1", "9007199254740993", 2.5f, 0.5f, true, "a|b", "1.5|2", 12.25f }, rows[0], "int64 ids keep every digit as text");
        CollectionAssert.AreEqual(new object[] { 0f, "", "2", float.NaN, 1f, false, "", "", float.NaN }, rows[1], "a null is missing: empty text, NaN, an empty list");
        Assert.IsTrue(float.IsNaN((float)rows[2][3]), "a stored NaN is missing too");
        CollectionAssert.AreEqual(new object[] { 1f, "ü5", "5", -0.125f, 4f, true, "d|e|f", "4|5|6", -3.5f }, rows[4]);
        Assert.AreEqual(5, sut.Summary!.Rows);
        CollectionAssert.AreEqual(rows.SelectMany(r => r.Select(v => v.ToString())).ToArray(), ReadAll(sut).SelectMany(r => r.Select(v => v.ToString())).ToArray(),
            "a second cursor reads the same rows: the view is re-readable");
    }

    [TestMethod]
    public void ParquetDataSourceTest_FolderOfPartitionsReadsAsOneViewWithTheKeysAsColumns()
    {
        using var directory = new TemporaryDirectory();
        foreach (var (day, part, users) in new[] { ("2026-12-02", 0, new[] { "c" }), ("2026-12-01", 1, new[] { "b" }), ("2026-12-01", 0, new[] { "a", "a2" }) })
        {
            Write(Path.Combine(directory.Path, $"date={day}", "country=DE%20X", $"part-{part:00000}.parquet"), 1,
                new Column(new DataField<int>("click"), [.. users.Select(_ => (object?)1)]), new Column(new DataField<string>("user"), users));
        }
        File.WriteAllText(Path.Combine(directory.Path, "_SUCCESS"), "");
        File.WriteAllText(Path.Combine(directory.Path, "date=2026-12-01", ".part-00000.parquet.crc"), "not parquet");

        ParquetDataSource sut = ParquetDataSource.Load(directory.Path, new ParquetDataSource.Options
        {
            Columns = [new("user", ParquetColumnKind.Text), new("date", ParquetColumnKind.Text), new("country", ParquetColumnKind.Text)],
        });

        Assert.HasCount(3, sut.Files);
        List<object[]> rows = ReadAll(sut);
        CollectionAssert.AreEqual(new[] { "a/2026-12-01/DE X", "a2/2026-12-01/DE X", "b/2026-12-01/DE X", "c/2026-12-02/DE X" },
            rows.Select(r => string.Join("/", r)).ToArray(), "files in path order, every row group, keys unescaped");
        CollectionAssert.AreEqual(new[] { "click", "user", "date", "country" }, sut.Header.ToArray());
    }

    [TestMethod]
    public void ParquetDataSourceTest_BadFilesAndRowsAreErrorsNamingFileRowGroupRowAndColumn()
    {
        using var directory = new TemporaryDirectory();
        string notParquet = Path.Combine(directory.Path, "fake.parquet");
        File.WriteAllText(notParquet, "click,user\n1,a\n");
        string good = WriteAllKinds(directory.Path);
        string badLabel = Path.Combine(directory.Path, "bad.parquet");
        Write(badLabel, 2,
            new Column(new DataField<int?>("click"), [1, 0, 1, null, 7]),
            new Column(new DataField<double>("price"), [1.0, 2.0, double.PositiveInfinity, 3.0, 4.0]));
        var labelAndPrice = new ParquetDataSource.Options { Columns = [new("click", ParquetColumnKind.Label), new("price", ParquetColumnKind.Single)] };

        var fake = Assert.ThrowsExactly<FormatException>(() => ParquetDataSource.Load(notParquet, AllKinds));
        var missing = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ParquetDataSource.Load(good, new ParquetDataSource.Options { Columns = [new("nope", ParquetColumnKind.Text, "the spec needs it")] }));
        var listAsNumber = Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => ParquetDataSource.Load(good, new ParquetDataSource.Options { Columns = [new("tags", ParquetColumnKind.Single)] }));
        var emptyFolder = Assert.ThrowsExactly<FormatException>(() => ParquetDataSource.Load(Directory.CreateDirectory(Path.Combine(directory.Path, "empty")).FullName, AllKinds));
        var infinity = Assert.ThrowsExactly<ParquetBadRowException>(() => ReadAll(ParquetDataSource.Load(badLabel, labelAndPrice)));
        ParquetDataSource skipping = ParquetDataSource.Load(badLabel, labelAndPrice with { BadRows = BadRowPolicy.Skip });
        List<object[]> kept = ReadAll(skipping);

        StringAssert.Contains(fake.Message, "fake.parquet: not a readable Parquet file");
        StringAssert.Contains(missing.Message, "all.parquet: there is no column 'nope'; the spec needs it");
        StringAssert.Contains(listAsNumber.Message, "column 'tags' is a list, which cannot be loaded as Single");
        StringAssert.Contains(emptyFolder.Message, "the folder holds no .parquet file");
        StringAssert.Contains(infinity.Message, "bad.parquet row group 1, row 3, column 'price': the value is Infinity, not a finite number");
        StringAssert.Contains(infinity.Message, "or set BadRowPolicy.Skip to skip such rows");
        Assert.HasCount(2, kept);
        Assert.AreEqual(3, skipping.Summary!.BadRowsSkipped);
        CollectionAssert.AreEqual(new long[] { 2, 3, 4 }, skipping.Summary.SkippedRows.ToArray());
        StringAssert.Contains(skipping.Summary.FirstBadRow, "row 3, column 'price'");
        var nullLabel = Assert.ThrowsExactly<ParquetBadRowException>(() => ReadAll(ParquetDataSource.Load(badLabel, new ParquetDataSource.Options { Columns = [new("click", ParquetColumnKind.Label)] })));
        StringAssert.Contains(nullLabel.Message, "row group 1, row 4, column 'click': the label is null");
    }

    [TestMethod]
    public void ParquetDataSourceTest_DictionaryPagesOtherEncodingsAndCodecsReadTheSameRows()
    {
        using var directory = new TemporaryDirectory();
        Column[] columns =
        [
            new(new DataField<int>("click"), [1, 0, 1, 0, 1, 1, 0]),
            new(new DataField<string>("user"), ["u1", null, "u1", "ü2", "", "u1", "u3"]),
            new(new DataField<long?>("uid"), [5L, null, 5L, -7L, 9_007_199_254_740_993L, 5L, 0L]),
            new(new DataField<double?>("price"), [2.5, null, 2.5, 1e10, -0.125, 2.5, 0.0]),
            new(new DataField<float>("ratio"), [0.5f, 1f, 2f, 3f, 4f, 5f, 6f]),
            new(List<string>("tags"), [new[] { "a", "b" }, null, new[] { "a" }, Array.Empty<string>(), new[] { "ü", "b", "a" }, new[] { "a", "a" }, null]),
            new(List<float>("dwell"), [new[] { 1.5f, 2f }, null, new[] { 3f }, Array.Empty<float>(), new[] { 4f, 5f, 6f }, new[] { 1f, 1f }, null]),
        ];
        var options = new ParquetDataSource.Options
        {
            Columns =
            [
                new("click", ParquetColumnKind.Label), new("user", ParquetColumnKind.Text), new("uid", ParquetColumnKind.Text), new("price", ParquetColumnKind.Single),
                new("ratio", ParquetColumnKind.Single), new("tags", ParquetColumnKind.Text), new("dwell", ParquetColumnKind.Weights),
            ],
        };
        var variants = new (string Name, ParquetOptions Writer, string Column, Parquet.Meta.Encoding? Encoding)[]
        {
            ("plain", new ParquetOptions(), "user", Parquet.Meta.Encoding.PLAIN),
            ("dictionary", new ParquetOptions { DictionaryEncodingThreshold = 1, ColumnEncodingHints = { ["user"] = EncodingHint.Dictionary, ["tags/list/element"] = EncodingHint.Dictionary } },
                "tags", Parquet.Meta.Encoding.PLAIN_DICTIONARY),
            ("delta", new ParquetOptions { ColumnEncodingHints = { ["click"] = EncodingHint.DeltaBinaryPacked, ["uid"] = EncodingHint.DeltaBinaryPacked } },
                "uid", Parquet.Meta.Encoding.DELTA_BINARY_PACKED),
            ("gzip", new ParquetOptions { CompressionMethod = CompressionMethod.Gzip }, "user", null),
            ("uncompressed", new ParquetOptions { CompressionMethod = CompressionMethod.None }, "user", null),
            ("zstd", new ParquetOptions { CompressionMethod = CompressionMethod.Zstd }, "user", null),
        };
        object[][] expected =
        [
            [1f, "u1", "5", 2.5f, 0.5f, "a|b", "1.5|2"],
            [0f, "", "", float.NaN, 1f, "", ""],
            [1f, "u1", "5", 2.5f, 2f, "a", "3"],
            [0f, "ü2", "-7", 1e10f, 3f, "", ""],
            [1f, "", "9007199254740993", -0.125f, 4f, "ü|b|a", "4|5|6"],
            [1f, "u1", "5", 2.5f, 5f, "a|a", "1|1"],
            [0f, "u3", "0", 0f, 6f, "", ""],
        ];

        foreach (var (name, writer, column, encoding) in variants)
        {
            string path = Path.Combine(directory.Path, name + ".parquet");
            Write(path, 3, writer, columns);
            if (encoding is Parquet.Meta.Encoding written)
                CollectionAssert.Contains(EncodingsOf(path, column), written, $"{name}: the file is written the way the case is about");
            List<object[]> rows = ReadAll(ParquetDataSource.Load(path, options));
            Assert.HasCount(expected.Length, rows, name);
            for (int r = 0; r < expected.Length; r++)
                CollectionAssert.AreEqual(expected[r], rows[r], $"{name}, row {r + 1}");
        }
    }

    [TestMethod]
    public void ParquetDataSourceTest_StringsOfEveryLengthAndDictionariesOfEveryWidthReadAsWritten()
    {
        // Strings of 0 to 39 chars, ASCII or with a multi-byte char at any place, some at the very end of a page; and
        // dictionaries of 2 to about 900 values, so indices of 1 to 10 bits, bit-packed in full and cut-short groups.
        using var directory = new TemporaryDirectory();
        const int Rows = 701;
        string Text(int r)
        {
            var text = new string((char)('a' + r % 26), r % 40).ToCharArray();
            if (r % 3 == 0 && text.Length > 0)
                text[r % text.Length] = r % 2 == 0 ? 'é' : '€';
            return new string(text);
        }
        string?[] user = [.. Enumerable.Range(0, Rows).Select(r => r % 11 == 5 ? null : Text(r))];
        string[] small = [.. Enumerable.Range(0, Rows).Select(r => $"d{r * 7 % 5}")];
        string[] bytes = [.. Enumerable.Range(0, Rows).Select(r => $"k{r * 37 % 200}")];
        string[][] tags = [.. Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, r % 5).Select(e => e == 3 ? Text(r + e) : $"t{(r * 5 + e) * 13 % 1000}").ToArray())];
        Column[] columns =
        [
            new(new DataField<string>("user"), user),
            new(new DataField<string>("small"), small),
            new(new DataField<string>("bytes"), bytes),
            new(List<string>("tags"), tags),
        ];
        var options = new ParquetDataSource.Options
        {
            Columns = [new("user", ParquetColumnKind.Text), new("small", ParquetColumnKind.Text), new("bytes", ParquetColumnKind.Text), new("tags", ParquetColumnKind.Text)],
        };
        var dictionary = new ParquetOptions { DictionaryEncodingThreshold = 1 };
        foreach (string column in new[] { "user", "small", "bytes", "tags/list/element" })
            dictionary.ColumnEncodingHints[column] = EncodingHint.Dictionary;

        foreach (var (name, writer) in new[] { ("plain", new ParquetOptions()), ("dictionary", dictionary) })
        {
            string path = Path.Combine(directory.Path, name + ".parquet");
            Write(path, 350, writer, columns);
            if (name == "dictionary")
                CollectionAssert.Contains(EncodingsOf(path, "tags"), Parquet.Meta.Encoding.PLAIN_DICTIONARY, "the file is written the way the case is about");
            List<object[]> rows = ReadAll(ParquetDataSource.Load(path, options));
            Assert.HasCount(Rows, rows, name);
            for (int r = 0; r < Rows; r++)
                CollectionAssert.AreEqual(new object[] { user[r] ?? "", small[r], bytes[r], string.Join("|", tags[r]) }, rows[r], $"{name}, row {r + 1}");
        }
    }

    [TestMethod]
    public void ParquetDataSourceTest_DamagedColumnChunkIsAnErrorNamingFileRowGroupAndColumn()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "damaged.parquet");
        Write(path, 2, new Column(new DataField<int>("click"), [1, 0, 1]), new Column(new DataField<string>("user"), ["a", "b", "c"]));
        long page = ChunkOf(path, 1, "user").DataPageOffset;
        using (FileStream stream = File.OpenWrite(path))
        {
            stream.Position = page;
            stream.Write([0xFF, 0xFF, 0xFF, 0xFF]);
        }
        ParquetDataSource sut = ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [new("click", ParquetColumnKind.Label), new("user", ParquetColumnKind.Text)] });

        var error = Assert.ThrowsExactly<FormatException>(() => ReadAll(sut));

        StringAssert.Contains(error.Message, "damaged.parquet row group 1, column 'user': the data cannot be read");
        StringAssert.Contains(error.Message, "export it again");
    }

    [TestMethod]
    public void ParquetDataSourceTest_DamagedFooterIsAFormatExceptionNamingTheFile()
    {
        // Parquet.Net fails on such footers with its own exception types (a Thrift protocol error, a null reference,
        // an overflow), which must reach the user as the file's error, not as a crash.
        using var directory = new TemporaryDirectory();
        string path = WriteAllKinds(directory.Path);
        byte[] bytes = File.ReadAllBytes(path);
        int footer = BitConverter.ToInt32(bytes, bytes.Length - 8);
        Array.Fill(bytes, (byte)0xFF, bytes.Length - 8 - footer, footer);
        File.WriteAllBytes(path, bytes);

        var error = Assert.ThrowsExactly<FormatException>(() => ParquetDataSource.Load(path, AllKinds));

        StringAssert.Contains(error.Message, "all.parquet: not a readable Parquet file");
        StringAssert.Contains(error.Message, "export it again as Parquet");
    }

    [TestMethod]
    public void ParquetDataSourceTest_IntegersAsTextSpellTheSameWhetherTheirRowGroupHoldsSmallCodesOnlyOrNot()
    {
        // A row group of codes from 0 to 1023 (nulls among them) is spelled when loaded, one with a larger or negative
        // value by the getter; a null is empty either way, first and last in its row group too.
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "codes.parquet");
        int?[] hours = [null, 3, 1023, 0, null, 7, 1024, null, -1, 5, 12, null];
        Write(path, 4, new Column(new DataField<int?>("hour"), [.. hours.Cast<object?>()]));
        ParquetDataSource sut = ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [new("hour", ParquetColumnKind.Text)] });

        List<object[]> rows = ReadAll(sut);

        CollectionAssert.AreEqual(hours.Select(h => h?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "").ToArray(), rows.Select(r => (string)r[0]).ToArray());
    }

    [TestMethod]
    public void ParquetDataSourceTest_DamagedSnappyPageIsAnErrorNamingFileRowGroupAndColumn()
    {
        // The page's Snappy data ends in copies (one string repeated); its last bytes made a copy-with-4-byte-offset tag
        // whose offset is missing or reaches before the page. Snappier decompresses straight into the page here, so the
        // page must still come out whole or not at all.
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "damaged.parquet");
        Write(path, 1000, new ParquetOptions { CompressionMethod = CompressionMethod.Snappy },
            new Column(new DataField<string>("user"), [.. Enumerable.Repeat("user-0123456789", 1000)]));
        Parquet.Meta.ColumnMetaData chunk = ChunkOf(path, 0, "user");
        Assert.AreEqual(Parquet.Meta.CompressionCodec.SNAPPY, chunk.Codec);
        using (FileStream stream = File.OpenWrite(path))
        {
            stream.Position = chunk.DataPageOffset + chunk.TotalCompressedSize - 3;
            stream.Write([0xFF, 0xFF, 0xFF]);
        }
        ParquetDataSource sut = ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [new("user", ParquetColumnKind.Text)] });

        var error = Assert.ThrowsExactly<FormatException>(() => ReadAll(sut));

        StringAssert.Contains(error.Message, "damaged.parquet row group 0, column 'user': the data cannot be read");
    }

    [TestMethod]
    public void ParquetDataSourceTest_RowGroupsCheckedByColumnFindTheRowsAndMessagesOfRowByRowChecks()
    {
        // Each column is checked over its whole row group; a row found bad is checked again column by column for the
        // message. Rows bad in one column or several (the first names it), in every kind, across row groups of 4 rows.
        // (A list of nullable elements is written with no empty list: the test writer would make it one null element.)
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "checks.parquet");
        Write(path, 4,
            new Column(new DataField<int?>("click"), [1, 0, null, 2, 1, 0, 1, 0, 1, 1]),
            new Column(new DataField<double?>("price"), [1.5, null, double.NaN, 1e39, double.NegativeInfinity, 2.0, 3.0, 4.0, 1e39, 6.0]),
            new Column(new DataField<long?>("count"), [1L, null, 3L, 4L, 5L, 6L, 7L, 8L, 9L, -10L]),
            new Column(new DataField<bool?>("flag"), [true, false, true, true, true, null, true, true, true, false]),
            new Column(new DataField<long?>("hour"), [5L, null, 7L, 8L, 9L, 10L, 11L, 12L, 13L, -9_007_199_254_740_993L]),
            new Column(new DataField<double?>("ratio"), [0.1, double.NaN, null, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1e300]),
            new Column(new ListField("w", new DataField<float?>("element")),
                [new float?[] { 1.5f, 2f }, new float?[] { 2.5f }, new float?[] { 1f }, new float?[] { 1f }, new float?[] { 1f }, new float?[] { 1f }, new float?[] { 1f, float.NaN },
                    new float?[] { null }, new float?[] { float.PositiveInfinity }, new float?[] { 3f, 0f }]),
            new Column(List<long>("wl"), [new[] { 1L }, null, new[] { 2L }, new[] { 3L }, new[] { 4L }, new[] { 5L }, new[] { 6L }, new[] { 7L }, new[] { 8L }, new[] { -9L, 10L }]));
        ParquetDataSource.Column[] all =
        [
            new("click", ParquetColumnKind.Label), new("price", ParquetColumnKind.Single), new("count", ParquetColumnKind.Single), new("flag", ParquetColumnKind.Boolean),
            new("hour", ParquetColumnKind.Text), new("ratio", ParquetColumnKind.Text), new("w", ParquetColumnKind.Weights), new("wl", ParquetColumnKind.Weights),
        ];
        string ErrorOf(params string[] columns) => Assert.ThrowsExactly<ParquetBadRowException>(() =>
            ReadAll(ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [.. all.Where(c => columns.Contains(c.Name))] }))).Message;

        ParquetDataSource skipping = ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [.. all], BadRows = BadRowPolicy.Skip });
        List<object[]> kept = ReadAll(skipping);

        Assert.HasCount(3, kept);
        CollectionAssert.AreEqual(new object[] { 1f, 1.5f, 1f, true, "5", "0.1", "1.5|2", "1" }, kept[0]);
        CollectionAssert.AreEqual(new object[] { 0f, float.NaN, float.NaN, false, "", "", "2.5", "" }, kept[1], "nulls and NaN are missing values");
        CollectionAssert.AreEqual(new object[] { 1f, 6f, -10f, false, "-9007199254740993", "1E+300", "3|0", "-9|10" }, kept[2]);
        CollectionAssert.AreEqual(new long[] { 2, 3, 4, 5, 6, 7, 8 }, skipping.Summary!.SkippedRows.ToArray());
        StringAssert.Contains(skipping.Summary.FirstBadRow, "row group 0, row 3, column 'click': the label is null");
        StringAssert.Contains(ErrorOf("price", "click"), "row group 0, row 3, column 'click': the label is null");
        StringAssert.Contains(ErrorOf("price", "count", "hour", "ratio", "wl"), "row group 0, row 4, column 'price': the value is 1E+39, too large for a 32-bit float");
        StringAssert.Contains(ErrorOf("flag"), "row group 1, row 6, column 'flag': the value is null");
        StringAssert.Contains(ErrorOf("w"), "row group 1, row 7, column 'w': weight 2 of the list is NaN, not a finite number");
    }

    [TestMethod]
    public void ParquetDataSourceTest_WeightsConvertedEightAtATimeFindTheRowsOfValuesThatAreNotFiniteFloats()
    {
        // Floats are widened to doubles and weights narrowed to floats 8 at a time, the last few one by one: an
        // infinite float and a double too large for a float, inside the vectorized part and in the tail.
        using var directory = new TemporaryDirectory();
        const int Rows = 7, Length = 11;
        float[][] floats = [.. Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, Length).Select(e => r * 100 + e + 0.25f).ToArray())];
        double[][] doubles = [.. Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, Length).Select(e => -r - e / 4.0).ToArray())];
        floats[2][4] = float.PositiveInfinity;
        doubles[4][9] = 1e39;
        doubles[6][10] = double.NaN; // the last element of the row group: in the tail
        string path = Path.Combine(directory.Path, "weights.parquet");
        Write(path, 100, new Column(List<float>("f"), floats), new Column(List<double>("d"), doubles));
        ParquetDataSource.Column[] columns = [new("f", ParquetColumnKind.Weights), new("d", ParquetColumnKind.Weights)];

        ParquetDataSource sut = ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [.. columns], BadRows = BadRowPolicy.Skip });
        List<object[]> kept = ReadAll(sut);

        CollectionAssert.AreEqual(new long[] { 2, 4, 6 }, sut.Summary!.SkippedRows.ToArray(), "rows counted from 0");
        int[] good = [0, 1, 3, 5];
        Assert.HasCount(good.Length, kept);
        for (int k = 0; k < good.Length; k++)
        {
            CollectionAssert.AreEqual(new object[] { Joined(floats[good[k]]), Joined(doubles[good[k]].Select(d => (float)d)) }, kept[k],
                $"row {good[k] + 1}");
        }
        var error = Assert.ThrowsExactly<ParquetBadRowException>(() => ReadAll(ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [columns[1]] })));
        StringAssert.Contains(error.Message, "row 5, column 'd': weight 10 of the list is 1E+39, too large for a 32-bit float");
    }

    [TestMethod]
    public void ParquetDataSourceTest_PlainStringsAcrossChunksOfTextReadAsWritten()
    {
        // Plain strings are widened to chars in runs that fill a chunk of text (32K chars); a run with a non-ASCII byte
        // is decoded string by string, and a string longer than a chunk gets one of its own.
        using var directory = new TemporaryDirectory();
        const int Rows = 400;
        string Text(int r) => r switch
        {
            17 => new string('x', 40_000),
            18 => new string('é', 33_000),
            19 => "",
            _ => (r % 9 == 4 ? "ü" : "") + new string((char)('a' + r % 26), r * 37 % 900),
        };
        string?[] user = [.. Enumerable.Range(0, Rows).Select(r => r % 13 == 6 ? null : Text(r))];
        string[][] tags = [.. Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, r % 5).Select(e => Text(r + e + 1)).ToArray())];
        string path = Path.Combine(directory.Path, "long.parquet");
        Write(path, 150, new Column(new DataField<string>("user"), user), new Column(List<string>("tags"), tags));

        List<object[]> rows = ReadAll(ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [new("user", ParquetColumnKind.Text), new("tags", ParquetColumnKind.Text)] }));

        Assert.HasCount(Rows, rows);
        for (int r = 0; r < Rows; r++)
            CollectionAssert.AreEqual(new object[] { user[r] ?? "", string.Join("|", tags[r]) }, rows[r], $"row {r + 1}");
    }

    [TestMethod]
    public void ParquetDataSourceTest_ChunkThatFallsBackFromDictionaryToPlainPagesReadsAsWritten()
    {
        // parquet-mr and Arrow start a column chunk with dictionary pages and go on with plain ones when the
        // dictionary grows too large. Parquet.Net writes one data page per chunk, so the file is spliced from two it
        // writes: each column chunk of the first (a dictionary page and a dictionary-encoded page), then the same
        // column's plain page of the second, in one row group.
        using var directory = new TemporaryDirectory();
        const int Rows = 300;
        string?[] user = [.. Enumerable.Range(0, 2 * Rows).Select(r => r % 7 == 3 ? null : r < Rows ? $"u{r % 5}" : $"plain-{r}-é")];
        string[][] tags = [.. Enumerable.Range(0, 2 * Rows).Select(r => Enumerable.Range(0, r % 4).Select(e => r < Rows ? $"t{(r + e) % 3}" : $"p{r}.{e}").ToArray())];
        int[] click = [.. Enumerable.Range(0, 2 * Rows).Select(r => r % 2)];
        Column[] Part(int from) =>
        [
            new(new DataField<int>("click"), [.. click.Skip(from).Take(Rows).Cast<object?>()]),
            new(new DataField<string>("user"), [.. user.Skip(from).Take(Rows)]),
            new(List<string>("tags"), [.. tags.Skip(from).Take(Rows)]),
        ];
        var dictionary = new ParquetOptions { DictionaryEncodingThreshold = 1, ColumnEncodingHints = { ["user"] = EncodingHint.Dictionary, ["tags/list/element"] = EncodingHint.Dictionary } };
        string first = Path.Combine(directory.Path, "first.parquet"), second = Path.Combine(directory.Path, "second.parquet"), path = Path.Combine(directory.Path, "fallback.parquet");
        Write(first, Rows, dictionary, Part(0));
        Write(second, Rows, new ParquetOptions(), Part(Rows));
        Splice(first, second, path);
        foreach (string column in new[] { "user", "tags" })
        {
            List<Parquet.Meta.Encoding> encodings = EncodingsOf(path, column);
            CollectionAssert.Contains(encodings, Parquet.Meta.Encoding.PLAIN_DICTIONARY, $"{column}: the chunk starts dictionary-encoded");
            CollectionAssert.Contains(encodings, Parquet.Meta.Encoding.PLAIN, $"{column}: and goes on plain");
        }
        var options = new ParquetDataSource.Options { Columns = [new("click", ParquetColumnKind.Label), new("user", ParquetColumnKind.Text), new("tags", ParquetColumnKind.Text)] };

        List<object[]> rows = ReadAll(ParquetDataSource.Load(path, options));

        Assert.HasCount(2 * Rows, rows);
        for (int r = 0; r < 2 * Rows; r++)
            CollectionAssert.AreEqual(new object[] { (float)click[r], user[r] ?? "", string.Join("|", tags[r]) }, rows[r], $"row {r + 1}");
        // Read by this library's decoder, not handed to Parquet.Net: the chunk decodes whole, its strings spelled out.
        var decoder = new ChunkDecoder();
        foreach (string column in new[] { "user", "tags" })
        {
            int values = decoder.Decode(path, column, out bool asIndices);
            Assert.AreEqual(column == "user" ? user.Count(u => u is not null) : tags.Sum(t => t.Length), values, column);
            Assert.IsFalse(asIndices, $"{column}: the dictionary-encoded strings are looked up once a plain page comes");
        }
    }

    [TestMethod]
    public void ParquetDataSourceTest_PlainStringsWidenedByTheGettersReadAsWrittenAcrossPagesNullsAndKeptValues()
    {
        // A chunk of plain strings stays UTF-8 and the getters widen each row's strings. Here each chunk has two pages
        // (two files spliced, once with the footer understating the chunk's size, so its bytes grow between pages):
        // strings of 0 to 40 bytes, ASCII and not, nulls in rows and inside lists; string columns read as a label, a
        // number and a boolean; values kept after the cursor has moved on, and a getter called twice on a row.
        using var directory = new TemporaryDirectory();
        const int Rows = 120;
        string Text(int r) => (r % 7) switch
        {
            0 => new string((char)('a' + r % 26), r % 41),
            1 => "é" + new string('x', r % 20),
            2 => new string('y', 15) + (r % 2 == 0 ? "€" : "z"),
            3 => "",
            _ => $"id{r}",
        };
        string?[] user = [.. Enumerable.Range(0, 2 * Rows).Select(r => r % 9 == 4 ? null : Text(r))];
        string?[][] tags = [.. Enumerable.Range(0, 2 * Rows).Select(r => Enumerable.Range(0, 1 + r % 4).Select(e => (r + e) % 5 == 2 ? null : Text(r * 3 + e)).ToArray())];
        string[] click = [.. Enumerable.Range(0, 2 * Rows).Select(r => r % 3 == 0 ? " 1 " : "0")];
        string?[] price = [.. Enumerable.Range(0, 2 * Rows).Select(r => r % 4 == 1 ? "" : r % 4 == 2 ? null : $"{r}.25")];
        string[] flag = [.. Enumerable.Range(0, 2 * Rows).Select(r => (r % 4) switch { 0 => "true", 1 => "0", 2 => "FALSE", _ => "1" })];
        Column[] Part(int from) =>
        [
            new(new DataField<string>("click"), [.. click.Skip(from).Take(Rows)]),
            new(new DataField<string>("user"), [.. user.Skip(from).Take(Rows)]),
            new(new ListField("tags", new DataField<string>("element")), [.. tags.Skip(from).Take(Rows)]),
            new(new DataField<string>("price"), [.. price.Skip(from).Take(Rows)]),
            new(new DataField<string>("flag"), [.. flag.Skip(from).Take(Rows)]),
        ];
        string first = Path.Combine(directory.Path, "first.parquet"), second = Path.Combine(directory.Path, "second.parquet");
        Write(first, Rows, Part(0));
        Write(second, Rows, Part(Rows));
        var options = new ParquetDataSource.Options
        {
            Columns =
            [
                new("click", ParquetColumnKind.Label), new("user", ParquetColumnKind.Text), new("tags", ParquetColumnKind.Text),
                new("price", ParquetColumnKind.Single), new("flag", ParquetColumnKind.Boolean),
            ],
        };

        foreach (bool understated in new[] { false, true })
        {
            string path = Path.Combine(directory.Path, $"spliced-{understated}.parquet");
            Splice(first, second, path, understateUncompressedSize: understated);
            var decoder = new ChunkDecoder();
            foreach (string column in new[] { "user", "tags" })
            {
                decoder.Decode(path, column, out bool asIndices, out bool asUtf8);
                Assert.IsTrue(asUtf8 && !asIndices, $"{column}: the chunk's strings stay UTF-8 for the getters");
            }
            ParquetDataSource sut = ParquetDataSource.Load(path, options);
            var kept = new List<(ReadOnlyMemory<char> User, ReadOnlyMemory<char>[] Tags)>();
            using (DataViewRowCursor cursor = sut.GetRowCursor(sut.Schema))
            {
                ValueGetter<float> label = cursor.GetGetter<float>(sut.Schema["click"]), number = cursor.GetGetter<float>(sut.Schema["price"]);
                ValueGetter<bool> boolean = cursor.GetGetter<bool>(sut.Schema["flag"]);
                ValueGetter<ReadOnlyMemory<char>> text = cursor.GetGetter<ReadOnlyMemory<char>>(sut.Schema["user"]);
                ValueGetter<VBuffer<ReadOnlyMemory<char>>> list = cursor.GetGetter<VBuffer<ReadOnlyMemory<char>>>(sut.Schema["tags"]);
                VBuffer<ReadOnlyMemory<char>> values = default;
                for (int r = 0; cursor.MoveNext(); r++)
                {
                    float l = 0, n = 0;
                    bool b = false;
                    ReadOnlyMemory<char> once = default, twice = default;
                    label(ref l);
                    number(ref n);
                    boolean(ref b);
                    text(ref once);
                    text(ref twice);
                    list(ref values);
                    string where = $"{(understated ? "understated" : "spliced")}, row {r + 1}";
                    Assert.AreEqual(r % 3 == 0 ? 1f : 0f, l, where);
                    Assert.AreEqual(price[r] is { Length: > 0 } p ? float.Parse(p, System.Globalization.CultureInfo.InvariantCulture) : float.NaN, n, where);
                    Assert.AreEqual(r % 4 is 0 or 3, b, where);
                    Assert.AreEqual(once.ToString(), twice.ToString(), $"{where}: a getter called twice gives the same text");
                    kept.Add((once, values.DenseValues().ToArray()));
                }
            }

            Assert.HasCount(2 * Rows, kept);
            for (int r = 0; r < 2 * Rows; r++)
            {
                string where = $"{(understated ? "understated" : "spliced")}, row {r + 1}";
                Assert.AreEqual(user[r] ?? "", kept[r].User.ToString(), $"{where}: a kept value still reads as written after the cursor is done");
                CollectionAssert.AreEqual(tags[r].Select(t => t ?? "").ToArray(), kept[r].Tags.Select(t => t.ToString()).ToArray(), $"{where}: a null element is empty");
            }
        }
    }

    [TestMethod]
    public void ParquetDataSourceTest_IntegersReadAsTextSpellAsWritten()
    {
        // Integers from 0 to 1023 are handed out from a table spelled once, the others formatted by the getter.
        using var directory = new TemporaryDirectory();
        long?[] codes = [0, 1, 9, 10, 99, 1023, 1024, -1, -1023, null, long.MaxValue, long.MinValue, 512, 100_000];
        string path = Path.Combine(directory.Path, "codes.parquet");
        Write(path, 5, new Column(new DataField<long?>("hour"), [.. codes.Cast<object?>()]), new Column(new DataField<int>("slot"), [.. codes.Select(c => (object?)(int)(c % 2000 ?? 7))]));

        List<object[]> rows = ReadAll(ParquetDataSource.Load(path, new ParquetDataSource.Options { Columns = [new("hour", ParquetColumnKind.Text), new("slot", ParquetColumnKind.Text)] }));

        Assert.HasCount(codes.Length, rows);
        for (int r = 0; r < codes.Length; r++)
        {
            string slot = ((int)(codes[r] % 2000 ?? 7)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            CollectionAssert.AreEqual(new object[] { codes[r]?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "", slot }, rows[r], $"row {r + 1}");
        }
    }

    [TestMethod]
    public void ParquetDataSourceTest_ListsOfEveryLengthKeepTheirRowsAndElements()
    {
        // Levels are turned into rows 32 entries at a time (a byte each) where every element in them holds a value:
        // lists of 0 to 22 elements, null and empty lists among them (entries but no elements), so blocks start, end
        // and straddle rows and row groups in every position; a block with a null element goes entry by entry.
        using var directory = new TemporaryDirectory();
        const int Rows = 500;
        float[]?[] weights = [.. Enumerable.Range(0, Rows).Select(r => r % 17 == 3 ? null : Enumerable.Range(0, r * 7 % 23).Select(e => r + e / 8f).ToArray())];
        string[][] ids = [.. Enumerable.Range(0, Rows).Select(r => Enumerable.Range(0, r % 11 == 0 ? 0 : r * 5 % 19).Select(e => $"i{r}.{e}").ToArray())];
        string?[]?[] tags = [.. Enumerable.Range(0, Rows).Select(r => r % 13 == 5 ? null : Enumerable.Range(0, r * 3 % 17).Select(e => (r + e) % 41 == 0 ? null : $"t{e}").ToArray())];
        string path = Path.Combine(directory.Path, "lists.parquet");
        Write(path, 37, new Column(List<float>("w"), weights), new Column(List<string>("ids"), ids),
            new Column(new ListField("tags", new DataField<string>("element")), tags));

        List<object[]> rows = ReadAll(ParquetDataSource.Load(path, new ParquetDataSource.Options
        {
            Columns = [new("w", ParquetColumnKind.Weights), new("ids", ParquetColumnKind.Text), new("tags", ParquetColumnKind.Text)],
        }));

        Assert.HasCount(Rows, rows);
        for (int r = 0; r < Rows; r++)
        {
            CollectionAssert.AreEqual(new object[] { Joined(weights[r] ?? []), string.Join("|", ids[r]), string.Join("|", (tags[r] ?? []).Select(t => t ?? "")) }, rows[r],
                $"row {r + 1}");
        }
    }

    /// <summary>The library's <c>ParquetChunkDecoder</c>, reached by reflection.</summary>
    private sealed class ChunkDecoder
    {
        private static readonly Type DecoderType = typeof(ParquetDataSource).Assembly.GetType("Ctr.MLNet.Transforms.ParquetChunkDecoder", throwOnError: true)!;
        private static readonly Type BuffersType = typeof(ParquetDataSource).Assembly.GetType("Ctr.MLNet.Transforms.ParquetColumnValues+Buffers", throwOnError: true)!;
        private readonly object _decoder = Activator.CreateInstance(DecoderType, nonPublic: true)!;

        /// <summary>Decodes the column's chunk of row group 0; returns its values (non-null entries) and whether its strings stayed dictionary indices.</summary>
        public int Decode(string path, string column, out bool asIndices) => Decode(path, column, out asIndices, out _);

        /// <summary>The same, and whether the strings stayed UTF-8 for the getters to widen.</summary>
        public int Decode(string path, string column, out bool asIndices, out bool asUtf8)
        {
            Parquet.Meta.ColumnMetaData meta = ChunkOf(path, 0, column);
            ParquetSchema schema = ParquetReader.ReadSchemaAsync(path).GetAwaiter().GetResult();
            DataField field = schema.DataFields.First(f => f.Path.ToList()[0] == column);
            using FileStream stream = File.OpenRead(path);
            try
            {
                DecoderType.GetMethod("Decode")!.Invoke(_decoder, [stream, meta, field, Activator.CreateInstance(BuffersType)]);
            }
            catch (System.Reflection.TargetInvocationException e)
            {
                throw e.InnerException!;
            }
            asIndices = (bool)DecoderType.GetProperty("TextsAsIndices")!.GetValue(_decoder)!;
            asUtf8 = (bool)DecoderType.GetProperty("TextsAsUtf8")!.GetValue(_decoder)!;
            return (int)DecoderType.GetProperty("Count")!.GetValue(_decoder)!;
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/>: one row group, each column chunk that of <paramref name="first"/> followed by the
    /// pages of <paramref name="second"/>'s (which must have no dictionary page), the footer of the first made to say so
    /// (but for the chunks' uncompressed size, left as the first's with <paramref name="understateUncompressedSize"/>).
    /// </summary>
    private static void Splice(string first, string second, string path, bool understateUncompressedSize = false)
    {
        Parquet.Meta.FileMetaData a = MetadataOf(first), b = MetadataOf(second);
        byte[] bytesA = File.ReadAllBytes(first), bytesB = File.ReadAllBytes(second);
        using var output = new MemoryStream();
        output.Write("PAR1"u8);
        Parquet.Meta.RowGroup groupA = a.RowGroups[0], groupB = b.RowGroups[0];
        for (int c = 0; c < groupA.Columns.Count; c++)
        {
            Parquet.Meta.ColumnMetaData chunkA = groupA.Columns[c].MetaData!, chunkB = groupB.Columns[c].MetaData!;
            Assert.IsFalse(chunkB.DictionaryPageOffset is > 0, "the second file's chunks have no dictionary");
            long startA = chunkA.DictionaryPageOffset is long d && d > 0 ? d : chunkA.DataPageOffset, start = output.Position;
            output.Write(bytesA, checked((int)startA), checked((int)chunkA.TotalCompressedSize));
            output.Write(bytesB, checked((int)chunkB.DataPageOffset), checked((int)chunkB.TotalCompressedSize));
            if (chunkA.DictionaryPageOffset is > 0)
                chunkA.DictionaryPageOffset = start;
            chunkA.DataPageOffset = start + (chunkA.DataPageOffset - startA);
            chunkA.TotalCompressedSize += chunkB.TotalCompressedSize;
            if (!understateUncompressedSize)
                chunkA.TotalUncompressedSize += chunkB.TotalUncompressedSize;
            chunkA.NumValues += chunkB.NumValues;
            chunkA.Encodings = [.. chunkA.Encodings.Union(chunkB.Encodings)];
            chunkA.Statistics = null;
            chunkA.EncodingStats = null;
            groupA.Columns[c].FileOffset = start;
        }
        groupA.NumRows += groupB.NumRows;
        groupA.TotalByteSize += groupB.TotalByteSize;
        groupA.FileOffset = 4;
        groupA.TotalCompressedSize = output.Position - 4;
        a.NumRows += b.NumRows;
        long footer = output.Position;
        // Parquet.Net's own Thrift writer, internal to it.
        const System.Reflection.BindingFlags Any = System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic;
        Type writerType = typeof(Parquet.Meta.FileMetaData).Assembly.GetType("Parquet.Meta.Proto.ThriftCompactProtocolWriter", throwOnError: true)!;
        object writer = writerType.GetConstructor(Any, [typeof(Stream)])!.Invoke([output]);
        typeof(Parquet.Meta.FileMetaData).GetMethod("Write", Any, [writerType])!.Invoke(a, [writer]);
        output.Write(BitConverter.GetBytes(checked((int)(output.Position - footer))));
        output.Write("PAR1"u8);
        File.WriteAllBytes(path, output.ToArray());
    }

    private static Parquet.Meta.FileMetaData MetadataOf(string path)
    {
        ParquetReader reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        try
        {
            return reader.Metadata!;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static List<Parquet.Meta.Encoding> EncodingsOf(string path, string column) => ChunkOf(path, 0, column).Encodings;

    private static Parquet.Meta.ColumnMetaData ChunkOf(string path, int rowGroup, string column)
    {
        ParquetReader reader = ParquetReader.CreateAsync(path).GetAwaiter().GetResult();
        try
        {
            using ParquetRowGroupReader group = reader.OpenRowGroupReader(rowGroup);
            return group.RowGroup.Columns.First(c => c.MetaData!.PathInSchema[0] == column).MetaData!;
        }
        finally
        {
            reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [TestMethod]
    public void ParquetDataSourceTest_ListColumnsInferAsListsWhenNoSampledRowHoldsTwoElements()
    {
        // Short histories: joined by the separator, each row's list looked like a scalar, and the spec that came out
        // could not load its own file ("column 'weights' is a list, which cannot be loaded as Single").
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "short.parquet");
        Write(path, 100,
            new Column(new DataField<int>("click"), [.. Enumerable.Range(0, 200).Select(i => (object?)(i % 2))]),
            new Column(new DataField<string>("user"), [.. Enumerable.Range(0, 200).Select(i => (object?)$"u{i % 7}")]),
            new Column(List<string>("items"), [.. Enumerable.Range(0, 200).Select(i => (object?)(i % 3 == 0 ? Array.Empty<string>() : new[] { $"i{i % 5}" }))]),
            new Column(List<float>("weights"), [.. Enumerable.Range(0, 200).Select(i => (object?)(i % 3 == 0 ? Array.Empty<float>() : new[] { 0.5f + i % 4 }))]));

        FeatureSpec sut = FeatureSpecInference.FromParquet(path);

        FeatureColumnSpec items = sut.Features.Single(f => f.Name == "items");
        Assert.IsTrue(items.IsList, "a list<string> is a list feature");
        Assert.AreEqual("weights", items.WeightCol, "a list<float> of the same lengths is its weights");
        Assert.IsFalse(sut.Features.Any(f => f.Name == "weights"));
        var ml = new MLContext(seed: 1);
        Assert.HasCount(200, ReadAll(sut.LoadData(ml, path, out _)), "the spec loads the file it was inferred from");
    }

    [TestMethod]
    public void ParquetDataSourceTest_InferenceLeavesOutColumnsOfTypesThatCannotBeLoaded()
    {
        // An export's timestamp made inference refuse the whole file, though a spec without it reads the file.
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "dated.parquet");
        Write(path, 100,
            new Column(new DataField<int>("click"), [.. Enumerable.Range(0, 50).Select(i => (object?)(i % 2))]),
            new Column(new DataField<DateTime>("event_time"), [.. Enumerable.Range(0, 50).Select(i => (object?)new DateTime(2026, 12, 1).AddMinutes(i))]),
            new Column(new DataField<string>("user"), [.. Enumerable.Range(0, 50).Select(i => (object?)$"u{i % 7}")]));

        FeatureSpec sut = FeatureSpecInference.FromParquet(path);

        CollectionAssert.AreEqual(new[] { "user" }, sut.Features.Select(f => f.Name).ToArray());
        Assert.HasCount(50, ReadAll(sut.LoadData(new MLContext(seed: 1), path, out _)));
    }

    [TestMethod]
    public void ParquetDataSourceTest_SpecFitsTheSameOnParquetAsOnCsvAndInferenceAgrees()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 1500, Seed: 5));
        string csv = Path.Combine(directory.Path, "train.csv"), parquet = Path.Combine(directory.Path, "train.parquet");
        FromPlantedCsv(csv, parquet, rowGroupRows: 400);
        var ml = new MLContext(seed: 1);

        FeatureSpec fromCsv = FeatureSpecInference.FromCsv(csv);
        FeatureSpec fromParquet = FeatureSpecInference.FromFile(parquet);
        IFileDataSource csvData = fromCsv.LoadData(ml, csv, out _);
        IFileDataSource parquetData = fromCsv.LoadData(ml, parquet, out CsvColumns columns);
        ITransformer csvFit = fromCsv.BuildPipeline(ml).Fit(csvData);
        ITransformer parquetFit = fromCsv.BuildPipeline(ml).Fit(parquetData);

        Assert.AreEqual(fromCsv, fromParquet, "typed Parquet columns infer the spec their CSV text does");
        Assert.IsInstanceOfType<ParquetDataSource>(parquetData);
        Assert.AreEqual(new VectorDataViewType(TextDataViewType.Instance), parquetData.Schema["hist_item_ids"].Type, "a list<string> is a sequence without delimiter parsing");
        Assert.IsEmpty(columns.Ignored);
        IDataView a = csvFit.Transform(csvData), b = parquetFit.Transform(parquetData);
        foreach (DataViewSchema.Column column in a.Schema.Where(c => !c.IsHidden))
        {
            string[] left = Show(a, column.Name), right = Show(b, column.Name);
            CollectionAssert.AreEqual(left, right, $"column '{column.Name}' comes out of the fitted pipeline the same from Parquet as from CSV");
        }
    }

    private static string[] Show(IDataView data, string name)
    {
        DataViewSchema.Column column = data.Schema[name];
        if (column.Type is VectorDataViewType vector)
        {
            return vector.ItemType.RawType == typeof(uint)
                ? [.. data.GetColumn<VBuffer<uint>>(column).Select(v => string.Join(",", v.DenseValues()))]
                : vector.ItemType.RawType == typeof(float)
                    ? [.. data.GetColumn<VBuffer<float>>(column).Select(v => string.Join(",", v.DenseValues()))]
                    : [.. data.GetColumn<VBuffer<ReadOnlyMemory<char>>>(column).Select(v => string.Join(",", v.DenseValues()))];
        }
        return column.Type.RawType == typeof(uint) ? [.. data.GetColumn<uint>(column).Select(v => v.ToString())]
            : column.Type.RawType == typeof(float) ? [.. data.GetColumn<float>(column).Select(v => v.ToString("R"))]
            : [.. data.GetColumn<ReadOnlyMemory<char>>(column).Select(v => v.ToString())];
    }
}
