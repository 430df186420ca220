using System.CommandLine;
using System.Globalization;
using Ctr.MLNet.Sample.Commands;

namespace Ctr.MLNet.Sample;

/// <summary>The <c>Ctr.MLNet.Sample</c> console app: one verb per file under Commands/.</summary>
public static class Program
{
    /// <summary>Runs a verb; 0 on success, nonzero with a message on standard error otherwise.</summary>
    public static int Main(string[] args)
    {
        // Options, CSV and JSON speak the invariant culture: under de-DE "--test-fraction 0.3" was read as 3.
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        return CreateRootCommand().Parse(args).Invoke();
    }

    /// <summary>The root command with every verb (tests invoke it in-process).</summary>
    public static RootCommand CreateRootCommand() => CommandOptions.WithInvariantNumbers(new RootCommand("Ctr.MLNet sample: generate planted CTR data, train, evaluate and predict with one model zip.")
    {
        QuickstartCommand.Create(),
        GenerateCommand.Create(),
        TrainCommand.Create(),
        StatsCommands.CreateFit(),
        StatsCommands.CreateMerge(),
        EvaluateCommand.Create(),
        PredictCommand.Create(),
        ServeCommand.Create(),
        DemoCommand.Create(),
        ImportAmazonCommand.Create(),
    });
}
