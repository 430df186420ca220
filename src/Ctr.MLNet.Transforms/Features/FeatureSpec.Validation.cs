using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

public sealed partial record FeatureSpec
{
    /// <summary>
    /// Checks the spec: a label; at least one feature; unique names distinct from the label; a known dtype; options
    /// that fit the dtype and are in range; list options (<c>maxlen</c>, <c>weight_col</c>) on lists only; weight columns
    /// that are not features, not the label and not shared by two lists; <c>share_vocab</c> naming another categorical
    /// feature that shares no one else's vocabulary, without contradicting its settings.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The first problem found, naming the feature and the field,
    /// e.g. <c>Feature 'price': norm must be zscore or minmax, got 'z'.</c></exception>
    public void Validate()
    {
        if (string.IsNullOrEmpty(Label))
            Fail("label is required.");
        if (ListSeparator is '"' or '\r' or '\n' or '\0')
            Fail($"list_separator cannot be {Describe(ListSeparator)}.");
        if (Features.IsDefault || Features.IsEmpty)
            Fail("features is required and must hold at least one feature.");
        if (Trees is < 0)
            Fail($"trees must be at least 0, got {Trees}.");
        if (Networks is < 1 or > 64)
            Fail($"networks must be in 1..64, got {Networks}.");

        var byName = new Dictionary<string, FeatureColumnSpec>(StringComparer.Ordinal);
        for (int i = 0; i < Features.Length; i++)
        {
            FeatureColumnSpec feature = Features[i];
            if (feature is null)
                Fail($"feature #{i + 1} is null.");
            if (string.IsNullOrEmpty(feature.Name))
                Fail($"Feature #{i + 1}: name is required.");
            if (feature.Name == Label)
                Fail($"Feature '{feature.Name}': the label cannot also be a feature.");
            if (!byName.TryAdd(feature.Name, feature))
                Fail($"Feature '{feature.Name}': the name is given more than once.");
        }

        var weightOwners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (FeatureColumnSpec feature in Features)
        {
            ValidateOwnFields(feature);
            if (feature.WeightCol is string weights)
            {
                if (weights == Label)
                    Fail(feature, $"weight_col cannot be the label '{Label}'.");
                if (weights == feature.Name)
                    Fail(feature, "weight_col cannot be the list itself.");
                if (byName.ContainsKey(weights))
                    Fail(feature, $"weight_col '{weights}' is also listed as a feature; remove it from the features.");
                if (!weightOwners.TryAdd(weights, feature.Name))
                    Fail(feature, $"weight_col '{weights}' is already the weight column of '{weightOwners[weights]}'.");
            }
        }
        foreach (FeatureColumnSpec feature in Features)
        {
            if (feature.ShareVocab is string target)
                ValidateSharing(feature, target, byName);
            if (feature.Cross is not null)
                ValidateCross(feature, byName);
        }
    }

    private void ValidateOwnFields(FeatureColumnSpec f)
    {
        if (f.Dtype is not (FeatureColumnSpec.Categorical or FeatureColumnSpec.Numeric))
            Fail(f, $"dtype must be categorical or numeric, got {Quote(f.Dtype)}.");

        // Lists.
        if (f.MaxLen is not null && !f.IsList)
            Fail(f, "maxlen applies to lists only; set islist to true or remove maxlen.");
        if (f.MaxLen is < 1)
            Fail(f, $"maxlen must be at least 1, got {f.MaxLen}.");
        if (f.WeightCol is not null && !f.IsList)
            Fail(f, "weight_col applies to lists only; set islist to true or remove weight_col.");
        if (f.WeightCol is "")
            Fail(f, "weight_col must not be empty.");

        if (f.IsCategorical)
        {
            if (f.MinFreq < 1)
                Fail(f, $"min_freq must be at least 1, got {f.MinFreq}.");
            if (f.MaxVocab is < 1)
                Fail(f, $"max_vocab must be at least 1, got {f.MaxVocab}.");
            if (f.HashBuckets is < 0 or > HashBucketingEstimator.MaxNumBuckets)
                Fail(f, $"hash_buckets must be 0 (automatic) to {HashBucketingEstimator.MaxNumBuckets}, got {f.HashBuckets}.");
            if (f.HashBuckets is not null && f.MaxVocab is not null)
                Fail(f, "max_vocab and hash_buckets exclude each other: a hashed feature has no vocabulary to limit.");
            if (f.EmbDim is < 1)
                Fail(f, $"emb_dim must be at least 1, got {f.EmbDim}.");
            string[] numericOnly = [.. NumericOptions(f)];
            if (numericOnly.Length > 0)
                Fail(f, $"{numericOnly[0]} applies to numeric features only.");
            return;
        }

        // Numeric.
        if (f.IsList)
            Fail(f, "numeric lists are not supported; make the list categorical, or give each value its own numeric column.");
        if (f.MinFreq != 1)
            Fail(f, "min_freq applies to categorical features only.");
        string[] categoricalOnly = [.. CategoricalOptions(f)];
        if (categoricalOnly.Length > 0)
            Fail(f, $"{categoricalOnly[0]} applies to categorical features only.");
        if (f.Norm is not (null or FeatureColumnSpec.ZScore or FeatureColumnSpec.MinMax))
            Fail(f, $"norm must be zscore or minmax, got '{f.Norm}'.");
        if (f.Buckets is int buckets)
        {
            if (buckets is < 2 or > QuantileBucketingEstimator.MaxNumBuckets)
                Fail(f, $"buckets must be from 2 to {QuantileBucketingEstimator.MaxNumBuckets}, got {buckets}.");
            string[] scaling = [.. NumericOptions(f)];
            if (scaling.Length > 0)
                Fail(f, $"{scaling[0]} does not apply with buckets (bucketing replaces normalization); remove one of them.");
            if (f.EmbDim is < 1)
                Fail(f, $"emb_dim must be at least 1, got {f.EmbDim}.");
            return;
        }
        if (f.EmbDim is not null)
            Fail(f, "emb_dim applies to categorical features and to numeric features with buckets only.");
        bool minMax = f.Norm == FeatureColumnSpec.MinMax;
        if (f.Clip is double clip && (!double.IsFinite(clip) || (minMax ? clip < 0 : clip <= 0)))
            Fail(f, $"clip must be a finite number {(minMax ? "of 0 or more with minmax" : "above 0 with zscore")}, got {clip.ToString(CultureInfo.InvariantCulture)}.");
        if (f.Fill is double fill && !double.IsFinite(fill))
            Fail(f, $"fill must be a finite number or null (the mean), got {fill.ToString(CultureInfo.InvariantCulture)}.");
    }

