using System;
using System.Collections.Immutable;
using System.Linq;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// Describes every input column of a CTR data set (label, categorical ids, lists, numerics) and builds the whole
/// ML.NET estimator chain from it (<see cref="BuildPipeline"/>). Reads and writes JSON with Python-style field names
/// (<see cref="ToJson"/>, <see cref="FromJson"/>); <see cref="FeatureSpecInference"/> infers one from data.
/// </summary>
/// <remarks>
/// JSON layout:
/// <code>
/// {
///   "label": "click",
///   "list_separator": "|",
///   "features": [
///     { "name": "item_id", "dtype": "categorical", "min_freq": 2, "emb_dim": 16 },
///     { "name": "hist_item_ids", "dtype": "categorical", "islist": true, "maxlen": 50,
///       "weight_col": "hist_dwell", "share_vocab": "item_id", "min_freq": 2 },
///     { "name": "price", "dtype": "numeric", "norm": "zscore", "log1p": true }
///   ],
///   "trees": 100,
///   "networks": 3
/// }
/// </code>
/// Null options and false flags are left out when writing; <c>min_freq</c> is written for categorical features only.
/// When reading, a left-out field takes its default, an unknown field is an error (it is usually a typo), and
/// comments and trailing commas are allowed.
/// </remarks>
/// <param name="Label">Label column: click 0/1, loaded as Single by <see cref="LoadCsv(Microsoft.ML.MLContext, string, bool, BadRowPolicy)"/>.</param>
/// <param name="Features">The feature columns, in order; every other column of the data is ignored.</param>
public sealed partial record FeatureSpec(
    [property: JsonPropertyName("label"), JsonPropertyOrder(-3)] string Label,
    [property: JsonPropertyName("features"), JsonPropertyOrder(-1)] ImmutableArray<FeatureColumnSpec> Features)
{
    /// <summary>Separator of list columns and of their weight columns; <c>'|'</c> by default.</summary>
    [JsonPropertyName("list_separator")]
    [JsonPropertyOrder(-2)]
    public char ListSeparator { get; init; } = SequenceParsingEstimator.Defaults.Separator;

    /// <summary>
    /// FastTree trees the sample's <c>train</c> blends with the networks (0: none); null for its default. Its
    /// <c>--trees</c> wins over this.
    /// </summary>
    [JsonPropertyName("trees")]
    public int? Trees { get; init; }

    /// <summary>Networks the sample's <c>train</c> averages (1 to 64); null for its default. Its <c>--networks</c> wins over this.</summary>
    [JsonPropertyName("networks")]
    public int? Networks { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        // Column names with non-ASCII letters stay readable in the file.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { WriteMinFreqOfCategoricalsOnly } },
    };

    /// <summary>The spec as indented JSON (see the remarks of <see cref="FeatureSpec"/> for the layout).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Reads a spec written by <see cref="ToJson"/> (or by hand) and validates it (see <see cref="Validate"/>).</summary>
    /// <param name="json">The JSON text.</param>
    /// <exception cref="FormatException">The text is not JSON, has an unknown field, or a field of the wrong JSON type.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is invalid; the message names the feature and the field.</exception>
    public static FeatureSpec FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        FeatureSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize<FeatureSpec>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"The feature spec is not valid: {Describe(e)}", e);
        }
        if (spec is null)
            CtrThrow.Format("The feature spec is not valid: expected a JSON object, got null.");
        if (!spec.Features.IsDefault && spec.Features.Any(f => f is null))
            CtrThrow.Format("The feature spec is not valid: 'features' holds a null entry; each feature must be an object.");
        spec.Validate();
        return spec;
    }

    /// <summary>
    /// A value of the wrong JSON type, said in the spec's terms: System.Text.Json names the .NET type
    /// (<c>System.Nullable`1[System.Double]</c>), which a spec's author never wrote.
    /// </summary>
    private static string Describe(JsonException e)
    {
        const string Prefix = "The JSON value could not be converted to ";
        if (e.Path is null || !e.Message.StartsWith(Prefix, StringComparison.Ordinal))
            return e.Message;
        int end = e.Message.IndexOf(". Path:", Prefix.Length, StringComparison.Ordinal);
        string? wanted = end < 0 ? null : e.Message[Prefix.Length..end] switch
        {
            "System.Double" or "System.Nullable`1[System.Double]" => "a number",
            "System.Int32" or "System.Nullable`1[System.Int32]" or "System.Int64" or "System.Nullable`1[System.Int64]" => "a whole number",
            "System.String" => "a string",
            "System.Char" or "System.Nullable`1[System.Char]" => "a string of one character",
            "System.Boolean" or "System.Nullable`1[System.Boolean]" => "true or false",
            string type when type.Contains("ImmutableArray", StringComparison.Ordinal) || type.Contains("IReadOnlyList", StringComparison.Ordinal) => "an array",
            _ => null,
        };
        return wanted is null ? e.Message : $"'{e.Path}' (line {e.LineNumber + 1}) must be {wanted}.";
    }

    /// <summary>Whether both specs have the same label, separator, trees, networks and features (compared in order, field by field).</summary>
    /// <param name="other">The spec to compare with.</param>
    public bool Equals(FeatureSpec? other) =>
        other is not null && Label == other.Label && ListSeparator == other.ListSeparator && Trees == other.Trees && Networks == other.Networks
        && (Features.IsDefault ? other.Features.IsDefault : !other.Features.IsDefault && Features.SequenceEqual(other.Features, FeatureComparer.Instance));

    /// <summary>A hash consistent with <see cref="Equals(FeatureSpec?)"/>.</summary>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Label);
        hash.Add(ListSeparator);
        hash.Add(Trees);
        hash.Add(Networks);
        if (!Features.IsDefault)
        {
            foreach (FeatureColumnSpec feature in Features)
                hash.Add(feature, FeatureComparer.Instance);
        }
        return hash.ToHashCode();
    }

    /// <summary>The label and the feature names, e.g. <c>FeatureSpec { Label = click, Features = [item_id, price] }</c>.</summary>
    public override string ToString() =>
        $"FeatureSpec {{ Label = {Label}, Features = [{(Features.IsDefault ? "" : string.Join(", ", Features.Select(f => f?.Name)))}] }}";

    /// <summary>Features field by field, the <c>cross</c> list by its names rather than by reference.</summary>
    private sealed class FeatureComparer : System.Collections.Generic.IEqualityComparer<FeatureColumnSpec>
    {
        public static readonly FeatureComparer Instance = new();

        public bool Equals(FeatureColumnSpec? x, FeatureColumnSpec? y) =>
            x is null || y is null ? x is null && y is null
            : (x with { Cross = null }).Equals(y with { Cross = null })
                && (x.Cross is null ? y.Cross is null : y.Cross is not null && x.Cross.SequenceEqual(y.Cross));

        public int GetHashCode(FeatureColumnSpec obj)
        {
            var hash = new HashCode();
            hash.Add(obj with { Cross = null });
            foreach (string name in obj.Cross ?? [])
                hash.Add(name);
            return hash.ToHashCode();
        }
    }

    private static void WriteMinFreqOfCategoricalsOnly(JsonTypeInfo info)
    {
        if (info.Type != typeof(FeatureColumnSpec))
            return;
        foreach (JsonPropertyInfo property in info.Properties)
        {
            if (property.Name == "min_freq")
                property.ShouldSerialize = static (owner, value) => ((FeatureColumnSpec)owner).IsCategorical || value is not 1;
        }
    }
}
