using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Prometheus;

namespace Ctr.MLNet.Sample.Serving;

/// <summary>
/// The server's Prometheus metrics (prometheus-net), in a registry of the server's own, so two servers in one process
/// count apart. The model label takes only the names of served models ("unknown" otherwise), so a client cannot
/// grow the label set.
/// </summary>
public sealed class ServeMetrics
{
    /// <summary>Content type of <c>GET /metrics</c>.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly Counter _requests;
    private readonly Histogram _latency;
    private readonly Histogram _batchRows;
    private readonly Counter _rows;
    private readonly Gauge _loadSeconds;
    private readonly Counter _reloads;

    /// <summary>Creates the metrics.</summary>
    public ServeMetrics()
    {
        MetricFactory factory = Metrics.WithCustomRegistry(_registry);
        _requests = factory.CreateCounter("ctr_serve_requests_total", "Predict requests answered, by model and HTTP status.", new CounterConfiguration { LabelNames = ["model", "status"] });
        _latency = factory.CreateHistogram("ctr_serve_request_duration_seconds", "Time from a predict request's start to its answer, by model.", new HistogramConfiguration
        {
            LabelNames = ["model"],
            Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        });
        _batchRows = factory.CreateHistogram("ctr_serve_batch_rows", "Rows per scoring pass (requests batched together), by model.", new HistogramConfiguration
        {
            LabelNames = ["model"],
            Buckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
        });
        _rows = factory.CreateCounter("ctr_serve_rows_scored_total", "Rows scored, by model.", new CounterConfiguration { LabelNames = ["model"] });
        _loadSeconds = factory.CreateGauge("ctr_serve_model_load_seconds", "How long the model serving now took to load, by model.", new GaugeConfiguration { LabelNames = ["model"] });
        _reloads = factory.CreateCounter("ctr_serve_model_reloads_total", "Replaced model files seen, by model and result (swapped or failed).", new CounterConfiguration { LabelNames = ["model", "result"] });
    }

    /// <summary>Counts an answered predict request.</summary>
    public void Request(string model, int status, TimeSpan elapsed)
    {
        _requests.WithLabels(model, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _latency.WithLabels(model).Observe(elapsed.TotalSeconds);
    }

    /// <summary>Counts a scoring pass of <paramref name="rows"/> rows.</summary>
    public void Batch(string model, int rows)
    {
        _batchRows.WithLabels(model).Observe(rows);
        _rows.WithLabels(model).Inc(rows);
    }

    /// <summary>Records a (re)load of a model.</summary>
    public void Loaded(ServedModel model) => _loadSeconds.WithLabels(model.Name).Set(model.LoadTime.TotalSeconds);

    /// <summary>Counts a replaced file that was swapped in or failed to load.</summary>
    public void Reload(string model, bool swapped) => _reloads.WithLabels(model, swapped ? "swapped" : "failed").Inc();

    /// <summary>Writes every metric in the Prometheus text format.</summary>
    public Task WriteAsync(Stream stream, CancellationToken cancellationToken) => _registry.CollectAndExportAsTextAsync(stream, cancellationToken);
}
