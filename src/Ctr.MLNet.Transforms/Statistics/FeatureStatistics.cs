using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using Ctr.MLNet.Transforms.Categorical;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// The statistics a <see cref="FeatureSpec"/>'s pipeline learns, fitted on one shard of the data and merged exactly
/// across shards: fit each shard where it lives (<see cref="Fit"/>, or the sample's <c>fit-stats</c> verb), combine
/// any number with <see cref="Merge"/> (<c>merge-stats</c>), and <see cref="BuildPipeline"/> gives the fitted
/// feature pipeline that one fit on all the shards together would give.
/// </summary>
/// <remarks>
/// <para>
/// What is kept, per shard, and how it merges:
/// <list type="bullet">
/// <item><description>vocabularies and counted hash spaces: every term's count, <b>before</b> <c>min_freq</c> and
/// <c>max_vocab</c>; counts are summed, and the indices are assigned once, by <see cref="BuildPipeline"/>, most
/// frequent first and equal counts in ordinal order — identical to one fit on the union;</description></item>
/// <item><description>normalized numerics: count, mean, M2, minimum, maximum and missing count, merged with Chan,
/// Golub and LeVeque's update (equal to one fit on the union to about 1e-12 relative);</description></item>
/// <item><description>bucketized numerics: a uniform sample of at most <c>MaxSamples</c> (100,000) values and the
/// number of values seen. While the union's values fit the sample the merge keeps all of them and the boundaries are
/// exactly the union's; beyond it, <see cref="ReservoirSample.Merge"/> draws a uniform sample of the union weighted
/// by each shard's count seen, so the boundaries carry the sketch error of one fit: each boundary's rank in the union
/// is off its target by a random error of standard deviation at most 1/(2√k) (0.0016 for k = 100,000).</description></item>
/// </list>
/// Sequence parsing learns nothing. The statistics of a shard use as much memory as its fit does (the distinct
/// terms and the samples), never the rows.
/// </para>
/// <para>
/// <b>File format</b> (<see cref="Save"/>): "CTRSTATS", an int format version (<see cref="FormatVersion"/>), the
/// spec's JSON, the number of shards merged, the shards' identities (version 2 on), the vocabulary counts, the
/// hash-space counts, the numeric statistics and the samples, then the SHA-256 of everything before it. <see cref="Load"/> refuses a file of a newer version, a
/// damaged one (checksum) and one that is not a statistics file, with a <see cref="FormatException"/> naming it.
/// </para>
/// </remarks>
public sealed class FeatureStatistics
{
    /// <summary>The version of the statistics file this library writes, and the newest it reads.</summary>
    public const int FormatVersion = 2;

    private static readonly byte[] Magic = "CTRSTATS"u8.ToArray();
    private const int ChecksumLength = 32;

    private readonly ImmutableDictionary<string, TermCounts> _vocabularies;
    private readonly ImmutableDictionary<string, TermCounts> _hashSpaces;
    private readonly ImmutableDictionary<string, NumericStatistics> _numerics;
    private readonly ImmutableDictionary<string, ReservoirSample> _samples;

    private FeatureStatistics(FeatureSpec spec, int shards, ImmutableArray<string>? shardIds, ImmutableDictionary<string, TermCounts> vocabularies, ImmutableDictionary<string, TermCounts> hashSpaces,
        ImmutableDictionary<string, NumericStatistics> numerics, ImmutableDictionary<string, ReservoirSample> samples)
    {
        Spec = spec;
        Shards = shards;
        _vocabularies = vocabularies;
        _hashSpaces = hashSpaces;
        _numerics = numerics;
        _samples = samples;
        ShardIds = shardIds ?? (IsEmpty ? [] : [ContentId()]);
    }

    /// <summary>The spec the statistics are of.</summary>
    public FeatureSpec Spec { get; }

    /// <summary>How many shard fits were merged into these (1 for a fit).</summary>
    public int Shards { get; }

    /// <summary>
    /// The identities of the shards merged into these: a hash of each shard fit's statistics, so the same rows fitted
    /// twice have the same identity and <see cref="Merge"/> refuses to count them twice. Shards that saw no rows have
    /// none, and a merge written by format version 1 knows none of its shards.
    /// </summary>
    public ImmutableArray<string> ShardIds { get; }

