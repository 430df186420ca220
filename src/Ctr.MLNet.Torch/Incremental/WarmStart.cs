using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using Ctr.MLNet.Torch.Training;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Torch.Incremental;

/// <summary>
/// Yesterday's trained network as the start of today's training: the layout grown to today's vocabularies, the
/// weights copied (embedding tables by row prefix), and the optimizer's state continued when it was kept.
/// </summary>
internal sealed class WarmStart
{
    private readonly TorchCtrTransformer _yesterday;

    public WarmStart(TorchCtrTransformer yesterday)
    {
        _yesterday = yesterday;
    }

    /// <summary>
    /// Marks a checkpoint as a continuation of this network, so a cold run never resumes it and it never resumes
    /// a cold run's checkpoint: yesterday's layout and its whole training history identify it.
    /// </summary>
    public void WriteIdentity(BinaryWriter writer)
    {
        writer.Write("warm start");
        _yesterday.Layout.Write(writer);
        foreach (EpochMetrics epoch in _yesterday.History)
        {
            writer.Write(epoch.Epoch);
            writer.Write(epoch.TrainLoss);
            writer.Write(epoch.ValidAuc);
            writer.Write(epoch.ValidLogLoss);
        }
    }

    /// <summary>
    /// Yesterday's layout with every table as large as today's vocabulary in <paramref name="schema"/>: same fields,
    /// same tables in the same order, no table smaller than yesterday.
    /// </summary>
    public FeatureLayout GrowLayout(DataViewSchema schema)
    {
        FeatureLayout old = _yesterday.Layout;
        int[] sizes = [.. old.Tables.Select(t => t.Size)];
        IEnumerable<(string Column, int Table)> fields =
            old.Categorical.Select(f => (f.ColumnName, f.Table)).Concat(old.Sequences.Select(f => (f.ColumnName, f.Table)));
        foreach ((string name, int table) in fields)
        {
            DataViewSchema.Column column = schema.GetColumnOrNull(name)
                ?? throw new ArgumentOutOfRangeException(nameof(schema), $"Could not find input column '{name}', which yesterday's network reads; refit yesterday's pipeline instead of fitting a new one.");
            EmbeddingTable trained = old.Tables[table];
            if (!column.TryGetCategoricalFeature(out CategoricalFeature feature) || feature.Vocabulary != trained.Name)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Schema mismatch for input column '{name}': expected a key column of vocabulary '{trained.Name}' as yesterday, got {column.Type}.");
            if (feature.Size < trained.Size)
                throw new ArgumentOutOfRangeException(nameof(schema), $"Vocabulary '{trained.Name}' has {feature.Size} entries today but {trained.Size} yesterday; a refit only grows it. Refit yesterday's pipeline (IncrementalTraining.RefitFeatures) instead of fitting a new one, or ids would change meaning.");
            sizes[table] = feature.Size;
        }
        var grown = new FeatureLayout([.. old.Tables.Select((t, i) => t with { Size = sizes[i] })], old.Categorical, old.Sequences, old.Numeric);
        grown.CheckSchema(schema);
        return grown;
    }

