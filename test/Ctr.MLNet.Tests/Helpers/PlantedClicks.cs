using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>
/// Small CTR data with a known signal for trainer tests: an item effect, a user effect, a user × item-group interaction and a
/// history term where each history element counts with its weight. Probabilities come from a logistic model.
/// </summary>
public static class PlantedClicks
{
    public sealed class Row
    {
        public bool Label { get; set; }

        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        [VectorType]
        public string[] History { get; set; } = [];

        [VectorType]
        public float[] HistoryWeights { get; set; } = [];

        public float Price { get; set; }

        public float TrueProbability { get; set; }
    }

    public sealed class Input
    {
        public string User { get; set; } = "";

        public string Item { get; set; } = "";

        [VectorType]
        public string[] History { get; set; } = [];

        [VectorType]
        public float[] HistoryWeights { get; set; } = [];

        public float Price { get; set; }
    }

    public sealed class Prediction
    {
        public float Probability { get; set; }

        public float Score { get; set; }

        public bool PredictedLabel { get; set; }
    }

    public static List<Row> Generate(int count, int seed, int users = 200, int items = 100)
    {
        var random = new Random(seed);
        var world = new Random(12345); // the same world for every seed
        double[] itemEffect = [.. Enumerable.Range(0, items).Select(_ => world.NextDouble() * 2 - 1)];
        double[] userEffect = [.. Enumerable.Range(0, users).Select(_ => world.NextDouble() * 2 - 1)];
        int[] userGroup = [.. Enumerable.Range(0, users).Select(_ => world.Next(2))];
        var rows = new List<Row>(count);
        for (int i = 0; i < count; i++)
        {
            int user = random.Next(users), item = random.Next(items);
            int length = random.Next(0, 8);
            string[] history = new string[length];
            float[] weights = new float[length];
            double historyMatch = 0;
            for (int h = 0; h < length; h++)
            {
                int past = random.Next(items);
                history[h] = $"i{past}";
                weights[h] = (float)Math.Round(random.NextDouble() * 3, 2);
                // Only heavily weighted history items of the candidate's parity count.
                if (past % 2 == item % 2)
                    historyMatch += weights[h] / 3.0;
            }
            double logit = -1.0 + 1.5 * itemEffect[item] + 1.5 * userEffect[user] + (userGroup[user] == item % 2 ? 0.5 : -0.5) + 0.6 * historyMatch;
            double probability = 1 / (1 + Math.Exp(-logit));
            rows.Add(new Row
            {
                Label = random.NextDouble() < probability,
                User = $"u{user}",
                Item = $"i{item}",
                History = history,
                HistoryWeights = weights,
                Price = (float)(random.NextDouble() * 2 - 1),
                TrueProbability = (float)probability,
            });
        }
        return rows;
    }

    /// <summary>User and item vocabularies, the history sharing the item vocabulary.</summary>
    public static IEstimator<ITransformer> Features(MLContext ml) =>
        ml.Ctr().Transforms.MapToVocabulary(
            new VocabularyEstimator.ColumnOptions("UserId", "User"),
            new VocabularyEstimator.ColumnOptions("ItemId", "Item") { Vocabulary = "item" },
            new VocabularyEstimator.ColumnOptions("HistoryIds", "History") { Vocabulary = "item" });
}
