using System;
using System.Collections.Generic;
using System.IO;
using System.Security.Cryptography;
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
    //   int: history count, then per epoch: int epoch, 5 doubles (loss, auc, logloss, rows/s, lr)
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
            writer.Write(state.History.Count);
            foreach (EpochMetrics m in state.History)
            {
                writer.Write(m.Epoch);
                writer.Write(m.TrainLoss);
                writer.Write(m.ValidAuc);
                writer.Write(m.ValidLogLoss);
                writer.Write(m.TrainRowsPerSecond);
                writer.Write(m.LearningRate);
            }
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

    public static TrainingState Read(string directory, string fingerprint, nn.Module module, OptimizerHelper optimizer)
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
            if (reader.ReadString() != fingerprint)
                throw new InvalidOperationException($"Checkpoint '{path}' was written for different features or model settings; resume with the same pipeline and options, or point CheckpointDirectory elsewhere.");
            var state = new TrainingState
            {
                Epoch = reader.ReadInt32(),
                Step = reader.ReadInt64(),
                BestMetric = reader.ReadDouble(),
                BestEpoch = reader.ReadInt32(),
                EpochsWithoutImprovement = reader.ReadInt32(),
            };
            int history = reader.ReadInt32();
            for (int i = 0; i < history; i++)
                state.History.Add(new EpochMetrics(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()));
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
