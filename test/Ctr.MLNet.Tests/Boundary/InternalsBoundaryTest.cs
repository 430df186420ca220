using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Boundary;

/// <summary>
/// Keeps ML.NET's internals at today's seams. Our libraries compile against publicized copies of ML.NET, so the
/// compiler no longer stops an internal member from being used anywhere; this test reads what the compiled
/// assemblies actually reference (<see cref="MLNetInternalUses"/>) and compares the source files that reach
/// non-accessible ML.NET members with the committed allow-list, MLNetInternals.allowed.txt beside this file.
/// </summary>
[TestClass]
public sealed class InternalsBoundaryTest
{
    private const string AllowListName = "test/Ctr.MLNet.Tests/Boundary/MLNetInternals.allowed.txt";

    public TestContext TestContext { get; set; } = null!;

    /// <summary>Our shipped code: both libraries, the sample and its data generator (which must need no internals at all).</summary>
    private static readonly string[] Assemblies =
    [
        typeof(VocabularyEstimator).Assembly.Location,
        typeof(TorchCtrTrainer).Assembly.Location,
        typeof(Ctr.MLNet.Sample.Program).Assembly.Location,
        typeof(Ctr.MLNet.Planted.PlantedWorld).Assembly.Location,
    ];

    [TestMethod]
    public void InternalsBoundaryTest_OnlyAllowedFilesTouchMLNetInternals()
    {
        string root = RepositoryRoot();
        IReadOnlyList<InternalUse> sut = [.. Assemblies.SelectMany(a => MLNetInternalUses.Find(a, MLNetDirectory(), root))];
        HashSet<string> allowed = ReadAllowList(Path.Combine(root, AllowListName));

        var byFile = sut.GroupBy(u => u.File).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        TestContext.WriteLine($"{byFile.Count} source files reach ML.NET internals ({sut.Select(u => u.Member).Distinct().Count()} members):");
        foreach (var (file, uses) in byFile.OrderBy(p => p.Key, StringComparer.Ordinal))
            TestContext.WriteLine($"  {file}: {string.Join(", ", uses.Select(u => u.Member).Distinct().Take(6))}{(uses.Count > 6 ? ", ..." : "")}");

        string[] added = [.. byFile.Keys.Where(f => !allowed.Contains(f)).Order(StringComparer.Ordinal)];
        Assert.IsEmpty(added,
            "These files use ML.NET members that ML.NET keeps internal, outside the allowed seams (save/load, mappers, trainer and catalog). " +
            "Use ML.NET's public API there, or move the use into an allowed file; add the file to " + AllowListName + " only as a reviewed decision.\n" +
            string.Join("\n", added.SelectMany(f => byFile[f].Take(8).Select(u => "  " + u))));
        string[] stale = [.. allowed.Where(f => !byFile.ContainsKey(f)).Order(StringComparer.Ordinal)];
        Assert.IsEmpty(stale, $"These files no longer use ML.NET internals: remove them from {AllowListName} so the boundary stays tight.\n  " + string.Join("\n  ", stale));
    }

    [TestMethod]
    public void InternalsBoundaryTest_SeesOverridesCallsAndAttributes()
    {
        // The three ways in, each seen where we know it is: an override of a private protected hook, a call to an
        // internal method, and an assembly attribute of an internal type (charged to the transformer it registers).
        IReadOnlyList<InternalUse> sut = MLNetInternalUses.Find(typeof(VocabularyEstimator).Assembly.Location, MLNetDirectory(), RepositoryRoot());
        const string file = "src/Ctr.MLNet.Transforms/Hashing/HashBucketingTransformer.cs";
        InternalUse[] uses = [.. sut.Where(u => u.File == file)];

        Assert.IsTrue(uses.Any(u => u.Site == "SaveModel" && u.Member.StartsWith("override of Microsoft.ML.Data.RowToRowTransformerBase.SaveModel", StringComparison.Ordinal)), Describe(uses));
        Assert.IsTrue(uses.Any(u => u.Member.StartsWith("method Microsoft.ML.ModelSaveContext.SetVersionInfo", StringComparison.Ordinal)), Describe(uses));
        Assert.IsTrue(uses.Any(u => u.Site == "(assembly attribute)" && u.Member.StartsWith("type Microsoft.ML.LoadableClassAttribute", StringComparison.Ordinal)), Describe(uses));
        Assert.IsFalse(sut.Any(u => u.File == "src/Ctr.MLNet.Transforms/Categorical/MurmurHash3.cs"), "MurmurHash3 uses no ML.NET at all");
    }

    private static string Describe(IEnumerable<InternalUse> uses) => string.Join("\n", uses);

    private static HashSet<string> ReadAllowList(string path) =>
        new(File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')), StringComparer.Ordinal);

    /// <summary>The real ML.NET assemblies this test runs with (the publicized copies exist at compile time only).</summary>
    private static string MLNetDirectory() => Path.GetDirectoryName(typeof(MLContext).Assembly.Location)!;

    private static string RepositoryRoot() => Path.GetDirectoryName(ReadMeTest.FindUp("Ctr.MLNet.sln"))!;
}
