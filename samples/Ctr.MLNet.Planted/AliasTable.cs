using System;
using System.Collections.Generic;

namespace Ctr.MLNet.Planted;

/// <summary>Vose's alias method: O(1) draws from a fixed discrete distribution.</summary>
internal sealed class AliasTable
{
    private readonly double[] _probability;
    private readonly int[] _alias;
    private readonly int[] _values;

    /// <param name="weights">Non-negative weights, at least one positive.</param>
    /// <param name="values">What each index stands for (e.g. entity ids); the index itself when null.</param>
    public AliasTable(ReadOnlySpan<double> weights, int[]? values = null)
    {
        int n = weights.Length;
        if (n == 0)
            throw new ArgumentException("An alias table needs at least one weight.", nameof(weights));
        double total = 0;
        foreach (double w in weights)
            total += w;
        _probability = new double[n];
        _alias = new int[n];
        _values = values ?? CreateIdentity(n);
        var scaled = new double[n];
        var small = new Stack<int>();
        var large = new Stack<int>();
        for (int i = n - 1; i >= 0; i--)
        {
            scaled[i] = weights[i] * n / total;
            (scaled[i] < 1.0 ? small : large).Push(i);
        }
        while (small.Count > 0 && large.Count > 0)
        {
            int s = small.Pop();
            int l = large.Pop();
            _probability[s] = scaled[s];
            _alias[s] = l;
            scaled[l] = scaled[l] + scaled[s] - 1.0;
            (scaled[l] < 1.0 ? small : large).Push(l);
        }
        while (large.Count > 0)
            _probability[large.Pop()] = 1.0;
        while (small.Count > 0)
            _probability[small.Pop()] = 1.0; // rounding leftovers
    }

    public int Count => _values.Length;

    public int Sample(PlantedRandom random)
    {
        int i = random.NextInt(_probability.Length);
        return _values[random.NextDouble() < _probability[i] ? i : _alias[i]];
    }

    private static int[] CreateIdentity(int n)
    {
        var result = new int[n];
        for (int i = 0; i < n; i++)
            result[i] = i;
        return result;
    }
}
