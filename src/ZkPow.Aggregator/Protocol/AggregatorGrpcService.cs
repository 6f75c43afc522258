using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Protocol;

/// <summary>The gRPC endpoint provers dial: every <c>Channel</c> call becomes one <see cref="ProverSession"/>.</summary>
public sealed class AggregatorGrpcService(
    IProverSessionObserver observer,
    ProverSessionOptions options,
    ILoggerFactory loggers,
    TimeProvider time) : AggregatorService.AggregatorServiceBase
{
    private readonly ILogger _logger = loggers.CreateLogger<ProverSession>();

    public override Task Channel(IAsyncStreamReader<ProverMessage> requestStream, IServerStreamWriter<AggregatorMessage> responseStream,
        ServerCallContext context)
    {
        var session = new ProverSession(requestStream, responseStream, context.Peer ?? "unknown", options, _logger, time);
        return session.RunAsync(observer, context.CancellationToken);
    }
}
