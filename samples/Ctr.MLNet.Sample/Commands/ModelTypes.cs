using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using Ctr.MLNet.Torch;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>The networks <c>train --model-type</c> offers: the library's, by their names in <see cref="CtrModelRegistry"/>.</summary>
public static class ModelTypes
{
    /// <summary>The name of the library's default network.</summary>
    public const string Default = CtrModelRegistry.Dnn;

    /// <summary>The names, in the order <c>--help</c> lists them.</summary>
    public static IEnumerable<string> Names { get; } = [Default, CtrModelRegistry.DeepFm, CtrModelRegistry.DcnV2, CtrModelRegistry.TargetAttention];

    /// <summary>The network called <paramref name="name"/> (any case).</summary>
    public static bool TryGet(string name, [NotNullWhen(true)] out Type? type)
    {
        type = null;
        return Names.Contains(name, StringComparer.OrdinalIgnoreCase) && CtrModelRegistry.TryGetType(name, out type);
    }

    /// <summary>The network called <paramref name="name"/>; the option's own check has already rejected unknown names.</summary>
    public static Type Get(string name) =>
        TryGet(name, out Type? type) ? type : throw new ArgumentException($"Unknown model type '{name}'; known: {string.Join(", ", Names)}.");

    /// <summary>The registered name of <paramref name="type"/>, or its type name for an unregistered one.</summary>
    public static string NameOf(Type type) => CtrModelRegistry.TryGetName(type, out string? name) ? name : type.Name;
}
