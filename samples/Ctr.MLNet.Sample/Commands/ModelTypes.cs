using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using Ctr.MLNet.Torch;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>The networks <c>train --model-type</c> offers, by their command-line names.</summary>
public static class ModelTypes
{
    /// <summary>The name of the library's default network.</summary>
    public const string Default = "dnn";

    private static readonly Dictionary<string, Type> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        [Default] = typeof(DnnCtrModel),
        ["deepfm"] = typeof(DeepFmModel),
        ["dcn-v2"] = typeof(DcnV2Model),
        ["target-attention"] = typeof(TargetAttentionModel),
    };

    /// <summary>The names, in the order <c>--help</c> lists them.</summary>
    public static IEnumerable<string> Names => ByName.Keys;

    /// <summary>The network called <paramref name="name"/> (any case).</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out Type? type) => ByName.TryGetValue(name, out type);

    /// <summary>The network called <paramref name="name"/>; the option's own check has already rejected unknown names.</summary>
    public static Type Get(string name) =>
        TryGet(name, out Type? type) ? type : throw new ArgumentException($"Unknown model type '{name}'; known: {string.Join(", ", Names)}.");

    /// <summary>The command-line name of <paramref name="type"/>, or its type name for a network of the user's own.</summary>
    public static string NameOf(Type type) => ByName.FirstOrDefault(p => p.Value == type).Key ?? type.Name;
}
