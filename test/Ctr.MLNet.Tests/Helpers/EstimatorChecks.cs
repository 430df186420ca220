using System;
using System.Globalization;
using System.IO;
using System.Linq;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>The checks every estimator gets, after ML.NET's TestEstimatorCore.</summary>
internal static class EstimatorChecks
{
    /// <summary>
    /// Fits <paramref name="estimator"/> on <paramref name="valid"/> and checks: the promised schema matches the
    /// delivered one; <paramref name="invalid"/> (if given) fails in both GetOutputSchema and Fit; the model saved
    /// with <c>mlContext.Model.Save</c> and loaded in a new MLContext gives the same schema and values.
    /// </summary>
    public static ITransformer Workout<T>(IEstimator<T> estimator, IDataView valid, IDataView? invalid = null)
        where T : class, ITransformer
    {
        SchemaShape promised = estimator.GetOutputSchema(SchemaShape.Create(valid.Schema));
        T transformer = estimator.Fit(valid);
        IDataView output = transformer.Transform(valid);
        AssertSchemaMatchesShape(promised, output.Schema);

        if (invalid is not null)
        {
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.GetOutputSchema(SchemaShape.Create(invalid.Schema)));
            Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => estimator.Fit(invalid));
        }

        ITransformer loaded = SaveAndLoad(transformer, valid.Schema);
        AssertSameData(output, loaded.Transform(valid));
        return loaded;
    }

    /// <summary>
    /// Saves <paramref name="transformer"/> to a file, loads it in a new process (which never ran the fitting code)
    /// and checks that it transforms <paramref name="data"/> to the same rows.
    /// </summary>
    public static void AssertSameOutputInNewProcess(ITransformer transformer, IDataView data)
    {
        var ml = new MLContext(seed: 1);
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "model.zip");
        ml.Model.Save(transformer, data.Schema, path);

        string[] loaded = ChildProcess.TransformInNewProcess(path, data, ml);

        CollectionAssert.AreEqual(Rows(transformer.Transform(data)), loaded);
    }

    /// <summary>Saves with the input schema and loads in a fresh MLContext.</summary>
    public static ITransformer SaveAndLoad(ITransformer transformer, DataViewSchema inputSchema)
    {
        using var stream = new MemoryStream();
        new MLContext(seed: 1).Model.Save(transformer, inputSchema, stream);
        stream.Position = 0;
        ITransformer loaded = new MLContext(seed: 2).Model.Load(stream, out DataViewSchema loadedSchema);
        Assert.AreEqual(inputSchema.Count, loadedSchema.Count);
        return loaded;
    }

    public static void AssertSchemaMatchesShape(SchemaShape promised, DataViewSchema actual)
    {
        foreach (DataViewSchema.Column delivered in actual.Where(c => !c.IsHidden))
            Assert.IsTrue(promised.TryFindColumn(delivered.Name, out _), $"column '{delivered.Name}' is delivered but was not promised");
        foreach (SchemaShape.Column column in promised)
        {
            DataViewSchema.Column? delivered = actual.GetColumnOrNull(column.Name);
            Assert.IsNotNull(delivered, $"promised column '{column.Name}' is missing");
            Assert.IsTrue(column.IsCompatibleWith(SchemaShape.Create(new DataViewSchema.Builder().Also(delivered.Value).ToSchema()).Single()),
                $"column '{column.Name}': promised {column.GetTypeString()}, delivered {delivered.Value.Type}");
        }
    }

    /// <summary>Same columns, types and values (compared through their text form), row by row.</summary>
    public static void AssertSameData(IDataView expected, IDataView actual)
    {
        Assert.AreEqual(expected.Schema.Count, actual.Schema.Count);
        for (int c = 0; c < expected.Schema.Count; c++)
        {
            Assert.AreEqual(expected.Schema[c].Name, actual.Schema[c].Name);
            Assert.AreEqual(expected.Schema[c].Type, actual.Schema[c].Type, $"type of column '{expected.Schema[c].Name}'");
        }
        string[] a = Rows(expected), b = Rows(actual);
        CollectionAssert.AreEqual(a, b);
    }

    public static string[] Rows(IDataView data)
    {
        var preview = data.Preview(maxRows: 10_000);
        return [.. preview.RowView.Select(r => string.Join(" | ", r.Values.Select(v => FormatValue(v.Value))))];
    }

    // Invariant, as the committed expected files were written: "0,5" on a German machine is not another output.
    private static string FormatValue(object value) => value switch
    {
        VBuffer<uint> keys => "[" + string.Join(",", keys.DenseValues()) + "]",
        VBuffer<float> floats => "[" + string.Join(",", floats.DenseValues().Select(f => f.ToString("R", CultureInfo.InvariantCulture))) + "]",
        VBuffer<ReadOnlyMemory<char>> text => "[" + string.Join(",", text.DenseValues()) + "]",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "null",
    };

    private static DataViewSchema.Builder Also(this DataViewSchema.Builder builder, DataViewSchema.Column column)
    {
        builder.AddColumn(column.Name, column.Type, column.Annotations);
        return builder;
    }
}
