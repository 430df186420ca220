using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace Ctr.MLNet.TorchNativeFix;

/// <summary>Where the flags of one symbol version requirement sit, or why there is nothing to patch.</summary>
/// <param name="FlagsOffset">File offset of the Vernaux entry's vna_flags (-1 when <paramref name="NothingToDo"/> is set).</param>
/// <param name="Flags">The current vna_flags.</param>
/// <param name="NothingToDo">Why the file needs no change, or null when the requirement is to be marked weak.</param>
public sealed record VersionNeed(long FlagsOffset, ushort Flags, string? NothingToDo);

/// <summary>
/// Reads the symbol version requirements (.gnu.version_r) of an ELF64 little-endian file. Anything that is not a
/// well-formed file of that kind is an <see cref="InvalidDataException"/> naming what is wrong; nothing is assumed.
/// </summary>
public static class ElfVersionNeeds
{
    public const ushort WeakFlag = 0x2; // VER_FLG_WEAK

    private const uint ShtStrtab = 3;
    private const uint ShtNobits = 8;
    private const uint ShtDynsym = 11;
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const int ElfHeaderSize = 64;
    private const int SectionHeaderSize = 64;
    private const int VerneedSize = 16;
    private const int VernauxSize = 16;
    private const int Sym64Size = 24;

