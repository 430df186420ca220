using System;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;

namespace Ctr.MLNet.Torch;

/// <summary>Reads the zoo models' settings from <see cref="CtrModelOptions.Parameters"/>, naming the key in errors.</summary>
internal static class ModelParameters
{
    /// <summary>The integer under <paramref name="key"/>, or <paramref name="defaultValue"/> when absent.</summary>
    public static int Int(CtrModelOptions options, string model, string key, int defaultValue, int min)
    {
        if (!options.Parameters.TryGetValue(key, out string? text))
            return defaultValue;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
            throw Error(model, key, $"an integer of at least {min}", text);
        return value;
    }

    /// <summary>The optional positive integer under <paramref name="key"/>: null when absent.</summary>
    public static int? OptionalInt(CtrModelOptions options, string model, string key) =>
        options.Parameters.ContainsKey(key) ? Int(options, model, key, 0, min: 1) : null;

    /// <summary>Comma-separated positive widths under <paramref name="key"/>, or <paramref name="defaultValue"/>.</summary>
    public static ImmutableArray<int> Widths(CtrModelOptions options, string model, string key, ImmutableArray<int> defaultValue)
    {
        if (!options.Parameters.TryGetValue(key, out string? text))
            return defaultValue;
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = ImmutableArray.CreateBuilder<int>(parts.Length);
        foreach (string part in parts)
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int width) || width < 1)
                throw Error(model, key, "comma-separated positive widths such as \"64,32\"", text);
            widths.Add(width);
        }
        return widths.MoveToImmutable();
    }

    /// <summary>One of <paramref name="allowed"/> (case-insensitive) under <paramref name="key"/>; the first when absent.</summary>
    public static string Choice(CtrModelOptions options, string model, string key, params string[] allowed)
    {
        if (!options.Parameters.TryGetValue(key, out string? text))
            return allowed[0];
        return allowed.FirstOrDefault(a => string.Equals(a, text.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw Error(model, key, string.Join(" or ", allowed.Select(a => $"'{a}'")), text);
    }

    private static ArgumentOutOfRangeException Error(string model, string key, string expected, string got) =>
        new(nameof(CtrModelOptions.Parameters), $"{model}: Parameters[\"{key}\"] must be {expected}, got '{got}'.");
}
