using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// The HTTP server of the <c>serve</c> verb, an ASP.NET Core minimal API:
/// <list type="bullet">
/// <item><description><c>POST /{name}/predict</c>: <c>{"features": {...}}</c> or <c>{"rows": [...]}</c> (see
/// <see cref="RequestReader"/>) → <c>{"probabilities": [...], "prediction": [...]}</c> in input order, scored by the
/// <see cref="ScoringBatcher"/> together with other requests that arrive at the same time;</description></item>
/// <item><description><c>GET /{name}/health</c> → <c>{"status":"ok","model":name,"columns":[...],...}</c>;</description></item>
/// <item><description><c>GET /health</c> → <c>{"status":"ok","models":[...]}</c>;</description></item>
/// <item><description><c>GET /models</c> → name, path, SHA-256, load time, columns and last reload error of each model;</description></item>
/// <item><description><c>GET /metrics</c> → Prometheus text (<see cref="ServeMetrics"/>).</description></item>
/// </list>
/// Every error is a JSON <c>{"error": "..."}</c>: a bad request is a 4xx naming the problem (unknown model 404,
/// malformed or wrong-shaped body 400, too many rows or too large a body 413), never a 500.
/// </summary>
public static class ModelServer
{
    private static readonly object BodyReadKey = new();

