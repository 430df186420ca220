using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace Ctr.MLNet.Torch.Format;

/// <summary>
/// The binary form of a network's settings and training history, shared by the model zip, checkpoints and
/// checkpoint fingerprints. Each option is a named, typed field in a fixed order; reading names the field that
/// is unknown, missing or of another type. A new <see cref="CtrModelOptions"/> property becomes a new field at the
/// end, with a new version of <see cref="TorchCtrTransformer"/> (NetworkFormatTest checks that none is left out).
/// </summary>
internal static class NetworkFormat
{
    private enum FieldKind : byte
    {
        Int32 = 1,
        Double = 2,
        Boolean = 3,
        Text = 4,
        Int32List = 5,
        TextToInt32 = 6,
        TextToText = 7,
        TextList = 8,
    }

    /// <summary>The option fields in the order they are written (version 1.4; 1.3 ended before <c>history_attributes</c>).</summary>
    internal static readonly ImmutableArray<string> OptionFields =
        ["embedding_dim", "embedding_dims", "hidden_units", "dropout", "batch_norm", "pooling", "embedding_init_std", "parameters", "history_attributes"];

    // Binary format
    //   int: field count, then per field: string name, byte kind, value
    //   values: Int32 int; Double double; Boolean bool; Text string (enums by member name);
    //     Int32List int count + ints; TextToInt32 / TextToText int count + (string key, value) in ordinal key order;
    //     TextList int count (−1 for null) + strings
    public static void WriteOptions(BinaryWriter writer, CtrModelOptions options)
    {
        writer.Write(OptionFields.Length);
        Field(writer, "embedding_dim", FieldKind.Int32).Write(options.EmbeddingDim);
        WriteMap(Field(writer, "embedding_dims", FieldKind.TextToInt32), options.EmbeddingDims, (w, v) => w.Write(v));
        Field(writer, "hidden_units", FieldKind.Int32List).Write(options.HiddenUnits.Length);
        foreach (int units in options.HiddenUnits)
            writer.Write(units);
        Field(writer, "dropout", FieldKind.Double).Write(options.Dropout);
        Field(writer, "batch_norm", FieldKind.Boolean).Write(options.BatchNorm);
        Field(writer, "pooling", FieldKind.Text).Write(options.Pooling.ToString());
        Field(writer, "embedding_init_std", FieldKind.Double).Write(options.EmbeddingInitStd);
        WriteMap(Field(writer, "parameters", FieldKind.TextToText), options.Parameters, (w, v) => w.Write(v));
        BinaryWriter attributes = Field(writer, "history_attributes", FieldKind.TextList);
        attributes.Write(options.HistoryAttributes?.Length ?? -1);
        foreach (string column in options.HistoryAttributes ?? [])
            attributes.Write(column);
    }

    public static CtrModelOptions ReadOptions(BinaryReader reader)
    {
        var fields = new FieldReader(reader, reader.ReadInt32());
        var options = new CtrModelOptions
        {
            EmbeddingDim = fields.Next("embedding_dim", FieldKind.Int32).ReadInt32(),
            EmbeddingDims = ReadMap(fields.Next("embedding_dims", FieldKind.TextToInt32), r => r.ReadInt32()),
            HiddenUnits = [.. Enumerable.Range(0, Count(fields.Next("hidden_units", FieldKind.Int32List))).Select(_ => reader.ReadInt32())],
            Dropout = fields.Next("dropout", FieldKind.Double).ReadDouble(),
            BatchNorm = fields.Next("batch_norm", FieldKind.Boolean).ReadBoolean(),
            Pooling = Enum<SequencePooling>("pooling", fields.Next("pooling", FieldKind.Text).ReadString()),
            EmbeddingInitStd = fields.Next("embedding_init_std", FieldKind.Double).ReadDouble(),
            Parameters = ReadMap(fields.Next("parameters", FieldKind.TextToText), r => r.ReadString()),
            // Version 1.3 ends here: its networks embed history elements as their items alone.
            HistoryAttributes = fields.NextOrEnd("history_attributes", FieldKind.TextList) is { } attributes ? ReadTextList(attributes) : [],
        };
        fields.End();
        return options;
    }

    /// <summary>
    /// The options as version 1.1 and 1.2 wrote them: System.Text.Json of <see cref="CtrModelOptions"/> with its
    /// property names of that time and <see cref="SequencePooling"/> as a number. Read property by property, so
    /// a later rename of a property leaves these files readable.
    /// </summary>
    public static CtrModelOptions ReadLegacyJsonOptions(string json)
    {
        var options = new CtrModelOptions { HistoryAttributes = [] };
        using JsonDocument document = JsonDocument.Parse(json);
        foreach (JsonProperty property in document.RootElement.EnumerateObject())
        {
            JsonElement v = property.Value;
            options = property.Name switch
            {
                "EmbeddingDim" => options with { EmbeddingDim = v.GetInt32() },
                "EmbeddingDims" => options with { EmbeddingDims = v.EnumerateObject().ToImmutableDictionary(p => p.Name, p => p.Value.GetInt32()) },
                "HiddenUnits" => options with { HiddenUnits = [.. v.EnumerateArray().Select(u => u.GetInt32())] },
                "Dropout" => options with { Dropout = v.GetDouble() },
                "BatchNorm" => options with { BatchNorm = v.GetBoolean() },
                "Pooling" => options with { Pooling = Enum<SequencePooling>("Pooling", v.GetInt32()) },
                "EmbeddingInitStd" => options with { EmbeddingInitStd = v.GetDouble() },
                "Parameters" => options with { Parameters = v.EnumerateObject().ToImmutableDictionary(p => p.Name, p => p.Value.GetString() ?? "") },
                _ => throw new FormatException($"The model file's network options have an unknown field '{property.Name}'; it was written by another version of the library."),
            };
        }
        return options;
    }

