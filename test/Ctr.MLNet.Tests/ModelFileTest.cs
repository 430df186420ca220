using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Ctr.MLNet.Transforms;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests;

/// <summary>
/// Broken model zips (truncated, bytes flipped inside an entry, empty, not a zip, a component from a newer version)
/// fail to load with a message naming the file and the cause: through <c>mlContext.Ctr().Model.Load</c>, and through
/// the sample's predict, evaluate and serve verbs run as a child process (exit code 1, no stack trace, no hang).
/// </summary>
[TestClass]
public sealed class ModelFileTest
{
    private static TemporaryDirectory s_directory = null!;
    private static string s_good = null!;
    private static string s_data = null!;
    private static Dictionary<string, (string Path, string Cause)> s_broken = null!;
    private static IDataView s_test = null!;
    private static float[] s_expected = null!;

    [ClassInitialize]
    public static void Initialize(TestContext context)
    {
        s_directory = new TemporaryDirectory();
        var ml = new MLContext(seed: 1);
        IDataView train = ml.Data.LoadFromEnumerable(PlantedClicks.Generate(600, seed: 1));
        s_test = ml.Data.LoadFromEnumerable(PlantedClicks.Generate(50, seed: 2));
        var options = new TorchCtrTrainer.Options
        {
            NumericColumnNames = ["Price"],
            SequenceWeights = new Dictionary<string, string> { ["HistoryIds"] = "HistoryWeights" },
            Epochs = 1,
            BatchSize = 128,
            Threads = 1,
            Model = new CtrModelOptions { HiddenUnits = [8], EmbeddingDim = 4 },
        };
        var model = PlantedClicks.Features(ml).Append(ml.BinaryClassification.Trainers.TorchCtr(options)).Fit(train);
        s_good = Write("good.zip", SaveToBytes(ml, model, train.Schema));
        s_expected = [.. model.Transform(s_test).GetColumn<float>("Probability")];
        byte[] good = File.ReadAllBytes(s_good);

        byte[] flipped = [.. good];
        var (weightsStart, weightsLength) = CompressedData(good, "TorchWeights");
        for (int i = 0; i < 16; i++)
            flipped[weightsStart + weightsLength / 2 + i] ^= 0xFF;
        byte[] future;
        using (MemoryStream patched = ModelZip.SaveAndPatch(model, train.Schema, "CTRTORCH",
            [.. "CTRTORCH"u8, 4, 0, 1, 0, 4, 0, 1, 0], [.. "CTRTORCH"u8, 4, 0, 2, 0, 4, 0, 2, 0]))
            future = patched.ToArray();

        s_broken = new()
        {
            ["truncated"] = (Write("truncated.zip", good[..(good.Length / 2)]), "the zip archive is truncated or damaged (End of Central Directory record could not be found.)."),
            ["flipped"] = (Write("flipped.zip", flipped), "its entry 'TransformerChain/Transform_001/TorchWeights' is corrupt ("),
            ["empty"] = (Write("empty.zip", []), "the file is empty."),
            ["not a zip"] = (Write("text.zip", Encoding.UTF8.GetBytes("click,user\n1,u1\n")), "it is not a zip archive (a model zip starts with the bytes 'PK')."),
            ["future version"] = (Write("future.zip", future), "its component 'TorchCtrTransformer' was saved by a newer version of the library that defines it; load the model with that version or a later one."),
        };
        s_data = Path.Combine(s_directory.Path, "data.csv");
        File.WriteAllText(s_data, "click,a\n1,x\n");
    }

    [ClassCleanup]
    public static void Cleanup() => s_directory?.Dispose();

    private static string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(s_directory.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] SaveToBytes(MLContext ml, ITransformer model, DataViewSchema schema)
    {
        using var stream = new MemoryStream();
        ml.Model.Save(model, schema, stream);
        return stream.ToArray();
    }

