using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Ctr.MLNet.Benchmarks.Harness;
using Ctr.MLNet.Sample.Models;
using Ctr.MLNet.Sample.Serving;
using Ctr.MLNet.Torch;
using Microsoft.ML;
using Microsoft.ML.Calibrators;
using Microsoft.ML.Data;
using Microsoft.ML.Trainers.FastTree;

namespace Ctr.MLNet.Benchmarks;

/// <summary>
/// The hybrid's trees as <c>serve</c> walks them (<see cref="FlatTreeEnsemble"/>), one thread: the one-row walk, row
/// after row, against the block walk over the same rows, their runs interleaved in one process so both see the same
/// load. The rows are the served model's inputs after its feature transforms, read once; only the walks are timed.
/// </summary>
public static class TreeWalkBenchmark
{
    public static void Run(Args args, Report report)
    {
        string modelPath = args.String("model", "/tmp/ctr-serve-bench/model.zip");
        string dataPath = args.String("data", "/tmp/ctr-serve-bench/data/test.csv");
        int calls = args.Int("calls", 20000);
        int repeats = args.Int("repeats", 5);
        int[] sizes = args.Ints("sizes", [1, 3, 8, 10, 100]);
        args.CheckAllUsed();

        using ServedInputs served = ServedInputs.Load(modelPath, dataPath);
        var (model, chain, settings, rows) = served;
        List<ITransformer> steps = [.. ServingStagesBenchmark.Flatten(chain)];
        string treeColumn = steps.OfType<LogitBlendTransformer>().SingleOrDefault()?.TreeScoreColumn
            ?? throw new ArgumentException($"'{modelPath}' has no trees in its blend: train it with trees (the default).");
        PreparedTrees found = PreparedTrees.TryFind(steps, steps.FindIndex(t => t is TorchCtrTransformer), treeColumn)
            ?? throw new ArgumentException($"'{modelPath}' does not end its feature steps in the hybrid's trees.");
        IRowToRowMapper before = ((ITransformer)new TransformerChain<ITransformer>([.. steps.Take(found.Start)])).GetRowToRowMapper(model.Schema);
        PreparedTrees.Evaluator trees = found.TryBind(before.OutputSchema, out _)
            ?? throw new ArgumentException($"The trees of '{modelPath}' cannot be laid out flat.");
        FlatTreeEnsemble ensemble = trees.Ensemble;

        ColumnarDataView view = RequestReader.Read(ServingStagesBenchmark.Body(rows, columnar: true), model, settings);
        int count = 0;
        PreparedTrees.BlockReader reader;
        using (DataViewRowCursor cursor = view.GetRowCursor(view.Schema))
        using (DataViewRow row = before.GetRow(cursor, trees.Parts.Select(p => before.OutputSchema[p.ColumnName])))
        {
            reader = trees.Bind(row);
            while (cursor.MoveNext())
                reader.Read(count++);
        }
        int[] hot = reader.Hot(count).ToArray();
        float[] numbers = reader.Numbers(count).ToArray();
        int parts = ensemble.OneHotParts, width = ensemble.NumericWidth;

        var table = new Table("Rows per call", "One-row walk, ns per row (median)", "Block walk, ns per row (median)", "Ratio", "One-row runs (ns per row)", "Block runs (ns per row)");
        var expected = new float[count];
        for (int r = 0; r < count; r++)
            expected[r] = ensemble.Score(hot.AsSpan(r * parts, parts), numbers.AsSpan(r * width, width));
        foreach (int size in sizes)
        {
            var margins = new float[size];
            int blocks = count / size;
            void OneRow(int i)
            {
                int first = i % blocks * size;
                for (int r = 0; r < size; r++)
                    margins[r] = ensemble.Score(hot.AsSpan((first + r) * parts, parts), numbers.AsSpan((first + r) * width, width));
            }
            void Block(int i)
            {
                int first = i % blocks * size;
                ensemble.Score(hot.AsSpan(first * parts, size * parts), numbers.AsSpan(first * width, size * width), margins);
            }
            for (int b = 0; b < blocks; b++)
            {
                Block(b);
                for (int r = 0; r < size; r++)
                {
                    if (BitConverter.SingleToInt32Bits(margins[r]) != BitConverter.SingleToInt32Bits(expected[b * size + r]))
                        throw new InvalidOperationException($"Row {b * size + r}: the block walk gives {margins[r]:R}, the one-row walk {expected[b * size + r]:R}.");
                }
            }
            int n = Math.Max(20, calls / size);
            var (oneRow, block) = ServingStagesBenchmark.TimePair(n, repeats, OneRow, Block);
            double[] a = [.. oneRow.Cpu.Select(us => us * 1000 / size)], c = [.. block.Cpu.Select(us => us * 1000 / size)];
            double ma = ServingStagesBenchmark.Median(a), mb = ServingStagesBenchmark.Median(c);
            table.Add(size.ToString(CultureInfo.InvariantCulture), F(ma), F(mb), (ma / mb).ToString("F2", CultureInfo.InvariantCulture) + "×", string.Join(", ", a.Select(F)), string.Join(", ", c.Select(F)));
        }
        report.Paragraph($"Model `{modelPath}`: {Describe(steps)}; {count} rows of `{dataPath}` through its feature transforms, {parts} one-hot part(s) and {width} number(s) per row. Every block's margins equal the one-row walk's bit for bit (checked before timing). CPU time of this process per row, {repeats} interleaved runs of about {calls} rows each, one thread; load average {Report.LoadAverage()}.");
        report.Table(table);
    }

    /// <summary>The ensemble's splits by kind and its leaves' mean depth.</summary>
    private static string Describe(IEnumerable<ITransformer> steps)
    {
        IReadOnlyList<RegressionTree> trees = steps.OfType<ISingleFeaturePredictionTransformer<object>>()
            .Select(t => t.Model is CalibratedModelParametersBase calibrated ? calibrated.SubModel : t.Model)
            .OfType<FastTreeBinaryModelParameters>().First().TrainedTreeEnsemble.Trees;
        int numeric = 0, categorical = 0, categories = 0, leaves = 0, depths = 0;
        foreach (RegressionTree tree in trees)
        {
            for (int n = 0; n < tree.NumberOfNodes; n++)
            {
                if (tree.CategoricalSplitFlags[n])
                    (categorical, categories) = (categorical + 1, categories + tree.GetCategoricalSplitFeaturesAt(n).Count);
                else
                    numeric++;
            }
            var depth = new Dictionary<int, int> { [0] = 0 };
            for (int n = 0; n < tree.NumberOfNodes; n++)
            {
                foreach (int child in (int[])[tree.LeftChild[n], tree.RightChild[n]])
                {
                    if (child >= 0)
                        depth[child] = depth[n] + 1;
                    else
                        (leaves, depths) = (leaves + 1, depths + depth[n] + 1);
                }
            }
        }
        return string.Create(CultureInfo.InvariantCulture, $"{trees.Count} trees, {numeric} numeric splits, {categorical} categorical splits of {(double)categories / Math.Max(1, categorical):F1} categories on average, leaves {(double)depths / Math.Max(1, leaves):F2} deep on average");
    }

    private static string F(double value) => value.ToString("F1", CultureInfo.InvariantCulture);
}
