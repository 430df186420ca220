using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace Ctr.MLNet.Planted;

/// <summary>
/// A synthetic CTR world with a <b>planted</b> logistic click model, so the best achievable AUC and log loss
/// are known: users and items with latent vectors, item attributes, devices, hours, prices, ages and
/// weighted histories. The world is fixed by its seed; <see cref="DrawRows"/> draws impressions for a day.
/// </summary>
/// <remarks>
/// <para>
/// Every entity's parameters come from its own random stream, seeded by (world seed, kind, id), so a world
/// is the same whatever day or row count is asked for: day 1 sees the same users and items as day 0 (same
/// vectors, brands, categories), plus <see cref="NewItemsPerDay"/> items and <see cref="NewUsersPerDay"/>
/// users born at random times during each day (ids above the base ranges). Popularity is Pareto (long
/// tail: α 1.5 for items, 2 for users); items born today draw 3× their base popularity, yesterday's 1.5×,
/// users born today 2×.
/// </para>
/// <para>The click model, on the logit scale (K = <see cref="Dimension"/>; sd = spread over rows):</para>
/// <code>
/// logit = Intercept                                  −2.3   (CTR ≈ 0.21)
///       + user bias                                  N(0, 0.30²)
///       + item bias                                  N(0, 0.40²)
///       + brand effect + category effect             N(0, 0.25²), N(0, 0.30²)
///       + UserItemScale · (u · v)                    0.8 · (≈ 0.4 for an item in the user's interests)
///       + HistoryScale  · (v · h̄)                    1.3 · (term: mean 0.31, sd 0.71)
///       + device effect + hour-by-device cosine      {0, −0.15, +0.10}, amplitude 0.30
///       + PriceScale · (ln price − category mean)    −0.35 · (sd ≈ 0.7)
///       + category age slope · (age − 40) / 15       slope N(0, 0.30²)
/// v  = category centroid (|c| ≈ 1) + N(0, 0.5²/K) per component
/// u  = 0.7 · (0.6 c_a + 0.4 c_b) + N(0, 0.7²/K) per component; a, b = the user's two interest categories
/// h̄  = Σ w_j v_j / Σ w_j over the history, 0 when it is empty; w_j = dwell seconds, log-normal (σ 1.2)
///      with median e^2.8 ≈ 16 s for items of the user's interests and e^0.3 ≈ 1.3 s for the others (bounces)
/// measured (seed 1, 50k rows): logit mean −1.65, sd 1.23 (0.87 without the history term, whose own sd is
/// 0.71); the history term with and without its weights differs by sd 0.32.
/// </code>
/// <para>
/// Candidates: 70% from global popularity, 30% from the user's interest categories. History elements: 55%
/// from interest categories, 45% global; length exponential with a per-user mean in [1, 30], capped at
/// <see cref="MaxHistoryLength"/> (mean ≈ 7, 23% empty). Oracle test AUC ≈ 0.79 (0.786 at 200k rows, 0.792 at
/// 1M); the ablations score ≈ 0.01 lower with the history averaged without weights and ≈ 0.055 lower without
/// the history term, so weights and sequence handling pay off. Prices are log-normal per item (category mean
/// e^2 to e^5.5, sd 0.7, ±15% per row), 10% missing; ages N(38, 13²) in [16, 85], ~8% missing.
/// </para>
/// </remarks>
public sealed class PlantedWorld
{
    /// <summary>Length of the user and item latent vectors.</summary>
    public const int Dimension = 8;

    /// <summary>Items that exist before day 0 (ids 0 to this − 1).</summary>
    public const int BaseItemCount = 20_000;

    /// <summary>Items born during each day, from day 0 on.</summary>
    public const int NewItemsPerDay = 1_000;

    /// <summary>Users that exist before day 0.</summary>
    public const int BaseUserCount = 50_000;

    /// <summary>Users born during each day, from day 0 on.</summary>
    public const int NewUsersPerDay = 2_500;

    /// <summary>Brands per category; brand ids are category × this + rank.</summary>
    public const int BrandsPerCategory = 20;

    /// <summary>Longest history.</summary>
    public const int MaxHistoryLength = 40;

    /// <summary>Category names, as logged.</summary>
    public static readonly ImmutableArray<string> CategoryNames =
    [
        "electronics", "books", "fashion", "home", "beauty", "sports", "toys", "grocery", "garden", "auto", "music", "movies",
        "games", "health", "pets", "baby", "jewelry", "shoes", "office", "tools", "outdoor", "kitchen", "crafts", "travel",
    ];