    /// <summary>The vocabulary names, in the pipeline's order.</summary>
    public ImmutableArray<string> VocabularyNames => [.. _vocabularies.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Every term counted for vocabulary <paramref name="vocabulary"/> (named after its feature or its
    /// <c>share_vocab</c> target), before min count and max size.</summary>
    public IReadOnlyDictionary<string, long> GetTermCounts(string vocabulary) =>
        (_vocabularies.GetValueOrDefault(vocabulary) ?? _hashSpaces.GetValueOrDefault(vocabulary)
            ?? throw new ArgumentOutOfRangeException(nameof(vocabulary), $"There is no vocabulary '{vocabulary}'; there are: {string.Join(", ", _vocabularies.Keys.Concat(_hashSpaces.Keys))}.")).Counts;

    /// <summary>The statistics of normalized numeric feature <paramref name="column"/>.</summary>
    public NumericStatistics GetNumericStatistics(string column) =>
        _numerics.GetValueOrDefault(column) ?? throw new ArgumentOutOfRangeException(nameof(column), $"There is no normalized numeric feature '{column}'.");

    /// <summary>How many finite values of bucketized feature <paramref name="column"/> were seen, and how many its sample holds.</summary>
    public (long Seen, int Held) GetSampleSize(string column) =>
        _samples.GetValueOrDefault(column) is ReservoirSample sample ? (sample.Seen, sample.Count)
            : throw new ArgumentOutOfRangeException(nameof(column), $"There is no bucketized numeric feature '{column}'.");

    /// <summary>
    /// Fits the statistics of <paramref name="spec"/>'s pipeline on <paramref name="data"/>, one shard of the data,
    /// in the passes <c>BuildPipeline(mlContext).Fit(data)</c> makes.
    /// </summary>
    /// <param name="mlContext">The context.</param>
    /// <param name="spec">The feature spec; every shard must use the same one.</param>
    /// <param name="data">The shard, loaded as for training (e.g. with <see cref="FeatureSpec.LoadData"/>).</param>
    public static FeatureStatistics Fit(MLContext mlContext, FeatureSpec spec, IDataView data)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(data);
        var vocabularies = ImmutableDictionary.CreateBuilder<string, TermCounts>();
        var hashSpaces = ImmutableDictionary.CreateBuilder<string, TermCounts>();
        var numerics = ImmutableDictionary.CreateBuilder<string, NumericStatistics>();
        var samples = ImmutableDictionary.CreateBuilder<string, ReservoirSample>();
        IDataView view = data;
        foreach (IEstimator<ITransformer> estimator in spec.BuildEstimators(mlContext))
        {
            switch (estimator)
            {
                case SequenceParsingEstimator parsing:
                    view = parsing.Fit(view).Transform(view);
                    break;
                case VocabularyEstimator vocabulary:
                    vocabularies.AddRange(vocabulary.SpaceNames.Zip(vocabulary.CountTerms(view), KeyValuePair.Create));
                    break;
                case HashBucketingEstimator hashing:
                    hashSpaces.AddRange(hashing.SpaceNames.Zip(hashing.CountTokens(view), KeyValuePair.Create));
                    break;
                case NumericNormalizingEstimator normalizing:
                    numerics.AddRange(normalizing.InputColumns.Zip(normalizing.ComputeStatistics(view), KeyValuePair.Create));
                    break;
                case QuantileBucketingEstimator bucketing:
                    samples.AddRange(bucketing.InputColumns.Zip(bucketing.Sample(view), KeyValuePair.Create));
                    break;
                default:
                    throw new InvalidOperationException($"The spec's pipeline has a stage ({estimator.GetType().Name}) whose statistics cannot be fitted by shard.");
            }
        }
        return new FeatureStatistics(spec, 1, null, vocabularies.ToImmutable(), hashSpaces.ToImmutable(), numerics.ToImmutable(), samples.ToImmutable());
    }

    /// <summary>
    /// The statistics of all <paramref name="parts"/> together (see the remarks for how each kind merges). The result
    /// merges again like any other, so shards can be combined in a tree.
    /// </summary>
    /// <param name="mlContext">The context (for the spec's sampling settings).</param>
    /// <param name="parts">Statistics of the same spec, one or more.</param>
    /// <exception cref="ArgumentException">No parts, parts of different specs (the message names the first that differs),
    /// or a shard held by two parts (see <see cref="ShardIds"/>).</exception>
    public static FeatureStatistics Merge(MLContext mlContext, IReadOnlyList<FeatureStatistics> parts)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
            throw new ArgumentException("There are no statistics to merge; give one or more.", nameof(parts));
        FeatureSpec spec = parts[0].Spec;
        for (int i = 1; i < parts.Count; i++)
        {
            if (!parts[i].Spec.Equals(spec))
                throw new ArgumentException($"Statistics {i + 1} were fitted with another feature spec than statistics 1 ({parts[i].Spec} vs {spec}); fit every shard with the same spec file.", nameof(parts));
        }
        if (FindRepeatedShard(parts) is (int first, int second))
        {
            throw new ArgumentException($"Statistics {first + 1} and {second + 1} both hold the shard fit {parts[first].ShardIds.Intersect(parts[second].ShardIds).First()} "
                + "(the same rows fitted, or a merge that already holds that shard); merging them would count those rows twice. Merge each shard once.", nameof(parts));
        }
        var sampling = new Dictionary<string, (int Capacity, int Seed)>();
        foreach (QuantileBucketingEstimator bucketing in spec.BuildEstimators(mlContext).OfType<QuantileBucketingEstimator>())
        {
            foreach (var (column, settings) in bucketing.InputColumns.Zip(bucketing.SampleSettings))
                sampling[column] = settings;
        }
        return new FeatureStatistics(spec, parts.Sum(p => p.Shards), [.. parts.SelectMany(p => p.ShardIds)],
            Sum(parts.Select(p => p._vocabularies)), Sum(parts.Select(p => p._hashSpaces)),
            parts[0]._numerics.ToImmutableDictionary(kv => kv.Key, kv => parts.Skip(1).Aggregate(kv.Value, (total, p) => total.Merge(p._numerics[kv.Key]))),
            parts[0]._samples.ToImmutableDictionary(kv => kv.Key, kv => ReservoirSample.Merge([.. parts.Select(p => p._samples[kv.Key])], sampling[kv.Key].Capacity, sampling[kv.Key].Seed)));
    }

