using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using Microsoft.ML;

namespace Ctr.MLNet.Tests.Helpers;

/// <summary>
/// Runs this test assembly as a separate process, so a test can show that a saved model loads and gives
/// the same outputs in a process that never saw the training code run, or that a seeded fit repeats in
/// another process (with its own string hashing and its own heap layout).
/// </summary>
public static class ChildProcess
{
    public const string TransformVerb = "transform-with-model";

    public const string SeededFitVerb = "seeded-deepfm-fit";

    public const string TorchThreadsVerb = "torch-threads";

    /// <summary>
    /// Entry point of the child: <c>transform-with-model MODEL.zip INPUT.idv OUTPUT.txt</c> or
    /// <c>seeded-deepfm-fit INPUT.csv OUTPUT.txt</c> or <c>torch-threads</c> (prints libtorch's thread count).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length == 4 && args[0] == TransformVerb)
        {
            var ml = new MLContext(seed: 7);
            ITransformer model = ml.Model.Load(args[1], out _);
            IDataView input = ml.Data.LoadFromBinary(args[2]);
            File.WriteAllLines(args[3], EstimatorChecks.Rows(model.Transform(input)));
            return 0;
        }
        if (args.Length == 3 && args[0] == SeededFitVerb)
        {
            File.WriteAllLines(args[2], Torch.TorchCtrTrainerTest.SeededDeepFmProbabilities(args[1]));
            return 0;
        }
        if (args.Length == 1 && args[0] == TorchThreadsVerb)
        {
            Console.WriteLine(TorchSharp.torch.get_num_threads().ToString(CultureInfo.InvariantCulture));
            return 0;
        }
        Console.Error.WriteLine($"usage: {TransformVerb} MODEL.zip INPUT.idv OUTPUT.txt | {SeededFitVerb} INPUT.csv OUTPUT.txt | {TorchThreadsVerb}");
        return 2;
    }

    /// <summary>Runs <see cref="Torch.TorchCtrTrainerTest.SeededDeepFmProbabilities"/> on <paramref name="csvPath"/> in a new process.</summary>
    public static string[] SeededFitInNewProcess(string csvPath)
    {
        string outputPath = Path.Combine(Path.GetDirectoryName(csvPath)!, "fit-output.txt");
        Run([SeededFitVerb, csvPath, outputPath]);
        return File.ReadAllLines(outputPath);
    }

    /// <summary>Loads <paramref name="modelPath"/> in a new process and returns its output rows for <paramref name="input"/>.</summary>
    public static string[] TransformInNewProcess(string modelPath, IDataView input, MLContext ml)
    {
        string directory = Path.GetDirectoryName(modelPath)!;
        string inputPath = Path.Combine(directory, "input.idv");
        string outputPath = Path.Combine(directory, "output.txt");
        using (var stream = File.Create(inputPath))
            ml.Data.SaveAsBinary(input, stream);

        Run([TransformVerb, modelPath, inputPath, outputPath]);
        return File.ReadAllLines(outputPath);
    }

    /// <summary>libtorch's thread count in a new process that never set it, <paramref name="environment"/> added to ours.</summary>
    public static int TorchThreadsInNewProcess(IReadOnlyDictionary<string, string> environment) =>
        int.Parse(Run([TorchThreadsVerb], environment), CultureInfo.InvariantCulture);

    /// <summary>Runs the child to its end and returns its standard output.</summary>
    private static string Run(string[] arguments, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(DotnetHost(), [typeof(ChildProcess).Assembly.Location, .. arguments])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"child process exited with {process.ExitCode}: {stderr.Result}");
        return stdout;
    }

    /// <summary>The dotnet host running this test process, to start other .NET programs with.</summary>
    public static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
            return host;
        // RuntimeDirectory is <root>/shared/Microsoft.NETCore.App/<version>/.
        string root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(root, OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
