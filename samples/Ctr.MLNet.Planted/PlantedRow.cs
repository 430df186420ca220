using System;
using System.Globalization;
using System.Linq;

namespace Ctr.MLNet.Planted;

/// <summary>The device a row was logged from.</summary>
public enum PlantedDevice
{
    /// <summary>Phone.</summary>
    Mobile,

    /// <summary>Desktop browser.</summary>
    Desktop,

    /// <summary>Tablet.</summary>
    Tablet,
}

/// <summary>How a field was written to the log.</summary>
public enum LoggedAs
{
    /// <summary>The true value.</summary>
    Value,

    /// <summary>An empty field.</summary>
    Empty,

    /// <summary>The text <c>None</c>.</summary>
    NoneToken,
}

/// <summary>
/// One impression drawn from a <see cref="PlantedWorld"/>: the true values and click probability, plus how
/// each field appears in the log (missing, <c>None</c>, upper-case device names). The <c>...Text</c>
/// properties give the CSV fields.
/// </summary>
public sealed class PlantedRow
{
    /// <summary>Position in the draw (time order within the day).</summary>
    public required int Index { get; init; }

    /// <summary>The label: drawn from <see cref="Probability"/>.</summary>
    public required bool Click { get; init; }

    /// <summary>The true click probability (the oracle's prediction).</summary>
    public required double Probability { get; init; }

    /// <summary>Ablation: the probability with the history averaged without its weights.</summary>
    public required double ProbabilityIgnoringWeights { get; init; }

    /// <summary>Ablation: the probability with the history term left out.</summary>
    public required double ProbabilityWithoutHistory { get; init; }

    /// <summary>User entity id (text <c>u{id}</c>).</summary>
    public required int UserId { get; init; }

    /// <summary>Candidate item entity id (text <c>i{id}</c>).</summary>
    public required int ItemId { get; init; }

    /// <summary>The item's brand id (text <c>b{id}</c>).</summary>
    public required int Brand { get; init; }

    /// <summary>The item's category (index into <see cref="PlantedWorld.CategoryNames"/>).</summary>
    public required int Category { get; init; }

    /// <summary>The true device.</summary>
    public required PlantedDevice Device { get; init; }

    /// <summary>Hour of day, 0–23.</summary>
    public required int Hour { get; init; }

    /// <summary>Price shown, rounded to cents (known to the oracle even when the log misses it).</summary>
    public required double Price { get; init; }

    /// <summary>The user's age in years (known to the oracle even when the log misses it).</summary>
    public required int Age { get; init; }

    /// <summary>Item ids the user engaged with before, latest first; 0 to <see cref="PlantedWorld.MaxHistoryLength"/> long.</summary>
    public required int[] History { get; init; }

    /// <summary>Dwell seconds per history element (positive, one decimal), same length as <see cref="History"/>.</summary>
    public required double[] HistoryWeights { get; init; }

    /// <summary>How <c>user_id</c> is logged.</summary>
    public required LoggedAs UserIdLogged { get; init; }

    /// <summary>How <c>brand</c> is logged.</summary>
    public required LoggedAs BrandLogged { get; init; }

    /// <summary>How <c>category</c> is logged.</summary>
    public required LoggedAs CategoryLogged { get; init; }

    /// <summary>The <c>device</c> field as logged: lower case, a dirty variant ("Mobile", "MOBILE") or empty.</summary>
    public required string DeviceText { get; init; }

    /// <summary>The price field is empty.</summary>
    public required bool PriceMissing { get; init; }

    /// <summary>The age field is empty.</summary>
    public required bool AgeMissing { get; init; }

    /// <summary>The <c>click</c> field.</summary>
    public string ClickText => Click ? "1" : "0";

    /// <summary>The <c>user_id</c> field.</summary>
    public string UserIdText => Logged(UserIdLogged, "u" + UserId.ToString(CultureInfo.InvariantCulture));

    /// <summary>The <c>item_id</c> field.</summary>
    public string ItemIdText => "i" + ItemId.ToString(CultureInfo.InvariantCulture);

    /// <summary>The <c>brand</c> field.</summary>
    public string BrandText => Logged(BrandLogged, "b" + Brand.ToString(CultureInfo.InvariantCulture));

    /// <summary>The <c>category</c> field.</summary>
    public string CategoryText => Logged(CategoryLogged, PlantedWorld.CategoryNames[Category]);

    /// <summary>The <c>price</c> field.</summary>
    public string PriceText => PriceMissing ? "" : Price.ToString(CultureInfo.InvariantCulture);

    /// <summary>The <c>age</c> field.</summary>
    public string AgeText => AgeMissing ? "" : Age.ToString(CultureInfo.InvariantCulture);

    /// <summary>The <c>hist_item_ids</c> field: <c>i{id}</c> joined by <c>|</c>.</summary>
    public string HistoryText => string.Join('|', History.Select(id => "i" + id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The <c>hist_weights</c> field: one number per history element, joined by <c>|</c>.</summary>
    public string HistoryWeightsText => string.Join('|', HistoryWeights.Select(w => w.ToString(CultureInfo.InvariantCulture)));

    private static string Logged(LoggedAs logged, string value) => logged switch
    {
        LoggedAs.Value => value,
        LoggedAs.Empty => "",
        LoggedAs.NoneToken => "None",
        _ => throw new ArgumentOutOfRangeException(nameof(logged)),
    };
}
