using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;

namespace Ctr.MLNet.Torch;

/// <summary>
/// Networks by short, stable names: the model zip stores the name, never the class, so a class can be renamed
/// or moved without breaking saved models. The library's networks are registered as <see cref="Dnn"/>,
/// <see cref="DeepFm"/>, <see cref="DcnV2"/> and <see cref="TargetAttention"/>. A network of your own needs
/// <see cref="Register{TModel}(string)"/> once per process, before training it and before loading its zips.
/// </summary>
public static partial class CtrModelRegistry
{
    /// <summary>The default network, <see cref="DnnCtrModel"/>.</summary>
    public const string Dnn = "dnn";

    /// <summary><see cref="DeepFmModel"/>.</summary>
    public const string DeepFm = "deepfm";

    /// <summary><see cref="DcnV2Model"/>.</summary>
    public const string DcnV2 = "dcn-v2";

    /// <summary><see cref="TargetAttentionModel"/>.</summary>
    public const string TargetAttention = "target-attention";

    private static readonly Lock s_lock = new();
    private static readonly List<(string Name, Type Type)> s_networks =
    [
        (Dnn, typeof(DnnCtrModel)),
        (DeepFm, typeof(DeepFmModel)),
        (DcnV2, typeof(DcnV2Model)),
        (TargetAttention, typeof(TargetAttentionModel)),
    ];

    /// <summary>Every registered name, the library's first, then in order of registration.</summary>
    public static IReadOnlyList<string> Names
    {
        get
        {
            lock (s_lock)
                return [.. s_networks.Select(n => n.Name)];
        }
    }

    /// <summary>
    /// Registers <typeparamref name="TModel"/> as <paramref name="name"/>: lower-case letters, digits and
    /// <c>-</c>, <c>_</c>, <c>.</c>, starting with a letter, at most 40 characters. Registering the same pair
    /// again does nothing; a name or a class registered otherwise already is an error.
    /// </summary>
    public static void Register<TModel>(string name)
        where TModel : CtrModel => Register(name, typeof(TModel));

    /// <inheritdoc cref="Register{TModel}(string)"/>
    public static void Register(string name, Type modelType)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(modelType);
        if (!NamePattern().IsMatch(name))
            throw new ArgumentOutOfRangeException(nameof(name), $"Network name '{name}' must be lower-case letters, digits, '-', '_' or '.', start with a letter and have at most 40 characters.");
        if (!typeof(CtrModel).IsAssignableFrom(modelType) || modelType.GetConstructor([typeof(CtrModelContext)]) is null)
            throw new ArgumentOutOfRangeException(nameof(modelType), $"{modelType} must derive from CtrModel and have a public constructor taking a CtrModelContext.");
        lock (s_lock)
        {
            foreach ((string known, Type type) in s_networks)
            {
                if (known == name && type == modelType)
                    return;
                if (known == name)
                    throw new InvalidOperationException($"Network name '{name}' is registered for {type} already; choose another name for {modelType}.");
                if (type == modelType)
                    throw new InvalidOperationException($"{modelType} is registered as '{known}' already; a network has one name.");
            }
            s_networks.Add((name, modelType));
        }
    }

    /// <summary>The network registered as <paramref name="name"/> (any case).</summary>
    public static bool TryGetType(string name, [NotNullWhen(true)] out Type? modelType)
    {
        lock (s_lock)
            modelType = s_networks.FirstOrDefault(n => string.Equals(n.Name, name, StringComparison.OrdinalIgnoreCase)).Type;
        return modelType is not null;
    }

    /// <summary>The name <paramref name="modelType"/> is registered under.</summary>
    public static bool TryGetName(Type modelType, [NotNullWhen(true)] out string? name)
    {
        lock (s_lock)
            name = s_networks.FirstOrDefault(n => n.Type == modelType).Name;
        return name is not null;
    }

    /// <summary>The registered name of <paramref name="modelType"/>, or an error saying how to register it.</summary>
    internal static string NameOf(Type modelType) => TryGetName(modelType, out string? name) ? name
        : throw new InvalidOperationException($"Network {modelType} has no registered name: call CtrModelRegistry.Register<{modelType.Name}>(\"a-short-name\") once per process, before training it and before loading its models.");

    /// <summary>The network of a model file, or an error saying which name is missing.</summary>
    internal static Type TypeOf(string name) => TryGetType(name, out Type? type) ? type
        : throw new FormatException($"The model file's network '{name}' is not registered in this process: call CtrModelRegistry.Register<YourModel>(\"{name}\") before loading (known: {string.Join(", ", Names)}).");

    [GeneratedRegex("^[a-z][a-z0-9._-]{0,39}$")]
    private static partial Regex NamePattern();
}