    /// <summary>The planted parameters' scales (see the class remarks).</summary>
    public static class Planted
    {
        /// <summary>Intercept of the logit.</summary>
        public const double Intercept = -2.3;

        /// <summary>Weight of the user·item latent interaction.</summary>
        public const double UserItemScale = 0.8;

        /// <summary>Weight of the candidate·(weighted history mean) similarity.</summary>
        public const double HistoryScale = 1.3;

        /// <summary>Slope of the log price relative to its category mean.</summary>
        public const double PriceScale = -0.35;

        internal const double UserBiasSd = 0.30, ItemBiasSd = 0.40, BrandSd = 0.25, CategorySd = 0.30, AgeSlopeSd = 0.30;
        internal const double ItemNoise = 0.5, UserInterest = 0.7, UserNoise = 0.7;
        internal const double HourAmplitude = 0.30;
        internal const double ItemPopularityAlpha = 1.5, UserPopularityAlpha = 2.0;
        internal const double CandidateFromInterests = 0.30, HistoryFromInterests = 0.55;
        internal const double InterestDwellLogMean = 2.8, OtherDwellLogMean = 0.3, DwellLogSd = 1.2;
        internal static readonly double[] DeviceEffect = [0.0, -0.15, 0.10];
        internal static readonly int[] DevicePeakHour = [21, 13, 19];
        internal static readonly double[] DeviceShare = [0.6, 0.3, 0.1];
    }

    private const long KindCategory = 1, KindBrand = 2, KindItem = 3, KindUser = 4, KindRows = 5;

    private readonly double[] _centroid;        // category × K
    private readonly double[] _categoryEffect;
    private readonly double[] _categoryAgeSlope;
    private readonly double[] _categoryLogPrice;
    private readonly double[] _brandEffect;
    private readonly AliasTable _categorySampler;
    private readonly AliasTable _brandRankSampler;
    private readonly AliasTable _deviceSampler;
    private readonly AliasTable _hourSampler;
    private readonly object _gate = new();
    private ItemTable? _items;
    private UserTable? _users;

    private PlantedWorld(int seed)
    {
        Seed = seed;
        int categories = CategoryNames.Length;
        _centroid = new double[categories * Dimension];
        _categoryEffect = new double[categories];
        _categoryAgeSlope = new double[categories];
        _categoryLogPrice = new double[categories];
        var categoryPopularity = new double[categories];
        for (int c = 0; c < categories; c++)
        {
            var r = new PlantedRandom(PlantedRandom.Mix(seed, KindCategory, c));
            for (int k = 0; k < Dimension; k++)
                _centroid[c * Dimension + k] = r.NextGaussian() / Math.Sqrt(Dimension);
            _categoryEffect[c] = Planted.CategorySd * r.NextGaussian();
            _categoryAgeSlope[c] = Planted.AgeSlopeSd * r.NextGaussian();
            _categoryLogPrice[c] = 2.0 + 3.5 * r.NextDouble(); // e^2 ≈ 7 to e^5.5 ≈ 245
            categoryPopularity[c] = 1.0 / Math.Pow(c + 1, 0.8);
        }
        _brandEffect = new double[categories * BrandsPerCategory];
        for (int b = 0; b < _brandEffect.Length; b++)
            _brandEffect[b] = Planted.BrandSd * new PlantedRandom(PlantedRandom.Mix(seed, KindBrand, b)).NextGaussian();
        var brandRank = new double[BrandsPerCategory];
        for (int j = 0; j < brandRank.Length; j++)
            brandRank[j] = 1.0 / (j + 1);
        var hours = new double[24];
        for (int h = 0; h < 24; h++)
            hours[h] = 1.0 + 0.8 * Math.Cos(2 * Math.PI * (h - 20) / 24.0);
        _categorySampler = new AliasTable(categoryPopularity);
        _brandRankSampler = new AliasTable(brandRank);
        _deviceSampler = new AliasTable(Planted.DeviceShare);
        _hourSampler = new AliasTable(hours);
    }

    /// <summary>The world of <paramref name="seed"/>: same seed, same users, items and parameters.</summary>
    public static PlantedWorld Create(int seed) => new(seed);

    /// <summary>The seed the world was made from.</summary>
    public int Seed { get; }

    /// <summary>Items existing by the end of <paramref name="day"/> (ids 0 to this − 1).</summary>
    public static int ItemCount(int day) => BaseItemCount + (day + 1) * NewItemsPerDay;

    /// <summary>Users existing by the end of <paramref name="day"/> (ids 0 to this − 1).</summary>
    public static int UserCount(int day) => BaseUserCount + (day + 1) * NewUsersPerDay;

