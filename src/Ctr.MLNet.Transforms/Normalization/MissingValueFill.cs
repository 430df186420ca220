using System.Globalization;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>
/// What <see cref="NumericNormalizingEstimator"/> puts in place of a missing value (NaN, +∞ or −∞):
/// the fitted mean (<see cref="Mean"/>, the default) or a constant given in the units of the raw input.
/// </summary>
/// <remarks>
/// A constant goes through the same steps as any raw value (log1p when enabled, scaling, clipping), so
/// <c>Constant(0)</c> means "as if the value were 0". The mean is taken after log1p, so with
/// <see cref="NormalizationMode.ZScore"/> a missing value always maps to exactly 0.
/// </remarks>
public readonly record struct MissingValueFill
{
    private readonly bool _isConstant;

    private MissingValueFill(double value)
    {
        _isConstant = true;
        Value = value;
    }

    /// <summary>Fill with the mean of the fitted (finite) values; the default.</summary>
    public static MissingValueFill Mean => default;

    /// <summary>Fill with <paramref name="value"/>, a finite number in the units of the raw input.</summary>
    /// <exception cref="System.ArgumentOutOfRangeException"><paramref name="value"/> is NaN or infinite.</exception>
    public static MissingValueFill Constant(double value)
    {
        if (!double.IsFinite(value))
            CtrThrow.ArgumentOutOfRange(nameof(value), $"The missing-value constant must be a finite number, got {value.ToString(CultureInfo.InvariantCulture)}.");
        return new MissingValueFill(value);
    }

    /// <summary>Whether missing values take the fitted mean.</summary>
    public bool IsMean => !_isConstant;

    /// <summary>The constant when <see cref="IsMean"/> is false; 0 otherwise.</summary>
    public double Value { get; }

    /// <summary>"Mean" or the constant in round-trip form.</summary>
    public override string ToString() => IsMean ? "Mean" : Value.ToString("R", CultureInfo.InvariantCulture);
}
