using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace Ctr.MLNet.Torch.Training;

/// <summary>
/// Where the validation rows come from when the trainer is fit inside a pipeline: raw validation data run through
/// the same fitted transforms as the training data, or a hold-out of the training rows.
/// </summary>
internal static class ValidationSplit
{
    /// <summary>The training and validation data the options ask for; <paramref name="validation"/> wins when given.</summary>
    public static (IDataView Train, IDataView? Valid) Apply(IHostEnvironment env, IDataView train, IDataView? validation, TorchCtrTrainer.Options options)
    {
        if (validation is not null)
        {
            if (options.ValidationData is not null || options.ValidationFraction is not null)
                throw new InvalidOperationException("Validation data was passed to Fit and also set in the options (ValidationData or ValidationFraction); give it one way.");
            return (train, validation);
        }
        if (options.ValidationData is IDataView raw)
            return (train, ThroughUpstreamTransforms(env, train, raw));
        if (options.ValidationFraction is not double fraction)
            return (train, null);
        return options.ValidationTimeColumnName is string time
            ? HoldOutLatest(env, train, fraction, time)
            : HoldOutRandom(env, train, fraction, options.Seed);
    }

    /// <summary>
    /// Re-applies, to <paramref name="raw"/>, every data transform between the raw training data and <paramref name="train"/>
    /// (an estimator chain hands its trainer the training data as a stack of fitted transforms over the raw view).
    /// </summary>
    private static IDataView ThroughUpstreamTransforms(IHostEnvironment env, IDataView train, IDataView raw)
    {
        var transforms = new Stack<IDataTransform>();
        IDataView view = train;
        while (view is IDataTransform transform)
        {
            transforms.Push(transform);
            view = transform.Source;
        }
        foreach (DataViewSchema.Column column in view.Schema)
        {
            if (column.IsHidden)
                continue;
            DataViewSchema.Column? match = raw.Schema.GetColumnOrNull(column.Name);
            if (match is null)
                throw new ArgumentOutOfRangeException(nameof(TorchCtrTrainer.Options.ValidationData), $"Could not find input column '{column.Name}' in ValidationData: it must have the columns of the raw training data.");
            if (!match.Value.Type.Equals(column.Type))
                throw new ArgumentOutOfRangeException(nameof(TorchCtrTrainer.Options.ValidationData), $"Schema mismatch for input column '{column.Name}' of ValidationData: expected {column.Type} as in the raw training data, got {match.Value.Type}.");
        }
        IDataView result = raw;
        foreach (IDataTransform transform in transforms)
            result = ApplyTransformUtils.ApplyTransformToData(env, transform, result);
        return result;
    }

    private static (IDataView, IDataView) HoldOutRandom(IHostEnvironment env, IDataView data, double fraction, int seed)
    {
        DataOperationsCatalog.TrainTestData split = new DataOperationsCatalog(env).TrainTestSplit(data, fraction, seed: seed);
        return (split.TrainSet, split.TestSet);
    }

    /// <summary>Rows whose time is at or above the (1 − fraction) quantile are held out; rows without a time are left out of both.</summary>
    private static (IDataView, IDataView) HoldOutLatest(IHostEnvironment env, IDataView data, double fraction, string timeColumn)
    {
        DataViewSchema.Column column = data.Schema.GetColumnOrNull(timeColumn)
            ?? throw new ArgumentOutOfRangeException(nameof(TorchCtrTrainer.Options.ValidationTimeColumnName), $"Could not find input column '{timeColumn}' (ValidationTimeColumnName)");
        var times = new List<double>();
        using (DataViewRowCursor cursor = data.GetRowCursor([column]))
        {
            Func<double> read = column.Type == NumberDataViewType.Single ? SingleReader(cursor, column)
                : column.Type == NumberDataViewType.Double ? DoubleReader(cursor, column)
                : throw new ArgumentOutOfRangeException(nameof(TorchCtrTrainer.Options.ValidationTimeColumnName), $"Schema mismatch for input column '{timeColumn}' (ValidationTimeColumnName): expected Single or Double, got {column.Type}");
            while (cursor.MoveNext())
            {
                double time = read();
                if (!double.IsNaN(time))
                    times.Add(time);
            }
        }
        if (times.Count < 2)
            throw new ArgumentOutOfRangeException(nameof(TorchCtrTrainer.Options.ValidationTimeColumnName), $"Column '{timeColumn}' has {times.Count} row(s) with a time; a time hold-out needs at least 2.");
        times.Sort();
        int validRows = Math.Clamp((int)Math.Round(times.Count * fraction), 1, times.Count - 1);
        double threshold = times[times.Count - validRows];
        if (threshold <= times[0])
            throw new ArgumentOutOfRangeException(nameof(TorchCtrTrainer.Options.ValidationTimeColumnName), $"Column '{timeColumn}' holds too few distinct times to hold out the latest {fraction:P0} of the rows.");
        var catalog = new DataOperationsCatalog(env);
        return (catalog.FilterRowsByColumn(data, timeColumn, upperBound: threshold), catalog.FilterRowsByColumn(data, timeColumn, lowerBound: threshold));
    }

    private static Func<double> SingleReader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        ValueGetter<float> getter = cursor.GetGetter<float>(column);
        float value = 0;
        return () =>
        {
            getter(ref value);
            return value;
        };
    }

    private static Func<double> DoubleReader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        ValueGetter<double> getter = cursor.GetGetter<double>(column);
        double value = 0;
        return () =>
        {
            getter(ref value);
            return value;
        };
    }
}
