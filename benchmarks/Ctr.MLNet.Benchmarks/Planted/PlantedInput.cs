using System;
using System.Collections.Generic;
using System.Linq;
using Ctr.MLNet.Planted;

namespace Ctr.MLNet.Benchmarks.Planted;

/// <summary>
/// One planted impression as the log shows it (the sample's CSV fields: dirty ids, empty numerics, '|' lists),
/// plus the true probability for the oracle. Loaded with <c>LoadFromEnumerable</c>.
/// </summary>
public sealed class PlantedInput
{
    public bool Label { get; set; }

    public string UserId { get; set; } = "";

    public string ItemId { get; set; } = "";

    public string Brand { get; set; } = "";

    public string Category { get; set; } = "";

    public string Device { get; set; } = "";

    public float Hour { get; set; }

    /// <summary>NaN when the log misses it.</summary>
    public float Price { get; set; }

    /// <summary>NaN when the log misses it.</summary>
    public float Age { get; set; }

    /// <summary>Item ids, latest first, joined by '|'.</summary>
    public string History { get; set; } = "";

    /// <summary>Dwell seconds, one per history element, joined by '|'.</summary>
    public string HistoryWeights { get; set; } = "";

    /// <summary>The planted click probability (not a feature).</summary>
    public float TrueProbability { get; set; }

    public static PlantedInput From(PlantedRow row) => new()
    {
        Label = row.Click,
        UserId = row.UserIdText,
        ItemId = row.ItemIdText,
        Brand = row.BrandText,
        Category = row.CategoryText,
        Device = row.DeviceText,
        Hour = row.Hour,
        Price = row.PriceMissing ? float.NaN : (float)row.Price,
        Age = row.AgeMissing ? float.NaN : row.Age,
        History = row.HistoryText,
        HistoryWeights = row.HistoryWeightsText,
        TrueProbability = (float)row.Probability,
    };
}

/// <summary>Train, validation and test rows of one planted day, in time order (as the sample's <c>generate</c> splits them).</summary>
public sealed record PlantedSplit(List<PlantedInput> Train, List<PlantedInput> Valid, List<PlantedInput> Test, double Seconds)
{
    /// <summary>
    /// Draws <c>train + test</c> rows of day 0 of world <paramref name="seed"/> with <see cref="PlantedWorld.DrawRows"/>;
    /// the last <paramref name="testRows"/> are the test rows (a later time of the day, like <c>generate</c>'s test.csv),
    /// and the last <paramref name="validFraction"/> of the rest are the validation rows for early stopping.
    /// </summary>
    /// <remarks>
    /// One draw split in time order, not two draws: two draws of the same day start from the same random stream, so
    /// their first rows would repeat each other.
    /// </remarks>
    public static PlantedSplit Draw(int seed, int trainRows, int testRows, double validFraction)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        PlantedWorld world = PlantedWorld.Create(seed);
        var all = new List<PlantedInput>(trainRows + testRows);
        foreach (PlantedRow row in world.DrawRows(trainRows + testRows, day: 0))
            all.Add(PlantedInput.From(row));
        int valid = (int)Math.Round(trainRows * validFraction);
        return new PlantedSplit(all.GetRange(0, trainRows - valid), all.GetRange(trainRows - valid, valid), all.GetRange(trainRows, testRows), clock.Elapsed.TotalSeconds);
    }

    public IEnumerable<PlantedInput> TrainAndValid => Train.Concat(Valid);
}
