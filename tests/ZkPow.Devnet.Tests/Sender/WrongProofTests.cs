using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

public abstract class WrongProofTests(StoreKind store)
{
    [Fact]
    public async Task a_wrong_final_proof_is_never_committed_and_the_sequence_is_proved_again()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "wrong", o => o.MaxRetries = 100);
        var bad = h.AddProver(aggregator, "bad-gpu", MockProverMisbehaviour.WrongFinalProof);
        var sequence = await h.SequenceAsync(2, aggregator);

        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("rejected", "bad-gpu") >= 1),
            TimeSpan.FromSeconds(60), "the wrong final proof to be rejected");
        h.AddProver(aggregator, "good-gpu");
        await h.StopProverAsync(bad);

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(90));
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
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "parked", o => o.MaxRetries = 2);
        h.AddProver(aggregator, "bad-gpu", MockProverMisbehaviour.WrongFinalProof);
        var sequence = await h.SequenceAsync(1, aggregator);

        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default))?.State ==
            SubmissionState.Parked, TimeSpan.FromSeconds(60), "the sequence to be parked");
        var record = await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default);
        Assert.Contains("rejected", record!.ParkedReason, StringComparison.Ordinal);
        Assert.Equal(3, aggregator.Sender.Metrics.Count("rejected", "bad-gpu"));
        Assert.Equal(1, aggregator.Sender.Metrics.Count("sequence", "parked"));
        Assert.Empty((await h.EventsAsync()).OfType<SubmitProofHashEvent>());
    }

    [Fact]
    public async Task a_sequence_parked_for_rejected_proofs_is_listed_with_its_reason_and_prover_and_a_requeue_proves_it_again()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "requeue", o => o.MaxRetries = 1);
        var bad = h.AddProver(aggregator, "bad-gpu", MockProverMisbehaviour.WrongFinalProof);
        var sequence = await h.SequenceAsync(2, aggregator);

        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.ListSenderParkedAsync(default)).Count == 1, TimeSpan.FromSeconds(60),
            "the sequence to be parked by the sender");
        var parked = Assert.Single(await aggregator.Store.ListSenderParkedAsync(default));
        Assert.Equal(sequence.FinalNewBatch, parked.FinalBatch);
        Assert.Equal(sequence.InitNumBatch, parked.InitBatch);
        Assert.Equal("bad-gpu", parked.Prover);
        Assert.True(parked.ProofRejected);
        Assert.StartsWith(ProofSender.RejectedParkReason, parked.Reason, StringComparison.Ordinal);
        // Its (wrong) proof is still stored, but it is a parked sequence's, not a final proof to send.
        Assert.Equal(1, await aggregator.Store.CountFinalProofsAsync(default));
        Assert.Equal(0, await aggregator.Store.CountUnparkedFinalProofsAsync(default));
        Assert.Null(await aggregator.Sender.RequeueParkedAsync(sequence.FinalNewBatch + 100, default));

        await h.StopProverAsync(bad);
        h.AddProver(aggregator, "good-gpu");
        var requeued = await aggregator.Sender.RequeueParkedAsync(sequence.FinalNewBatch, default);
        Assert.Equal(SubmissionState.Reproving, requeued!.State);
        Assert.Equal(0, requeued.Retries);
        Assert.Empty(await aggregator.Store.ListSenderParkedAsync(default));
        Assert.Null(await aggregator.Sender.RequeueParkedAsync(sequence.FinalNewBatch, default)); // no longer parked

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(60));
        var stored = await aggregator.Store.GetFinalProofAsync(sequence.FinalNewBatch, default);
        Assert.Equal("good-gpu", stored!.ProverName);
        var events = await h.EventsAsync();
        var commit = Assert.Single(events.OfType<SubmitProofHashEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.Equal(ProofHash.Compute(HexData.Decode(stored.Proof), us.Address), commit.ProofHash);
        Assert.Empty(events.OfType<SlashedEvent>());
    }

    [Fact]
    public async Task a_sequence_parked_after_failed_goes_is_offered_to_the_sender_again_on_requeue_and_verified()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "reoffer");
        var sequence = await h.SequenceAsync(2, aggregator);
        // Parked by the sender for a reason other than its proof (as after too many failed goes), before any prover
        // proved it: the sender leaves a parked sequence alone, also once its proof is stored.
        await aggregator.Store.SaveSubmissionAsync(new SubmissionRecord
        {
            FinalBatch = sequence.FinalNewBatch,
            InitBatch = sequence.InitNumBatch,
            State = SubmissionState.Parked,
            HashAttempt = 7,
            ProofAttempt = 7,
            Retries = 6,
            ParkedReason = "gave up after 6 failed goes: test",
        }, default);
        h.AddProver(aggregator, "good-gpu");
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetFinalProofAsync(sequence.FinalNewBatch, default) is not null,
            TimeSpan.FromSeconds(60), "the final proof");
        var parked = Assert.Single(await aggregator.Store.ListSenderParkedAsync(default));
        Assert.False(parked.ProofRejected);
        Assert.Equal("good-gpu", parked.Prover);
        Assert.Equal(0, await aggregator.Store.CountUnparkedFinalProofsAsync(default));
        Assert.Empty((await h.EventsAsync()).OfType<SubmitProofHashEvent>());

        var requeued = await aggregator.Sender.RequeueParkedAsync(sequence.FinalNewBatch, default);
        Assert.Equal(SubmissionState.Resend, requeued!.State);
        Assert.Equal(0, requeued.Retries);
        Assert.Equal(7, requeued.HashAttempt); // tx keys are never reused
        Assert.Null(requeued.ParkedReason);
        Assert.Empty(await aggregator.Store.ListSenderParkedAsync(default));
        Assert.Equal(1, await aggregator.Store.CountUnparkedFinalProofsAsync(default));

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(60));
        Assert.Empty((await h.EventsAsync()).OfType<SlashedEvent>());
    }
}
