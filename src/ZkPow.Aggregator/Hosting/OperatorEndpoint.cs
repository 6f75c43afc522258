using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Dashboard;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.HealthChecks;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The operator's HTTP endpoint (loopback by default): <c>/health/live</c>, <c>/health/ready</c>, <c>/metrics</c>
/// (Prometheus text, exported by prometheus-net's adapter for System.Diagnostics.Metrics: a stable release, where
/// OpenTelemetry's Prometheus exporter is still a beta), <c>/api/status</c>, <c>/api/tasks?state=parked</c>,
/// <c>POST /api/tasks/{id}/requeue</c>, <c>POST /api/sequences/{final}/requeue</c>, <c>POST /api/drain</c> (a planned
/// stop), <c>GET /api/drain</c> (its progress), and the live dashboard at <c>/</c> (<see cref="DashboardEndpoints"/>).
/// Every state-changing <c>/api/</c> request passes <see cref="OperatorApiGuard"/> (custom header, same origin, operator
/// token). It opens before anything else of the aggregator: while start-up waits (for the base chain, the rollup node, …)
/// or the aggregator stops, <c>/health/ready</c> and the API answer 503 with the reason.
/// </summary>
public sealed partial class OperatorEndpoint : IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);
    private readonly WebApplication _app;
    private readonly IDisposable _meterAdapter;

    private OperatorEndpoint(WebApplication app, IDisposable meterAdapter, int port)
    {
        _app = app;
        _meterAdapter = meterAdapter;
        Port = port;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    public static async Task<OperatorEndpoint> StartAsync(HttpOptions options, AggregatorNode node, ILoggerFactory loggers, CancellationToken cancellationToken,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        options.Validate();
        time ??= TimeProvider.System;
        var logger = loggers.CreateLogger<OperatorEndpoint>();
        if (!options.IsLoopback && !options.RequiresToken)
        {
            LogUnauthenticated(logger, options.ListenAddress, options.Port);
        }

        var registry = Metrics.NewCustomRegistry();
        var adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = registry,
            MetricFactory = Metrics.WithCustomRegistry(registry),
            InstrumentFilterPredicate = instrument => instrument.Meter.Name.StartsWith("ZkPow", StringComparison.Ordinal),
        });
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(options.ListenAddress), options.Port, l => l.Protocols = HttpProtocols.Http1));
        var app = builder.Build();
        app.UseMiddleware<OperatorApiGuard>(options, loggers.CreateLogger<OperatorApiGuard>());
        DashboardEndpoints.Map(app, new DashboardReader(node, options, time), s_json, time, app.Lifetime.ApplicationStopping);
        app.MapGet("/health/live", () => Results.Text("live\n"));
        app.MapGet("/health/ready", async (CancellationToken ct) =>
        {
            // Start-up (or shutdown): the phase and what it waits for; running: the health checks. Unhealthy is 503;
            // degraded (parked work, too few provers, a node unreachable within its grace) is still ready.
            var health = await node.Health.CheckAsync(ct).ConfigureAwait(false);
            return Results.Json(new { ready = health.Ready, status = health.StatusText, phase = health.Phase, checks = health.Checks }, s_json,
                statusCode: health.Ready ? 200 : 503);
        });
        app.MapMetrics("/metrics", registry);
        app.MapGet("/api/status", async (CancellationToken ct) => node.IsRunning
            ? Results.Json(await node.GetStatusAsync(ct).ConfigureAwait(false), s_json)
            : NotRunning(node));
        app.MapGet("/api/tasks", async (string? state, CancellationToken ct) =>
        {
            if (!node.IsRunning)
            {
                return NotRunning(node);
            }

            if (state is not null && !string.Equals(state, "parked", StringComparison.OrdinalIgnoreCase))
            {
                return Results.BadRequest(new { error = "only state=parked is listed" });
            }

            var parked = await node.Store.ListParkedAsync(ct).ConfigureAwait(false);
            var sequences = await node.Store.ListSenderParkedAsync(ct).ConfigureAwait(false);
            return Results.Json(parked.Select(ParkedView.From).Concat(sequences.Select(ParkedView.From)), s_json);
        });
        app.MapPost("/api/tasks/{id:long}/requeue", async (long id, CancellationToken ct) =>
        {
            if (!node.IsRunning)
            {
                return NotRunning(node);
            }

            var task = await node.Store.RequeueAsync(id, ct).ConfigureAwait(false);
            if (task is null)
            {
                return Results.NotFound(new { error = $"task {id} is not parked" });
            }

            node.Generator.Enqueue(task);
            return Results.Json(TaskView.From(task), s_json);
        });
        app.MapPost("/api/sequences/{final:long}/requeue", async (long final, CancellationToken ct) =>
        {
            if (!node.IsRunning)
            {
                return NotRunning(node);
            }

            if (final <= 0)
            {
                return Results.BadRequest(new { error = "a sequence is named by its final batch (a positive number)" });
            }

            var record = await node.Sender.RequeueParkedAsync((ulong)final, ct).ConfigureAwait(false);
            return record is null
                ? Results.NotFound(new { error = $"sequence {final} is not parked by the sender" })
                : Results.Json(new { sequence = record.FinalBatch, initBatch = record.InitBatch, state = record.State.ToString() }, s_json);
        });
        // A planned stop: no new hash is committed, open commitments are revealed, then the aggregator stops (exit 0).
        app.MapPost("/api/drain", async (CancellationToken ct) => node.IsRunning
            ? Results.Json(await node.BeginDrainAsync(ct).ConfigureAwait(false), s_json, statusCode: 202)
            : NotRunning(node));
        // The drain's progress, in every phase (it is read until the aggregator has stopped); with wait=DURATION (at most
        // 30s) it answers once the progress changes, or when the wait is over.
        app.MapGet("/api/drain", async (string? wait, CancellationToken ct) =>
        {
            var seen = node.Drain;
            if (wait is null || seen.State is "drained" or "none")
            {
                return Results.Json(seen, s_json);
            }

            if (!Durations.TryParse(wait, out var timeout) || timeout < TimeSpan.Zero || timeout > TimeSpan.FromSeconds(30))
            {
                return Results.BadRequest(new { error = $"wait: '{wait}' is not a duration of at most 30s (e.g. 5s)" });
            }

            return Results.Json(await node.WaitForDrainChangeAsync(seen, timeout, ct).ConfigureAwait(false), s_json);
        });
        int port;
        try
        {
            port = await WebHosts.StartAsync(app, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            adapter.Dispose();
            throw;
        }

        return new OperatorEndpoint(app, adapter, port);
    }

    /// <summary>503 with the phase and its reason, while the aggregator starts or stops.</summary>
    private static IResult NotRunning(AggregatorNode node) =>
        Results.Json(new { error = UrlRedaction.Redact($"the aggregator is {node.Phase.ToString().ToLowerInvariant()}: {node.PhaseReason}"), drain = node.Drain }, s_json,
            statusCode: 503);

    public async ValueTask DisposeAsync()
    {
        await WebHosts.StopAsync(_app).ConfigureAwait(false);
        _meterAdapter.Dispose();
    }

    /// <summary>Something parked, as operators see it: a task the generator parked (<see cref="Id"/> set, requeued with
    /// <c>POST /api/tasks/{id}/requeue</c>) or a sequence the sender parked (<see cref="Kind"/> <c>Sequence</c>, no id,
    /// requeued with <c>POST /api/sequences/{final}/requeue</c>). <see cref="Prover"/> made the proof that failed (or
    /// the last prover the task failed on).</summary>
    public sealed record ParkedView(long? Id, string ParkedBy, string Kind, ulong FromBatch, ulong ToBatch, ulong Sequence, string State, int Attempts,
        string? Reason, string? LastError, string? Prover)
    {
        public static ParkedView From(ProofTask t) => new(t.Id, "generator", t.Kind.ToString(), t.FromBatch, t.ToBatch, t.Sequence, t.State.ToString(),
            t.Attempts, t.LastError, t.LastError, t.Prover?.Name ?? (t.FailedOn.Count > 0 ? t.FailedOn[^1] : null));

        public static ParkedView From(Sender.SenderParkedSequence s) => new(null, "sender", "Sequence", s.InitBatch, s.FinalBatch, s.FinalBatch, "Parked",
            s.Retries, s.Reason, s.LastError, s.Prover);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "The operator endpoint listens on {Address}:{Port} without an operator token (Http:AllowUnauthenticated=true): anyone reaching it can requeue tasks or drain the aggregator")]
    private static partial void LogUnauthenticated(ILogger logger, string address, int port);

    /// <summary>A task as operators see it.</summary>
    public sealed record TaskView(long Id, string Kind, ulong FromBatch, ulong ToBatch, ulong Sequence, string State, int Attempts, string? LastError)
    {
        public static TaskView From(ProofTask t) => new(t.Id, t.Kind.ToString(), t.FromBatch, t.ToBatch, t.Sequence, t.State.ToString(), t.Attempts, t.LastError);
    }
}
