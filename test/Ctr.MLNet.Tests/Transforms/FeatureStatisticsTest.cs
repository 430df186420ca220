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

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class FeatureStatisticsTest
{
    /// <summary>Splits a planted train.csv into <paramref name="shards"/> Parquet files under one folder (the union).</summary>
    internal static string[] WriteShards(string csv, string folder, int shards)
    {
        string[] lines = File.ReadAllLines(csv);
        var paths = new string[shards];
        int per = (lines.Length - 1 + shards - 1) / shards;
        for (int s = 0; s < shards; s++)
        {
            string part = Path.Combine(folder, $"shard-{s}.csv");
            File.WriteAllLines(part, [lines[0], .. lines.Skip(1 + s * per).Take(per)]);
            paths[s] = Path.Combine(folder, "union", $"part={s}", "data.parquet");
            ParquetTestFiles.FromPlantedCsv(part, paths[s], rowGroupRows: 300);
            File.Delete(part);
        }
        return paths;
    }

    /// <summary>The inferred planted spec, with the options whose statistics merge differently: min count and max size
    /// applied after the merge, a count-sized hash space, a bucketized and a log1p-normalized numeric.</summary>
    internal static FeatureSpec ShardedSpec(string csv)
    {
        FeatureSpec inferred = FeatureSpecInference.FromCsv(csv);
        return inferred with
        {
            Features = [.. inferred.Features.Select(f => f.Name switch
            {
                "user_id" => f with { MinFreq = 2, MaxVocab = 40, HashBuckets = null },
                "brand" => f with { HashBuckets = 0, MinFreq = 2 },
                "price" => f with { Buckets = 10, Norm = null, Log1p = false, Clip = null },
                "age" => f with { Buckets = null, Norm = FeatureColumnSpec.ZScore, Log1p = true },
                _ => f,
            })],
        };
    }

    [TestMethod]
    public void FeatureStatisticsTest_FourShardsMergedEqualOneFitOnTheUnion()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 7));
        string csv = Path.Combine(directory.Path, "train.csv");
        string[] shards = WriteShards(csv, directory.Path, 4);
        FeatureSpec spec = ShardedSpec(csv);
        var ml = new MLContext(seed: 1);

        IDataView union = spec.LoadData(ml, Path.Combine(directory.Path, "union"), out _);
        var expected = (TransformerChain<ITransformer>)spec.BuildPipeline(ml).Fit(union);
        string[] files = [.. shards.Select((s, i) =>
        {
            string path = Path.Combine(directory.Path, $"stats-{i}.bin");
            FeatureStatistics.Fit(ml, spec, spec.LoadData(ml, s, out _)).Save(path);
            return path;
        })];
        FeatureStatistics merged = FeatureStatistics.Merge(new MLContext(seed: 5), [.. files.Select(FeatureStatistics.Load)]);
        FeatureStatistics mergedInTree = FeatureStatistics.Merge(ml, [
            FeatureStatistics.Merge(ml, [FeatureStatistics.Load(files[3]), FeatureStatistics.Load(files[1])]),
            FeatureStatistics.Merge(ml, [FeatureStatistics.Load(files[2]), FeatureStatistics.Load(files[0])])]);
        TransformerChain<ITransformer> actual = merged.BuildPipeline(ml), actualTree = mergedInTree.BuildPipeline(ml);

        Assert.AreEqual(4, merged.Shards);
        Assert.AreEqual(expected.Count(), actual.Count());
        foreach (var (want, got) in expected.Zip(actual).Concat(expected.Zip(actualTree)))
        {
            Assert.AreEqual(want.GetType(), got.GetType());
            switch (want)
            {
                case VocabularyTransformer vocabulary:
                    foreach (string column in spec.Features.Where(f => f.IsCategorical && f.HashBuckets is null).Select(f => f.Name))
                    {
                        Vocabulary a = vocabulary.GetVocabulary(column), b = ((VocabularyTransformer)got).GetVocabulary(column);
                        CollectionAssert.AreEqual(a.Terms.ToArray(), b.Terms.ToArray(), $"vocabulary of '{column}': the same terms at the same indices");
                        Assert.IsTrue(a.Terms.All(t => a.GetCount(t) == b.GetCount(t)));
                    }
                    break;
                case HashBucketingTransformer hashing:
                    Assert.AreEqual(hashing.GetBucketCount("brand"), ((HashBucketingTransformer)got).GetBucketCount("brand"));
                    break;
                case NumericNormalizingTransformer normalizing:
                    foreach (string column in spec.NumericColumnNames)
                    {
                        NumericStatistics a = normalizing.GetStatistics(column), b = ((NumericNormalizingTransformer)got).GetStatistics(column);
                        Assert.AreEqual(a.Count, b.Count);
                        Assert.AreEqual(a.MissingCount, b.MissingCount);
                        Assert.AreEqual(a.Minimum, b.Minimum);
                        Assert.AreEqual(a.Maximum, b.Maximum);
                        Assert.AreEqual(a.Mean, b.Mean, 1e-9 * Math.Abs(a.Mean), $"mean of '{column}'");
                        Assert.AreEqual(a.Variance, b.Variance, 1e-9 * a.Variance, $"variance of '{column}'");
                    }
                    break;
                case QuantileBucketingTransformer bucketing:
                    CollectionAssert.AreEqual(bucketing.GetBoundaries("price").ToArray(), ((QuantileBucketingTransformer)got).GetBoundaries("price").ToArray(),
                        "all 2,400 values fit the sample: the boundaries are the union's exactly");
                    break;
            }
        }
        Vocabulary users = ((VocabularyTransformer)actual.First(t => t is VocabularyTransformer)).GetVocabulary("user_id");
        Assert.HasCount(40, users.Terms, "max_vocab is applied after the merge");
        Assert.IsTrue(merged.GetTermCounts("user_id").Count > 40, "the shards' counts are kept before min count and max size");
        IDataView a2 = expected.Transform(union), b2 = actual.Transform(union);
        foreach (DataViewSchema.Column column in a2.Schema.Where(c => !c.IsHidden && c.Type.GetItemType() is KeyDataViewType))
            CollectionAssert.AreEqual(Keys(a2, column.Name), Keys(b2, column.Name), $"ids of '{column.Name}'");
    }

    private static string[] Keys(IDataView data, string name) => data.Schema[name].Type is VectorDataViewType
        ? [.. data.GetColumn<VBuffer<uint>>(data.Schema[name]).Select(v => string.Join(",", v.DenseValues()))]
        : [.. data.GetColumn<uint>(data.Schema[name]).Select(v => v.ToString())];

    private sealed class Row
    {
        public float Click { get; set; }

        public float X { get; set; }
    }

    [TestMethod]
    public void FeatureStatisticsTest_QuantileSamplesMergeByTheNumberOfValuesEachShardSaw()
    {
        // Four shards of 10k, 20k, 40k and 80k values from four disjoint ranges: 150k values, over the 100k sample, so
        // only weighting each shard's sample by what it saw puts the deciles where the union has them.
        var ml = new MLContext(seed: 1);
        var random = new Random(3);
        int[] sizes = [10_000, 20_000, 40_000, 80_000];
        Row[][] shards = [.. sizes.Select((n, s) => Enumerable.Range(0, n).Select(_ => new Row { X = s + (float)random.NextDouble() }).ToArray())];
        var spec = new FeatureSpec("Click", [new FeatureColumnSpec("X", FeatureColumnSpec.Numeric) { Buckets = 10 }]);
        double[] union = [.. shards.SelectMany(s => s).Select(r => (double)r.X).Order()];

        FeatureStatistics merged = FeatureStatistics.Merge(ml, [.. shards.Select(s => FeatureStatistics.Fit(ml, spec, ml.Data.LoadFromEnumerable(s)))]);
        double[] boundaries = [.. ((QuantileBucketingTransformer)merged.BuildPipeline(ml).Single()).GetBoundaries("X")];
        var unionChain = (TransformerChain<ITransformer>)spec.BuildPipeline(ml).Fit(ml.Data.LoadFromEnumerable(shards.SelectMany(s => s)));
        double[] unionFit = [.. ((QuantileBucketingTransformer)unionChain.Single()).GetBoundaries("X")];

        Assert.AreEqual((150_000L, 100_000), merged.GetSampleSize("X"));
        Assert.HasCount(9, boundaries);
        // The documented sketch error: each boundary's rank is off its target by a standard deviation of at most
        // 1/(2√k) = 0.0016; five of them bound a failure to under one in a million per boundary.
        double bound = 5 / (2 * Math.Sqrt(100_000));
        for (int k = 1; k < 10; k++)
        {
            double rank = (double)LowerBound(union, boundaries[k - 1]) / union.Length, unionRank = (double)LowerBound(union, unionFit[k - 1]) / union.Length;
            Assert.AreEqual(k / 10.0, rank, bound, $"merged boundary {k}");
            Assert.AreEqual(k / 10.0, unionRank, bound, $"union boundary {k}");
        }
    }

    private static int LowerBound(double[] sorted, double value)
    {
        int index = Array.BinarySearch(sorted, value);
        if (index < 0)
            return ~index;
        while (index > 0 && sorted[index - 1] == value)
            index--;
        return index;
    }

    [TestMethod]
    public void FeatureStatisticsTest_FileIsVersionedAndCheckedAndRoundTrips()
    {
        using var directory = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        var spec = new FeatureSpec("Click", [new FeatureColumnSpec("X", FeatureColumnSpec.Numeric) { Buckets = 4 }, new FeatureColumnSpec("Y", FeatureColumnSpec.Numeric)]);
        Row[] rows = [.. Enumerable.Range(0, 500).Select(i => new Row { X = i % 37, Click = i % 2 })];
        var data = ml.Data.LoadFromEnumerable(rows.Select(r => new { r.Click, r.X, Y = r.X * 2 }));
        string path = Path.Combine(directory.Path, "stats.bin");
        FeatureStatistics sut = FeatureStatistics.Fit(ml, spec, data);
        sut.Save(path);
        byte[] bytes = File.ReadAllBytes(path);

        FeatureStatistics loaded = FeatureStatistics.Load(path);
        string damaged = Write("damaged.bin", [.. bytes[..^40], (byte)(bytes[^40] ^ 1), .. bytes[^39..]]);
        string newer = Write("newer.bin", WithVersion(bytes, 99));
        string notStats = Write("other.bin", "PK\u0003\u0004 a zip"u8.ToArray().Concat(new byte[64]).ToArray());

        Assert.AreEqual(spec, loaded.Spec);
        CollectionAssert.AreEqual(sut.BuildPipeline(ml).OfType<QuantileBucketingTransformer>().Single().GetBoundaries("X").ToArray(),
            loaded.BuildPipeline(new MLContext(seed: 9)).OfType<QuantileBucketingTransformer>().Single().GetBoundaries("X").ToArray());
        Assert.AreEqual(sut.GetNumericStatistics("Y"), loaded.GetNumericStatistics("Y"));
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => FeatureStatistics.Load(damaged)).Message, "damaged.bin is damaged: its checksum does not match");
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => FeatureStatistics.Load(newer)).Message, "format version 99, but this library reads versions 1 to 2");
        StringAssert.Contains(Assert.ThrowsExactly<FormatException>(() => FeatureStatistics.Load(notStats)).Message, "other.bin is not a feature statistics file");
        var otherSpec = spec with { Features = [spec.Features[0]] };
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => FeatureStatistics.Merge(ml, [sut, FeatureStatistics.Fit(ml, otherSpec, data)])).Message, "Statistics 2 were fitted with another feature spec");

        string Write(string name, byte[] content)
        {
            string file = Path.Combine(directory.Path, name);
            File.WriteAllBytes(file, content);
            return file;
        }
    }

    [TestMethod]
    public void FeatureStatisticsTest_AShardIsMergedOnceWhateverFilesCarryIt()
    {
        using var directory = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        var spec = new FeatureSpec("Click", [new FeatureColumnSpec("X", FeatureColumnSpec.Numeric) { Buckets = 4 }]);
        FeatureStatistics Shard(int from, int count) =>
            FeatureStatistics.Fit(ml, spec, ml.Data.LoadFromEnumerable(Enumerable.Range(from, count).Select(i => new Row { X = i % 37, Click = i % 2 })));
        FeatureStatistics a = Shard(0, 250), b = Shard(250, 250), aAgain = Shard(0, 250);
        FeatureStatistics merged = FeatureStatistics.Merge(ml, [a, b]);
        string mergedPath = Path.Combine(directory.Path, "merged.bin"), aPath = Path.Combine(directory.Path, "a.bin");
        merged.Save(mergedPath);
        a.Save(aPath);

        Assert.HasCount(1, a.ShardIds);
        CollectionAssert.AreEqual(a.ShardIds, aAgain.ShardIds, "the same rows fitted twice are the same shard");
        CollectionAssert.AreNotEqual(a.ShardIds, b.ShardIds);
        CollectionAssert.AreEquivalent(a.ShardIds.Concat(b.ShardIds).ToArray(), FeatureStatistics.Load(mergedPath).ShardIds.ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => FeatureStatistics.Merge(ml, [FeatureStatistics.Load(mergedPath), a])).Message,
            "Statistics 1 and 2 both hold the shard fit");
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentException>(() => FeatureStatistics.Merge(ml, [b, a, aAgain])).Message, "Statistics 2 and 3 both hold");
        // Shards that saw no rows count nothing, so any number of them merge.
        Assert.AreEqual(4, FeatureStatistics.Merge(ml, [a, b, Shard(0, 0), Shard(0, 0)]).Shards);

        // Version 1 wrote no identities: a single shard's is its statistics' hash, as now; a merge's are unknown.
        FeatureStatistics aV1 = FeatureStatistics.Load(Write("a-v1.bin", AsVersion1(File.ReadAllBytes(aPath))));
        FeatureStatistics mergedV1 = FeatureStatistics.Load(Write("merged-v1.bin", AsVersion1(File.ReadAllBytes(mergedPath))));
        CollectionAssert.AreEqual(a.ShardIds, aV1.ShardIds);
        Assert.ThrowsExactly<ArgumentException>(() => FeatureStatistics.Merge(ml, [aV1, a]));
        Assert.AreEqual(2, mergedV1.Shards);
        Assert.IsEmpty(mergedV1.ShardIds);
        Assert.AreEqual(3, FeatureStatistics.Merge(ml, [mergedV1, a]).Shards, "a version 1 merge cannot tell which shards it holds");

        string Write(string name, byte[] content)
        {
            string file = Path.Combine(directory.Path, name);
            File.WriteAllBytes(file, content);
            return file;
        }
    }

    /// <summary>A version 2 file rewritten as version 1 wrote it: without the shard identities.</summary>
    private static byte[] AsVersion1(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes[..^32]));
        reader.ReadBytes(12);
        string specJson = reader.ReadString();
        int shards = reader.ReadInt32();
        for (int ids = reader.ReadInt32(); ids > 0; ids--)
            reader.ReadString();
        byte[] rest = reader.ReadBytes(bytes.Length);
        var body = new MemoryStream();
        using (var writer = new BinaryWriter(body, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(bytes[..8]);
            writer.Write(1);
            writer.Write(specJson);
            writer.Write(shards);
            writer.Write(rest);
        }
        return [.. body.ToArray(), .. System.Security.Cryptography.SHA256.HashData(body.ToArray())];
    }

    private static byte[] WithVersion(byte[] bytes, int version)
    {
        byte[] body = bytes[..^32];
        BitConverter.GetBytes(version).CopyTo(body, 8);
        return [.. body, .. System.Security.Cryptography.SHA256.HashData(body)];
    }
}