    /// <summary>The first two of <paramref name="parts"/> that hold the same shard, or null.</summary>
    public static (int First, int Second)? FindRepeatedShard(IReadOnlyList<FeatureStatistics> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var holder = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < parts.Count; i++)
        {
            foreach (string id in parts[i].ShardIds)
            {
                if (!holder.TryAdd(id, i) && holder[id] != i)
                    return (holder[id], i);
            }
        }
        return null;
    }

    private bool IsEmpty =>
        _vocabularies.Values.Concat(_hashSpaces.Values).All(c => c.Count == 0) && _numerics.Values.All(n => n.Count == 0 && n.MissingCount == 0)
        && _samples.Values.All(s => s.Seen == 0);

    // The statistics' own bytes: equal for two fits of the same rows with the same spec, different for any other rows
    // almost surely (the counts of every term, every moment and the sampled values all enter).
    private string ContentId()
    {
        // Streamed through the hash: a shard of millions of terms is not held twice.
        using var sha = SHA256.Create();
        using (var hashing = new CryptoStream(Stream.Null, sha, CryptoStreamMode.Write))
        using (var writer = new BinaryWriter(hashing, Encoding.UTF8))
            WriteSections(writer);
        return Convert.ToHexStringLower(sha.Hash!)[..32];
    }

    private static ImmutableDictionary<string, TermCounts> Sum(IEnumerable<ImmutableDictionary<string, TermCounts>> parts)
    {
        var sums = new Dictionary<string, TermCounts>();
        foreach (ImmutableDictionary<string, TermCounts> part in parts)
        {
            foreach (var (name, counts) in part)
            {
                TermCounts total = sums.TryGetValue(name, out TermCounts? existing) ? existing : sums[name] = new TermCounts();
                foreach (var (term, count) in counts.Counts)
                    total.Add(term, count);
            }
        }
        return sums.ToImmutableDictionary();
    }

    /// <summary>
    /// The fitted feature pipeline of <see cref="Spec"/> with these statistics, as <c>Spec.BuildPipeline(ml).Fit</c>
    /// returns it: a <see cref="TransformerChain{TLastTransformer}"/> to train on, save, or refit day by day.
    /// </summary>
    /// <param name="mlContext">The context to create the transformers in.</param>
    public TransformerChain<ITransformer> BuildPipeline(MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(mlContext);
        var transformers = new List<ITransformer>();
        foreach (IEstimator<ITransformer> estimator in Spec.BuildEstimators(mlContext))
        {
            transformers.Add(estimator switch
            {
                SequenceParsingEstimator parsing => parsing.Create(),
                VocabularyEstimator vocabulary => vocabulary.FromCounts([.. vocabulary.SpaceNames.Select(n => _vocabularies[n])]),
                HashBucketingEstimator hashing => hashing.FromCounts([.. hashing.SpaceNames.Select(n => _hashSpaces[n])]),
                NumericNormalizingEstimator normalizing => normalizing.FromStatistics([.. normalizing.InputColumns.Select(c => _numerics[c])]),
                QuantileBucketingEstimator bucketing => bucketing.FromSamples([.. bucketing.InputColumns.Select(c => _samples[c])]),
                _ => throw new InvalidOperationException($"The spec's pipeline has a stage ({estimator.GetType().Name}) that cannot be built from statistics."),
            });
        }
        return new TransformerChain<ITransformer>([.. transformers]);
    }

    // Binary format (version 2), after the 8 bytes "CTRSTATS" and the int version
    //   string: spec JSON; int: shards merged
    //   int: shard identities, then each as a string (not in version 1)
    //   int: vocabularies, then each: string name, int terms, then per term in ordinal order: string term, long count
    //   int: hash spaces, then each as a vocabulary
    //   int: normalized numerics, then each: string input column, NumericStatistics (see NumericStatistics.Write)
    //   int: samples, then each: string input column, int capacity, long seen, int values held, then the doubles
    //   then 32 bytes: SHA-256 of every byte before them
    /// <summary>Writes the statistics to <paramref name="path"/> (replaced only once the whole file is written).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.Write(path, stream =>
        {
            var buffer = new MemoryStream();
            using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                writer.Write(Spec.ToJson());
                writer.Write(Shards);
                writer.Write(ShardIds.Length);
                foreach (string id in ShardIds)
                    writer.Write(id);
                WriteSections(writer);
            }
            buffer.Write(SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
            buffer.Position = 0;
            buffer.CopyTo(stream);
        });
    }

    private void WriteSections(BinaryWriter writer)
    {
        WriteCounts(writer, _vocabularies);
        WriteCounts(writer, _hashSpaces);
        writer.Write(_numerics.Count);
        foreach (var (column, statistics) in _numerics.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.Write(column);
            statistics.Write(writer);
        }
        writer.Write(_samples.Count);
        foreach (var (column, sample) in _samples.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.Write(column);
            writer.Write(sample.Capacity);
            writer.Write(sample.Seen);
            writer.Write(sample.Count);
            foreach (double value in sample.Values)
                writer.Write(value);
        }
    }

    private static void WriteCounts(BinaryWriter writer, ImmutableDictionary<string, TermCounts> spaces)
    {
        writer.Write(spaces.Count);
        foreach (var (name, counts) in spaces.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.Write(name);
            writer.Write(counts.Count);
            foreach (var (term, count) in counts.Counts.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                writer.Write(term);
                writer.Write(count);
            }
        }
    }

    /// <summary>Reads statistics written by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="FormatException">It is not a statistics file, is damaged, or was written by a newer version;
    /// the message names the file and what to do.</exception>
    public static FeatureStatistics Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Could not find the statistics file '{path}'.", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < Magic.Length + sizeof(int) + ChecksumLength || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            CtrThrow.Format($"{path} is not a feature statistics file (it does not start with CTRSTATS); give a file written by fit-stats or merge-stats.");
        int version = BitConverter.ToInt32(bytes, Magic.Length);
        if (version > FormatVersion || version < 1)
            CtrThrow.Format($"{path} is a statistics file of format version {version}, but this library reads versions 1 to {FormatVersion}; update Ctr.MLNet, or fit the statistics again with this version.");
        int body = bytes.Length - ChecksumLength;
        if (!SHA256.HashData(bytes.AsSpan(0, body)).AsSpan().SequenceEqual(bytes.AsSpan(body)))
            CtrThrow.Format($"{path} is damaged: its checksum does not match its contents (truncated or changed after it was written); copy it again, or fit the shard again.");
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, Magic.Length + sizeof(int), body - Magic.Length - sizeof(int)), Encoding.UTF8);
            FeatureSpec spec = FeatureSpec.FromJson(reader.ReadString());
            int shards = reader.ReadInt32();
            ImmutableArray<string>? shardIds = null;
            if (version >= 2)
            {
                var ids = ImmutableArray.CreateBuilder<string>();
                for (int i = Vocabulary.ReadCount(reader, "shard identities"); i > 0; i--)
                    ids.Add(reader.ReadString());
                shardIds = ids.ToImmutable();
            }
            else if (shards > 1)
            {
                shardIds = [];
            }
            ImmutableDictionary<string, TermCounts> vocabularies = ReadCounts(reader), hashSpaces = ReadCounts(reader);
            var numerics = ImmutableDictionary.CreateBuilder<string, NumericStatistics>();
            for (int i = Vocabulary.ReadCount(reader, "numeric columns"); i > 0; i--)
            {
                string column = reader.ReadString();
                numerics.Add(column, NumericStatistics.Read(reader, column));
            }
            var samples = ImmutableDictionary.CreateBuilder<string, ReservoirSample>();
            for (int i = Vocabulary.ReadCount(reader, "sampled columns"); i > 0; i--)
            {
                string column = reader.ReadString();
                int capacity = reader.ReadInt32();
                long seen = reader.ReadInt64();
                int held = Vocabulary.ReadCount(reader, "sampled values");
                var values = new double[held];
                for (int v = 0; v < held; v++)
                    values[v] = reader.ReadDouble();
                samples.Add(column, new ReservoirSample(capacity, 0, seen, values));
            }
            var statistics = new FeatureStatistics(spec, shards, shardIds, vocabularies, hashSpaces, numerics.ToImmutable(), samples.ToImmutable());
            statistics.CheckCovers(path);
            return statistics;
        }
        catch (Exception e) when (e is EndOfStreamException or ArgumentException or FormatException)
        {
            throw new FormatException($"{path} cannot be read as feature statistics: {e.Message}", e);
        }
    }

    private static ImmutableDictionary<string, TermCounts> ReadCounts(BinaryReader reader)
    {
        var spaces = ImmutableDictionary.CreateBuilder<string, TermCounts>();
        for (int i = Vocabulary.ReadCount(reader, "vocabularies"); i > 0; i--)
        {
            string name = reader.ReadString();
            var counts = new TermCounts();
            for (int t = Vocabulary.ReadCount(reader, "terms"); t > 0; t--)
                counts.Add(reader.ReadString(), reader.ReadInt64());
            spaces.Add(name, counts);
        }
        return spaces.ToImmutable();
    }

    // The file's spec names the stages; a file whose sections do not match them cannot build the pipeline.
    private void CheckCovers(string path)
    {
        var ml = new MLContext(seed: 0);
        foreach (IEstimator<ITransformer> estimator in Spec.BuildEstimators(ml))
        {
            string[] missing = estimator switch
            {
                VocabularyEstimator v => [.. v.SpaceNames.Where(n => !_vocabularies.ContainsKey(n))],
                HashBucketingEstimator h => [.. h.SpaceNames.Where(n => !_hashSpaces.ContainsKey(n))],
                NumericNormalizingEstimator n => [.. n.InputColumns.Where(c => !_numerics.ContainsKey(c))],
                QuantileBucketingEstimator q => [.. q.InputColumns.Where(c => !_samples.ContainsKey(c))],
                _ => [],
            };
            if (missing.Length > 0)
                CtrThrow.Format($"{path} has no statistics for {string.Join(", ", missing)}, which its spec needs; the file is corrupt.");
        }
    }
}
