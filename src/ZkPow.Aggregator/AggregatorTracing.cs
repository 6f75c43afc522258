using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator;

/// <summary>
/// The aggregator's trace sources (<see cref="System.Diagnostics.Activity"/>). <c>ZkPow.Aggregator.Sender</c> covers a
/// final proof's way to its hash broadcast: the pre-flight reads, the verifier call, the tx manager's store writes,
/// pre-flight, signing and broadcast, and the sender's store write. With <c>Tracing:OtlpEndpoint</c> set they are
/// exported to an OpenTelemetry collector (<see cref="AddTraceExport"/>); a program hosting the aggregator can also add
/// the source names to its own OpenTelemetry setup.
/// </summary>
public static class AggregatorTracing
{
    public const string SenderSourceName = "ZkPow.Aggregator.Sender";

    public static ActivitySource Sender { get; } = new(SenderSourceName);

    /// <summary>The names of every source above.</summary>
    public static IReadOnlyList<string> SourceNames { get; } = [SenderSourceName];

    /// <summary>
    /// Exports the aggregator's spans over OTLP when <see cref="TracingOptions.OtlpEndpoint"/> is set (nothing is
    /// registered otherwise): batched in the background, so a collector that is slow or down costs the aggregator nothing
    /// but the spans it could not take (the exporter drops them once its queue is full). <paramref name="instanceId"/>
    /// becomes <c>service.instance.id</c> (the replica's id).
    /// </summary>
    public static IServiceCollection AddTraceExport(this IServiceCollection services, TracingOptions tracing, string instanceId)
    {
        ArgumentNullException.ThrowIfNull(tracing);
        if (tracing.Endpoint is not { } endpoint)
        {
            return services;
        }

        var protocol = string.Equals(tracing.OtlpProtocol, TracingOptions.Grpc, StringComparison.OrdinalIgnoreCase)
            ? OtlpExportProtocol.Grpc
            : OtlpExportProtocol.HttpProtobuf;
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(tracing.ServiceName, serviceInstanceId: instanceId))
            .WithTracing(traces => traces
                .AddSource([.. SourceNames])
                .AddOtlpExporter(otlp =>
                {
                    otlp.Endpoint = endpoint;
                    otlp.Protocol = protocol;
                }));
        return services;
    }
}
