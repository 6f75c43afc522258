using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Protocol;

/// <summary>The gRPC endpoint provers dial: every <c>Channel</c> call becomes one <see cref="ProverSession"/>.</summary>
public sealed class AggregatorGrpcService(
    IProverSessionObserver observer,
    ProverSessionOptions options,
    ILoggerFactory loggers,
    TimeProvider time,
    JobTimings timings,
    IHostApplicationLifetime lifetime) : AggregatorService.AggregatorServiceBase
{
    private readonly ILogger _logger = loggers.CreateLogger<ProverSession>();

    public override async Task Channel(IAsyncStreamReader<ProverMessage> requestStream, IServerStreamWriter<AggregatorMessage> responseStream,
        ServerCallContext context)
    {
        // Two scopes: this stream (the call) and the whole server (shutdown ends every session at once).
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var session = new ProverSession(requestStream, responseStream, context.Peer ?? "unknown", options, _logger, time, timings);
        await session.RunAsync(observer, scope.Token).ConfigureAwait(false);
    }
}