    /// <summary>The day item <paramref name="itemId"/> was born, −1 for the base items.</summary>
    public static int ItemBirthDay(int itemId) => itemId < BaseItemCount ? -1 : (itemId - BaseItemCount) / NewItemsPerDay;

    /// <summary>Item <paramref name="itemId"/>'s category.</summary>
    public int ItemCategory(int itemId) => Items(itemId + 1).Category[itemId];

    /// <summary>Item <paramref name="itemId"/>'s brand.</summary>
    public int ItemBrand(int itemId) => Items(itemId + 1).Brand[itemId];

    /// <summary>Item <paramref name="itemId"/>'s latent vector (a copy).</summary>
    public double[] ItemVector(int itemId) => Items(itemId + 1).Vector.AsSpan(itemId * Dimension, Dimension).ToArray();

    /// <summary>
    /// Draws <paramref name="count"/> impressions of day <paramref name="day"/> (0 or later) in time order;
    /// row <c>i</c> happens at time <c>day + (i + 0.5) / count</c>, and only entities born by then appear.
    /// The same world, count and day give the same rows.
    /// </summary>
    public IEnumerable<PlantedRow> DrawRows(int count, int day = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(day);
        return DrawRowsCore(count, day);
    }

    private IEnumerable<PlantedRow> DrawRowsCore(int count, int day)
    {
        ItemTable items = Items(ItemCount(day));
        UserTable users = Users(UserCount(day));
        var sampler = new DaySampler(items, users, day, CategoryNames.Length);
        var random = new PlantedRandom(PlantedRandom.Mix(Seed, KindRows, day));
        var mean = new double[Dimension];
        var plainMean = new double[Dimension];
        for (int i = 0; i < count; i++)
        {
            double time = day + (i + 0.5) / count;
            yield return DrawRow(i, time, items, users, sampler, random, mean, plainMean);
        }
    }

    private PlantedRow DrawRow(int index, double time, ItemTable items, UserTable users, DaySampler sampler, PlantedRandom r, double[] mean, double[] plainMean)
    {
        int user = SampleAlive(sampler.Users, users.Birth, time, r);
        int interestA = users.InterestA[user], interestB = users.InterestB[user];
        int item = r.Chance(Planted.CandidateFromInterests)
            ? SampleAlive(sampler.ItemsOf[r.Chance(0.6) ? interestA : interestB], items.Birth, time, r)
            : SampleAlive(sampler.Items, items.Birth, time, r);
        var device = r.Chance(0.85) ? users.Device[user] : (PlantedDevice)_deviceSampler.Sample(r);
        int hour = _hourSampler.Sample(r);
        int category = items.Category[item];
        double price = Math.Max(0.01, Math.Round(Math.Exp(items.LogPrice[item] + 0.15 * r.NextGaussian()), 2));

        int length = Math.Min(MaxHistoryLength, (int)(users.HistoryMean[user] * r.NextExponential()));
        var history = new int[length];
        var weights = new double[length];
        Array.Clear(mean);
        Array.Clear(plainMean);
        double weightSum = 0;
        for (int j = 0; j < length; j++)
        {
            bool interest = r.Chance(Planted.HistoryFromInterests);
            int h = interest
                ? SampleAlive(sampler.ItemsOf[r.Chance(0.6) ? interestA : interestB], items.Birth, time, r)
                : SampleAlive(sampler.Items, items.Birth, time, r);
            double logMean = interest ? Planted.InterestDwellLogMean : Planted.OtherDwellLogMean;
            double w = Math.Clamp(Math.Round(Math.Exp(logMean + Planted.DwellLogSd * r.NextGaussian()), 1), 0.1, 999.9);
            history[j] = h;
            weights[j] = w;
            weightSum += w;
            ReadOnlySpan<double> v = items.Vector.AsSpan(h * Dimension, Dimension);
            for (int k = 0; k < Dimension; k++)
            {
                mean[k] += w * v[k];
                plainMean[k] += v[k];
            }
        }

        ReadOnlySpan<double> itemVector = items.Vector.AsSpan(item * Dimension, Dimension);
        ReadOnlySpan<double> userVector = users.Vector.AsSpan(user * Dimension, Dimension);
        double userItem = 0, historyDot = 0, plainDot = 0;
        for (int k = 0; k < Dimension; k++)
        {
            userItem += userVector[k] * itemVector[k];
            historyDot += itemVector[k] * mean[k];
            plainDot += itemVector[k] * plainMean[k];
        }
        if (length > 0)
        {
            historyDot /= weightSum;
            plainDot /= length;
        }

        int age = users.Age[user];
        double logitWithoutHistory = Planted.Intercept
            + users.Bias[user] + items.Bias[item]
            + _brandEffect[items.Brand[item]] + _categoryEffect[category]
            + Planted.UserItemScale * userItem
            + Planted.DeviceEffect[(int)device]
            + Planted.HourAmplitude * Math.Cos(2 * Math.PI * (hour - Planted.DevicePeakHour[(int)device]) / 24.0)
            + Planted.PriceScale * (Math.Log(price) - _categoryLogPrice[category])
            + _categoryAgeSlope[category] * (age - 40) / 15.0;
        double probability = Sigmoid(logitWithoutHistory + Planted.HistoryScale * historyDot);
        bool click = r.NextDouble() < probability;

        // How the log shows it: a few percent of dirty fields, drawn after the label so they cannot leak it.
        LoggedAs userLogged = r.Chance(0.003) ? LoggedAs.Empty : LoggedAs.Value;
        double brandDirt = r.NextDouble();
        LoggedAs brandLogged = brandDirt < 0.01 ? LoggedAs.NoneToken : brandDirt < 0.015 ? LoggedAs.Empty : LoggedAs.Value;
        double categoryDirt = r.NextDouble();
        LoggedAs categoryLogged = categoryDirt < 0.003 ? LoggedAs.NoneToken : categoryDirt < 0.006 ? LoggedAs.Empty : LoggedAs.Value;
        double deviceDirt = r.NextDouble();
        string deviceText = deviceDirt < 0.01 ? "" : DeviceNames[(int)device, deviceDirt < 0.025 ? 1 : deviceDirt < 0.04 ? 2 : 0];
        bool priceMissing = r.Chance(0.10);
        bool ageMissing = users.AgeHidden[user] || r.Chance(0.02);

        return new PlantedRow
        {
            Index = index,
            Click = click,
            Probability = probability,
            ProbabilityIgnoringWeights = Sigmoid(logitWithoutHistory + Planted.HistoryScale * plainDot),
            ProbabilityWithoutHistory = Sigmoid(logitWithoutHistory),
            UserId = user,
            ItemId = item,
            Brand = items.Brand[item],
            Category = category,
            Device = device,
            Hour = hour,
            Price = price,
            Age = age,
            History = history,
            HistoryWeights = weights,
            UserIdLogged = userLogged,
            BrandLogged = brandLogged,
            CategoryLogged = categoryLogged,
            DeviceText = deviceText,
            PriceMissing = priceMissing,
            AgeMissing = ageMissing,
        };
    }

