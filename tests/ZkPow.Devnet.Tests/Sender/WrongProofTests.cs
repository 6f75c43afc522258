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

    [Fact]
    public async Task a_sequence_whose_proofs_keep_failing_the_check_is_parked_and_never_committed()
    {
        await using var h = await SenderHarness.StartAsync();
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "parked", o => o.MaxRetries = 2);
        h.AddProver(aggregator, "bad-gpu", MockProverMisbehaviour.WrongFinalProof);
        var sequence = await h.SequenceAsync(1, aggregator);

        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default))?.State ==
            SubmissionState.Parked, TimeSpan.FromSeconds(20), "the sequence to be parked");
        var record = await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default);
        Assert.Contains("rejected", record!.ParkedReason, StringComparison.Ordinal);
        Assert.Equal(3, aggregator.Sender.Metrics.Count("rejected", "bad-gpu"));
        Assert.Equal(1, aggregator.Sender.Metrics.Count("sequence", "parked"));
        Assert.Empty((await h.EventsAsync()).OfType<SubmitProofHashEvent>());
    }
}