    /// <summary>
    /// Copies every parameter and buffer of yesterday's network into <paramref name="target"/> (built for
    /// <paramref name="grown"/>) by name: as they are where the shapes agree, into the first rows where an embedding
    /// table grew. The new rows keep the target's initialization; nothing else may differ.
    /// </summary>
    public void CopyWeights(CtrModel target, FeatureLayout grown, IProgress<TrainingProgress>? progress)
    {
        CtrModel source = _yesterday.Model;
        if (source.GetType() != target.GetType())
            throw new InvalidOperationException($"Yesterday's network is a {source.GetType().Name}; today's is a {target.GetType().Name}.");
        Dictionary<string, Tensor> from = source.state_dict(), to = target.state_dict();
        string[] missing = [.. to.Keys.Except(from.Keys).Concat(from.Keys.Except(to.Keys))];
        if (missing.Length > 0)
            throw new InvalidOperationException($"Yesterday's and today's networks differ in {string.Join(", ", missing.Select(m => $"'{m}'"))}; continue with the network type and options yesterday's model was trained with.");
        foreach ((string name, Tensor tensor) in to)
        {
            if (Growth(from[name].shape, tensor.shape, grown) is null)
                throw new InvalidOperationException($"'{name}' is [{string.Join(", ", from[name].shape)}] in yesterday's network but [{string.Join(", ", tensor.shape)}] today; only embedding tables may change, by growing with their vocabulary.");
        }
        using (no_grad())
        {
            foreach ((string name, Tensor tensor) in to)
                CopyInto(tensor, from[name]);
        }
        string[] grownTables = [.. grown.Tables.Select((t, i) => (Today: t, Yesterday: _yesterday.Layout.Tables[i]))
            .Where(p => p.Today.Size != p.Yesterday.Size).Select(p => $"{p.Today.Name} {p.Yesterday.Size} → {p.Today.Size}")];
        Report(progress, $"warm start: {to.Count} tensors from yesterday's network; " + (grownTables.Length == 0 ? "no table grew" : $"tables grown (rows): {string.Join(", ", grownTables)}"));
    }

    /// <summary>
    /// Continues the optimizer's state kept with yesterday's network (<see cref="TorchCtrTransformer.HasOptimizerState"/>):
    /// loads it into an optimizer of the same kind over yesterday's weights, then copies it into
    /// <paramref name="optimizer"/> parameter by parameter, the rows of grown tables padded with zeros, which is the
    /// state those rows would have had had they existed yesterday without appearing in a batch (exactly so without L2
    /// weight decay). Without a kept state, or when it is for another optimizer, <paramref name="optimizer"/> starts
    /// fresh on the warm weights.
    /// </summary>
    public void StartOptimizer(optim.Optimizer optimizer, TorchCtrTrainer.Options options)
    {
        byte[]? saved = _yesterday.OptimizerState;
        if (saved is null)
        {
            Report(options.Progress, "warm start: yesterday's model holds no optimizer state (train it with KeepOptimizerState); a fresh optimizer starts on the warm weights");
            return;
        }
        if (optimizer is not OptimizerHelper target)
        {
            Report(options.Progress, $"warm start: a {optimizer.GetType().Name} cannot take over a saved state; it starts fresh on the warm weights");
            return;
        }
        CtrModel model = _yesterday.Model;
        using optim.Optimizer scratch = model.CreateOptimizer(options) ?? TrainingLoop.CreateOptimizer(model.parameters(), options);
        if (scratch is not OptimizerHelper source || source.GetType() != target.GetType())
        {
            Report(options.Progress, "warm start: yesterday's optimizer state cannot be rebuilt; a fresh optimizer starts on the warm weights");
            return;
        }
        try
        {
            using var reader = new BinaryReader(new MemoryStream(saved));
            source.load_state_dict(reader);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or FormatException or EndOfStreamException)
        {
            Report(options.Progress, $"warm start: yesterday's optimizer state does not fit today's {target.GetType().Name} ({e.Message}); a fresh optimizer starts on the warm weights");
            return;
        }

        List<OptimizerState> fromStates = source.state_dict().State, toStates = target.state_dict().State;
        Parameter[] fromParameters = [.. source.parameters()], toParameters = [.. target.parameters()];
        string? problem = fromStates.Count != toStates.Count || fromParameters.Length != toParameters.Length || fromStates.Count != toParameters.Length
            ? $"{fromStates.Count} states yesterday, {toStates.Count} today"
            : Enumerable.Range(0, toStates.Count).Select(i => CheckState(fromStates[i], toStates[i], fromParameters[i].shape, toParameters[i].shape)).FirstOrDefault(p => p is not null);
        if (problem is not null)
        {
            Report(options.Progress, $"warm start: yesterday's optimizer state does not match today's parameters ({problem}); a fresh optimizer starts on the warm weights");
            return;
        }
        using (no_grad())
        {
            for (int i = 0; i < toStates.Count; i++)
                CopyState(fromStates[i], toStates[i], fromParameters[i].shape, toParameters[i].shape);
        }
        Report(options.Progress, $"warm start: continuing yesterday's {target.GetType().Name} state ({toStates.Count} parameters; grown rows start with zero state)");
    }

