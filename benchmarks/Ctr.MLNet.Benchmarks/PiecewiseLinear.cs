using System;
using System.Collections.Generic;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// Experiment: piecewise-linear encoding of the numeric features (Gorishniy et al. 2022, "On Embeddings for Numerical
/// Features in Tabular Deep Learning"): per column, <c>bins</c> quantile bins of the training rows, and for each bin
/// t the value's position in it, clamped to [0, 1] (1 past the bin, 0 before it). Added beside the scaled numbers as one
/// vector column the networks (and trees) read.
/// </summary>
internal static class PiecewiseLinear
{
    public const string ColumnName = "Ctr.Ple";
    private const string InputColumnName = "Ctr.PleIn";

    private sealed class In
    {
        [ColumnName(InputColumnName)]
        public float[] Values = [];
    }

    private sealed class Out
    {
        [ColumnName(ColumnName)]
        public float[] Encoded = [];
    }

    /// <summary>Fits the bins on <paramref name="featurized"/> (the rows after the feature pipeline) and returns the transform that adds the column.</summary>
    public static ITransformer Fit(MLContext ml, IDataView featurized, IReadOnlyList<string> numericColumns, int bins)
    {
        float[][] edges = [.. numericColumns.Select(c => Edges([.. featurized.GetColumn<float>(c)], bins))];
        int width = edges.Sum(e => e.Length - 1);
        var input = SchemaDefinition.Create(typeof(In));
        input[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, numericColumns.Count);
        var output = SchemaDefinition.Create(typeof(Out));
        output[0].ColumnType = new VectorDataViewType(NumberDataViewType.Single, width);
        IEstimator<ITransformer> estimator = ml.Transforms.Concatenate(InputColumnName, [.. numericColumns])
            .Append(ml.Transforms.CustomMapping<In, Out>((i, o) => o.Encoded = Encode(i.Values, edges, width), contractName: null, input, output));
        return estimator.Fit(featurized);
    }

    /// <summary>Distinct quantile edges of the finite values: at most <paramref name="bins"/> bins, fewer where values repeat.</summary>
    private static float[] Edges(float[] values, int bins)
    {
        float[] sorted = [.. values.Where(float.IsFinite).Order()];
        if (sorted.Length == 0)
            return [0f, 1f];
        var edges = new SortedSet<float>();
        for (int t = 0; t <= bins; t++)
            edges.Add(sorted[(int)Math.Min(sorted.Length - 1, (long)t * (sorted.Length - 1) / bins)]);
        return edges.Count >= 2 ? [.. edges] : [edges.Min, edges.Min + 1];
    }

    private static float[] Encode(float[] values, float[][] edges, int width)
    {
        var encoded = new float[width];
        int at = 0;
        for (int c = 0; c < values.Length; c++)
        {
            float[] e = edges[c];
            float x = float.IsFinite(values[c]) ? values[c] : e[0];
            for (int t = 1; t < e.Length; t++)
                encoded[at++] = Math.Clamp((x - e[t - 1]) / (e[t] - e[t - 1]), 0f, 1f);
        }
        return encoded;
    }
}
