using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

public sealed partial record FeatureSpec
{
    /// <summary>
    /// Reads the feature configuration of the Python reference (torchctr's <c>FeatureTransformer</c>): its
    /// <c>feat_configs</c> list, alone (what <c>FeatureTransformer.save</c> writes) or in an object beside the
    /// transformer's global defaults (<c>{"feat_configs": [...], "category_case_sensitive": false, ...}</c>).
    /// </summary>
    /// <remarks>
    /// <para>Each feature's fields map as follows (a feature's own field wins over the global default):</para>
    /// <list type="bullet">
    /// <item><description><c>name</c>; <c>dtype</c> <c>category</c> → categorical, <c>numerical</c> → numeric.</description></item>
    /// <item><description><c>islist</c>; <c>maxlen</c> (or <c>max_len</c>, default <c>list_maxlen</c>); <c>weight_col</c>;
    /// <c>padding_value</c>/<c>list_padding_value</c> need nothing (our sequences are masked, never padded with ids).</description></item>
    /// <item><description><c>emb_dim</c>; <c>min_freq</c> (default <c>category_min_freq</c>).</description></item>
    /// <item><description><c>hash_buckets</c>: on a categorical feature the bucket count (<c>"auto"</c> → 0, sized from the
    /// data); on a numerical feature, like <c>bins</c>/<c>discret</c> given as a count, the number of quantile buckets.</description></item>
    /// <item><description><c>norm</c>/<c>normalize</c>: <c>std</c> → zscore, <c>[0,1]</c> → minmax.</description></item>
    /// <item><description><c>case_sensitive</c> (default <c>category_case_sensitive</c>): false → <c>fold_case</c>.</description></item>
    /// <item><description><c>fillna</c> (default <c>numerical_fillna</c>) on a numerical feature: <c>mean</c> or a number.</description></item>
    /// <item><description><c>outliers</c> (default <c>category_outliers</c>): a list of tokens our categorical transforms
    /// already treat as missing (<c>None</c>, <c>nan</c>, <c>null</c>, <c>unknown</c>, empty).</description></item>
    /// <item><description><c>oov</c>/<c>category_oov</c>: only names the unknown value, which is always index 1 here.</description></item>
    /// <item><description><c>cross</c> and <c>post_cross</c>: the feature crosses those features (<c>CrossFeatures</c>).</description></item>
    /// <item><description>What a fit wrote (<c>type</c>, <c>vocab</c>, <c>num_embeddings</c>, <c>mean</c>, <c>std</c>,
    /// <c>min</c>, <c>max</c>, <c>cnt</c>; <c>bins</c> as a list of boundaries keeps their count) is learned again from your data.</description></item>
    /// </list>
    /// <para>Anything else, or a value we cannot honour (<c>expr</c>, numerical lists, <c>fillna</c> <c>min</c>/<c>max</c>,
    /// a categorical <c>fillna</c>, other outlier tokens or an outlier mapping), is a <see cref="FormatException"/> naming
    /// the feature and the field.</para>
    /// </remarks>
    /// <param name="json">The reference's JSON.</param>
    /// <param name="label">The label column (the reference keeps it apart from its features).</param>
    /// <param name="listSeparator">Separator of list columns in text; the reference splits strings on commas.</param>
    /// <exception cref="FormatException">The JSON is malformed, or a field or value cannot be honoured; the message names it.</exception>
    public static FeatureSpec FromTorchCtrJson(string json, string label, char listSeparator = ',')
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentException.ThrowIfNullOrEmpty(label);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            throw new FormatException($"The torchctr feature config is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            var globals = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            JsonElement configs = root;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (!root.TryGetProperty("feat_configs", out configs))
                    CtrThrow.Format("The torchctr feature config has no 'feat_configs' list.");
                foreach (JsonProperty property in root.EnumerateObject().Where(p => p.Name != "feat_configs"))
                {
                    if (!GlobalDefaults.Contains(property.Name))
                        CtrThrow.Format($"The torchctr global setting '{property.Name}' is not supported; supported: {string.Join(", ", GlobalDefaults.Order(StringComparer.Ordinal))}.");
                    globals[property.Name] = property.Value.Clone();
                }
            }
            if (configs.ValueKind != JsonValueKind.Array)
                CtrThrow.Format($"The torchctr 'feat_configs' must be a list of feature objects, got {configs.ValueKind}.");
            var features = new List<FeatureColumnSpec>();
            foreach (JsonElement config in configs.EnumerateArray())
                features.Add(TorchCtrFeature(config, globals, features.Count + 1));
            var spec = new FeatureSpec(label, [.. features]) { ListSeparator = listSeparator };
            try
            {
                spec.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new FormatException($"The torchctr feature config maps to an invalid spec: {e.Message}", e);
            }
            return spec;
        }
    }

    private static readonly HashSet<string> GlobalDefaults =
    [
        "category_min_freq", "category_case_sensitive", "category_oov", "category_outliers", "category_fillna",
        "numerical_fillna", "list_padding_value", "list_maxlen", "verbose",
    ];

    // Fields a fit writes into a config: statistics we learn again from the data.
    private static readonly HashSet<string> FittedState = ["type", "vocab", "num_embeddings", "mean", "std", "min", "max", "cnt"];

    private static FeatureColumnSpec TorchCtrFeature(JsonElement config, Dictionary<string, JsonElement> globals, int position)
    {
        if (config.ValueKind != JsonValueKind.Object)
            CtrThrow.Format($"torchctr feature #{position} must be an object, got {config.ValueKind}.");
        var fields = config.EnumerateObject().ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        string name = fields.TryGetValue("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
        if (name.Length == 0)
            CtrThrow.Format($"torchctr feature #{position} has no 'name'.");
        string where = $"torchctr feature '{name}'";

        JsonElement Field(string key) => fields.TryGetValue(key, out JsonElement value) && value.ValueKind != JsonValueKind.Null ? value
            : globals.TryGetValue(key, out JsonElement global) ? global : default;
        JsonElement Own(params string[] keys) => keys.Select(k => fields.TryGetValue(k, out JsonElement v) ? v : default).FirstOrDefault(v => v.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null));
        int? Int(JsonElement value, string key) => value.ValueKind switch
        {
            JsonValueKind.Undefined or JsonValueKind.Null => null,
            JsonValueKind.Number when value.TryGetInt32(out int i) => i,
            _ => throw new FormatException($"{where}: '{key}' must be a whole number, got {value.GetRawText()}."),
        };
        bool Bool(JsonElement value, string key, bool fallback) => value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Undefined or JsonValueKind.Null => fallback,
            _ => throw new FormatException($"{where}: '{key}' must be true or false, got {value.GetRawText()}."),
        };

        string dtype = fields.TryGetValue("dtype", out JsonElement d) && d.ValueKind == JsonValueKind.String ? d.GetString()! : "";
        bool categorical = dtype switch
        {
            "category" => true,
            "numerical" => false,
            _ => throw new FormatException($"{where}: dtype must be 'category' or 'numerical', got '{dtype}'."),
        };
        bool isList = Bool(Own("islist"), "islist", false);
        if (isList && !categorical)
            CtrThrow.Format($"{where}: numerical lists are not supported; make the list a category, or give each value its own numerical column.");

        var spec = new FeatureColumnSpec(name, categorical ? FeatureColumnSpec.Categorical : FeatureColumnSpec.Numeric)
        {
            IsList = isList,
            EmbDim = Int(Own("emb_dim"), "emb_dim"),
        };
        var known = new HashSet<string>(StringComparer.Ordinal) { "name", "dtype", "islist", "emb_dim", "padding_value" };
        known.UnionWith(FittedState);

        if (isList)
        {
            JsonElement maxLen = Own("maxlen", "max_len");
            spec = spec with
            {
                MaxLen = Int(maxLen.ValueKind == JsonValueKind.Undefined ? Field("list_maxlen") : maxLen, "maxlen"),
                WeightCol = Own("weight_col") is { ValueKind: JsonValueKind.String } w ? w.GetString() : null,
            };
            known.UnionWith(["maxlen", "max_len", "weight_col"]);
        }

        if (categorical)
        {
            JsonElement buckets = Own("hash_buckets");
            spec = spec with
            {
                MinFreq = Int(Own("min_freq").ValueKind == JsonValueKind.Undefined ? Field("category_min_freq") : Own("min_freq"), "min_freq") ?? 1,
                HashBuckets = buckets.ValueKind == JsonValueKind.String && buckets.GetString() == "auto" ? 0 : Int(buckets, "hash_buckets"),
                FoldCase = !Bool(Own("case_sensitive").ValueKind == JsonValueKind.Undefined ? Field("category_case_sensitive") : Own("case_sensitive"), "case_sensitive", true),
            };
            JsonElement outliers = Own("outliers").ValueKind == JsonValueKind.Undefined ? Field("category_outliers") : Own("outliers");
            CheckOutliers(outliers, where);
            JsonElement fill = Own("fillna").ValueKind == JsonValueKind.Undefined ? Field("category_fillna") : Own("fillna");
            if (fill.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null))
                CtrThrow.Format($"{where}: fillna {fill.GetRawText()} is not supported for categories; a missing value maps to the OOV index. Remove fillna.");
            JsonElement cross = Own("cross", "post_cross");
            if (cross.ValueKind != JsonValueKind.Undefined)
            {
                if (cross.ValueKind != JsonValueKind.Array || cross.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
                    CtrThrow.Format($"{where}: cross must be a list of feature names, got {cross.GetRawText()}.");
                spec = spec with { Cross = [.. cross.EnumerateArray().Select(e => e.GetString()!)] };
            }
            known.UnionWith(["min_freq", "hash_buckets", "case_sensitive", "outliers", "fillna", "oov", "cross", "post_cross"]);
        }
        else
        {
            JsonElement bins = Own("hash_buckets", "bins", "discret");
            string? norm = (Own("norm", "normalize") is { ValueKind: JsonValueKind.String } nv ? nv.GetString() : null) switch
            {
                null => null,
                "std" => FeatureColumnSpec.ZScore,
                "[0,1]" => FeatureColumnSpec.MinMax,
                string other => throw new FormatException($"{where}: norm must be 'std' or '[0,1]', got '{other}'."),
            };
            if (bins.ValueKind is JsonValueKind.Number or JsonValueKind.Array)
            {
                if (norm is not null)
                    CtrThrow.Format($"{where}: a numerical feature is discretized (hash_buckets/bins) or normalized (norm), not both.");
                // A fit writes the boundaries it found as a list: as many buckets again, boundaries learned from the data.
                spec = spec with { Buckets = bins.ValueKind == JsonValueKind.Array ? bins.GetArrayLength() + 1 : Int(bins, "hash_buckets") };
            }
            else
            {
                spec = spec with { Norm = norm ?? FeatureColumnSpec.ZScore, Fill = NumericFill(Own("fillna").ValueKind == JsonValueKind.Undefined ? Field("numerical_fillna") : Own("fillna"), where) };
            }
            known.UnionWith(["hash_buckets", "bins", "discret", "norm", "normalize", "fillna"]);
        }

        foreach (string key in fields.Keys)
        {
            if (key == "expr")
                CtrThrow.Format($"{where}: 'expr' (a Python expression) cannot run here; compute the column before loading the data.");
            if (!known.Contains(key))
                CtrThrow.Format($"{where}: field '{key}' is not supported for a {(isList ? "list" : dtype)} feature.");
        }
        return spec;
    }

    private static void CheckOutliers(JsonElement outliers, string where)
    {
        if (outliers.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
            return;
        if (outliers.ValueKind != JsonValueKind.Array)
            CtrThrow.Format($"{where}: outliers as a mapping ({outliers.GetRawText()}) is not supported; our transforms send outlier tokens to the OOV index.");
        var ours = new HashSet<string>(VocabularyEstimator.Defaults.OutlierTokens, StringComparer.OrdinalIgnoreCase);
        string[] others = [.. outliers.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText()).Where(t => !ours.Contains(t.Trim()))];
        if (others.Length > 0)
            CtrThrow.Format($"{where}: outliers {string.Join(", ", others.Select(o => $"'{o}'"))} are not supported; the spec treats only {string.Join(", ", VocabularyEstimator.Defaults.OutlierTokens.Where(t => t.Length > 0))} and empty values as outliers.");
    }

    private static double? NumericFill(JsonElement fill, string where) => fill.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => null,
        JsonValueKind.String when fill.GetString() == "mean" => null,
        JsonValueKind.Number => fill.GetDouble(),
        JsonValueKind.String when double.TryParse(fill.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double value) => value,
        _ => throw new FormatException($"{where}: fillna {fill.GetRawText()} is not supported; use 'mean' or a number."),
    };
}