    private static IEnumerable<string> NumericOptions(FeatureColumnSpec f)
    {
        if (f.Norm is not null)
            yield return "norm";
        if (f.Log1p)
            yield return "log1p";
        if (f.Clip is not null)
            yield return "clip";
        if (f.Fill is not null)
            yield return "fill";
        if (f.IsCategorical && f.Buckets is not null)
            yield return "buckets";
    }

    private static IEnumerable<string> CategoricalOptions(FeatureColumnSpec f)
    {
        if (f.ShareVocab is not null)
            yield return "share_vocab";
        if (f.MaxVocab is not null)
            yield return "max_vocab";
        if (f.HashBuckets is not null)
            yield return "hash_buckets";
        if (f.FoldCase)
            yield return "fold_case";
        if (f.Cross is not null)
            yield return "cross";
    }

    private static void ValidateSharing(FeatureColumnSpec f, string target, Dictionary<string, FeatureColumnSpec> byName)
    {
        if (target == f.Name)
            Fail(f, "share_vocab cannot name the feature itself.");
        if (!byName.TryGetValue(target, out FeatureColumnSpec? owner))
            Fail(f, $"share_vocab names '{target}', which is not a feature of the spec.");
        if (!owner.IsCategorical)
            Fail(f, $"share_vocab names '{target}', which is not categorical.");
        if (owner.ShareVocab is not null)
            Fail(f, $"share_vocab names '{target}', which itself shares '{owner.ShareVocab}''s vocabulary; name '{owner.ShareVocab}' directly.");
        // The owner's settings apply to both; this feature may leave them out or repeat them, not contradict them.
        if (f.MinFreq != 1 && f.MinFreq != owner.MinFreq)
            Fail(f, $"min_freq is {f.MinFreq} but the shared vocabulary of '{target}' has min_freq {owner.MinFreq}; leave it out or make them equal.");
        if (f.MaxVocab is not null && f.MaxVocab != owner.MaxVocab)
            Fail(f, $"max_vocab is {f.MaxVocab} but the shared vocabulary of '{target}' has max_vocab {Show(owner.MaxVocab)}; leave it out or make them equal.");
        if (f.HashBuckets is not null && f.HashBuckets != owner.HashBuckets)
            Fail(f, $"hash_buckets is {f.HashBuckets} but the shared vocabulary of '{target}' has hash_buckets {Show(owner.HashBuckets)}; leave it out or make them equal.");
        if (f.FoldCase && !owner.FoldCase)
            Fail(f, $"fold_case is true but the shared vocabulary of '{target}' keeps case; set fold_case on '{target}' instead.");
        if (f.EmbDim is not null && owner.EmbDim is not null && f.EmbDim != owner.EmbDim)
            Fail(f, $"emb_dim is {f.EmbDim} but the shared vocabulary of '{target}' has emb_dim {owner.EmbDim}; one vocabulary has one embedding width.");
    }

    private static void ValidateCross(FeatureColumnSpec f, Dictionary<string, FeatureColumnSpec> byName)
    {
        IReadOnlyList<string> parts = f.Cross!;
        if (!f.IsCategorical)
            Fail(f, "cross applies to categorical features only.");
        if (f.IsList || f.WeightCol is not null || f.ShareVocab is not null)
            Fail(f, "cross makes one value per row; it does not go with islist, weight_col or share_vocab.");
        if (parts.Count < 2)
            Fail(f, $"cross must name two or more features, got {parts.Count}.");
        if (parts.Distinct(StringComparer.Ordinal).Count() != parts.Count)
            Fail(f, "cross names a feature twice.");
        foreach (string part in parts)
        {
            if (part == f.Name)
                Fail(f, "cross cannot name the feature itself.");
            if (!byName.TryGetValue(part ?? "", out FeatureColumnSpec? source))
                Fail(f, $"cross names '{part}', which is not a feature of the spec.");
            if (!source.IsCategorical || source.IsList || source.Cross is not null)
                Fail(f, $"cross names '{part}', which is not a plain categorical feature (one value per row, read from the data).");
        }
    }

    private static string Show(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "null";

    private static string Quote(string? value) => value is null ? "null" : $"'{value}'";

    private static string Describe(char c) => c switch
    {
        '\r' => "a carriage return",
        '\n' => "a line feed",
        '\0' => "the NUL character",
        _ => $"'{c}'",
    };

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(FeatureColumnSpec feature, string message) => Fail($"Feature '{feature.Name}': {message}");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void Fail(string message) => CtrThrow.ArgumentOutOfRange("spec", message);
}
