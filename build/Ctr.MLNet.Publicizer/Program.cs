using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

// Usage: Ctr.MLNet.Publicizer <source.dll> <target.dll>
// Rewrites only the access bits of TypeDef, MethodDef and Field rows; every other byte is kept, so the
// copy has the original identity and serves as a compile-time reference only. Types become public;
// members meant for derived classes (private protected, protected internal) become protected, so our
// overrides stay protected and ML.NET's internal types never show in our public API; all others become public.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Ctr.MLNet.Publicizer <source.dll> <target.dll>");
    return 2;
}

byte[] bytes = File.ReadAllBytes(args[0]);
foreach (var (offset, size, value) in FindAccessPatches(bytes))
{
    for (int i = 0; i < size; i++)
        bytes[offset + i] = (byte)(value >> (8 * i));
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[1]))!);
string temporary = args[1] + ".tmp";
File.WriteAllBytes(temporary, bytes);
File.Move(temporary, args[1], overwrite: true);
return 0;

static List<(int Offset, int Size, int Value)> FindAccessPatches(byte[] bytes)
{
    const int AccessMask = 0x7, TypePublic = 0x1, TypeNestedPublic = 0x2;
    const int FamilyAndAssembly = 0x2, Family = 0x4, FamilyOrAssembly = 0x5, Public = 0x6;
    static int Widened(int flags) => (flags & ~AccessMask) | ((flags & AccessMask) is FamilyAndAssembly or Family or FamilyOrAssembly ? Family : Public);
    var patches = new List<(int, int, int)>();
    using var pe = new PEReader(new MemoryStream(bytes));
    MetadataReader md = pe.GetMetadataReader();
    int metadataStart = pe.PEHeaders.MetadataStartOffset;
    int RowOffset(TableIndex table, EntityHandle handle) =>
        metadataStart + md.GetTableMetadataOffset(table) + (MetadataTokens.GetRowNumber(handle) - 1) * md.GetTableRowSize(table);

    foreach (TypeDefinitionHandle handle in md.TypeDefinitions)
    {
        TypeDefinition type = md.GetTypeDefinition(handle);
        int visibility = type.GetDeclaringType().IsNil ? TypePublic : TypeNestedPublic;
        patches.Add((RowOffset(TableIndex.TypeDef, handle), 4, ((int)type.Attributes & ~AccessMask) | visibility));

        // Event backing fields share their event's name; exposing them would make the name ambiguous.
        var eventNames = new HashSet<string>();
        foreach (EventDefinitionHandle e in type.GetEvents())
            eventNames.Add(md.GetString(md.GetEventDefinition(e).Name));
        foreach (FieldDefinitionHandle f in type.GetFields())
        {
            FieldDefinition field = md.GetFieldDefinition(f);
            if (!eventNames.Contains(md.GetString(field.Name)))
                patches.Add((RowOffset(TableIndex.Field, f), 2, Widened((int)field.Attributes)));
        }
    }

    // A MethodDef row starts with RVA (4 bytes) and ImplFlags (2 bytes); Flags follow.
    foreach (MethodDefinitionHandle m in md.MethodDefinitions)
        patches.Add((RowOffset(TableIndex.MethodDef, m) + 6, 2, Widened((int)md.GetMethodDefinition(m).Attributes)));
    return patches;
}