    /// <summary>
    /// Finds the requirement of <paramref name="versionName"/> from <paramref name="neededFrom"/>. When
    /// <paramref name="allowedSymbols"/> is not empty, every dynamic symbol bound to that version must be one of them
    /// (symbols that would fail at run time once the requirement is weak are refused).
    /// </summary>
    public static VersionNeed Inspect(byte[] d, string versionName, string neededFrom, IReadOnlyCollection<string> allowedSymbols)
    {
        long len = d.LongLength;
        if (len < ElfHeaderSize || d[0] != 0x7f || d[1] != (byte)'E' || d[2] != (byte)'L' || d[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file (bad magic)");
        if (d[4] != 2)
            throw new InvalidDataException($"not an ELF64 file (EI_CLASS = {d[4]})");
        if (d[5] != 1)
            throw new InvalidDataException($"not a little-endian ELF file (EI_DATA = {d[5]})");
        if (d[6] != 1)
            throw new InvalidDataException($"unsupported ELF version (EI_VERSION = {d[6]})");

        ulong shoff = U64(d, 0x28);
        ushort shentsize = U16(d, 0x3a);
        ulong shnum = U16(d, 0x3c);
        if (shoff == 0)
            throw new InvalidDataException("no section header table (e_shoff = 0)");
        if (shentsize < SectionHeaderSize)
            throw new InvalidDataException($"e_shentsize {shentsize} is smaller than an Elf64_Shdr (64)");
        CheckRange(shoff, shentsize, len, "section header 0");
        if (shnum == 0)
            shnum = U64(d, (long)shoff + 32); // extended numbering: the count lives in section 0's sh_size
        if (shnum == 0 || shnum > 0xffffff)
            throw new InvalidDataException($"implausible section count {shnum}");
        CheckRange(shoff, shnum * shentsize, len, "section header table");

        var sections = new Section[shnum];
        for (ulong i = 0; i < shnum; i++)
        {
            long h = (long)(shoff + i * shentsize);
            var s = new Section((int)i, U32(d, h + 4), U64(d, h + 24), U64(d, h + 32), U32(d, h + 40), U32(d, h + 44), U64(d, h + 56));
            if (s.Type != 0 && s.Type != ShtNobits)
                CheckRange(s.Offset, s.Size, len, $"section {i}");
            sections[i] = s;
        }

        Section? verneed = null, versym = null;
        foreach (Section s in sections)
        {
            if (s.Type == ShtGnuVerneed)
                verneed = verneed is null ? s : throw new InvalidDataException("more than one SHT_GNU_verneed section");
            else if (s.Type == ShtGnuVersym)
                versym = versym is null ? s : throw new InvalidDataException("more than one SHT_GNU_versym section");
        }
        if (verneed is null)
            return new VersionNeed(-1, 0, "no .gnu.version_r section (no symbol version requirements); nothing to patch.");
        Section verneedStrings = LinkedSection(sections, verneed, ShtStrtab, ".gnu.version_r");

        // Verneed entries (sh_info of them, chained by vn_next), each with its list of Vernaux entries.
        long sectionStart = (long)verneed.Offset;
        ulong sectionSize = verneed.Size;
        ulong count = verneed.Info;
        if (count == 0)
            throw new InvalidDataException(".gnu.version_r has sh_info = 0 (no Verneed entries)");
        long matchAux = -1;
        ushort matchOther = 0;
        ulong vnOff = 0;
        for (ulong i = 0; i < count; i++)
        {
            CheckEntry(vnOff, VerneedSize, sectionSize, $"Verneed entry {i}");
            long vn = sectionStart + (long)vnOff;
            ushort vnVersion = U16(d, vn), vnCnt = U16(d, vn + 2);
            uint vnFile = U32(d, vn + 4), vnAux = U32(d, vn + 8), vnNext = U32(d, vn + 12);
            if (vnVersion != 1)
                throw new InvalidDataException($"Verneed entry {i} has vn_version {vnVersion} (expected 1)");
            string file = Str(d, verneedStrings, vnFile, $"vn_file of Verneed entry {i}");

            ulong auxOff = vnOff + vnAux;
            for (uint j = 0; j < vnCnt; j++)
            {
                CheckEntry(auxOff, VernauxSize, sectionSize, $"Vernaux entry {j} of {file}");
                long a = sectionStart + (long)auxOff;
                ushort vnaOther = U16(d, a + 6);
                uint vnaName = U32(d, a + 8), vnaNext = U32(d, a + 12);
                string name = Str(d, verneedStrings, vnaName, $"vna_name of Vernaux entry {j} of {file}");
                if (name == versionName && file == neededFrom)
                {
                    if (matchAux >= 0)
                        throw new InvalidDataException($"two Vernaux entries for {versionName} from {neededFrom}");
                    matchAux = a;
                    matchOther = vnaOther;
                }
                if (j + 1 < vnCnt)
                {
                    if (vnaNext == 0)
                        throw new InvalidDataException($"Vernaux list of {file} ends after {j + 1} of {vnCnt} entries");
                    auxOff += vnaNext;
                }
            }
            if (i + 1 < count)
            {
                if (vnNext == 0)
                    throw new InvalidDataException($"Verneed chain ends after {i + 1} of {count} entries");
                vnOff += vnNext;
            }
        }
        if (matchAux < 0)
            return new VersionNeed(-1, 0, $"does not require {versionName} from {neededFrom}; nothing to patch.");

        long flagsOffset = matchAux + 4;
        ushort flags = U16(d, flagsOffset);
        if ((flags & WeakFlag) != 0)
            return new VersionNeed(flagsOffset, flags, $"the {versionName} requirement is already weak; nothing to do.");
        if (allowedSymbols.Count > 0)
            CheckOnlyAllowedSymbols(d, sections, versym, matchOther, versionName, allowedSymbols);
        return new VersionNeed(flagsOffset, flags, null);
    }

    // Only weaken the requirement if every dynamic symbol bound to it is known to be unused.
    private static void CheckOnlyAllowedSymbols(byte[] d, Section[] sections, Section? versym, ushort versionIndex, string versionName, IReadOnlyCollection<string> allowedSymbols)
    {
        if (versym is null)
            throw new InvalidDataException(".gnu.version_r present but no .gnu.version (SHT_GNU_versym) section");
        Section dynsym = LinkedSection(sections, versym, ShtDynsym, ".gnu.version");
        Section dynstr = LinkedSection(sections, dynsym, ShtStrtab, ".dynsym");
        if (dynsym.EntSize != Sym64Size)
            throw new InvalidDataException($".dynsym sh_entsize is {dynsym.EntSize} (expected {Sym64Size})");
        ulong symbols = dynsym.Size / Sym64Size;
        if (versym.Size != symbols * 2)
            throw new InvalidDataException($".gnu.version has {versym.Size / 2} entries but .dynsym has {symbols} symbols");

        var allowed = new HashSet<string>(allowedSymbols, StringComparer.Ordinal);
        var unexpected = new List<string>();
        for (ulong k = 0; k < symbols; k++)
        {
            if ((U16(d, (long)(versym.Offset + k * 2)) & 0x7fff) != versionIndex)
                continue;
            string symbol = Str(d, dynstr, U32(d, (long)(dynsym.Offset + k * Sym64Size)), $"name of dynamic symbol {k}");
            if (!allowed.Contains(symbol))
                unexpected.Add(symbol);
        }
        if (unexpected.Count > 0)
            throw new InvalidDataException($"refusing to weaken {versionName}: besides the known marker symbol(s), it is needed by "
                + string.Join(", ", unexpected) + $", which would then fail at run time. Install a libstdc++ that provides {versionName} (GCC 13 or later) instead.");
    }

    /// <summary>True if <paramref name="data"/> holds <paramref name="value"/> as a whole C string (GLIBCXX_3.4.3 does not match GLIBCXX_3.4.32).</summary>
    public static bool ContainsCString(ReadOnlySpan<byte> data, string value) =>
        data.IndexOf(Encoding.ASCII.GetBytes(value + "\0")) >= 0;

    private sealed record Section(int Index, uint Type, ulong Offset, ulong Size, uint Link, uint Info, ulong EntSize);

    private static Section LinkedSection(Section[] sections, Section s, uint expectedType, string what)
    {
        if (s.Link == 0 || s.Link >= (ulong)sections.Length)
            throw new InvalidDataException($"{what} (section {s.Index}) has invalid sh_link {s.Link}");
        Section linked = sections[s.Link];
        if (linked.Type != expectedType)
            throw new InvalidDataException($"{what} (section {s.Index}) links to section {s.Link} of type 0x{linked.Type:x} (expected 0x{expectedType:x})");
        return linked;
    }

    private static void CheckRange(ulong offset, ulong size, long fileLength, string what)
    {
        if (offset > (ulong)fileLength || size > (ulong)fileLength - offset)
            throw new InvalidDataException($"{what} (offset 0x{offset:x}, size 0x{size:x}) lies outside the file (length 0x{fileLength:x})");
    }

    private static void CheckEntry(ulong offsetInSection, ulong size, ulong sectionSize, string what)
    {
        if (offsetInSection > sectionSize || size > sectionSize - offsetInSection)
            throw new InvalidDataException($"{what} at offset 0x{offsetInSection:x} lies outside its section (size 0x{sectionSize:x})");
    }

    private static string Str(byte[] d, Section strtab, uint index, string what)
    {
        if (index >= strtab.Size)
            throw new InvalidDataException($"{what}: string index {index} outside string table (size {strtab.Size})");
        long start = (long)strtab.Offset + index, end = (long)(strtab.Offset + strtab.Size), p = start;
        while (p < end && d[p] != 0)
            p++;
        if (p == end)
            throw new InvalidDataException($"{what}: unterminated string at index {index}");
        return Encoding.ASCII.GetString(d, (int)start, (int)(p - start));
    }

    private static ushort U16(byte[] d, long o) => (ushort)(d[o] | (d[o + 1] << 8));

    private static uint U32(byte[] d, long o) => (uint)(d[o] | (d[o + 1] << 8) | (d[o + 2] << 16)) | ((uint)d[o + 3] << 24);

    private static ulong U64(byte[] d, long o) => U32(d, o) | ((ulong)U32(d, o + 4) << 32);
}