    /// <summary>Null when <paramref name="from"/> cannot become <paramref name="to"/>; otherwise the rows to copy.</summary>
    private long? Growth(long[] from, long[] to, FeatureLayout grown)
    {
        if (from.SequenceEqual(to))
            return from.Length == 0 ? 0 : from[0];
        if (from.Length == 0 || from.Length != to.Length || !from.Skip(1).SequenceEqual(to.Skip(1)) || to[0] <= from[0])
            return null;
        FeatureLayout old = _yesterday.Layout;
        bool isTable = Enumerable.Range(0, old.Tables.Length).Any(i => old.Tables[i].Size == from[0] && grown.Tables[i].Size == to[0]);
        return isTable ? from[0] : null;
    }

    /// <summary>Copies <paramref name="from"/> into <paramref name="to"/>, or into its first rows when it has more; the other rows stay as they are.</summary>
    private static void CopyInto(Tensor to, Tensor from)
    {
        if (from.shape.SequenceEqual(to.shape))
        {
            to.copy_(from);
            return;
        }
        using Tensor rows = to.narrow(0, 0, from.shape[0]);
        rows.copy_(from);
    }

    private static IEnumerable<FieldInfo> StateFields(OptimizerState state) =>
        state.GetType().GetFields(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>Null when <paramref name="from"/>'s fields can be copied into <paramref name="to"/>'s; otherwise why not.</summary>
    private static string? CheckState(OptimizerState from, OptimizerState to, long[] fromShape, long[] toShape)
    {
        if (from.GetType() != to.GetType())
            return $"{from.GetType().Name} and {to.GetType().Name}";
        bool grows = !fromShape.SequenceEqual(toShape);
        if (grows && (fromShape.Length == 0 || fromShape.Length != toShape.Length || !fromShape.Skip(1).SequenceEqual(toShape.Skip(1)) || toShape[0] < fromShape[0]))
            return $"parameter [{string.Join(", ", fromShape)}] yesterday, [{string.Join(", ", toShape)}] today";
        foreach (FieldInfo field in StateFields(from))
        {
            if (field.FieldType == typeof(Tensor))
            {
                if (field.GetValue(from) is Tensor tensor && !tensor.shape.SequenceEqual(fromShape) && grows)
                    return $"state '{field.Name}' of shape [{string.Join(", ", tensor.shape)}] for a parameter that grew";
            }
            else if (!field.FieldType.IsPrimitive)
            {
                return $"state '{field.Name}' of type {field.FieldType.Name}";
            }
        }
        return null;
    }

    /// <summary>
    /// Copies every field of <paramref name="from"/> into <paramref name="to"/>; tensors shaped like the parameter
    /// (<paramref name="fromShape"/>) are padded with zero rows to its grown shape <paramref name="toShape"/>.
    /// </summary>
    private static void CopyState(OptimizerState from, OptimizerState to, long[] fromShape, long[] toShape)
    {
        foreach (FieldInfo field in StateFields(from))
        {
            if (field.FieldType != typeof(Tensor))
            {
                field.SetValue(to, field.GetValue(from));
                continue;
            }
            var source = (Tensor?)field.GetValue(from);
            var target = (Tensor?)field.GetValue(to);
            if (source is null)
            {
                target?.Dispose();
                field.SetValue(to, null);
                continue;
            }
            long[] targetShape = source.shape.SequenceEqual(fromShape) ? toShape : source.shape;
            if (target is null || !target.shape.SequenceEqual(targetShape) || target.dtype != source.dtype)
            {
                target?.Dispose();
                target = zeros(targetShape, dtype: source.dtype, device: source.device);
                field.SetValue(to, target);
            }
            else if (!targetShape.SequenceEqual(source.shape))
            {
                target.zero_();
            }
            CopyInto(target, source);
        }
    }

    private static void Report(IProgress<TrainingProgress>? progress, string message) =>
        progress?.Report(new TrainingProgress(TrainingPhase.Reading, 0, 0, 0, null, 0, 0, null, message));
}
