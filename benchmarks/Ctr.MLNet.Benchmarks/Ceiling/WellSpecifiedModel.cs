using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Benchmarks.Planted;
using Ctr.MLNet.Torch;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ctr.MLNet.Benchmarks.Ceiling;

/// <summary>What <see cref="WellSpecifiedModel.FitAndScore"/> returns.</summary>
/// <param name="Probabilities">Click probabilities of the test rows, in their order.</param>
/// <param name="FitSeconds">Encoding the rows, training and validating (scoring the test rows excluded).</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="BestEpoch">The epoch (1-based) whose parameters were kept: lowest validation log loss.</param>
/// <param name="ValidLogLoss">Validation log loss after each epoch.</param>
/// <param name="ValidAuc">Validation AUC after each epoch.</param>
public sealed record CeilingResult(float[] Probabilities, double FitSeconds, int Epochs, int BestEpoch, IReadOnlyList<double> ValidLogLoss, IReadOnlyList<double> ValidAuc);

/// <summary>
/// Prior standard deviations (the MAP fit's L2 strengths, one per parameter group) and the optimizer settings.
/// The defaults are the generator's own scales (PlantedWorld's class remarks); <see cref="PriorScale"/> multiplies
/// them all and is tuned on the validation split.
/// </summary>
public sealed record CeilingOptions
{
    public double UserBiasSd { get; init; } = 0.30;
    public double ItemBiasSd { get; init; } = 0.40;
    public double BrandSd { get; init; } = 0.25;
    public double CategorySd { get; init; } = 0.30;

    /// <summary>Per component of the user vector: 0.7·taste (|taste| ≈ 0.5) + N(0, 0.7²/K), absorbing UserItemScale 0.8.</summary>
    public double UserVectorSd { get; init; } = 0.25;

    /// <summary>Per component of an item's offset from its category centroid: 0.5/√K.</summary>
    public double ItemOffsetSd { get; init; } = 0.18;

    /// <summary>Per component of a category centroid: 1/√K.</summary>
    public double CentroidSd { get; init; } = 0.35;

    /// <summary>Device effects, hour cosines, age slopes.</summary>
    public double SmallEffectSd { get; init; } = 0.30;

    /// <summary>
    /// Multiplies every prior sd above (1 = the generator's scales). Tried on the validation rows of seed 1 at 200k
    /// (never on test): 0.5, 0.7, 1.5 at a fixed learning rate and 0.7, 1, 1.4 with the decay — 1 had the lowest validation log loss.
    /// </summary>
    public double PriorScale { get; init; } = 1.0;

    public int BatchSize { get; init; } = 4096;
    public double LearningRate { get; init; } = 0.02;

    /// <summary>
    /// Multiplies the learning rate after every epoch. Adam at a fixed rate hovers around the MAP optimum with the
    /// noise of its steps (validation loss turns up after two epochs); a decaying rate settles into it.
    /// </summary>
    public double LearningRateDecay { get; init; } = 0.7;
    public int MaxEpochs { get; init; } = 30;

    /// <summary>Epochs without a better validation log loss before stopping.</summary>
    public int Patience { get; init; } = 2;

    /// <summary>Prints each epoch's validation metrics to standard error.</summary>
    public bool Verbose { get; init; } = true;
}

/// <summary>
/// The learnable ceiling of the planted world: the generator's own click model with free parameters, fitted by MAP
/// (Gaussian priors = L2 on every parameter group) on the training rows only, early-stopped on the validation rows.
/// It sees only what the log shows (<see cref="PlantedInput"/>); ids first seen after training share an "unknown" row.
/// </summary>
/// <remarks>
/// <code>
/// logit = b + user bias + item bias + brand + category
///       + u·v                                   (u absorbs UserItemScale)
///       + β · v·h̄                               h̄ = dwell-weighted mean of the history items' v, 0 when empty
///       + device + a_d cos(2πh/24) + b_d sin(2πh/24)
///       + slope · (ln price − category mean ln price)   0 when the price is missing (its expectation)
///       + age slope[category] · (age − 40)/15           missing age → the training mean
/// v = centroid[item's category] + offset[item]   (the generator's item prior; a new item still gets its row's centroid)
/// </code>
/// The category means of ln price are the training rows' means (a moment estimate, not a gradient-fitted parameter):
/// a free per-category offset would only duplicate the category effect. Adam on mini-batches; the L2 term covers every
/// row of every table at every step, scaled by 1/N, so the objective is the exact negative log posterior ÷ N.
/// </remarks>
public static class WellSpecifiedModel
{
    private const int K = 8;