    // Binary format
    //   int: epochs, then per epoch: int epoch, 5 doubles (train loss, valid AUC, valid log loss, rows/s, learning rate)
    public static void WriteHistory(BinaryWriter writer, IReadOnlyCollection<EpochMetrics> history)
    {
        writer.Write(history.Count);
        foreach (EpochMetrics m in history)
        {
            writer.Write(m.Epoch);
            writer.Write(m.TrainLoss);
            writer.Write(m.ValidAuc);
            writer.Write(m.ValidLogLoss);
            writer.Write(m.TrainRowsPerSecond);
            writer.Write(m.LearningRate);
        }
    }

    public static List<EpochMetrics> ReadHistory(BinaryReader reader)
    {
        int epochs = reader.ReadInt32();
        if (epochs is < 0 or > 100_000)
            throw new FormatException($"The training history is corrupt: {epochs} epochs.");
        var history = new List<EpochMetrics>(epochs);
        for (int i = 0; i < epochs; i++)
            history.Add(new EpochMetrics(reader.ReadInt32(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble(), reader.ReadDouble()));
        return history;
    }

    private static BinaryWriter Field(BinaryWriter writer, string name, FieldKind kind)
    {
        writer.Write(name);
        writer.Write((byte)kind);
        return writer;
    }

    private static void WriteMap<T>(BinaryWriter writer, ImmutableDictionary<string, T> map, Action<BinaryWriter, T> write)
    {
        writer.Write(map.Count);
        // Ordinal key order: an ImmutableDictionary enumerates in string-hash order, which differs between processes.
        foreach ((string key, T value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            writer.Write(key);
            write(writer, value);
        }
    }

    private static ImmutableDictionary<string, T> ReadMap<T>(BinaryReader reader, Func<BinaryReader, T> read)
    {
        int count = Count(reader);
        var map = ImmutableDictionary.CreateBuilder<string, T>();
        for (int i = 0; i < count; i++)
            map[reader.ReadString()] = read(reader);
        return map.ToImmutable();
    }

    private static ImmutableArray<string>? ReadTextList(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        return count == -1 ? null : [.. Enumerable.Range(0, Count(count)).Select(_ => reader.ReadString())];
    }

    private static int Count(BinaryReader reader) => Count(reader.ReadInt32());

    private static int Count(int count) =>
        count is >= 0 and <= 1_000_000 ? count : throw new FormatException($"The model file's network options are corrupt: a list of {count} elements.");

    private static T Enum<T>(string field, string name)
        where T : struct, Enum =>
        System.Enum.TryParse(name, ignoreCase: false, out T value) && System.Enum.IsDefined(value) && !int.TryParse(name, out _) ? value
            : throw new FormatException($"The model file's network option '{field}' is '{name}', not one of {string.Join(", ", System.Enum.GetNames<T>())}.");

    private static T Enum<T>(string field, int number)
        where T : struct, Enum =>
        System.Enum.IsDefined(typeof(T), number) ? (T)(object)number
            : throw new FormatException($"The model file's network option '{field}' is {number}, not one of {string.Join(", ", System.Enum.GetValues<T>().Select(v => Convert.ToInt32(v)))}.");

    /// <summary>Reads field headers in the fixed order, naming the field that is unknown, missing or of another kind.</summary>
    private sealed class FieldReader(BinaryReader reader, int count)
    {
        private int _index;

        public BinaryReader Next(string name, FieldKind kind)
        {
            if (_index == count)
                throw Missing(name);
            string found = reader.ReadString();
            if (found != name)
            {
                throw OptionFields.IndexOf(found) > _index ? Missing(name)
                    : new FormatException($"The model file's network options have an unknown field '{found}' where '{name}' belongs; it was written by a newer version of the library: load it with that version.");
            }
            var foundKind = (FieldKind)reader.ReadByte();
            if (foundKind != kind)
                throw new FormatException($"The model file's network option '{name}' holds {foundKind}, expected {kind}; the file is corrupt.");
            _index++;
            return reader;
        }

        /// <summary>The next field, or null when the options end before it (a file of an earlier version).</summary>
        public BinaryReader? NextOrEnd(string name, FieldKind kind) => _index == count ? null : Next(name, kind);

        public void End()
        {
            if (_index < count)
                throw new FormatException($"The model file's network options have an unknown field '{reader.ReadString()}' after '{OptionFields[^1]}'; it was written by a newer version of the library: load it with that version.");
        }

        private static FormatException Missing(string name) =>
            new($"The model file's network options lack the field '{name}'; the file is corrupt or was written by another version of the library.");
    }
}
