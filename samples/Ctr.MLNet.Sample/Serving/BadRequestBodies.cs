using System;
using System.Collections.Concurrent;
using System.IO;
using System.IO.Pipelines;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// Kestrel refuses some requests before any middleware runs (a NUL byte, <c>%00</c>, in the path; a malformed
/// request line or header) and answers them with a bodiless 4xx. This connection middleware gives such an answer the
/// JSON error body every other error has, with Kestrel's reason when Kestrel logged one for the connection.
/// </summary>
internal sealed class BadRequestBodies : ILoggerProvider
{
    /// <summary>Kestrel logs why it refused a request under this category, at Debug level, before it answers.</summary>
    public const string KestrelCategory = "Microsoft.AspNetCore.Server.Kestrel.BadRequests";

    private static readonly byte[] NoBody = "\r\nContent-Length: 0\r\n"u8.ToArray();
    private static readonly byte[] Closes = "\r\nConnection: close\r\n"u8.ToArray();
    private static readonly byte[] HeadersEnd = "\r\n\r\n"u8.ToArray();

    private readonly ConcurrentDictionary<string, string> _reasons = new(StringComparer.Ordinal);

    /// <summary>Wraps a connection's output so a bodiless refusal gets a JSON body.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async context =>
    {
        IDuplexPipe transport = context.Transport;
        var output = PipeWriter.Create(new Rewriter(transport.Output, context.ConnectionId, _reasons), new StreamPipeWriterOptions(leaveOpen: false));
        context.Transport = new Duplex(transport.Input, output);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            _reasons.TryRemove(context.ConnectionId, out _);
        }
    };

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new ReasonLogger(categoryName == KestrelCategory ? _reasons : null);

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed record Duplex(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    /// <summary>Keeps the reason Kestrel gives for refusing a request, by connection id.</summary>
    private sealed class ReasonLogger(ConcurrentDictionary<string, string>? reasons) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => reasons is not null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (reasons is null || exception is null || state is not System.Collections.Generic.IReadOnlyList<System.Collections.Generic.KeyValuePair<string, object?>> values)
                return;
            foreach (var (key, value) in values)
            {
                if (key == "ConnectionId" && value is string id)
                    reasons[id] = exception.Message;
            }
        }
    }

    /// <summary>Passes writes through; a write that is exactly the headers of a bodiless 4xx that closes the connection gets a JSON body.</summary>
    private sealed class Rewriter(PipeWriter inner, string connectionId, ConcurrentDictionary<string, string> reasons) : Stream
    {
        private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (IsBodilessRefusal(buffer.Span))
                buffer = WithBody(buffer.Span);
            await inner.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override async Task FlushAsync(CancellationToken cancellationToken) => await inner.FlushAsync(cancellationToken).ConfigureAwait(false);

        public override void Flush() => FlushAsync().GetAwaiter().GetResult();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                inner.Complete();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.CompleteAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        private static bool IsBodilessRefusal(ReadOnlySpan<byte> data) =>
            data.Length < 1024 && data.StartsWith("HTTP/1.1 4"u8) && data.EndsWith(HeadersEnd)
            && data.IndexOf(HeadersEnd) == data.Length - HeadersEnd.Length
            && data.IndexOf(NoBody) >= 0 && data.IndexOf(Closes) >= 0;

        private ReadOnlyMemory<byte> WithBody(ReadOnlySpan<byte> headers)
        {
            string statusLine = Encoding.ASCII.GetString(headers[..headers.IndexOf("\r\n"u8)]);
            string reason = reasons.TryGetValue(connectionId, out string? logged) ? logged.TrimEnd('.') : statusLine["HTTP/1.1 ".Length..];
            if (reason.EndsWith(": ''", StringComparison.Ordinal))
                reason = reason[..^4]; // Kestrel leaves the offending text out of its message unless detailed errors are on

            string message = $"Bad request: {reason}. Kestrel refused the request line or headers before reading the request (a NUL byte or %00 in the path, a control character, or a malformed header); fix the request.";
            var body = new System.Buffers.ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(body, JsonOptions))
            {
                json.WriteStartObject();
                json.WriteString("error", message);
                json.WriteEndObject();
            }
            int noBody = headers.IndexOf(NoBody);
            var result = new MemoryStream();
            result.Write(headers[..noBody]);
            result.Write(Encoding.ASCII.GetBytes($"\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {body.WrittenCount}\r\n"));
            result.Write(headers[(noBody + NoBody.Length)..]);
            result.Write(body.WrittenSpan);
            return result.GetBuffer().AsMemory(0, (int)result.Length);
        }
    }
}
