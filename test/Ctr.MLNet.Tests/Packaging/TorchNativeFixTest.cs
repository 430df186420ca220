using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Ctr.MLNet.Tests.Helpers;
using Ctr.MLNet.TorchNativeFix;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Packaging;

/// <summary>
/// The ELF patcher behind build/TorchNativeFix.targets (build/Ctr.MLNet.TorchNativeFix), on ELF files made here: the
/// smallest files that hold a .dynstr, .dynsym, .gnu.version and .gnu.version_r the way the linker writes them.
/// <see cref="Torch.TorchNativeLoadTest"/> shows the build ran it on the real library.
/// </summary>
[TestClass]
public sealed class TorchNativeFixTest
{
    private const string Version = "GLIBCXX_3.4.32";
    private const string NeededFrom = "libstdc++.so.6";
    private const string Marker = "_ZSt21ios_base_library_initv";
    private static readonly string[] Allowed = [Marker];

    [TestMethod]
    public void TorchNativeFixTest_MarksTheOneRequirementWeakAndNothingElse()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "libLibTorchSharp.so");
        byte[] original = CraftedElf.Build(symbolsOn32: [Marker]);
        File.WriteAllBytes(path, original);
        var modified = new DateTime(2020, 1, 2, 3, 4, 5, DateTimeKind.Utc);
        File.SetLastWriteTimeUtc(path, modified);

        var sut = VersionPatch.Apply(path, Version, NeededFrom, Allowed, out string? reason);

        Assert.IsNull(reason);
        Assert.AreEqual(((ushort)0, (ushort)ElfVersionNeeds.WeakFlag), sut);
        byte[] patched = File.ReadAllBytes(path);
        int[] changed = [.. Enumerable.Range(0, original.Length).Where(i => original[i] != patched[i])];
        Assert.AreEqual(1, changed.Length, "one byte changes");
        Assert.AreEqual(CraftedElf.FlagsOffsetOf32(), changed[0], "the vna_flags of the GLIBCXX_3.4.32 entry");
        Assert.AreEqual(ElfVersionNeeds.WeakFlag, patched[changed[0]]);
        Assert.AreEqual(modified, File.GetLastWriteTimeUtc(path), "the timestamp stays, so the SDK's incremental copy keeps the patched file");
        Assert.IsEmpty(Directory.GetFiles(directory.Path, "*.tmp"));

        Assert.IsNull(VersionPatch.Apply(path, Version, NeededFrom, Allowed, out reason), "a patched file is left alone");
        StringAssert.Contains(reason, "already weak");
    }

    [TestMethod]
    public void TorchNativeFixTest_RefusesWhenARealSymbolNeedsTheVersion()
    {
        using var directory = new TemporaryDirectory();
        string path = Path.Combine(directory.Path, "lib.so");
        byte[] original = CraftedElf.Build(symbolsOn32: [Marker, "_ZNSt3pmr20get_default_resourceEv"]);
        File.WriteAllBytes(path, original);

        var error = Assert.ThrowsExactly<InvalidDataException>(() => VersionPatch.Apply(path, Version, NeededFrom, Allowed, out _));

        StringAssert.Contains(error.Message, "_ZNSt3pmr20get_default_resourceEv");
        StringAssert.Contains(error.Message, "GCC 13");
        CollectionAssert.AreEqual(original, File.ReadAllBytes(path), "the file is untouched");
    }

    [TestMethod]
    public void TorchNativeFixTest_NothingToDoWithoutTheRequirement()
    {
        byte[] sut = CraftedElf.Build(symbolsOn32: [Marker]);

        StringAssert.Contains(ElfVersionNeeds.Inspect(sut, "GLIBCXX_3.4.33", NeededFrom, Allowed).NothingToDo, "does not require GLIBCXX_3.4.33");
        StringAssert.Contains(ElfVersionNeeds.Inspect(sut, Version, "libc.so.6", Allowed).NothingToDo, "does not require");
        StringAssert.Contains(ElfVersionNeeds.Inspect(CraftedElf.Build(symbolsOn32: [], withVersionNeeds: false), Version, NeededFrom, Allowed).NothingToDo,
            "no .gnu.version_r");
    }

    [TestMethod]
    public void TorchNativeFixTest_MalformedFilesAreErrorsThatSayWhatIsWrong()
    {
        byte[] good = CraftedElf.Build(symbolsOn32: [Marker]);
        void Fails(byte[] file, string expected) =>
            StringAssert.Contains(Assert.ThrowsExactly<InvalidDataException>(() => ElfVersionNeeds.Inspect(file, Version, NeededFrom, Allowed)).Message, expected);

        Fails(Encoding.ASCII.GetBytes("#!/bin/sh\necho not a library\n".PadRight(80)), "bad magic");
        Fails(Patched(good, 4, 1), "not an ELF64 file");
        Fails(Patched(good, 5, 2), "not a little-endian");
        Fails(good[..(good.Length - 10)], "lies outside the file");
        // Two Vernaux entries announced, but the first says no more follow (vna_next = 0).
        Fails(Patched(good, CraftedElf.FlagsOffsetOf32() - 4 - 16 + 12, 0), "ends after 1 of 2 entries");
        // .gnu.version_r's strings must come from a string table.
        Fails(Patched(good, CraftedElf.SectionHeaderOffset(4) + 40, 2), "links to section 2");
    }

    [TestMethod]
    public void TorchNativeFixTest_WholeCStringsOnly()
    {
        byte[] library = Encoding.ASCII.GetBytes("\0GLIBCXX_3.4.30\0GLIBCXX_3.4.32\0");

        Assert.IsTrue(ElfVersionNeeds.ContainsCString(library, "GLIBCXX_3.4.32"));
        Assert.IsFalse(ElfVersionNeeds.ContainsCString(library, "GLIBCXX_3.4.3"), "a prefix of another version is not that version");
        Assert.IsFalse(ElfVersionNeeds.ContainsCString(library, "GLIBCXX_3.4.33"));
    }

    [TestMethod]
    public void TorchNativeFixTest_ReadsTheRealLibrary()
    {
        // The copy beside this test: patched by the build where the system needs it, untouched elsewhere.
        string path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.IsTrue(File.Exists(path), path);

        VersionNeed sut = ElfVersionNeeds.Inspect(File.ReadAllBytes(path), Version, NeededFrom, Allowed);

        Assert.IsTrue(sut.NothingToDo is null || sut.NothingToDo.Contains("already weak", StringComparison.Ordinal), sut.NothingToDo);
        Assert.IsGreaterThan(0L, sut.FlagsOffset);
    }

    private static byte[] Patched(byte[] file, int offset, byte value)
    {
        byte[] copy = [.. file];
        copy[offset] = value;
        return copy;
    }

    /// <summary>
    /// An ELF64 little-endian file with sections null, .dynstr, .dynsym, .gnu.version, .gnu.version_r (in that
    /// order, section headers at the end), one Verneed entry for libstdc++.so.6 with two Vernaux entries:
    /// GLIBCXX_3.4.30 (version index 2) and GLIBCXX_3.4.32 (index 3). The named symbols are bound to 3.4.32,
    /// one more to 3.4.30.
    /// </summary>
    private static class CraftedElf
    {
        private const int HeaderSize = 64;

        public static byte[] Build(IReadOnlyList<string> symbolsOn32, bool withVersionNeeds = true)
        {
            var strings = new StringTable();
            int file = strings.Add(NeededFrom), v30 = strings.Add("GLIBCXX_3.4.30"), v32 = strings.Add(Version);
            var symbols = new List<(int Name, ushort Version)> { (0, 0), (strings.Add("_ZNSt6vectorIiE9push_backEv"), 2) };
            symbols.AddRange(symbolsOn32.Select(s => (strings.Add(s), (ushort)3)));

            byte[] dynstr = strings.Bytes();
            var dynsym = new byte[24 * symbols.Count];
            var versym = new byte[2 * symbols.Count];
            for (int i = 0; i < symbols.Count; i++)
            {
                Put32(dynsym, 24 * i, (uint)symbols[i].Name);
                Put16(versym, 2 * i, symbols[i].Version);
            }
            var verneed = new byte[16 + 2 * 16];
            Put16(verneed, 0, 1);           // vn_version
            Put16(verneed, 2, 2);           // vn_cnt
            Put32(verneed, 4, (uint)file);  // vn_file
            Put32(verneed, 8, 16);          // vn_aux
            Put32(verneed, 12, 0);          // vn_next
            Vernaux(verneed, 16, v30, 2, next: 16);
            Vernaux(verneed, 32, v32, 3, next: 0);

            var body = new List<byte>(new byte[HeaderSize]);
            (ulong Offset, int Size) Append(byte[] bytes)
            {
                ulong offset = (ulong)body.Count;
                body.AddRange(bytes);
                return (offset, bytes.Length);
            }
            var str = Append(dynstr);
            var sym = Append(dynsym);
            var ver = Append(versym);
            var need = Append(verneed);
            while (body.Count % 8 != 0)
                body.Add(0);

            int sections = withVersionNeeds ? 5 : 3;
            ulong headers = (ulong)body.Count;
            byte[] table = new byte[64 * sections];
            Section(table, 1, 3, str, link: 0, info: 0, entSize: 0);
            Section(table, 2, 11, sym, link: 1, info: 1, entSize: 24);
            if (withVersionNeeds)
            {
                Section(table, 3, 0x6fffffff, ver, link: 2, info: 0, entSize: 2);
                Section(table, 4, 0x6ffffffe, need, link: 1, info: 1, entSize: 0);
            }
            body.AddRange(table);

            byte[] elf = [.. body];
            elf[0] = 0x7f;
            elf[1] = (byte)'E';
            elf[2] = (byte)'L';
            elf[3] = (byte)'F';
            elf[4] = 2; // ELFCLASS64
            elf[5] = 1; // little-endian
            elf[6] = 1; // EV_CURRENT
            Put16(elf, 0x10, 3);    // ET_DYN
            Put16(elf, 0x12, 62);   // EM_X86_64
            Put64(elf, 0x28, headers);
            Put16(elf, 0x34, HeaderSize);
            Put16(elf, 0x3a, 64);
            Put16(elf, 0x3c, (ushort)sections);
            return elf;
        }

        /// <summary>File offset of the GLIBCXX_3.4.32 entry's vna_flags in <see cref="Build"/>'s layout.</summary>
        public static int FlagsOffsetOf32()
        {
            byte[] elf = Build(symbolsOn32: [Marker]);
            int verneed = (int)BitConverter.ToUInt64(elf, SectionHeaderOffset(4) + 24);
            return verneed + 32 + 4;
        }

        public static int SectionHeaderOffset(int index)
        {
            byte[] elf = Build(symbolsOn32: [Marker]);
            return (int)BitConverter.ToUInt64(elf, 0x28) + 64 * index;
        }

        private static void Vernaux(byte[] b, int at, int name, ushort other, uint next)
        {
            Put32(b, at, 0);                // vna_hash (unused by the patcher)
            Put16(b, at + 4, 0);            // vna_flags
            Put16(b, at + 6, other);        // vna_other: the version index symbols use
            Put32(b, at + 8, (uint)name);   // vna_name
            Put32(b, at + 12, next);        // vna_next
        }

        private static void Section(byte[] table, int index, uint type, (ulong Offset, int Size) data, uint link, uint info, ulong entSize)
        {
            int h = 64 * index;
            Put32(table, h + 4, type);
            Put64(table, h + 24, data.Offset);
            Put64(table, h + 32, (ulong)data.Size);
            Put32(table, h + 40, link);
            Put32(table, h + 44, info);
            Put64(table, h + 56, entSize);
        }

        private static void Put16(byte[] b, int at, ushort v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);

        private static void Put32(byte[] b, int at, uint v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);

        private static void Put64(byte[] b, int at, ulong v) => BitConverter.TryWriteBytes(b.AsSpan(at), v);

        private sealed class StringTable
        {
            private readonly List<byte> _bytes = [0];

            public int Add(string value)
            {
                int at = _bytes.Count;
                _bytes.AddRange(Encoding.ASCII.GetBytes(value));
                _bytes.Add(0);
                return at;
            }

            public byte[] Bytes() => [.. _bytes];
        }
    }
}