    private static readonly string[,] DeviceNames =
    {
        { "mobile", "Mobile", "MOBILE" },
        { "desktop", "Desktop", "DESKTOP" },
        { "tablet", "Tablet", "TABLET" },
    };

    private static double Sigmoid(double z) => 1.0 / (1.0 + Math.Exp(-z));

    private static int SampleAlive(AliasTable sampler, double[] birth, double time, PlantedRandom r)
    {
        int id;
        do
        {
            id = sampler.Sample(r);
        }
        while (birth[id] > time);
        return id;
    }

    private static double BirthTime(int id, int baseCount, int perDay, PlantedRandom r)
    {
        double fraction = r.NextDouble(); // drawn for every entity so the stream layout does not depend on the id
        return id < baseCount ? double.NegativeInfinity : (id - baseCount) / perDay + fraction;
    }

    private static double Pareto(PlantedRandom r, double alpha) => Math.Pow(1.0 - r.NextDouble(), -1.0 / alpha);

    private ItemTable Items(int count)
    {
        lock (_gate)
        {
            if (_items is null || _items.Count < count)
                _items = new ItemTable(this, Math.Max(count, ItemCount(0)));
            return _items;
        }
    }

    private UserTable Users(int count)
    {
        lock (_gate)
        {
            if (_users is null || _users.Count < count)
                _users = new UserTable(this, Math.Max(count, UserCount(0)));
            return _users;
        }
    }

    private sealed class ItemTable
    {
        public readonly int Count;
        public readonly int[] Category, Brand;
        public readonly double[] Bias, Vector, LogPrice, Popularity, Birth;

