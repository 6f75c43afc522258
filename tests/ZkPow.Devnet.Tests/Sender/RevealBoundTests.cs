using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>
/// <see cref="SenderOptions.MaxRevealAttempts"/> never costs a live commitment of ours: <see cref="SubmissionRecord.ProofAttempt"/>
/// counts every reveal key of the sequence's life (resends, re-proofs, adoptions, earlier rounds), and a record that used
/// most of them before must still reveal its live commitment in its proof window (left unrevealed, it is slashed). On a
/// real anvil, on both stores.
/// </summary>
public abstract class RevealBoundTests(StoreKind store)
{
    /// <summary>Windows in blocks: a hash window that leaves the test room to stop mining before the proof window opens,
    /// and a long proof window (the test's steps inside it are waits on events, not races with the window's end).</summary>
    private const byte T1 = 20;
    private const byte T2 = 120;

    [Fact]
    public async Task a_live_commitment_whose_reveals_are_refused_past_the_attempts_bound_is_not_parked_and_is_revealed_in_its_window()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: T1, t2: T2);
        var us = h.Chain.Miners[0];
        var (slot, genesis) = await h.GenesisStateRootSlotAsync();
        const int max = 3;
        var aggregator = await h.StartMinerAsync(us, "refused", o => o.MaxRevealAttempts = max);
        var prover = h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        var final = sequence.FinalNewBatch;
        var round = await CommittedAndStoppedAsync(h, aggregator, prover, us, final);

        // Earlier goes used all reveal attempts but one; and the chain now refuses the reveal with a non-terminal error
        // (the root the proof starts from reads as zero: OldStateRootDoesNotExist, a revert, no slash).
        const int earlier = max - 1;
        await h.ExecuteAsync("refused", $"UPDATE submissions SET proof_attempt = {earlier} WHERE final_batch = {final};");
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [h.Chain.Contracts.Rollup, slot, "0x" + new string('0', 64)], default);
        aggregator = await h.StartMinerAsync(us, "refused", o => o.MaxRevealAttempts = max);
        h.MiningPaused = false;

        // Refused more times than the bound, in this round alone: still not parked, its reveal is tried again.
        const int refusals = max + 2;
        SubmissionRecord? record = null;
        await SenderHarness.WaitUntilAsync(async () =>
            {
                record = await aggregator.Store.GetSubmissionAsync(final, default);
                return record is { State: SubmissionState.Parked } || record?.ProofAttempt >= earlier + refusals;
            }, TimeSpan.FromSeconds(60), $"{refusals} refused reveals (or the record parked)");
        Assert.True(record!.State != SubmissionState.Parked, $"our live commitment (round {round}) was parked: {record.ParkedReason}");
        var head = await h.Reader.GetBlockNumberAsync(default);
        Assert.True(head < round + T1 + T2, "the proof window ended before the test restored the root");

        // At most one reveal per block (a refused reveal is not sent again in a loop within one block): the first could go
        // out at the proof window's first block.
        var tried = record.ProofAttempt - earlier;
        Assert.True((ulong)tried <= head - (round + T1) + 1, $"{tried} reveals refused in blocks {round + T1}..{head}");

        // The root is back: the next reveal lands, in the same round, and nothing is slashed.
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [h.Chain.Contracts.Rollup, slot, genesis], default);
        await h.WaitForVerifiedAsync(final, TimeSpan.FromSeconds(60));
        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(final, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(30), "our reveal recorded");
        await AssertRevealedOnceAsync(h, us, final, round);
    }

    [Fact]
    public async Task a_resend_of_a_sequence_past_the_attempts_bound_adopts_its_live_commitment_and_reveals_it_instead_of_abandoning_it()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: T1, t2: T2);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "resend-bound");
        var prover = h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        var final = sequence.FinalNewBatch;
        var round = await CommittedAndStoppedAsync(h, aggregator, prover, us, final);

        // Earlier goes used all reveal attempts but one, and all failed goes (Sender:MaxRetries, 5 by default). The record is
        // held by no worker of the restarted sender (parked by the test) until the test hands it to ResendAsync.
        var options = new SenderOptions();
        await h.ExecuteAsync("resend-bound", $"""
            UPDATE submissions SET state = {(int)SubmissionState.Parked}, parked_reason = 'held by the test',
                proof_attempt = {options.MaxRevealAttempts - 1}, retries = {options.MaxRetries}
            WHERE final_batch = {final};
            """);
        aggregator = await h.StartMinerAsync(us, "resend-bound");
        h.MiningPaused = false;

        // A transient read (a lagging node: "the round expired", "our commitment is gone") sends the sequence round again
        // while our commitment is live: it must be adopted and revealed, not abandoned (and parked for too many goes).
        var record = (await aggregator.Store.GetSubmissionAsync(final, default))!;
        await aggregator.Sender.ResendAsync(record with { State = SubmissionState.Committed, ParkedReason = null },
            "a lagging node said the round had expired", countRetry: true, default);
        var resent = (await aggregator.Store.GetSubmissionAsync(final, default))!;
        Assert.True(resent.State == SubmissionState.Committed, $"our live commitment (round {round}) was abandoned: {resent.State} {resent.ParkedReason}");
        Assert.Equal(round, resent.RoundStart);
        Assert.Equal(options.MaxRevealAttempts, resent.ProofAttempt); // a new reveal key, never one used before

        await h.WaitForVerifiedAsync(final, TimeSpan.FromSeconds(60));
        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(final, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(30), "our reveal recorded");
        await AssertRevealedOnceAsync(h, us, final, round);
    }

    /// <summary>Waits for our commitment to <paramref name="final"/>, stops mining as soon as it is on chain (so that no
    /// reveal can land before the test is ready), waits for the record to say Committed and stops the aggregator and its
    /// prover. Returns the commitment's round start. Mining stays paused: the test resumes it.</summary>
    private static async Task<ulong> CommittedAndStoppedAsync(SenderHarness h, MinerAggregator aggregator, MockProver prover,
        DevAccount us, ulong final)
    {
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(final, us.Address, default)).Exists,
            TimeSpan.FromSeconds(30), "our commitment");
        await h.PauseMiningAsync();

        // The sender records the commitment once its hash tx is confirmed, on a later block: the test mines them, a few at
        // most (the proof window opens T1 blocks after the round start).
        for (var mined = 0; ; mined++)
        {
            try
            {
                await SenderHarness.WaitUntilAsync(async () =>
                        (await aggregator.Store.GetSubmissionAsync(final, default))?.State == SubmissionState.Committed,
                    TimeSpan.FromSeconds(5), "our commitment recorded");
                break;
            }
            catch (TimeoutException) when (mined < 8)
            {
                await h.Chain.MineAsync();
            }
        }

        await h.StopMinerAsync(aggregator);
        await h.StopProverAsync(prover);
        var commitment = await h.Reader.GetCommitmentAsync(final, us.Address, default);
        Assert.False(commitment.Proved);
        Assert.True(await h.Reader.GetBlockNumberAsync(default) < commitment.RoundStart + T1, "the proof window opened before the test was ready");
        return commitment.RoundStart;
    }

    private static async Task AssertRevealedOnceAsync(SenderHarness h, DevAccount us, ulong final, ulong round)
    {
        var commitment = await h.Reader.GetCommitmentAsync(final, us.Address, default);
        Assert.True(commitment.Proved, $"our commitment (round {commitment.RoundStart}) was not revealed: a slash at its round's end");
        Assert.Equal(round, commitment.RoundStart);
        var events = await h.EventsAsync();
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == final && SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == final);
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
    }
}
