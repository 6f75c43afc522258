using Grpc.Core;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Tests.Prover;

/// <summary>Hands every incoming Channel stream to the test and keeps it open until the test or the prover ends it.</summary>
internal sealed class TestAggregatorService(TestAggregatorServer server) : AggregatorService.AggregatorServiceBase
{
    public override async Task Channel(IAsyncStreamReader<ProverMessage> requestStream,
        IServerStreamWriter<AggregatorMessage> responseStream, ServerCallContext context)
    {
        var stream = new TestProverStream(requestStream, responseStream, context.CancellationToken);
        server.Publish(stream);
        await stream.Closed;
    }
}
