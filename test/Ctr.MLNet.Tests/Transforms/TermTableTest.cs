using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using Ctr.MLNet.Transforms.Categorical;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class TermTableTest
{
    [TestMethod]
    public void TermTableTest_GivesTheDictionarysPositionsForPresentAndAbsentTerms()
    {
        var random = new Random(1);
        var distinct = new HashSet<string>(StringComparer.Ordinal)
        {
            "", "a", "A", "apple", "Apple", "APPLE", "é", "É", "日本", "日本語", "😀", "x😀y", "straße", "STRASSE", "i12832", "-0", "007", "7",
            " padded ", "tab\there", "\0", "\0\0",
        };
        (string first, string second) = TwoTermsWithOneHash();
        distinct.Add(first);
        while (distinct.Count < 20_000)
            distinct.Add(RandomTerm(random));
        ImmutableArray<string> terms = [.. distinct];
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < terms.Length; i++)
            expected.Add(terms[i], i);

        var sut = new TermTable(terms);

        foreach (string term in terms)
            Assert.AreEqual(expected[term], sut.IndexOf(term), $"term '{term}'");
        var absent = new List<string> { second, "apples", "Appl", "aPPLE", "日", "😀😀", "\0\0\0", "x", "i1283" };
        while (absent.Count < 20_000)
            absent.Add(RandomTerm(random));
        foreach (string term in absent)
            Assert.AreEqual(expected.TryGetValue(term, out int position) ? position : -1, sut.IndexOf(term), $"term '{term}'");
    }

    [TestMethod]
    public void TermTableTest_TermsWithOneHashAreToldApartByTheirChars()
    {
        (string first, string second) = TwoTermsWithOneHash();

        var both = new TermTable(["other", first, second]);
        var firstOnly = new TermTable([first, "other"]);

        Assert.AreEqual(1, both.IndexOf(first));
        Assert.AreEqual(2, both.IndexOf(second));
        Assert.AreEqual(0, firstOnly.IndexOf(first));
        Assert.AreEqual(-1, firstOnly.IndexOf(second), "same hash and length, other chars");
    }

    [TestMethod]
    public void TermTableTest_EmptyTableFindsNothing()
    {
        var sut = new TermTable([]);

        Assert.AreEqual(-1, sut.IndexOf(""));
        Assert.AreEqual(-1, sut.IndexOf("a"));
    }

    [TestMethod]
    public void TermTableTest_TermListedTwiceIsRefused()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new TermTable(["a", "b", "a"]));

        StringAssert.Contains(error.Message, "'a' is listed twice (positions 0 and 2)");
    }

    /// <summary>Two 8-char terms with the same <see cref="TermTable.Hash"/> (a 32-bit hash: found within ~100k tries).</summary>
    private static (string First, string Second) TwoTermsWithOneHash()
    {
        var seen = new Dictionary<uint, string>();
        for (int n = 0; ; n++)
        {
            string term = "k" + n.ToString("D7", CultureInfo.InvariantCulture);
            if (seen.TryGetValue(TermTable.Hash(term), out string? earlier))
                return (earlier, term);
            seen.Add(TermTable.Hash(term), term);
        }
    }

    /// <summary>0–40 chars (every tail length of the hash's 8-byte blocks), ASCII mostly, some Latin-1, CJK and surrogate pairs.</summary>
    private static string RandomTerm(Random random)
    {
        var builder = new StringBuilder();
        int length = random.Next(41);
        while (builder.Length < length)
        {
            switch (random.Next(10))
            {
                case 0: builder.Append((char)random.Next(0xC0, 0x180)); break;
                case 1: builder.Append((char)random.Next(0x4E00, 0x9FFF)); break;
                case 2: builder.Append(char.ConvertFromUtf32(random.Next(0x1F600, 0x1F650))); break;
                default: builder.Append((char)random.Next('0', 'z' + 1)); break;
            }
        }
        return builder.ToString();
    }
}