    /// <summary>
    /// Loads every model (a file that fails stops start-up with an <see cref="InvalidOperationException"/> naming it,
    /// before anything listens), logs one line per model to <paramref name="log"/>, and starts listening.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    /// <exception cref="InvalidOperationException">A model file does not load or cannot be served.</exception>
    /// <exception cref="IOException">An address cannot be bound (e.g. the port is in use).</exception>
    public static async Task<ServeHandle> StartAsync(ServeSettings settings, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        settings.Validate();
        // Scoring threads run batches side by side, one core each; a forward pass that also forks torch's intra-op
        // threads oversubscribes the cores (on 2 shared cores it was many times slower).
        TorchSharp.torch.set_num_threads(1);
        TextWriter synchronizedLog = TextWriter.Synchronized(log);
        var metrics = new ServeMetrics();
        var slots = new Dictionary<string, ModelSlot>(StringComparer.Ordinal);
        WebApplication? app = null;
        ScoringBatcher? batcher = null;
        try
        {
            foreach (ModelSource source in settings.Models)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ServedModel model = ServedModel.Load(source.Name, source.Path);
                slots.Add(source.Name, new ModelSlot(model, line => { synchronizedLog.WriteLine(line); synchronizedLog.Flush(); }, metrics));
                log.WriteLine(model.Describe());
            }
            batcher = new ScoringBatcher(settings.MaxBatchRows, settings.MaxBatchWait, settings.ScoringThreads)
            {
                BatchScored = (model, rows) =>
                {
                    metrics.Batch(model.Name, rows);
                    settings.PassScored?.Invoke(batcher!, model, rows);
                },
            };
            app = Build(settings, slots, batcher, metrics);
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            string[] addresses = [.. app.Urls];
            log.WriteLine($"listening on {string.Join(", ", addresses)} (max body {settings.MaxBodyBytes} bytes, max {settings.MaxRows} rows per request; "
                + $"batches of up to {settings.MaxBatchRows} rows, waiting up to {settings.MaxBatchWait.TotalMilliseconds:0.###} ms, {settings.ScoringThreads} scoring threads; "
                + (settings.ReloadInterval > TimeSpan.Zero ? $"model files checked every {settings.ReloadInterval.TotalSeconds:0.###} s)" : "model files not watched)"));
            log.Flush();
            return new ServeHandle(app, slots, batcher, addresses, settings.ReloadInterval);
        }
        catch
        {
            if (app is not null)
                await app.DisposeAsync().ConfigureAwait(false);
            batcher?.Dispose();
            foreach (ModelSlot slot in slots.Values)
                slot.Dispose();
            throw;
        }
    }

    private static WebApplication Build(ServeSettings settings, IReadOnlyDictionary<string, ModelSlot> slots, ScoringBatcher batcher, ServeMetrics metrics)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options => options.SingleLine = true);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        if (settings.RequestLog)
            builder.Logging.AddFilter(RequestLogCategory, LogLevel.Information);
        // A failed start (e.g. the port is taken) reaches the caller as an exception; the host's own stack trace is noise.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.Configure<ConsoleLifetimeOptions>(options => options.SuppressStatusMessages = true);
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var badRequests = new BadRequestBodies();
        builder.Logging.AddProvider(badRequests);
        builder.Logging.AddFilter<BadRequestBodies>(BadRequestBodies.KestrelCategory, LogLevel.Debug);
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = settings.MaxBodyBytes;
            options.ConfigureEndpointDefaults(listen => listen.Use(badRequests.Wrap));
        });

        WebApplication app = builder.Build();
        app.Urls.Clear();
        foreach (string url in settings.Urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            app.Urls.Add(url);
        ILoggerFactory loggers = app.Services.GetRequiredService<ILoggerFactory>();
        ILogger logger = loggers.CreateLogger(typeof(ModelServer).FullName!);
        ILogger? requestLog = settings.RequestLog ? loggers.CreateLogger(RequestLogCategory) : null;

        // Bodiless 4xx/5xx from routing or Kestrel (no such endpoint, wrong method) get a JSON error too.
        app.UseStatusCodePages(context => NoEndpointAsync(context.HttpContext));
        app.Use((context, next) => ErrorsAsync(context, next, logger));

        string[] names = [.. slots.Keys];
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/health", getOrHead, (RequestDelegate)(context => WriteJsonAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteString("status", "ok");
            json.WriteStartArray("models");
            foreach (string name in names)
                json.WriteStringValue(name);
            json.WriteEndArray();
        })));
        app.MapMethods("/{name}/health", getOrHead, (RequestDelegate)(context =>
        {
            ServedModel model = Find(slots, context).Current;
            return WriteJsonAsync(context, StatusCodes.Status200OK, json =>
            {
                json.WriteString("status", "ok");
                json.WriteString("model", model.Name);
                json.WriteStartArray("columns");
                foreach (ServedColumn column in model.RequiredColumns)
                    json.WriteStringValue(column.Name);
                json.WriteEndArray();
                json.WriteStartObject("types");
                foreach (ServedColumn column in model.RequiredColumns)
                    json.WriteString(column.Name, column.TypeName);
                json.WriteEndObject();
                json.WriteString("label", model.LabelColumnName);
            });
        }));
        app.MapMethods("/models", getOrHead, (RequestDelegate)(context => WriteJsonAsync(context, StatusCodes.Status200OK, json => WriteModels(json, slots.Values))));
        app.MapMethods("/metrics", getOrHead, (RequestDelegate)(async context =>
        {
            var text = new MemoryStream();
            await metrics.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
            context.Response.ContentType = ServeMetrics.ContentType;
            context.Response.ContentLength = text.Length;
            await context.Response.Body.WriteAsync(text.GetBuffer().AsMemory(0, (int)text.Length), context.RequestAborted).ConfigureAwait(false);
        }));
        app.MapPost("/{name}/predict", (RequestDelegate)(context => PredictAsync(context, slots, settings, batcher, metrics, requestLog)));
        return app;
    }

    private const string RequestLogCategory = "Ctr.MLNet.Sample.Serving.Requests";

    private static void WriteModels(Utf8JsonWriter json, IEnumerable<ModelSlot> slots)
    {
        json.WriteStartArray("models");
        foreach (ModelSlot slot in slots)
        {
            ServedModel model = slot.Current;
            json.WriteStartObject();
            json.WriteString("name", model.Name);
            json.WriteString("path", model.Path);
            json.WriteString("sha256", model.Sha256);
            json.WriteString("loaded_at", model.LoadedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteNumber("load_seconds", Math.Round(model.LoadTime.TotalSeconds, 4));
            json.WriteNumber("swaps", slot.Swaps);
            json.WriteString("label", model.LabelColumnName);
            json.WriteStartArray("columns");
            foreach (ServedColumn column in model.RequiredColumns)
            {
                json.WriteStartObject();
                json.WriteString("name", column.Name);
                json.WriteString("type", column.TypeName);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            if (slot.LastError is var (message, at))
            {
                json.WriteStartObject("last_error");
                json.WriteString("message", message);
                json.WriteString("at", at.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("last_error");
            }
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static async Task PredictAsync(HttpContext context, IReadOnlyDictionary<string, ModelSlot> slots, ServeSettings settings,
        ScoringBatcher batcher, ServeMetrics metrics, ILogger? requestLog)
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        string label = "unknown";
        int status = StatusCodes.Status500InternalServerError, rows = 0;
        try
        {
            ModelSlot slot = Find(slots, context);
            label = slot.Name;
            ServedModel model = slot.Acquire();
            batcher.Arriving();
            bool arrived = false;
            char[]? text = null;
            try
            {
                // Pooled: the body until it is parsed, its text until the view built over it is scored and answered.
                (byte[] body, int length) = await ReadBodyAsync(context, settings.MaxBodyBytes).ConfigureAwait(false);
                ColumnarDataView input;
                try
                {
                    text = ArrayPool<char>.Shared.Rent(length);
                    input = RequestReader.Read(body.AsMemory(0, length), model, settings, text);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(body);
                }
                rows = input.RowCount;
                batcher.Arrived();
                arrived = true;
                float[] probabilities = rows > 0 ? await ScoreAsync(batcher, model, input).ConfigureAwait(false) : [];
                int bad = Array.FindIndex(probabilities, p => !float.IsFinite(p));
                if (bad >= 0)
                    throw new RequestException(StatusCodes.Status422UnprocessableEntity, $"The model gave a non-finite probability for row {bad + 1}; check that row's values.");
                // Room for both arrays at once (a float takes at most 15 bytes and a comma): one buffer, not five as it grows.
                await WriteJsonAsync(context, StatusCodes.Status200OK, json =>
                {
                    // "prediction" is the Python reference's key: its clients read that one, ours read "probabilities".
                    foreach (string key in (ReadOnlySpan<string>)["probabilities", "prediction"])
                    {
                        json.WriteStartArray(key);
                        foreach (float probability in probabilities)
                            json.WriteNumberValue(probability);
                        json.WriteEndArray();
                    }
                }, sizeHint: 64 + (2 * 16 * probabilities.Length)).ConfigureAwait(false);
                status = StatusCodes.Status200OK;
            }
            finally
            {
                if (!arrived)
                    batcher.Arrived();
                model.ReleaseLease();
                if (text is not null)
                    ArrayPool<char>.Shared.Return(text);
            }
        }
        catch (RequestException e)
        {
            status = e.StatusCode;
            throw;
        }
        catch (BadHttpRequestException e)
        {
            status = e.StatusCode;
            throw;
        }
        catch (ObjectDisposedException)
        {
            status = StatusCodes.Status503ServiceUnavailable;
            throw;
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499; // the client closed the connection before the answer (nginx's code for it)
            throw;
        }
        finally
        {
            TimeSpan elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            metrics.Request(label, status, elapsed);
            requestLog?.LogInformation("predict model={Model} status={Status} rows={Rows} ms={Milliseconds:F3}", label, status, rows, elapsed.TotalMilliseconds);
        }
    }

    /// <summary>Scores a request in a batch; the pipeline's own input errors (our transforms throw these with a row number) are the client's.</summary>
    private static async Task<float[]> ScoreAsync(ScoringBatcher batcher, ServedModel model, ColumnarDataView input)
    {
        try
        {
            return await batcher.ScoreAsync(model, input).ConfigureAwait(false);
        }
        catch (Exception e) when (InputError(e) is Exception cause)
        {
            throw new RequestException(StatusCodes.Status400BadRequest, $"The model rejected the input: {cause.Message}", e);
        }
    }

    private static Exception? InputError(Exception e)
    {
        if (e is ObjectDisposedException)
            return null;
        Exception? found = null;
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is FormatException || (inner is InvalidOperationException && inner is not ObjectDisposedException))
                found = inner; // the innermost: ML.NET may wrap an error in one of the same type
        }
        return found;
    }

    private static ModelSlot Find(IReadOnlyDictionary<string, ModelSlot> slots, HttpContext context)
    {
        string name = context.Request.RouteValues["name"] as string ?? "";
        if (slots.TryGetValue(name, out ModelSlot? slot))
            return slot;
        string shown = name.Length <= 100 ? name : name[..100] + "...";
        throw new RequestException(StatusCodes.Status404NotFound, $"Unknown model '{shown}'; this server has: {string.Join(", ", slots.Keys)}.");
    }

    /// <summary>
    /// Reads the whole body, refusing (413) more than <paramref name="limit"/> bytes, declared or sent. A body somewhat
    /// over the limit (up to twice it) is read to its end and dropped before the 413 goes out: a server that answers
    /// and closes while the client is still sending makes the client's socket fail (broken pipe, reset) before it
    /// reads the answer. A body declared larger than that, or one whose client waits for <c>100-continue</c>, gets
    /// its 413 at once, unread, and the connection closes. Kestrel's MaxRequestBodySize is the limit for every
    /// request and is raised to the drain allowance only for the request being drained.
    /// </summary>
    private static async Task<(byte[] Body, int Length)> ReadBodyAsync(HttpContext context, long limit)
    {
        long drainLimit = limit + Math.Max(limit, 64 * 1024);
        long? declared = context.Request.ContentLength;
        bool waitsForContinue = context.Request.Headers.Expect.Any(v => v is not null && v.Contains("100-continue", StringComparison.OrdinalIgnoreCase));
        if (declared > limit && (declared > drainLimit || waitsForContinue))
            throw new RequestException(StatusCodes.Status413PayloadTooLarge, TooLarge(limit, declared));
        IHttpMaxRequestBodySizeFeature? sizeLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeLimit is { IsReadOnly: false })
            sizeLimit.MaxRequestBodySize = drainLimit;

        // Read straight into a pooled buffer (the caller returns it), grown up to the limit; past it, into a scratch
        // buffer that is dropped.
        byte[] body = ArrayPool<byte>.Shared.Rent((int)Math.Min(declared ?? 16 * 1024, limit) + 1);
        byte[]? scratch = null;
        long total = 0;
        try
        {
            while (true)
            {
                int kept = (int)Math.Min(total, limit);
                if (kept == body.Length && kept < limit)
                {
                    byte[] larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(2L * body.Length, limit + 1));
                    body.AsSpan(0, kept).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(body);
                    body = larger;
                }
                Memory<byte> into = total < limit
                    ? body.AsMemory(kept, (int)Math.Min(body.Length - kept, limit - kept))
                    : scratch ??= ArrayPool<byte>.Shared.Rent(16 * 1024);
                int read;
                try
                {
                    read = await context.Request.Body.ReadAsync(into, context.RequestAborted).ConfigureAwait(false);
                }
                catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    throw new RequestException(StatusCodes.Status413PayloadTooLarge, TooLarge(limit, declared), e);
                }
                if (read == 0)
                    break;
                total += read;
            }
            context.Items[BodyReadKey] = true;
            if (total > limit)
                throw new RequestException(StatusCodes.Status413PayloadTooLarge, TooLarge(limit, total));
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(body);
            throw;
        }
        finally
        {
            if (scratch is not null)
                ArrayPool<byte>.Shared.Return(scratch);
        }
        return (body, (int)total);
    }

    private static string TooLarge(long limit, long? declared) =>
        (declared is long size ? $"The request body of {size} bytes" : "The request body")
        + $" is larger than the limit of {limit} bytes (--max-body-bytes). Send fewer rows per request.";

    /// <summary>Turns every exception of a request into a JSON error; only a fault of the server itself is a 500.</summary>
    private static async Task ErrorsAsync(HttpContext context, RequestDelegate next, ILogger logger)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody is left to answer.
        }
        catch (Exception e) when (context.Response.HasStarted)
        {
            logger.LogError(e, "Request {Method} {Path} failed after the response started.", context.Request.Method, context.Request.Path);
        }
        catch (RequestException e)
        {
            await WriteErrorAsync(context, e.StatusCode, e.Message).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await WriteErrorAsync(context, e.StatusCode, $"Bad request: {e.Message}").ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "The server is shutting down.").ConfigureAwait(false);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Request {Method} {Path} failed.", context.Request.Method, context.Request.Path);
            await WriteErrorAsync(context, StatusCodes.Status500InternalServerError, $"Internal error ({e.GetType().Name}): {e.Message}").ConfigureAwait(false);
        }
    }

    private static Task NoEndpointAsync(HttpContext context)
    {
        int status = context.Response.StatusCode;
        string route = $"{context.Request.Method} {context.Request.Path}";
        string message = status switch
        {
            StatusCodes.Status404NotFound => $"No endpoint {route}; the endpoints are GET /health, GET /models, GET /metrics, GET /{{model}}/health and POST /{{model}}/predict.",
            StatusCodes.Status405MethodNotAllowed => $"{route} is not allowed; use GET (or HEAD) for /health, /models, /metrics and /{{model}}/health, POST for /{{model}}/predict.",
            _ => $"{ReasonPhrases.GetReasonPhrase(status)} ({route}).",
        };
        return WriteErrorAsync(context, status, message);
    }

    // Messages quote names with ' and show paths with [ ]: keep them readable rather than \u0027-escaped.
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        // An answer given before the body was read (unknown model, 413) leaves the rest of the body on the wire and
        // Kestrel may then drop the connection: say so, so the client does not send its next request down it.
        bool bodyLeft = !context.Items.ContainsKey(BodyReadKey)
            && (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0);
        if (bodyLeft)
            context.Response.Headers.Connection = "close";
        return WriteJsonAsync(context, status, json => json.WriteString("error", message));
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write, int sizeHint = 256)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            write(json);
            json.WriteEndObject();
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}

