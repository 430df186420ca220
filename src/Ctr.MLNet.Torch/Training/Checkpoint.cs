using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
using Ctr.MLNet.Torch.Format;
using Ctr.MLNet.Transforms;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Training;

/// <summary>Where training stands after an epoch: enough to resume to the same result.</summary>
internal sealed class TrainingState
{
    public int Epoch { get; set; }

    public long Step { get; set; }

    public double BestMetric { get; set; } = double.NaN;

    public int BestEpoch { get; set; }

    public int EpochsWithoutImprovement { get; set; }

    public List<EpochMetrics> History { get; } = [];

    /// <summary>Weights of the best epoch so far (TorchSharp's module format), when keeping the best.</summary>
    public byte[]? BestWeights { get; set; }
}

/// <summary>
/// A checkpoint file: training state, weights and optimizer state. Written to a temporary file in the same
/// directory and renamed over the previous one, so a crash while writing leaves the previous checkpoint whole.
/// </summary>
internal static class Checkpoint
{
    public const string FileName = "checkpoint.ctr";
    private const string Magic = "Ctr.MLNet checkpoint";
    private const int Version = 2; // 2: SHA-256 of the contents at the end
    private const int ChecksumLength = 32;

    // Binary format
    //   string: magic, int: version, string: layout fingerprint
    //   int: epoch, long: step, double: best metric, int: best epoch, int: epochs without improvement
    //   training history (see NetworkFormat.WriteHistory)
    //   module weights (TorchSharp format), optimizer state (TorchSharp format)
    //   bool: has best weights, [int length, bytes]
    //   32 bytes: SHA-256 of everything before (version 2 on)
    public static void Write(string directory, string fingerprint, TrainingState state, nn.Module module, OptimizerHelper optimizer)
    {
        var contents = new MemoryStream();
        using (var writer = new BinaryWriter(contents, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(Version);
            writer.Write(fingerprint);
            writer.Write(state.Epoch);
            writer.Write(state.Step);
            writer.Write(state.BestMetric);
            writer.Write(state.BestEpoch);
            writer.Write(state.EpochsWithoutImprovement);
            NetworkFormat.WriteHistory(writer, state.History);
            module.save(writer);
            optimizer.save_state_dict(writer);
            writer.Write(state.BestWeights is not null);
            if (state.BestWeights is not null)
            {
                writer.Write(state.BestWeights.Length);
                writer.Write(state.BestWeights);
            }
        }
        byte[] checksum = SHA256.HashData(contents.GetBuffer().AsSpan(0, (int)contents.Length));
        AtomicFile.Write(Path.Combine(directory, FileName), stream =>
        {
            stream.Write(contents.GetBuffer().AsSpan(0, (int)contents.Length));
            stream.Write(checksum);
        });
    }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));

    /// <summary>
    /// Loads the checkpoint of <paramref name="fingerprint"/> into the module and optimizer; a checkpoint of one of
    /// <paramref name="earlierSettings"/>' fingerprints is an error that names what to set to resume it.
    /// </summary>
    public static TrainingState Read(string directory, string fingerprint, nn.Module module, OptimizerHelper optimizer, IReadOnlyDictionary<string, string>? earlierSettings = null)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            byte[] bytes = File.ReadAllBytes(path);
            using var stream = new MemoryStream(bytes);
            using var reader = new BinaryReader(stream);
            int version;
            try
            {
                if (reader.ReadString() != Magic || (version = reader.ReadInt32()) is < 1 or > Version)
                    throw new FormatException($"'{path}' is not a Ctr.MLNet checkpoint of version {Version}; delete it to start over.");
            }
            catch (IOException e) when (e is not EndOfStreamException)
            {
                throw new FormatException($"'{path}' is not a Ctr.MLNet checkpoint; delete it to start over.", e);
            }
            if (version >= 2)
            {
                // Like a zip's CRC: a flipped bit in the weights would otherwise resume into a model that predicts NaN.
                if (bytes.Length < ChecksumLength
                    || !SHA256.HashData(bytes.AsSpan(0, bytes.Length - ChecksumLength)).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - ChecksumLength)))
                {
                    throw new FormatException($"Checkpoint '{path}' is corrupt: its SHA-256 checksum does not match its contents (damaged or truncated after it was written). Delete it to start over, or restore it from a backup.");
                }
            }
            string written = reader.ReadString();
            if (written != fingerprint)
            {
                throw new InvalidOperationException(earlierSettings?.GetValueOrDefault(written) is string settings
                    ? $"Checkpoint '{path}' was written with {settings} (before 2026-12-06 BatchSize defaulted to 1024 and EmbeddingL2 to 0, and a prior reached every table); set those to resume it, or give another checkpoint directory to start over."
                    : $"Checkpoint '{path}' was written for different features or model settings; resume with the same pipeline and options, or give another checkpoint directory to start over.");
            }
            var state = new TrainingState
            {
                Epoch = reader.ReadInt32(),
                Step = reader.ReadInt64(),
                BestMetric = reader.ReadDouble(),
                BestEpoch = reader.ReadInt32(),
                EpochsWithoutImprovement = reader.ReadInt32(),
            };
            state.History.AddRange(NetworkFormat.ReadHistory(reader));
            module.load(reader);
            optimizer.load_state_dict(reader);
            if (reader.ReadBoolean())
                state.BestWeights = reader.ReadBytes(reader.ReadInt32());
            return state;
        }
        catch (EndOfStreamException e)
        {
            throw new FormatException($"Checkpoint '{path}' is truncated; delete it to start over.", e);
        }
    }
}
