using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using Ctr.MLNet.Transforms;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Transforms;

[TestClass]
public sealed class ParquetChunkDecoderTest
{
    private static readonly Type DecoderType = typeof(ParquetDataSource).Assembly.GetType("Ctr.MLNet.Transforms.ParquetChunkDecoder", throwOnError: true)!;
    private static readonly MethodInfo DecodeHybridMethod = DecoderType.GetMethod("DecodeHybrid", BindingFlags.NonPublic | BindingFlags.Static, [typeof(byte[]), typeof(int), typeof(int[])])!;
    private static readonly MethodInfo DecodeHybridBytesMethod = DecoderType.GetMethod("DecodeHybrid", BindingFlags.NonPublic | BindingFlags.Static, [typeof(byte[]), typeof(int), typeof(byte[])])!;

    [TestMethod]
    public void ParquetChunkDecoderTest_BitPackedAndRunLengthValuesOfEveryWidthDecodeAsEncoded()
    {
        // Parquet.Net writes levels and dictionary indices as runs only; Spark and Hive bit-pack them. The bytes here
        // are encoded by the format's definition: runs and bit-packed groups of 8, the last group cut short.
        var random = new Random(7);
        for (int width = 0; width <= 32; width++)
        {
            foreach (int count in new[] { 1, 7, 8, 9, 63, 64, 65, 1000 })
            {
                long limit = 1L << width;
                int[] expected = [.. Enumerable.Range(0, count).Select(_ => (int)(uint)(random.NextInt64(limit)))];
                var bytes = new List<byte>();
                // A run of the first value, then the rest bit-packed.
                int runLength = Math.Min(count, 3);
                Varint(bytes, (uint)runLength << 1);
                for (int b = 0; b < (width + 7) / 8; b++)
                    bytes.Add((byte)((uint)expected[0] >> (8 * b)));
                for (int i = 1; i < runLength; i++)
                    expected[i] = expected[0];
                int rest = count - runLength;
                if (rest > 0)
                {
                    int groups = (rest + 7) / 8;
                    Varint(bytes, ((uint)groups << 1) | 1);
                    var packed = new byte[(groups * 8 * width + 7) / 8];
                    for (int i = 0; i < rest; i++)
                    {
                        for (int bit = 0; bit < width; bit++)
                        {
                            if (((uint)expected[runLength + i] >> bit & 1) != 0)
                            {
                                long at = (long)i * width + bit;
                                packed[at / 8] |= (byte)(1 << (int)(at % 8));
                            }
                        }
                    }
                    // The writer may leave out the padding after the last value.
                    bytes.AddRange(packed.Take((int)(((long)rest * width + 7) / 8)));
                }
                var values = new int[count];

                int decoded = DecodeHybrid(bytes.ToArray(), width, values);

                Assert.AreEqual(count, decoded, $"width {width}, {count} values");
                CollectionAssert.AreEqual(expected, values, $"width {width}, {count} values");
                if (width <= 8)
                {
                    // Levels decode into bytes.
                    var levels = new byte[count];
                    Assert.AreEqual(count, (int)DecodeHybridBytesMethod.Invoke(null, [bytes.ToArray(), width, levels])!, $"levels of width {width}, {count} values");
                    CollectionAssert.AreEqual(expected.Select(v => (byte)v).ToArray(), levels, $"levels of width {width}, {count} values");
                }
            }
        }
    }

    [TestMethod]
    public void ParquetChunkDecoderTest_RunsOfOneValueEachDecodeAsEncodedUpToTheLastByte()
    {
        // Parquet.Net's dictionary indices: every value a run of its own (read a word at a time while 5 bytes are
        // left), then a longer run; the last values, with fewer bytes left, by the general case.
        var random = new Random(11);
        for (int width = 1; width <= 32; width++)
        {
            int byteWidth = (width + 7) / 8;
            int[] ones = [.. Enumerable.Range(0, 20).Select(_ => (int)(uint)random.NextInt64(1L << width))];
            var bytes = new List<byte>();
            foreach (int value in ones)
            {
                Varint(bytes, 1 << 1);
                for (int b = 0; b < byteWidth; b++)
                    bytes.Add((byte)((uint)value >> (8 * b)));
            }
            Varint(bytes, 5 << 1);
            for (int b = 0; b < byteWidth; b++)
                bytes.Add((byte)((uint)ones[0] >> (8 * b)));
            int[] expected = [.. ones, .. Enumerable.Repeat(ones[0], 5)];
            var values = new int[expected.Length];

            Assert.AreEqual(expected.Length, DecodeHybrid(bytes.ToArray(), width, values), $"width {width}");
            CollectionAssert.AreEqual(expected, values, $"width {width}");
            if (width <= 8)
            {
                var levels = new byte[expected.Length];
                Assert.AreEqual(expected.Length, (int)DecodeHybridBytesMethod.Invoke(null, [bytes.ToArray(), width, levels])!, $"levels of width {width}");
                CollectionAssert.AreEqual(expected.Select(v => (byte)v).ToArray(), levels, $"levels of width {width}");
            }
        }
    }

    [TestMethod]
    public void ParquetChunkDecoderTest_BitPackedValuesMissingTheirBytesAreAnError()
    {
        // One group of 8 values of 5 bits needs 5 bytes; 3 are there.
        byte[] bytes = [(1 << 1) | 1, 0xFF, 0xFF, 0xFF];

        var error = Assert.ThrowsExactly<FormatException>(() => DecodeHybrid(bytes, 5, new int[8]));

        StringAssert.Contains(error.Message, "end early");
    }

    private static int DecodeHybrid(byte[] data, int bitWidth, int[] values)
    {
        try
        {
            return (int)DecodeHybridMethod.Invoke(null, [data, bitWidth, values])!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    private static void Varint(List<byte> bytes, uint value)
    {
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }
        bytes.Add((byte)value);
    }
}
