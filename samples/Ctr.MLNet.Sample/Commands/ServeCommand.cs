using System;
using System.CommandLine;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Ctr.MLNet.Sample.Serving;

namespace Ctr.MLNet.Sample.Commands;

/// <summary>
/// <c>serve</c>: loads one or more model zips and answers <c>POST /{name}/predict</c>, <c>GET /{name}/health</c>,
/// <c>GET /health</c>, <c>GET /models</c> and <c>GET /metrics</c> over HTTP (see <see cref="ModelServer"/>) until
/// Ctrl+C or SIGTERM, which stop it gracefully (requests in flight are answered, then the process exits 0).
/// </summary>
public static class ServeCommand
{
    /// <summary>The verb with its options.</summary>
    public static Command Create()
    {
        Option<string[]> models = new("--model")
        {
            Description = "A model to serve as NAME=ZIP (NAME: letters, digits, '_' and '-'); repeat for several. Requests name it: POST /NAME/predict.",
            Required = true,
            HelpName = "NAME=ZIP",
            Arity = ArgumentArity.OneOrMore,
        };
        Option<string> urls = new("--urls")
        {
            Description = "Where to listen (http only; ';' separates several; port 0 picks a free port).",
            DefaultValueFactory = _ => "http://127.0.0.1:8080",
            HelpName = "URL",
        };
        Option<long> maxBody = CommandOptions.Check(
            new Option<long>("--max-body-bytes") { Description = "Largest request body; a larger one gets 413.", DefaultValueFactory = _ => ServeSettings.DefaultMaxBodyBytes, HelpName = "N" },
            v => v is >= 1 and <= 1 << 30 ? null : $"--max-body-bytes must be between 1 and {1 << 30}, got {v}.");
        Option<int> maxRows = CommandOptions.Check(
            new Option<int>("--max-rows") { Description = "Most rows one request may score; more gets 413.", DefaultValueFactory = _ => ServeSettings.DefaultMaxRows, HelpName = "N" },
            v => v >= 1 ? null : $"--max-rows must be at least 1, got {v}.");
        Option<int> maxBatchRows = CommandOptions.Check(
            new Option<int>("--max-batch-rows") { Description = "Most rows scored in one pass when requests arrive together (dynamic batching); 1 scores each request alone.", DefaultValueFactory = _ => ServeSettings.DefaultMaxBatchRows, HelpName = "N" },
            v => v >= 1 ? null : $"--max-batch-rows must be at least 1, got {v}.");
        Option<double> maxBatchWait = CommandOptions.Check(
            new Option<double>("--max-batch-wait-ms") { Description = "Longest a batch waits for more requests while others are being read or scored (milliseconds); 0 batches only what is queued.", DefaultValueFactory = _ => ServeSettings.DefaultMaxBatchWait.TotalMilliseconds, HelpName = "MS" },
            v => v is >= 0 and <= 1000 ? null : $"--max-batch-wait-ms must be between 0 and 1000, got {v}.");
        Option<int> scoringThreads = CommandOptions.Check(
            new Option<int>("--scoring-threads") { Description = "Threads scoring batches (default: one per core).", DefaultValueFactory = _ => Environment.ProcessorCount, HelpName = "N" },
            v => v is >= 1 and <= 256 ? null : $"--scoring-threads must be between 1 and 256, got {v}.");
        Option<int> reloadInterval = CommandOptions.Check(
            new Option<int>("--reload-interval-ms") { Description = "How often each model zip is checked for a replacement, which is then loaded and swapped in (0: never).", DefaultValueFactory = _ => (int)ServeSettings.DefaultReloadInterval.TotalMilliseconds, HelpName = "MS" },
            v => v >= 0 ? null : $"--reload-interval-ms must not be negative, got {v}.");
        Option<bool> requestLog = new("--request-log") { Description = "Log one line per predict request (model, status, rows, milliseconds) to standard error." };
        var command = new Command("serve", "Serve model zips over HTTP: POST /NAME/predict with {\"features\": {col: [...]}} or {\"rows\": [{...}]} returns {\"probabilities\": [...], \"prediction\": [...]}; GET /health, /models, /metrics.")
        {
            models, urls, maxBody, maxRows, maxBatchRows, maxBatchWait, scoringThreads, reloadInterval, requestLog,
        };
        command.SetAction(parse => CommandOptions.Run(parse, output =>
        {
            var settings = new ServeSettings([.. parse.GetRequiredValue(models).Select(ModelSource.Parse)], parse.GetRequiredValue(urls))
            {
                MaxBodyBytes = parse.GetValue(maxBody),
                MaxRows = parse.GetValue(maxRows),
                MaxBatchRows = parse.GetValue(maxBatchRows),
                MaxBatchWait = TimeSpan.FromMilliseconds(parse.GetValue(maxBatchWait)),
                ScoringThreads = parse.GetValue(scoringThreads),
                ReloadInterval = TimeSpan.FromMilliseconds(parse.GetValue(reloadInterval)),
                RequestLog = parse.GetValue(requestLog),
            };
            RunAsync(settings, output).GetAwaiter().GetResult();
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// Starts the server in this process and returns once it listens: the handle gives the bound addresses (port 0
    /// becomes the real port) and stops it. A model that fails to load throws before anything listens.
    /// </summary>
    public static Task<ServeHandle> StartAsync(ServeSettings settings, TextWriter log, CancellationToken cancellationToken = default) =>
        ModelServer.StartAsync(settings, log, cancellationToken);

    /// <inheritdoc cref="StartAsync(ServeSettings, TextWriter, CancellationToken)"/>
    public static Task<ServeHandle> StartAsync(ServeSettings settings, CancellationToken cancellationToken = default) =>
        ModelServer.StartAsync(settings, TextWriter.Null, cancellationToken);

    /// <summary>Serves until Ctrl+C or SIGTERM, then lets requests in flight finish.</summary>
    public static async Task RunAsync(ServeSettings settings, TextWriter output)
    {
        ServeHandle server = await StartAsync(settings, output).ConfigureAwait(false);
        try
        {
            output.WriteLine("Ctrl+C stops the server.");
            output.Flush();
            await server.WaitForShutdownAsync().ConfigureAwait(false);
        }
        finally
        {
            await server.StopAsync().ConfigureAwait(false);
        }
    }
}
