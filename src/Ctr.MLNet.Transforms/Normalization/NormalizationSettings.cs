using System;
using System.Globalization;
using System.IO;
using Ctr.MLNet.Transforms.Internals;

namespace Ctr.MLNet.Transforms;

/// <summary>How one column is normalized; fixed at fit time and saved with the model.</summary>
internal sealed record NormalizationSettings(NormalizationMode Mode, bool Log1p, MissingValueFill MissingValue, double? ClipTo)
{
    /// <summary>
    /// The value statistics are taken on: NaN for a missing input (NaN, ±∞), else the input itself or,
    /// with <see cref="Log1p"/>, sign(x)·log1p(|x|).
    /// </summary>
    public double Prepare(double raw)
    {
        if (!double.IsFinite(raw))
            return double.NaN;
        return Log1p ? Math.CopySign(LogOnePlus(Math.Abs(raw)), raw) : raw;
    }

    /// <summary>log(1 + x) for x ≥ 0, accurate for small x (Goldberg's correction).</summary>
    internal static double LogOnePlus(double x)
    {
        double u = 1 + x;
        return u == 1 ? x : Math.Log(u) * (x / (u - 1));
    }

    /// <summary>The output bounds: [−c, c] for z-score, [−c, 1 + c] for min-max; infinite without clipping.</summary>
    public (double Low, double High) ClipBounds => ClipTo is double c
        ? (-c, Mode == NormalizationMode.MinMax ? 1 + c : c)
        : (double.NegativeInfinity, double.PositiveInfinity);

    /// <summary>What is wrong with these options, or null when they are valid.</summary>
    public string? FindProblem(string outputColumnName)
    {
        if (!Enum.IsDefined(Mode))
            return $"Mode of column '{outputColumnName}' must be ZScore or MinMax, got {(int)Mode}.";
        bool minMax = Mode == NormalizationMode.MinMax;
        if (ClipTo is double c && !(double.IsFinite(c) && (minMax ? c >= 0 : c > 0)))
            return $"ClipTo of column '{outputColumnName}' must be null or a finite number {(minMax ? "of at least 0" : "above 0")} with {Mode}, got {c.ToString(CultureInfo.InvariantCulture)}.";
        if (!MissingValue.IsMean && !double.IsFinite(MissingValue.Value))
            return $"The MissingValue constant of column '{outputColumnName}' must be finite, got {MissingValue.Value.ToString(CultureInfo.InvariantCulture)}.";
        return null;
    }

    // Binary format
    //   byte: mode (0 z-score, 1 min-max)
    //   byte: log1p (0 or 1)
    //   byte: missing-value fill (0 mean, 1 constant), then double: the constant (0 for mean)
    //   double: clip bound, NaN for none
    public void Write(BinaryWriter writer)
    {
        writer.Write((byte)Mode);
        writer.Write(Log1p);
        writer.Write(MissingValue.IsMean ? (byte)0 : (byte)1);
        writer.Write(MissingValue.Value);
        writer.Write(ClipTo ?? double.NaN);
    }

    public static NormalizationSettings Read(BinaryReader reader, string columnName)
    {
        byte mode = reader.ReadByte();
        byte log1p = reader.ReadByte();
        byte fill = reader.ReadByte();
        double constant = reader.ReadDouble();
        double clip = reader.ReadDouble();
        if (mode > (byte)NormalizationMode.MinMax || log1p > 1 || fill > 1 || !double.IsFinite(constant))
            CtrThrow.Format($"The normalization settings of column '{columnName}' in the model file are invalid (mode {mode}, log1p {log1p}, fill {fill}, constant {constant}); the file is corrupt.");
        var settings = new NormalizationSettings((NormalizationMode)mode, log1p == 1, fill == 0 ? MissingValueFill.Mean : MissingValueFill.Constant(constant), double.IsNaN(clip) ? null : clip);
        if (settings.FindProblem(columnName) is string problem)
            CtrThrow.Format($"{problem} The model file is corrupt.");
        return settings;
    }
}

/// <summary>
/// One column's fitted map from a raw value to the output: prepare (missing → fill, log1p), scale, clip,
/// and keep the result a finite Single.
/// </summary>
internal readonly struct NormalizationMap
{
    private readonly NormalizationSettings _settings;
    private readonly double _offset;
    private readonly double _divisor;
    private readonly double _low;
    private readonly double _high;

    public NormalizationMap(NormalizationSettings settings, NumericStatistics statistics)
    {
        _settings = settings;
        bool minMax = settings.Mode == NormalizationMode.MinMax;
        _offset = minMax ? statistics.Minimum : statistics.Mean;
        // No finite value, a single value or equal values: nothing to scale by, every output is 0.
        _divisor = statistics.Count == 0 ? 0 : minMax ? statistics.Maximum - statistics.Minimum : statistics.StandardDeviation;
        (_low, _high) = settings.ClipBounds;
        double fill = settings.MissingValue.IsMean ? statistics.Mean : settings.Prepare(settings.MissingValue.Value);
        MissingOutput = Scale(fill);
    }

    /// <summary>The output for a missing input.</summary>
    public float MissingOutput { get; }

    public float Map(double raw)
    {
        double prepared = _settings.Prepare(raw);
        return double.IsNaN(prepared) ? MissingOutput : Scale(prepared);
    }

    private float Scale(double prepared)
    {
        // "> 0" is false for a NaN divisor (statistics overflowed), which also gives 0.
        if (!(_divisor > 0))
            return 0;
        double result = (prepared - _offset) / _divisor;
        if (double.IsNaN(result))
            return 0;
        result = Math.Clamp(result, _low, _high);
        // Beyond Single's range the cast would give ±∞: saturate instead.
        return (float)Math.Clamp(result, -float.MaxValue, float.MaxValue);
    }
}