    /// <summary>Where the compressed bytes of the entry whose name ends with <paramref name="suffix"/> lie in the zip.</summary>
    private static (int Start, int Length) CompressedData(byte[] zip, string suffix)
    {
        string name;
        using (var archive = new ZipArchive(new MemoryStream(zip), ZipArchiveMode.Read))
            name = archive.Entries.Single(e => e.FullName.EndsWith(suffix, StringComparison.Ordinal)).FullName;
        // Local file header: signature, ..., compressed size at 18, name length at 26, extra length at 28, name at 30.
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        for (int at = 0; at + 30 < zip.Length; at++)
        {
            if (zip.AsSpan(at, 4).SequenceEqual("PK\u0003\u0004"u8) && zip.AsSpan(at + 30).StartsWith(nameBytes))
            {
                int compressed = BitConverter.ToInt32(zip, at + 18), nameLength = BitConverter.ToUInt16(zip, at + 26), extra = BitConverter.ToUInt16(zip, at + 28);
                Assert.IsGreaterThan(1000, compressed, "the weights are a large entry");
                return (at + 30 + nameLength + extra, compressed);
            }
        }
        Assert.Fail($"no local header for {name}");
        return default;
    }

    [TestMethod]
    public void ModelFileTest_AGoodZipLoadsThroughTheCheckedLoaderAndMLNet()
    {
        ITransformer sut = new MLContext(seed: 3).Ctr().Model.Load(s_good, out DataViewSchema schema);
        using var stream = File.OpenRead(s_good);
        ITransformer fromStream = new MLContext(seed: 3).Ctr().Model.Load(stream, out _);
        ITransformer plain = new MLContext(seed: 3).Model.Load(s_good, out _);

        CollectionAssert.AreEqual(s_expected, sut.Transform(s_test).GetColumn<float>("Probability").ToArray());
        CollectionAssert.AreEqual(s_expected, fromStream.Transform(s_test).GetColumn<float>("Probability").ToArray());
        CollectionAssert.AreEqual(s_expected, plain.Transform(s_test).GetColumn<float>("Probability").ToArray());
        Assert.IsNotNull(schema.GetColumnOrNull("History"));
        foreach (var model in new[] { sut, fromStream, plain })
            (model as IDisposable)?.Dispose();
    }

    [TestMethod]
    [DataRow("truncated")]
    [DataRow("flipped")]
    [DataRow("empty")]
    [DataRow("not a zip")]
    [DataRow("future version")]
    public void ModelFileTest_ABrokenZipFailsWithAFormatExceptionNamingFileAndCause(string kind)
    {
        var (path, cause) = s_broken[kind];

        var sut = Assert.ThrowsExactly<FormatException>(() => new MLContext().Ctr().Model.Load(path, out _));
        using var stream = File.OpenRead(path);
        var fromStream = Assert.ThrowsExactly<FormatException>(() => new MLContext().Ctr().Model.Load(stream, out _));

        StringAssert.StartsWith(sut.Message, $"Model file '{path}' cannot be loaded: {cause}", kind);
        StringAssert.StartsWith(fromStream.Message, $"The model cannot be loaded: {cause}", kind);
    }

    [TestMethod]
    public void ModelFileTest_AMissingFileIsFileNotFound()
    {
        string missing = Path.Combine(s_directory.Path, "absent.zip");

        var sut = Assert.ThrowsExactly<FileNotFoundException>(() => new MLContext().Ctr().Model.Load(missing, out _));

        Assert.AreEqual($"Model file '{missing}' does not exist.", sut.Message);
        Assert.AreEqual(missing, sut.FileName);
    }

    [TestMethod]
    [DataRow("truncated")]
    [DataRow("flipped")]
    [DataRow("empty")]
    [DataRow("not a zip")]
    [DataRow("future version")]
    public void ModelFileTest_TheSampleVerbsExitWithOneAndAClearMessageOnABrokenZip(string kind)
    {
        var (path, cause) = s_broken[kind];
        string predictions = Path.Combine(s_directory.Path, $"predictions-{Guid.NewGuid():N}.csv");
        string[][] runs =
        [
            ["predict", "--model", path, "--data", s_data, "--out", predictions],
            ["evaluate", "--model", path, "--data", s_data],
            ["serve", "--model", $"m={path}", "--urls", "http://127.0.0.1:0"],
        ];

        foreach (string[] arguments in runs)
        {
            // A hang would fail here too: SampleProcess gives up after its timeout.
            var (code, output) = SampleProcess.Run(arguments);

            Assert.AreEqual(1, code, $"{kind}, {arguments[0]}: {output}");
            StringAssert.Contains(output, $"error: Model file '{path}' cannot be loaded: {cause}", $"{kind}, {arguments[0]}");
            Assert.DoesNotContain("   at ", output, $"{kind}, {arguments[0]}: no stack trace");
        }
        Assert.IsFalse(File.Exists(predictions), "predict wrote nothing");
    }
}
