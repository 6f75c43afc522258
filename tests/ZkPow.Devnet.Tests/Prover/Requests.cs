using ZkPow.Aggregator.Protocol;

namespace ZkPow.Devnet.Tests.Prover;

/// <summary>Builders for aggregator requests.</summary>
internal static class Requests
{
    public static AggregatorMessage GetStatus() => new() { GetStatusRequest = new GetStatusRequest() };

    public static AggregatorMessage GenBatch(InputProver input) =>
        new() { GenBatchProofRequest = new GenBatchProofRequest { Input = input } };

    public static AggregatorMessage GenAggregated(string proof1, string proof2) =>
        new() { GenAggregatedProofRequest = new GenAggregatedProofRequest { RecursiveProof1 = proof1, RecursiveProof2 = proof2 } };

    public static AggregatorMessage GenFinal(string proof, string aggregator) =>
        new() { GenFinalProofRequest = new GenFinalProofRequest { RecursiveProof = proof, AggregatorAddr = aggregator } };

    public static AggregatorMessage GetProof(string jobId) =>
        new() { GetProofRequest = new GetProofRequest { Id = jobId } };

    public static AggregatorMessage Cancel(string jobId) => new() { CancelRequest = new CancelRequest { Id = jobId } };
}