        public ItemTable(PlantedWorld world, int count)
        {
            Count = count;
            Category = new int[count];
            Brand = new int[count];
            Bias = new double[count];
            Vector = new double[count * Dimension];
            LogPrice = new double[count];
            Popularity = new double[count];
            Birth = new double[count];
            double noise = Planted.ItemNoise / Math.Sqrt(Dimension);
            for (int i = 0; i < count; i++)
            {
                var r = new PlantedRandom(PlantedRandom.Mix(world.Seed, KindItem, i));
                int c = world._categorySampler.Sample(r);
                Category[i] = c;
                Brand[i] = c * BrandsPerCategory + world._brandRankSampler.Sample(r);
                Bias[i] = Planted.ItemBiasSd * r.NextGaussian();
                for (int k = 0; k < Dimension; k++)
                    Vector[i * Dimension + k] = world._centroid[c * Dimension + k] + noise * r.NextGaussian();
                LogPrice[i] = world._categoryLogPrice[c] + 0.7 * r.NextGaussian();
                Popularity[i] = Pareto(r, Planted.ItemPopularityAlpha);
                Birth[i] = BirthTime(i, BaseItemCount, NewItemsPerDay, r);
            }
        }
    }

    private sealed class UserTable
    {
        public readonly int Count;
        public readonly int[] InterestA, InterestB, Age;
        public readonly bool[] AgeHidden;
        public readonly PlantedDevice[] Device;
        public readonly double[] Bias, Vector, HistoryMean, Popularity, Birth;

        public UserTable(PlantedWorld world, int count)
        {
            Count = count;
            InterestA = new int[count];
            InterestB = new int[count];
            Age = new int[count];
            AgeHidden = new bool[count];
            Device = new PlantedDevice[count];
            Bias = new double[count];
            Vector = new double[count * Dimension];
            HistoryMean = new double[count];
            Popularity = new double[count];
            Birth = new double[count];
            double noise = Planted.UserNoise / Math.Sqrt(Dimension);
            for (int u = 0; u < count; u++)
            {
                var r = new PlantedRandom(PlantedRandom.Mix(world.Seed, KindUser, u));
                int a = world._categorySampler.Sample(r), b = world._categorySampler.Sample(r);
                InterestA[u] = a;
                InterestB[u] = b;
                for (int k = 0; k < Dimension; k++)
                {
                    double taste = 0.6 * world._centroid[a * Dimension + k] + 0.4 * world._centroid[b * Dimension + k];
                    Vector[u * Dimension + k] = Planted.UserInterest * taste + noise * r.NextGaussian();
                }
                Bias[u] = Planted.UserBiasSd * r.NextGaussian();
                Age[u] = Math.Clamp((int)Math.Round(38 + 13 * r.NextGaussian()), 16, 85);
                AgeHidden[u] = r.Chance(0.06);
                Device[u] = (PlantedDevice)world._deviceSampler.Sample(r);
                HistoryMean[u] = Math.Exp(Math.Log(30) * r.NextDouble()); // 1 to 30
                Popularity[u] = Pareto(r, Planted.UserPopularityAlpha);
                Birth[u] = BirthTime(u, BaseUserCount, NewUsersPerDay, r);
            }
        }
    }

    /// <summary>The popularity samplers of one day: entities born by its end, fresh ones boosted.</summary>
    private sealed class DaySampler
    {
        public readonly AliasTable Items;
        public readonly AliasTable[] ItemsOf;
        public readonly AliasTable Users;

        public DaySampler(ItemTable items, UserTable users, int day, int categories)
        {
            int itemCount = ItemCount(day);
            var weights = new double[itemCount];
            var byCategory = new List<int>[categories];
            for (int c = 0; c < categories; c++)
                byCategory[c] = [];
            for (int i = 0; i < itemCount; i++)
            {
                weights[i] = items.Popularity[i] * Freshness(ItemBirthDay(i), day, 3.0, 1.5);
                byCategory[items.Category[i]].Add(i);
            }
            Items = new AliasTable(weights);
            ItemsOf = new AliasTable[categories];
            for (int c = 0; c < categories; c++)
            {
                int[] ids = [.. byCategory[c]];
                var categoryWeights = new double[ids.Length];
                for (int j = 0; j < ids.Length; j++)
                    categoryWeights[j] = weights[ids[j]];
                ItemsOf[c] = new AliasTable(categoryWeights, ids);
            }
            int userCount = UserCount(day);
            var userWeights = new double[userCount];
            for (int u = 0; u < userCount; u++)
            {
                int born = u < BaseUserCount ? -1 : (u - BaseUserCount) / NewUsersPerDay;
                userWeights[u] = users.Popularity[u] * Freshness(born, day, 2.0, 1.0);
            }
            Users = new AliasTable(userWeights);
        }

        private static double Freshness(int bornDay, int day, double today, double yesterday) =>
            bornDay == day ? today : bornDay == day - 1 ? yesterday : 1.0;
    }
}
