using System.Net;
using System.Text;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Trace;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Tests.Hosting;

/// <summary>Tracing:OtlpEndpoint: the aggregator's spans reach an OTLP collector (a real HTTP receiver on loopback).</summary>
public sealed class TraceExportTests
{
    /// <summary>An OTLP/HTTP collector's traces path that keeps every request body (protobuf: names and attribute values
    /// are plain UTF-8 in it) and answers with an empty export response.</summary>
    private static async Task<(WebApplication App, Channel<byte[]> Bodies)> StartCollectorAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var bodies = Channel.CreateUnbounded<byte[]>();
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            bodies.Writer.TryWrite(body.ToArray());
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return (app, bodies);
    }

    [Fact]
    public async Task the_senders_spans_are_exported_to_the_collector_with_the_service_name_and_replica_id()
    {
        var (collector, bodies) = await StartCollectorAsync();
        await using var _ = collector;
        var services = new ServiceCollection();
        services.AddTraceExport(new TracingOptions { OtlpEndpoint = $"{collector.Urls.First()}/v1/traces", ServiceName = "zkpow-test" }, "replica-7");
        await using (var provider = services.BuildServiceProvider())
        {
            var tracer = provider.GetRequiredService<TracerProvider>();
            using (var span = AggregatorTracing.Sender.StartActivity("sender.commit"))
            {
                Assert.NotNull(span); // the exporter listens to the source
                span.SetTag("zkpow.sequence", "sequence-1234");
            }

            Assert.True(tracer.ForceFlush(30_000), "the exporter did not flush within 30 s");
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var text = Encoding.UTF8.GetString(await bodies.Reader.ReadAsync(wait.Token));
        foreach (var expected in new[] { "sender.commit", "sequence-1234", "zkpow-test", "replica-7", AggregatorTracing.SenderSourceName })
        {
            Assert.Contains(expected, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task with_grpc_the_spans_go_to_the_collectors_trace_service()
    {
        // The collector's gRPC method on cleartext HTTP/2: each request is one length-prefixed ExportTraceServiceRequest;
        // the answer is an empty message and grpc-status 0.
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2));
        await using var collector = builder.Build();
        var bodies = Channel.CreateUnbounded<byte[]>();
        collector.MapPost("/opentelemetry.proto.collector.trace.v1.TraceService/Export", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            bodies.Writer.TryWrite(body.ToArray());
            context.Response.ContentType = "application/grpc";
            context.Response.AppendTrailer("grpc-status", "0");
            await context.Response.Body.WriteAsync(new byte[5]);
        });
        await collector.StartAsync();

        var services = new ServiceCollection();
        services.AddTraceExport(new TracingOptions { OtlpEndpoint = collector.Urls.First(), OtlpProtocol = "grpc" }, "replica-9");
        await using (var provider = services.BuildServiceProvider())
        {
            var tracer = provider.GetRequiredService<TracerProvider>();
            using (AggregatorTracing.Sender.StartActivity("sender.submit_hash"))
            {
            }

            Assert.True(tracer.ForceFlush(30_000), "the exporter did not flush within 30 s");
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var text = Encoding.UTF8.GetString(await bodies.Reader.ReadAsync(wait.Token));
        Assert.Contains("sender.submit_hash", text, StringComparison.Ordinal);
        Assert.Contains("zkpow-aggregator", text, StringComparison.Ordinal);
        Assert.Contains("replica-9", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task without_an_endpoint_nothing_is_registered()
    {
        var services = new ServiceCollection();
        services.AddTraceExport(new TracingOptions(), "replica-1");
        await using var provider = services.BuildServiceProvider();
        Assert.Null(provider.GetService<TracerProvider>());
    }

    [Fact]
    public void the_tracing_section_binds_and_bad_values_name_their_key()
    {
        var options = OptionsBinder.Bind(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Tracing:OtlpEndpoint"] = "http://collector:4317",
            ["Tracing:OtlpProtocol"] = "grpc",
            ["Chain:RollupAddress"] = "0x5FC8d32690cc91D4c39d9d3abcBD16989F875707",
            ["Key:DevPrivateKey"] = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
        }).Build());
        Assert.Equal(new Uri("http://collector:4317"), options.Tracing.Endpoint);
        Assert.Equal("grpc", options.Tracing.OtlpProtocol);
        Assert.Null(new AggregatorOptions().Tracing.Endpoint); // off by default

        Assert.Equal("Tracing:OtlpEndpoint", Assert.Throws<OptionsException>(new TracingOptions { OtlpEndpoint = "collector:4318" }.Validate).Key);
        Assert.Equal("Tracing:OtlpEndpoint", Assert.Throws<OptionsException>(new TracingOptions { OtlpEndpoint = "ftp://collector/v1/traces" }.Validate).Key);
        Assert.Equal("Tracing:OtlpProtocol", Assert.Throws<OptionsException>(new TracingOptions { OtlpProtocol = "http/json" }.Validate).Key);
        Assert.Equal("Tracing:ServiceName", Assert.Throws<OptionsException>(new TracingOptions { ServiceName = " " }.Validate).Key);
    }
}