    /// <summary>Fits on <paramref name="train"/> (early stopping on <paramref name="valid"/>) and scores <paramref name="test"/>.</summary>
    public static CeilingResult FitAndScore(IReadOnlyList<PlantedInput> train, IReadOnlyList<PlantedInput> valid, IReadOnlyList<PlantedInput> test, int seed,
        CeilingOptions? options = null)
    {
        options ??= new CeilingOptions();
        var clock = Stopwatch.StartNew();
        var vocab = new Vocabulary(train);
        Encoded trainRows = vocab.Encode(train), validRows = vocab.Encode(valid);
        torch.manual_seed(seed);
        using var model = new Parameters(vocab, trainRows.BaseRate);
        using var optimizer = optim.Adam(model.All, options.LearningRate);
        var schedule = optim.lr_scheduler.ExponentialLR(optimizer, options.LearningRateDecay);
        double n = train.Count;
        var rng = new Random(seed);
        var losses = new List<double>();
        var aucs = new List<double>();
        Tensor[]? best = null;
        int bestEpoch = 0;
        for (int epoch = 1; epoch <= options.MaxEpochs; epoch++)
        {
            int[] order = [.. Enumerable.Range(0, trainRows.Count)];
            rng.Shuffle(order);
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                using Batch batch = trainRows.Gather(order.AsSpan(start, Math.Min(options.BatchSize, order.Length - start)));
                Tensor loss = nn.functional.binary_cross_entropy_with_logits(model.Logits(batch), batch.Labels)
                    + model.Penalty(options) / n;
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }

            schedule.step();
            float[] p = model.Predict(validRows, options.BatchSize);
            losses.Add(BinaryMetrics.LogLoss(validRows.Labels, p));
            aucs.Add(BinaryMetrics.Auc(validRows.Labels, p));
            if (options.Verbose)
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ceiling epoch {epoch}: valid log loss {losses[^1]:0.00000}, AUC {aucs[^1]:0.00000}, {clock.Elapsed.TotalSeconds:0} s"));
            if (losses[^1] < losses.Take(losses.Count - 1).DefaultIfEmpty(double.MaxValue).Min())
            {
                DisposeAll(best);
                best = model.Snapshot();
                bestEpoch = epoch;
            }
            else if (epoch - bestEpoch >= options.Patience)
            {
                break;
            }
        }
        model.Restore(best!);
        DisposeAll(best);
        double fitSeconds = clock.Elapsed.TotalSeconds;
        float[] probabilities = model.Predict(vocab.Encode(test), options.BatchSize);
        return new CeilingResult(probabilities, fitSeconds, losses.Count, bestEpoch, losses, aucs);
    }

    private static void DisposeAll(Tensor[]? tensors)
    {
        foreach (Tensor t in tensors ?? [])
            t.Dispose();
    }

    /// <summary>Training ids → table rows (row 0 = unknown: empty, "None" or not seen in training), like MinCount 1.</summary>
    private sealed class Vocabulary
    {
        public readonly Dictionary<string, int> Users = [], Items = [], Brands = [], Categories = [];
        public readonly List<long> ItemCategory = [0];
        public readonly Dictionary<int, (double Sum, int Count)> LogPrice = [];
        public readonly double MeanAgeZ;

        public Vocabulary(IReadOnlyList<PlantedInput> rows)
        {
            double ageSum = 0;
            int ageCount = 0;
            foreach (PlantedInput row in rows)
            {
                Add(Users, row.UserId);
                int category = Add(Categories, row.Category);
                int item = AddItem(row.ItemId);
                if (ItemCategory[item] == 0)
                    ItemCategory[item] = category; // the candidate rows show an item's category; history-only items stay unknown
                Add(Brands, row.Brand);
                foreach (string h in Split(row.History))
                    AddItem(h);
                if (!float.IsNaN(row.Price))
                {
                    LogPrice.TryGetValue(category, out var s);
                    LogPrice[category] = (s.Sum + Math.Log(row.Price), s.Count + 1);
                }
                if (!float.IsNaN(row.Age))
                {
                    ageSum += (row.Age - 40) / 15.0;
                    ageCount++;
                }
            }
            MeanAgeZ = ageCount == 0 ? 0 : ageSum / ageCount;
        }

        private int AddItem(string id)
        {
            int before = Items.Count;
            int index = Add(Items, id);
            if (Items.Count > before)
                ItemCategory.Add(0);
            return index;
        }

        private static int Add(Dictionary<string, int> map, string id)
        {
            if (IsMissing(id))
                return 0;
            if (!map.TryGetValue(id, out int index))
                map[id] = index = map.Count + 1;
            return index;
        }

        private static bool IsMissing(string id) => id.Length == 0 || id == "None";

        private static int Find(Dictionary<string, int> map, string id) => IsMissing(id) ? 0 : map.GetValueOrDefault(id);

        private static string[] Split(string list) => list.Length == 0 ? [] : list.Split('|');

        private static long Device(string text) => text.Trim().ToLowerInvariant() switch
        {
            "mobile" => 1,
            "desktop" => 2,
            "tablet" => 3,
            _ => 0,
        };

        public Encoded Encode(IReadOnlyList<PlantedInput> rows)
        {
            double allSum = LogPrice.Values.Sum(s => s.Sum), allCount = LogPrice.Values.Sum(s => s.Count);
            var e = new Encoded(rows.Count);
            var histItems = new List<long>();
            var histWeights = new List<float>();
            for (int i = 0; i < rows.Count; i++)
            {
                PlantedInput row = rows[i];
                e.Labels[i] = row.Label ? 1 : 0;
                e.User[i] = Find(Users, row.UserId);
                e.Item[i] = Find(Items, row.ItemId);
                e.Brand[i] = Find(Brands, row.Brand);
                int category = Find(Categories, row.Category);
                e.Category[i] = category != 0 ? category : ItemCategory[(int)e.Item[i]];
                e.Device[i] = Device(row.Device);
                double angle = 2 * Math.PI * row.Hour / 24.0;
                e.Cos[i] = (float)Math.Cos(angle);
                e.Sin[i] = (float)Math.Sin(angle);
                double categoryMean = LogPrice.TryGetValue((int)e.Category[i], out var s) ? s.Sum / s.Count : allSum / Math.Max(1, allCount);
                e.LogPrice[i] = float.IsNaN(row.Price) ? 0 : (float)(Math.Log(row.Price) - categoryMean);
                e.AgeZ[i] = (float)(float.IsNaN(row.Age) ? MeanAgeZ : (row.Age - 40) / 15.0);

                e.HistoryStart[i] = histItems.Count;
                string[] ids = Split(row.History), weights = Split(row.HistoryWeights);
                double total = 0;
                foreach (string w in weights)
                    total += double.Parse(w, CultureInfo.InvariantCulture);
                for (int j = 0; j < ids.Length; j++)
                {
                    histItems.Add(Find(Items, ids[j]));
                    histWeights.Add((float)(double.Parse(weights[j], CultureInfo.InvariantCulture) / total)); // h̄ is a weighted mean
                }
            }
            e.HistoryStart[rows.Count] = histItems.Count;
            e.HistoryItem = [.. histItems];
            e.HistoryWeight = [.. histWeights];
            e.BaseRate = e.Labels.Average();
            return e;
        }
    }

    /// <summary>One split as table rows and numbers; <see cref="Gather"/> gathers rows into tensors.</summary>
    private sealed class Encoded(int count)
    {
        public readonly int Count = count;
        public readonly float[] Labels = new float[count], Cos = new float[count], Sin = new float[count], LogPrice = new float[count], AgeZ = new float[count];
        public readonly long[] User = new long[count], Item = new long[count], Brand = new long[count], Category = new long[count], Device = new long[count];
        public readonly int[] HistoryStart = new int[count + 1];
        public long[] HistoryItem = [];
        public float[] HistoryWeight = [];
        public double BaseRate;

        public Batch Gather(ReadOnlySpan<int> rows)
        {
            int b = rows.Length;
            var user = new long[b];
            var item = new long[b];
            var brand = new long[b];
            var category = new long[b];
            var device = new long[b];
            var labels = new float[b];
            var numbers = new float[b * 4];
            var histRow = new List<long>();
            var histItem = new List<long>();
            var histWeight = new List<float>();
            for (int j = 0; j < b; j++)
            {
                int r = rows[j];
                user[j] = User[r];
                item[j] = Item[r];
                brand[j] = Brand[r];
                category[j] = Category[r];
                device[j] = Device[r];
                labels[j] = Labels[r];
                numbers[j * 4] = Cos[r];
                numbers[j * 4 + 1] = Sin[r];
                numbers[j * 4 + 2] = LogPrice[r];
                numbers[j * 4 + 3] = AgeZ[r];
                for (int h = HistoryStart[r]; h < HistoryStart[r + 1]; h++)
                {
                    histRow.Add(j);
                    histItem.Add(HistoryItem[h]);
                    histWeight.Add(HistoryWeight[h]);
                }
            }
            Tensor n = tensor(numbers).view(b, 4);
            return new Batch(tensor(user), tensor(item), tensor(brand), tensor(category), tensor(device),
                n[TensorIndex.Colon, 0], n[TensorIndex.Colon, 1], n[TensorIndex.Colon, 2], n[TensorIndex.Colon, 3],
                tensor(histRow.ToArray()), tensor(histItem.ToArray()), tensor(histWeight.ToArray()), tensor(labels));
        }
    }

    private sealed record Batch(Tensor User, Tensor Item, Tensor Brand, Tensor Category, Tensor Device, Tensor Cos, Tensor Sin, Tensor LogPrice, Tensor AgeZ,
        Tensor HistoryRow, Tensor HistoryItem, Tensor HistoryWeight, Tensor Labels) : IDisposable
    {
        public void Dispose()
        {
            foreach (Tensor t in new[] { User, Item, Brand, Category, Device, Cos, Sin, LogPrice, AgeZ, HistoryRow, HistoryItem, HistoryWeight, Labels })
                t.Dispose();
        }
    }

    /// <summary>The free parameters, one tensor per group; row 0 of each table is the "unknown" row.</summary>
    private sealed class Parameters : IDisposable
    {
        private readonly Tensor _itemCategory;
        private readonly Parameter _intercept, _historyScale, _priceSlope;
        private readonly Parameter _userBias, _itemBias, _brand, _category, _userVector, _itemOffset, _centroid;
        private readonly Parameter _device, _hourCos, _hourSin, _ageSlope;

        public Parameters(Vocabulary vocab, double baseRate)
        {
            int users = vocab.Users.Count + 1, items = vocab.Items.Count + 1, categories = vocab.Categories.Count + 1;
            _itemCategory = tensor(vocab.ItemCategory.ToArray());
            _intercept = new Parameter(tensor(new[] { (float)Math.Log(baseRate / (1 - baseRate)) }));
            _historyScale = new Parameter(ones(1));
            _priceSlope = new Parameter(zeros(1));
            _userBias = new Parameter(zeros(users));
            _itemBias = new Parameter(zeros(items));
            _brand = new Parameter(zeros(vocab.Brands.Count + 1));
            _category = new Parameter(zeros(categories));
            // Small random vectors: u·v and v·h̄ have zero gradient at zero.
            _userVector = new Parameter(randn(users, K) * 0.05);
            _itemOffset = new Parameter(randn(items, K) * 0.05);
            _centroid = new Parameter(randn(categories, K) * 0.2);
            _device = new Parameter(zeros(4));
            _hourCos = new Parameter(zeros(4));
            _hourSin = new Parameter(zeros(4));
            _ageSlope = new Parameter(zeros(categories));
        }

        public IEnumerable<Parameter> All =>
        [
            _intercept, _historyScale, _priceSlope, _userBias, _itemBias, _brand, _category, _userVector, _itemOffset, _centroid,
            _device, _hourCos, _hourSin, _ageSlope,
        ];

        /// <summary>v = centroid[item's category] + offset[item]; a candidate uses its row's category (known even for a new item).</summary>
        private Tensor ItemVector(Tensor items, Tensor categories) => _centroid.index_select(0, categories) + _itemOffset.index_select(0, items);

        public Tensor Logits(Batch b)
        {
            Tensor v = ItemVector(b.Item, b.Category);
            Tensor u = _userVector.index_select(0, b.User);
            Tensor historyVectors = ItemVector(b.HistoryItem, _itemCategory.index_select(0, b.HistoryItem)) * b.HistoryWeight.unsqueeze(1);
            Tensor hbar = zeros_like(v).index_add(0, b.HistoryRow, historyVectors, 1); // weights are already divided by their row's sum
            return _intercept
                + _userBias.index_select(0, b.User) + _itemBias.index_select(0, b.Item)
                + _brand.index_select(0, b.Brand) + _category.index_select(0, b.Category)
                + (u * v).sum(1)
                + _historyScale * (v * hbar).sum(1)
                + _device.index_select(0, b.Device) + _hourCos.index_select(0, b.Device) * b.Cos + _hourSin.index_select(0, b.Device) * b.Sin
                + _priceSlope * b.LogPrice
                + _ageSlope.index_select(0, b.Category) * b.AgeZ;
        }

        /// <summary>Σ over groups of ‖θ‖² / (2σ²): the negative log prior (intercept, β and the price slope are flat).</summary>
        public Tensor Penalty(CeilingOptions o)
        {
            Tensor Term(Tensor t, double sd) => t.square().sum() / (2 * Math.Pow(sd * o.PriorScale, 2));
            return Term(_userBias, o.UserBiasSd) + Term(_itemBias, o.ItemBiasSd) + Term(_brand, o.BrandSd) + Term(_category, o.CategorySd)
                + Term(_userVector, o.UserVectorSd) + Term(_itemOffset, o.ItemOffsetSd) + Term(_centroid, o.CentroidSd)
                + Term(_device, o.SmallEffectSd) + Term(_hourCos, o.SmallEffectSd) + Term(_hourSin, o.SmallEffectSd) + Term(_ageSlope, o.SmallEffectSd);
        }

        public float[] Predict(Encoded rows, int batchSize)
        {
            using var noGrad = no_grad();
            var result = new float[rows.Count];
            int[] all = [.. Enumerable.Range(0, rows.Count)];
            for (int start = 0; start < rows.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                using Batch batch = rows.Gather(all.AsSpan(start, Math.Min(batchSize, rows.Count - start)));
                sigmoid(Logits(batch)).data<float>().ToArray().CopyTo(result, start);
            }
            return result;
        }

        public Tensor[] Snapshot()
        {
            using var noGrad = no_grad();
            return [.. All.Select(p => p.detach().clone())];
        }

        public void Restore(Tensor[] values)
        {
            using var noGrad = no_grad();
            foreach (var (p, v) in All.Zip(values))
                p.copy_(v);
        }

        public void Dispose()
        {
            _itemCategory.Dispose();
            foreach (Parameter p in All)
                p.Dispose();
        }
    }
}
