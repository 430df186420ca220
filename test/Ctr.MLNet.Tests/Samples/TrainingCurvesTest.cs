using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.CommandLine;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Ctr.MLNet.Planted;
using Ctr.MLNet.Sample;
using Ctr.MLNet.Sample.Commands;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.Torch;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Samples;

[TestClass]
public sealed class TrainingCurvesTest
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    // ScottPlot's category-10 palette, as TrainingCurves uses it: C0 train loss, C1 validation log loss, C2 validation AUC.
    private const uint TrainLossColor = 0x1F77B4, ValidLogLossColor = 0xFF7F0E, ValidAucColor = 0x2CA02C;

    private static EpochMetrics[] FakeHistory() =>
    [
        new(1, 0.62, 0.640, 0.600, 50_000, 1e-3),
        new(2, 0.55, 0.690, 0.560, 51_000, 1e-3),
        new(3, 0.51, 0.715, 0.540, 52_000, 1e-3),
        new(4, 0.48, 0.728, 0.532, 52_500, 5e-4),
        new(5, 0.46, 0.734, 0.529, 52_800, 5e-4),
        new(6, 0.45, 0.736, 0.530, 53_000, 2.5e-4),
        new(7, 0.44, 0.735, 0.533, 53_100, 2.5e-4),
    ];

    [TestMethod]
    public void TrainingCurvesTest_WritesPng()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "nested", "curves.png");

        string written = TrainingCurves.Save(FakeHistory(), path);

        Assert.AreEqual(Path.GetFullPath(path), written);
        byte[] png = File.ReadAllBytes(path);
        CollectionAssert.AreEqual(PngSignature, png.Take(8).ToArray(), "the file starts with the PNG signature");
        var image = DecodePng(png);
        Assert.AreEqual(TrainingCurves.Width, image.Width);
        Assert.AreEqual(TrainingCurves.Height, image.Height);
        Assert.IsGreaterThan(10 * 1024, png.Length, $"a plot with text and curves is more than 10 KB, got {png.Length} bytes");
        var colors = image.Pixels.GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        Assert.IsGreaterThan(20, colors.Count, "not blank: background, text, grid, curves and their anti-aliasing");
        foreach (var (name, color) in new[] { ("train loss", TrainLossColor), ("validation log loss", ValidLogLossColor), ("validation AUC", ValidAucColor) })
            Assert.IsGreaterThan(50, colors.GetValueOrDefault(color), $"the {name} curve is drawn in #{color:X6}");
        Assert.IsEmpty(Directory.GetFiles(Path.GetDirectoryName(path)!).Where(f => f != path).ToArray(), "no temporary file is left beside the plot");
    }

    [TestMethod]
    public void TrainingCurvesTest_SkipsMissingMetricsAndReplacesAnOldFile()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "curves.png");
        File.WriteAllText(path, "old");
        EpochMetrics[] history = [new(1, 0.6, double.NaN, double.NaN, 1000, 1e-3), new(2, 0.5, double.NaN, double.NaN, 1000, 1e-3)];

        TrainingCurves.Save(history, path);

        CollectionAssert.AreEqual(PngSignature, File.ReadAllBytes(path).Take(8).ToArray());
    }

    [TestMethod]
    public void TrainingCurvesTest_UnwritableDirectoryGivesAClearError()
    {
        using var directory = new TemporaryDirectory();
        string notADirectory = Path.Combine(directory.Path, "file.txt");
        File.WriteAllText(notADirectory, "a file, not a directory");
        string path = Path.Combine(notADirectory, "curves.png");

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => TrainingCurves.Save(FakeHistory(), path));

        StringAssert.Contains(error.Message, $"Cannot write the training curves to '{path}'");
        StringAssert.Contains(error.Message, $"directory '{notADirectory}' cannot be written");
        Assert.AreEqual("a file, not a directory", File.ReadAllText(notADirectory));
        Assert.ThrowsExactly<ArgumentException>(() => TrainingCurves.Save(Array.Empty<EpochMetrics>(), Path.Combine(directory.Path, "empty.png")));
    }

    [TestMethod]
    public void TrainingCurvesTest_TrainVerbWritesThePlot()
    {
        using var directory = new TemporaryDirectory();
        PlantedDataset.Generate(new GenerateSettings(directory.Path, Rows: 3000, Seed: 3));
        string train = Path.Combine(directory.Path, "train.csv"), test = Path.Combine(directory.Path, "test.csv");
        string model = Path.Combine(directory.Path, "model.zip"), plot = Path.Combine(directory.Path, "curves.png");

        var (code, output) = Invoke("train", "--train", train, "--valid", test, "--model", model, "--epochs", "2", "--batch-size", "256", "--threads", "1", "--plot", plot);
        var (badCode, badOutput) = Invoke("train", "--train", train, "--valid", test, "--model", model, "--plot", Path.Combine(directory.Path, "curves.jpg"));

        Assert.AreEqual(0, code, output);
        StringAssert.Contains(output, $"plotted {plot}");
        Assert.StartsWith("{", output.TrimEnd().Split('\n')[^1], "the JSON summary stays the last line");
        byte[] png = File.ReadAllBytes(plot);
        CollectionAssert.AreEqual(PngSignature, png.Take(8).ToArray());
        Assert.AreEqual((TrainingCurves.Width, TrainingCurves.Height), (ReadInt(png, 16), ReadInt(png, 20)), "IHDR width and height");
        Assert.AreNotEqual(0, badCode);
        StringAssert.Contains(badOutput, "--plot must name a .png file");
    }

    private static (int ExitCode, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        int code = Program.CreateRootCommand().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = output });
        return (code, output.ToString());
    }

    private static int ReadInt(byte[] bytes, int offset) => BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(offset, 4));

    /// <summary>A small PNG reader (8-bit RGB or RGBA, not interlaced), independent of the library that wrote the file.</summary>
    private static (int Width, int Height, uint[] Pixels) DecodePng(byte[] png)
    {
        int width = 0, height = 0, channels = 0;
        var idat = new MemoryStream();
        for (int offset = 8; offset < png.Length;)
        {
            int length = ReadInt(png, offset);
            string type = System.Text.Encoding.ASCII.GetString(png, offset + 4, 4);
            int data = offset + 8;
            if (type == "IHDR")
            {
                width = ReadInt(png, data);
                height = ReadInt(png, data + 4);
                Assert.AreEqual(8, png[data + 8], "bit depth");
                channels = png[data + 9] switch { 2 => 3, 6 => 4, var other => throw new AssertFailedException($"unexpected PNG colour type {other}") };
                Assert.AreEqual(0, png[data + 12], "not interlaced");
            }
            else if (type == "IDAT")
            {
                idat.Write(png, data, length);
            }
            offset = data + length + 4; // + CRC
        }

        var raw = new MemoryStream();
        idat.Position = 0;
        using (var inflater = new ZLibStream(idat, CompressionMode.Decompress))
            inflater.CopyTo(raw);
        byte[] filtered = raw.ToArray();
        int stride = width * channels;
        Assert.AreEqual(height * (stride + 1), filtered.Length, "decompressed size");

        var pixels = new uint[width * height];
        byte[] previous = new byte[stride], current = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            int row = y * (stride + 1);
            byte filter = filtered[row];
            for (int x = 0; x < stride; x++)
            {
                int a = x >= channels ? current[x - channels] : 0, b = previous[x], c = x >= channels ? previous[x - channels] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new AssertFailedException($"unexpected PNG filter {filter}"),
                };
                current[x] = (byte)(filtered[row + 1 + x] + predictor);
            }
            for (int x = 0; x < width; x++)
                pixels[y * width + x] = (uint)(current[x * channels] << 16 | current[x * channels + 1] << 8 | current[x * channels + 2]);
            (previous, current) = (current, previous);
        }
        return (width, height, pixels);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