/// <summary>A running server: where it listens, its models, and how to stop it (which also frees the models).</summary>
public sealed class ServeHandle : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ScoringBatcher _batcher;
    private readonly CancellationTokenSource _watching = new();
    private readonly Task[] _watchers;
    private int _stopped;

    internal ServeHandle(WebApplication app, IReadOnlyDictionary<string, ModelSlot> slots, ScoringBatcher batcher, IReadOnlyList<string> addresses, TimeSpan reloadInterval)
    {
        _app = app;
        _batcher = batcher;
        Slots = slots;
        Addresses = addresses;
        _watchers = reloadInterval > TimeSpan.Zero ? [.. slots.Values.Select(s => s.WatchAsync(reloadInterval, _watching.Token))] : [];
    }

    /// <summary>The bound addresses (with the real port when the settings asked for port 0).</summary>
    public IReadOnlyList<string> Addresses { get; }

    /// <summary>The first bound address, for clients.</summary>
    public Uri BaseAddress => new(Addresses[0].TrimEnd('/') + "/");

    /// <summary>The served models by name, with their files and hot-swap state.</summary>
    public IReadOnlyDictionary<string, ModelSlot> Slots { get; }

    /// <summary>The model serving now under each name.</summary>
    public IReadOnlyDictionary<string, ServedModel> Models => Slots.ToDictionary(p => p.Key, p => p.Value.Current);

    /// <summary>Completes when the server is asked to stop (Ctrl+C, SIGTERM, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _app.Lifetime.ApplicationStopping.Register(() => stopping.TrySetResult());
        cancellationToken.Register(() => stopping.TrySetCanceled(cancellationToken));
        return stopping.Task;
    }

    /// <summary>
    /// Stops accepting connections, lets requests in flight finish (up to 10 s), scores what is queued, then frees
    /// the models.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        try
        {
            await _app.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
            await _watching.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(_watchers).ConfigureAwait(false);
            _batcher.Dispose();
            foreach (ModelSlot slot in Slots.Values)
                slot.Dispose();
            _watching.Dispose();
        }
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => new(StopAsync());
}
