using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Tests.Sender;

public sealed class WrongProofTests
{
    [Fact]
    public async Task a_wrong_final_proof_is_never_committed_and_the_sequence_is_proved_again()
    {
        await using var h = await SenderHarness.StartAsync();
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "wrong", o => o.MaxRetries = 100);
        var bad = h.AddProver(aggregator, "bad-gpu", MockProverMisbehaviour.WrongFinalProof);
        var sequence = await h.SequenceAsync(2, aggregator);

        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("rejected", "bad-gpu") >= 1),
            TimeSpan.FromSeconds(20), "the wrong final proof to be rejected");
        h.AddProver(aggregator, "good-gpu");
        await h.StopProverAsync(bad);

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(30));
        var events = await h.EventsAsync();
        var commit = Assert.Single(events.OfType<SubmitProofHashEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        var stored = await aggregator.Store.GetFinalProofAsync(sequence.FinalNewBatch, default);
        Assert.Equal("good-gpu", stored!.ProverName);
        Assert.Equal(ProofHash.Compute(HexData.Decode(stored.Proof), us.Address), commit.ProofHash);
        Assert.Empty(events.OfType<SlashedEvent>());
        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default))?.State ==
            SubmissionState.Revealed, TimeSpan.FromSeconds(5), "the submission to be recorded as revealed");
    }
}
