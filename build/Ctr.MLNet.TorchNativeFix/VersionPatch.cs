using System;
using System.Collections.Generic;
using System.IO;

namespace Ctr.MLNet.TorchNativeFix;

/// <summary>Marks one symbol version requirement of an ELF file weak, in place, as one atomic replacement.</summary>
public static class VersionPatch
{
    /// <summary>
    /// Returns the flags before and after when the file was rewritten, or null with <paramref name="reason"/> when it
    /// already was as wanted. The patched copy is written beside the file and renamed over it, so a hard or symbolic
    /// link into the NuGet cache is never written through and no reader sees half a file; it keeps the file's
    /// timestamp, so the SDK's incremental copy (size + timestamp) does not copy the unpatched file over it again.
    /// </summary>
    public static (ushort Before, ushort After)? Apply(string path, string versionName, string neededFrom, IReadOnlyCollection<string> allowedSymbols, out string? reason)
    {
        byte[] data = File.ReadAllBytes(path);
        VersionNeed need = ElfVersionNeeds.Inspect(data, versionName, neededFrom, allowedSymbols);
        reason = need.NothingToDo;
        if (reason is not null)
            return null;

        DateTime modified = File.GetLastWriteTimeUtc(path);
        string temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        ushort flags = (ushort)(need.Flags | ElfVersionNeeds.WeakFlag);
        try
        {
            File.Copy(path, temporary, overwrite: true); // keeps the permission bits
            using (var stream = new FileStream(temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                if (stream.Length != data.LongLength)
                    throw new IOException("file changed while it was being patched");
                stream.Position = need.FlagsOffset;
                stream.Write([(byte)flags, (byte)(flags >> 8)]);
            }
            VersionNeed check = ElfVersionNeeds.Inspect(File.ReadAllBytes(temporary), versionName, neededFrom, allowedSymbols);
            if (check.NothingToDo is null || (check.Flags & ElfVersionNeeds.WeakFlag) == 0)
                throw new InvalidDataException("verification of the patched copy failed");
            File.SetLastWriteTimeUtc(temporary, modified);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
                File.Delete(temporary);
        }
        return (need.Flags, flags);
    }
}
