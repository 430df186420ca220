using System;
using System.Collections.Generic;
using System.IO;
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
    private const int Version = 1;

    // Binary format
    //   string: magic, int: version, string: layout fingerprint
    //   int: epoch, long: step, double: best metric, int: best epoch, int: epochs without improvement
    //   training history (see NetworkFormat.WriteHistory)
    //   module weights (TorchSharp format), optimizer state (TorchSharp format)
    //   bool: has best weights, [int length, bytes]
    public static void Write(string directory, string fingerprint, TrainingState state, nn.Module module, OptimizerHelper optimizer)
    {
        AtomicFile.Write(Path.Combine(directory, FileName), stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
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
        });
    }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, FileName));

    public static TrainingState Read(string directory, string fingerprint, nn.Module module, OptimizerHelper optimizer)
    {
        string path = Path.Combine(directory, FileName);
        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream);
            if (reader.ReadString() != Magic || reader.ReadInt32() != Version)
                throw new FormatException($"'{path}' is not a Ctr.MLNet checkpoint of version {Version}.");
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
