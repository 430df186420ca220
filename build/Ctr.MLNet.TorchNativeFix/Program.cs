using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Ctr.MLNet.TorchNativeFix;

// Usage: Ctr.MLNet.TorchNativeFix --version GLIBCXX_3.4.32 --needed-from libstdc++.so.6 [--allowed-symbols A;B]
//                                 [--system-library PATH] FILE...
// Marks the requirement weak in each FILE, only when the system libstdc++ lacks the version. Exit code 1 (and the
// reason on standard error) when a file cannot be patched safely; 0 otherwise, also when there is nothing to do.
const string Prefix = "TorchNativeFix: ";
string? version = null, neededFrom = null, systemLibrary = null;
var allowed = new List<string>();
var files = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--version": version = Value(); break;
        case "--needed-from": neededFrom = Value(); break;
        case "--allowed-symbols": allowed.AddRange(Value().Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
        case "--system-library": systemLibrary = Value(); break;
        default: files.Add(args[i]); break;
    }
}
if (version is null || neededFrom is null)
{
    Console.Error.WriteLine("usage: Ctr.MLNet.TorchNativeFix --version NAME --needed-from SONAME [--allowed-symbols A;B] [--system-library PATH] FILE...");
    return 2;
}

string? library = string.IsNullOrEmpty(systemLibrary) ? LibStdCxx.Find() : systemLibrary;
if (library is null || !File.Exists(library))
{
    Console.WriteLine(Prefix + "could not locate an x86-64 libstdc++.so.6 on this machine; leaving libLibTorchSharp.so untouched.");
    return 0;
}
try
{
    if (ElfVersionNeeds.ContainsCString(File.ReadAllBytes(library), version))
        return 0; // the system provides the version: nothing to patch
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.WriteLine($"{Prefix}could not read {library} ({e.Message}); leaving libLibTorchSharp.so untouched.");
    return 0;
}

int status = 0;
foreach (string file in files.Select(Path.GetFullPath))
{
    try
    {
        if (VersionPatch.Apply(file, version, neededFrom, allowed, out _) is var (before, after))
            Console.WriteLine($"{Prefix}marked the {version} requirement on {neededFrom} as weak (vna_flags 0x{before:x} -> 0x{after:x}) in {file}, because {library} lacks {version}.");
    }
    catch (InvalidDataException e)
    {
        Console.Error.WriteLine($"{Prefix}cannot patch {file}: {e.Message}");
        status = 1;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"{Prefix}I/O error while patching {file}: {e.Message}");
        status = 1;
    }
}
return status;

/// <summary>The libstdc++.so.6 the dynamic loader would pick: the first x86-64 entry of the ld.so cache, else the usual paths.</summary>
internal static class LibStdCxx
{
    public static string? Find()
    {
        string? ldconfig = new[] { "/sbin/ldconfig", "/usr/sbin/ldconfig", "/usr/bin/ldconfig", "/bin/ldconfig" }.FirstOrDefault(File.Exists);
        if (ldconfig is not null && FromCache(ldconfig) is string cached)
            return cached;
        return new[]
        {
            "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6", "/lib/libstdc++.so.6",
        }.FirstOrDefault(File.Exists);
    }

    private static string? FromCache(string ldconfig)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(ldconfig, "-p") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            process.ErrorDataReceived += (_, _) => { };
            process.BeginErrorReadLine();
            string output = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(10_000))
            {
                process.Kill();
                return null;
            }
            // e.g. "	libstdc++.so.6 (libc6,x86-64) => /lib/x86_64-linux-gnu/libstdc++.so.6"
            foreach (string line in output.Split('\n').Select(l => l.Trim()))
            {
                int arrow = line.IndexOf("=>", StringComparison.Ordinal);
                if (line.StartsWith("libstdc++.so.6 ", StringComparison.Ordinal) && line.Contains("x86-64", StringComparison.Ordinal) && arrow >= 0
                    && line[(arrow + 2)..].Trim() is var candidate && File.Exists(candidate))
                    return candidate;
            }
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
        }
        return null;
    }
}
