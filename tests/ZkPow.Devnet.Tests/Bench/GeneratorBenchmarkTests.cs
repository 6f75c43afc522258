using ZkPow.Aggregator.Protocol;
using ZkPow.Devnet.Bench;

namespace ZkPow.Devnet.Tests.Bench;

public sealed class GeneratorBenchmarkTests
{
    [Fact]
    public void the_bench_builds_batch_inputs_as_the_sync_does_with_the_miner_as_aggregator()
    {
        var sequences = GeneratorBenchmark.BuildSequences(new GeneratorBenchmarkOptions { Sequences = 4, MaxBatches = 3, Seed = 5 });
        Assert.Equal(4, sequences.Count);
        var expectedOld = 0UL;
        foreach (var sequence in sequences)
        {
            Assert.Equal(expectedOld, sequence.InitBatch);
            foreach (var batch in sequence.Batches)
            {
                var inputs = InputProver.Parser.ParseFrom(batch.ProverInput).PublicInputs;
                Assert.Equal(GeneratorBenchmark.MinerAddress, inputs.AggregatorAddr);
                Assert.Equal((1001UL, 6UL, batch.Number - 1), (inputs.ChainId, inputs.ForkId, inputs.OldBatchNum));
                Assert.Equal((32, 32, 32), (inputs.OldStateRoot.Length, inputs.OldAccInputHash.Length, inputs.GlobalExitRoot.Length));
                Assert.Equal(42, inputs.SequencerAddr.Length);
                Assert.True(inputs.EthTimestamp > 0);
                Assert.False(inputs.BatchL2Data.IsEmpty);
            }

            expectedOld = sequence.FinalBatch;
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(GeneratorBenchmarkOptions.MaxProofBytes + 1)]
    public void proof_sizes_that_cannot_fit_an_aggregation_request_are_refused(int proofBytes)
    {
        var error = Assert.Throws<ArgumentException>(new GeneratorBenchmarkOptions { ProofBytes = proofBytes }.Validate);
        Assert.Contains("--proof-bytes", error.Message, StringComparison.Ordinal);
        new GeneratorBenchmarkOptions { ProofBytes = GeneratorBenchmarkOptions.MaxProofBytes }.Validate();
    }

    [Fact]
    public void two_proofs_of_the_largest_size_fit_an_aggregation_request_within_the_send_limit()
    {
        var proof = new string('0', GeneratorBenchmarkOptions.MaxProofBytes);
        var request = new AggregatorMessage
        {
            Id = Guid.NewGuid().ToString(),
            GenAggregatedProofRequest = new GenAggregatedProofRequest { RecursiveProof1 = proof, RecursiveProof2 = proof },
        };
        Assert.True(request.CalculateSize() <= new ProverSessionOptions().MaxSendBytes);
    }
}
