using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Ctr.MLNet.Tests.Helpers;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Ctr.MLNet.Tests.Packaging;

/// <summary>
/// The packages as an app outside this repository sees them: pack into a folder feed, create a console project
/// elsewhere whose Program.cs is README.md's "Quick example", restore our packages from that feed only, build, train
/// in one process and predict in another. On a machine whose libstdc++ lacks GLIBCXX_3.4.32 (Debian 12) this also
/// proves that the native fix travels in the Torch package.
/// </summary>
[TestClass]
public sealed class PackagedConsumerTest
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(8);

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    [TestMethod]
    public void PackagedConsumerTest_ReadMeQuickExampleRunsFromThePackages()
    {
        string root = RepositoryRoot();
        using var work = new TemporaryDirectory();
        Assert.IsFalse(work.Path.StartsWith(root, StringComparison.Ordinal), "the consumer must live outside the repository");
        // A version of its own, so the global NuGet cache never serves a package packed by an earlier run.
        string version = $"{PackageVersionPrefix(root)}-consumertest.{DateTime.UtcNow:yyyyMMddHHmmss}{Environment.ProcessId}";
        string feed = Path.Combine(work.Path, "feed");
        try
        {
            foreach (string project in new[] { "Ctr.MLNet.Transforms", "Ctr.MLNet.Torch" })
            {
                // --no-build: the test run built these already, and rebuilding would rewrite the assemblies this process has loaded.
                Run(root, "pack", Path.Combine(root, "src", project, project + ".csproj"), "-c", Configuration, "--no-build", "-o", feed,
                    "-p:VersionSuffix=" + version[(version.IndexOf('-') + 1)..], "--disable-build-servers");
            }
            CheckPackage(feed, "Ctr.MLNet.Transforms", version, "Microsoft.ML", "Sep");
            CheckPackage(feed, "Ctr.MLNet.Torch", version, "Ctr.MLNet.Transforms", "TorchSharp-cpu");
            using (ZipArchive torch = ZipFile.OpenRead(Path.Combine(feed, $"Ctr.MLNet.Torch.{version}.nupkg")))
            {
                Assert.IsNotNull(torch.GetEntry("buildTransitive/Ctr.MLNet.Torch.targets"), "the native fix must travel in the Torch package");
                Assert.IsNotNull(torch.GetEntry("tools/torch-native-fix/Ctr.MLNet.TorchNativeFix.dll"), "with the patcher it runs");
            }

            string app = Path.Combine(work.Path, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "NuGet.config"), NuGetConfig(feed));
            File.WriteAllText(Path.Combine(app, "Consumer.csproj"), ConsumerProject(version));
            File.WriteAllText(Path.Combine(app, "Program.cs"), ReadMeTest.QuickExample(File.ReadAllText(Path.Combine(root, "README.md"))));
            Run(app, "build", "-c", "Release", "--disable-build-servers");
            string dll = Path.Combine(app, "bin", "Release", "net10.0", "linux-x64", "Consumer.dll");
            Assert.IsTrue(File.Exists(dll), $"{dll} was not built");
            Assert.IsFalse(Directory.Exists(Path.Combine(app, "bin", "Release", "net10.0", "linux-x64", "runtimes", "win-x64")),
                "RuntimeIdentifier linux-x64 must keep only that runtime's natives");

            string data = Path.Combine(work.Path, "run");
            Directory.CreateDirectory(data);
            WriteTrainCsv(Path.Combine(data, "train.csv"));
            string trained = Run(data, dll, "train", "train.csv");
            Match auc = Regex.Match(trained, @"validation AUC (\S+)");
            Assert.IsTrue(auc.Success, $"no validation AUC printed:\n{trained}");
            Assert.IsTrue(double.Parse(auc.Groups[1].Value, CultureInfo.InvariantCulture) > 0.55, $"the hold-out should be learnable:\n{trained}");
            Assert.IsTrue(File.Exists(Path.Combine(data, "model.zip")));

            string predicted = Run(data, dll, "predict").Trim();
            float probability = float.Parse(predicted.Split('\n')[^1], CultureInfo.InvariantCulture);
            Assert.IsTrue(probability is > 0f and < 1f, $"probability {probability}");
        }
        finally
        {
            DeleteFromNuGetCache(version);
        }
    }

    private static void CheckPackage(string feed, string id, string version, params string[] dependencies)
    {
        string path = Path.Combine(feed, $"{id}.{version}.nupkg");
        Assert.IsTrue(File.Exists(path), $"{path} was not packed");
        Assert.IsTrue(File.Exists(Path.ChangeExtension(path, ".snupkg")), $"no symbols package beside {path}");
        using ZipArchive package = ZipFile.OpenRead(path);
        XDocument nuspec;
        using (Stream stream = package.GetEntry($"{id}.nuspec")!.Open())
            nuspec = XDocument.Load(stream);
        XElement metadata = nuspec.Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        Assert.AreEqual(version, Field("version"));
        Assert.AreEqual("MIT", Field("license"));
        Assert.AreEqual("README.md", Field("readme"));
        Assert.IsNotNull(package.GetEntry("README.md"), "the readme must be in the package");
        Assert.IsTrue(Field("description").Length > 40 && !Field("description").Contains("Package Description"), Field("description"));
        Assert.IsTrue(Field("tags").Contains("ml.net"), Field("tags"));
        Assert.IsNotNull(metadata.Elements().SingleOrDefault(e => e.Name.LocalName == "repository"), "repository element");
        string[] dependencyIds = [.. metadata.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => e.Attribute("id")!.Value)];
        foreach (string dependency in dependencies)
            CollectionAssert.Contains(dependencyIds, dependency);
        Assert.IsFalse(dependencyIds.Any(d => d.Contains("Publicizer")), "the build-time publicizer must not become a dependency");
    }

    private static string NuGetConfig(string feed) => $"""
        <?xml version="1.0" encoding="utf-8"?>
        <configuration>
          <packageSources>
            <clear />
            <add key="local" value="{feed}" />
            <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
          </packageSources>
          <!-- Our packages from the folder feed only; everything else as any app gets it. -->
          <packageSourceMapping>
            <packageSource key="local">
              <package pattern="Ctr.MLNet.*" />
            </packageSource>
            <packageSource key="nuget.org">
              <package pattern="*" />
            </packageSource>
          </packageSourceMapping>
        </configuration>
        """;

    private static string ConsumerProject(string version) => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <!-- As README.md advises: only linux-x64's natives in the output. -->
            <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
            <SelfContained>false</SelfContained>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="Ctr.MLNet.Torch" Version="{version}" />
          </ItemGroup>
        </Project>
        """;

    private static void WriteTrainCsv(string path)
    {
        var csv = new StringBuilder("click,item_id,user_id,hist_item_ids,hist_weights,price\n");
        foreach (PlantedClicks.Row row in PlantedClicks.Generate(4000, seed: 4))
        {
            csv.Append(row.Label ? '1' : '0').Append(',').Append(row.Item).Append(',').Append(row.User).Append(',')
                .Append(string.Join("|", row.History)).Append(',')
                .Append(string.Join("|", row.HistoryWeights.Select(w => w.ToString(CultureInfo.InvariantCulture)))).Append(',')
                .Append(row.Price.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
        File.WriteAllText(path, csv.ToString());
    }

    /// <summary>Runs <c>dotnet ARGS</c> in <paramref name="directory"/> and returns its standard output; a failure or hang fails the test.</summary>
    private static string Run(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost(), arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // The test host's MSBuild variables point into this repository's build; the app gets a clean one.
        foreach (string name in start.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "1";
        using Process process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"dotnet {string.Join(' ', arguments)} did not end within {CommandTimeout}:\n{stdout.Result}\n{stderr.Result}");
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            Assert.Fail($"dotnet {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    private static string PackageVersionPrefix(string root)
    {
        Match prefix = Regex.Match(File.ReadAllText(Path.Combine(root, "Directory.Build.props")), "<VersionPrefix>([^<]+)</VersionPrefix>");
        Assert.IsTrue(prefix.Success, "Directory.Build.props must set VersionPrefix");
        return prefix.Groups[1].Value;
    }

    private static void DeleteFromNuGetCache(string version)
    {
        string cache = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        foreach (string id in new[] { "ctr.mlnet.transforms", "ctr.mlnet.torch" })
        {
            string folder = Path.Combine(cache, id, version);
            if (Directory.Exists(folder))
                Directory.Delete(folder, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Ctr.MLNet.sln")))
                return directory.FullName;
        }
        throw new DirectoryNotFoundException($"Ctr.MLNet.sln not found above {AppContext.BaseDirectory}.");
    }
}
