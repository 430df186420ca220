using System.Text.Json.Serialization;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// One input column of a <see cref="FeatureSpec"/>: how it is typed and which transforms it goes through.
/// The JSON names follow Python CTR tools (FuxiCTR, DeepCTR): <c>name</c>, <c>dtype</c>, <c>islist</c>,
/// <c>maxlen</c>, <c>weight_col</c>, <c>share_vocab</c>, <c>min_freq</c>, <c>max_vocab</c>, <c>hash_buckets</c>,
/// <c>fold_case</c>, <c>emb_dim</c>, <c>norm</c>, <c>log1p</c>, <c>clip</c>, <c>fill</c>, <c>buckets</c>, <c>cross</c>.
/// </summary>
/// <remarks>
/// <para>
/// A <b>categorical</b> feature is mapped to vocabulary indices (<c>MapToVocabulary</c> with <see cref="MinFreq"/>,
/// <see cref="MaxVocab"/> and <see cref="FoldCase"/>), or to hash buckets when <see cref="HashBuckets"/> is set
/// (<c>HashToBuckets</c>). With <see cref="IsList"/> it is a delimited list (<c>"i3|i9|i1"</c>) parsed first by
/// <c>ParseSequence</c>, truncated to <see cref="MaxLen"/>, optionally paired with <see cref="WeightCol"/>.
/// </para>
/// <para>
/// A <b>numeric</b> feature is normalized (<c>Normalize</c> with <see cref="Norm"/>, <see cref="Log1p"/>,
/// <see cref="Clip"/>, <see cref="Fill"/>), or discretised into <see cref="Buckets"/> quantile buckets
/// (<c>BucketizeByQuantile</c>) that feed an embedding instead. Numeric lists are not supported.
/// </para>
/// Options that do not apply to the feature's type are rejected by <see cref="FeatureSpec.Validate"/>.
/// </remarks>
/// <param name="Name">Column name in the data; the transforms replace the column in place under the same name.</param>
/// <param name="Dtype"><see cref="Categorical"/> or <see cref="Numeric"/>.</param>
public sealed record FeatureColumnSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("dtype")] string Dtype)
{
    /// <summary>The <see cref="Dtype"/> of categorical features (ids, strings, lists of ids).</summary>
    public const string Categorical = "categorical";

    /// <summary>The <see cref="Dtype"/> of numeric features.</summary>
    public const string Numeric = "numeric";

    /// <summary>The <see cref="Norm"/> for z-score scaling, the default of numeric features.</summary>
    public const string ZScore = "zscore";

    /// <summary>The <see cref="Norm"/> for min-max scaling.</summary>
    public const string MinMax = "minmax";

    /// <summary>A delimited list column (separator <see cref="FeatureSpec.ListSeparator"/>); categorical only.</summary>
    [JsonPropertyName("islist")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool IsList { get; init; }

    /// <summary>Keep at most this many list elements, the first (latest) ones; null for all. Lists only, 1 or more.</summary>
    [JsonPropertyName("maxlen")]
    public int? MaxLen { get; init; }

    /// <summary>
    /// Column holding one weight per list element, with the same separator (e.g. dwell times); lists only. It is
    /// parsed in place into a float vector, paired with the list's ids, and must not be a feature itself.
    /// </summary>
    [JsonPropertyName("weight_col")]
    public string? WeightCol { get; init; }

    /// <summary>
    /// Name of the categorical feature whose vocabulary (index space and embedding table) this one shares, e.g.
    /// <c>hist_item_ids</c> shares <c>item_id</c>'s. That feature's <see cref="MinFreq"/>, <see cref="MaxVocab"/>,
    /// <see cref="HashBuckets"/>, <see cref="FoldCase"/> and <see cref="EmbDim"/> apply to both; this feature may
    /// repeat them but not contradict them.
    /// </summary>
    [JsonPropertyName("share_vocab")]
    public string? ShareVocab { get; init; }

    /// <summary>Minimum count for a value to get its own index (rarer ones map to OOV); 1 or more, categorical only.</summary>
    [JsonPropertyName("min_freq")]
    public int MinFreq { get; init; } = 1;

    /// <summary>Largest vocabulary, most frequent values kept; null for no limit. Categorical only, not with <see cref="HashBuckets"/>.</summary>
    [JsonPropertyName("max_vocab")]
    public int? MaxVocab { get; init; }

    /// <summary>
    /// Hash into this many buckets instead of learning a vocabulary; 0 sizes the buckets from the data
    /// (see <see cref="HashBucketingEstimator.AutoBucketCount"/>); null (default) for a vocabulary. Categorical only.
    /// </summary>
    [JsonPropertyName("hash_buckets")]
    public int? HashBuckets { get; init; }

    /// <summary>Lower-case values before counting and lookup. Categorical only.</summary>
    [JsonPropertyName("fold_case")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool FoldCase { get; init; }

    /// <summary>
    /// Embedding width of this feature's vocabulary (see <see cref="FeatureSpec.EmbeddingDims"/>); null for the
    /// trainer's default. Categorical features and bucketized numerics only, 1 or more.
    /// </summary>
    [JsonPropertyName("emb_dim")]
    public int? EmbDim { get; init; }

    /// <summary><see cref="ZScore"/> or <see cref="MinMax"/>; null means z-score. Numeric only, not with <see cref="Buckets"/>.</summary>
    [JsonPropertyName("norm")]
    public string? Norm { get; init; }

    /// <summary>Apply sign(x)·log1p(|x|) before scaling, for heavy tails. Numeric only, not with <see cref="Buckets"/>.</summary>
    [JsonPropertyName("log1p")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Log1p { get; init; }

    /// <summary>
    /// Clip the scaled value to [−c, c] (z-score, c &gt; 0) or [−c, 1 + c] (min-max, c ≥ 0); null for no clipping.
    /// Numeric only, not with <see cref="Buckets"/>.
    /// </summary>
    [JsonPropertyName("clip")]
    public double? Clip { get; init; }

    /// <summary>Constant (raw units) replacing missing values; null fills with the fitted mean. Numeric only, not with <see cref="Buckets"/>.</summary>
    [JsonPropertyName("fill")]
    public double? Fill { get; init; }

    /// <summary>
    /// Discretise into at most this many quantile buckets (2 or more) that feed an embedding, instead of
    /// normalizing; missing values get their own id. Numeric only.
    /// </summary>
    [JsonPropertyName("buckets")]
    public int? Buckets { get; init; }

    /// <summary>
    /// Two or more scalar categorical features of the spec whose values this feature crosses (<c>CrossFeatures</c>):
    /// the feature is computed, not read from the data, and gets its own vocabulary (or hash buckets with
    /// <see cref="HashBuckets"/>) of the value combinations. Categorical only; null for a plain feature.
    /// </summary>
    [JsonPropertyName("cross")]
    public System.Collections.Generic.IReadOnlyList<string>? Cross { get; init; }

    /// <summary>Whether <see cref="Dtype"/> is <see cref="Categorical"/>.</summary>
    [JsonIgnore]
    public bool IsCategorical => Dtype == Categorical;

    /// <summary>Whether <see cref="Dtype"/> is <see cref="Numeric"/>.</summary>
    [JsonIgnore]
    public bool IsNumeric => Dtype == Numeric;
}
