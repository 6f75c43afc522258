using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>The paths to a slash found by the sender's review (issue 10, findings 1, 3, 4, 6 and 7), each on a real
/// anvil. Findings 2 and 5 are rules of <see cref="CommitPolicy"/> (unit tests in ZkPow.Aggregator.Tests).</summary>
public abstract class SlashProofTests(StoreKind store)
{
    [Fact]
    public async Task finding1_a_stored_hash_tx_is_not_rebroadcast_after_a_restart_before_the_sender_re_decides_it()
    {
        // The other miner's proof must land in our round (both hashes in one block, a wide proof window).
        const byte t1 = 5, t2 = 20;
        await using var h = await SenderHarness.StartAsync(store, t1, t2);
        var us = h.Chain.Miners[0];
        var other = h.Chain.Miners[1];
        var ours = await h.StartMinerAsync(us, "us");
        var theirs = await h.StartMinerAsync(other, "other");
        var prover = h.AddProver(ours, "us-gpu");
        h.AddProver(theirs, "other-gpu");
        var first = await h.SequenceAsync(1, ours, theirs);
        await h.HashesInOneBlockAsync(first.FinalNewBatch, ours, theirs);

        // We go down right after our hash for the first sequence is on chain; the other miner proves it.
        var round = await h.StopAfterCommitmentAsync(ours, prover, first.FinalNewBatch);
        await h.WaitForVerifiedAsync(first.FinalNewBatch, TimeSpan.FromSeconds(30));

        // A hash tx of ours for the next sequence was signed and stored, and the process stopped before any node saw it.
        var second = await h.SequenceAsync(1);
        await StoreUnsentHashTxAsync(h, us, "us", second);

        // Our first commitment's round ends: it can only be revealed late now, and any hash of ours landing first
        // settles its slash.
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + t1 + t2 + 1, TimeSpan.FromSeconds(20),
            "the round to end");
        ours = await h.StartMinerAsync(us, "us");
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved
                || (await h.EventsAsync()).OfType<SlashedEvent>().Any(e => SenderHarness.Same(e.Prover, us.Address)),
            TimeSpan.FromSeconds(20), "our late reveal (or a slash)");

        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.DoesNotContain(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == second.FinalNewBatch && SenderHarness.Same(e.Prover, us.Address));
        Assert.True((await h.Reader.GetCommitmentAsync(first.FinalNewBatch, us.Address, default)).Proved);
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(ours.Sender.Metrics.HashTxCancels >= 1), TimeSpan.FromSeconds(10), "the cancel");
    }

    [Fact]
    public async Task finding3_a_committed_record_whose_commitment_vanished_in_a_reorg_is_resolved_and_committed_again()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: 12, t2: 24);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "reorg");
        h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        await SenderHarness.WaitUntilAsync(async () =>
                (await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default))?.State == SubmissionState.Committed,
            TimeSpan.FromSeconds(20), "our commitment recorded");
        var metrics = aggregator.Sender.Metrics;
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(metrics is { CommitmentsOpen: 1, CommitmentBlocksLeft: > 0 and <= 36 }),
            TimeSpan.FromSeconds(10), "the open commitment exported");

        // A reorg replaces the blocks from our hash on; the nonce of the hash tx is taken by another tx of ours.
        await h.PauseMiningAsync();
        var commit = (await h.EventsAsync()).OfType<SubmitProofHashEvent>().Single(e => SenderHarness.Same(e.Prover, us.Address));
        var head = await h.Chain.GetBlockNumberAsync();
        var noop = new JsonObject { ["from"] = us.Address, ["to"] = us.Address, ["value"] = "0x0", ["gas"] = "0x5208" };
        await h.Chain.Rpc.CallAsync("anvil_reorg", [head - commit.BlockNumber + 1, new JsonArray(new JsonArray(noop, 0))], default);
        h.MiningPaused = false;
        Assert.False((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Exists);

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(40));
        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.True((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(metrics is { CommitmentsOpen: 0, CommitmentBlocksLeft: null }),
            TimeSpan.FromSeconds(10), "no open commitment exported");
    }

    [Fact]
    public async Task finding7_a_reveal_that_a_reorg_takes_away_after_it_is_recorded_is_sent_again_and_the_sequence_is_verified()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: 12, t2: 24);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "reveal-reorg");
        h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        await SenderHarness.WaitUntilAsync(async () =>
                (await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(40), "our reveal recorded");

        // A reorg deeper than the confirmation depth replaces the blocks from our reveal on; the reveal's nonce is taken by
        // another tx of ours, so the reveal cannot come back by itself.
        await h.PauseMiningAsync();
        var reveal = (await h.EventsAsync()).OfType<VerifyBatchesEvent>().Single(e => SenderHarness.Same(e.Aggregator, us.Address));
        var head = await h.Chain.GetBlockNumberAsync();
        var noop = new JsonObject { ["from"] = us.Address, ["to"] = us.Address, ["value"] = "0x0", ["gas"] = "0x5208" };
        await h.Chain.Rpc.CallAsync("anvil_reorg", [head - reveal.BlockNumber + 1, new JsonArray(new JsonArray(noop, 0))], default);
        h.MiningPaused = false;
        Assert.False((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(60));
        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.True((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);
        await SenderHarness.WaitUntilAsync(async () =>
                (await aggregator.Store.GetSubmissionAsync(sequence.FinalNewBatch, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(20), "the new reveal recorded");
    }

    [Fact]
    public async Task finding4_a_resend_record_whose_commitment_is_live_is_revealed_not_committed_again_and_slashed()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: 12, t2: 24);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "resend");
        var prover = h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        var round = await h.StopAfterCommitmentAsync(aggregator, prover, sequence.FinalNewBatch);
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 12, TimeSpan.FromSeconds(15),
            "the hash window to close");

        // A transient read (a lagging node) sent the sequence to Resend: the record no longer knows its commitment.
        await h.ExecuteAsync("resend", $"""
            UPDATE submissions SET state = {(int)SubmissionState.Resend}, hash_attempt = hash_attempt + 1, proof_attempt = proof_attempt + 1,
                round_start = NULL, proof_hash = NULL, last_error = 'a lagging node said the round had expired'
            WHERE final_batch = {sequence.FinalNewBatch};
            """);
        aggregator = await h.StartMinerAsync(us, "resend");

        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(40));
        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.True((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);
    }

    [Fact]
    public async Task finding6_a_committed_proof_overwritten_by_a_new_proof_of_the_sequence_is_still_the_one_revealed()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: 12, t2: 24);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "reproved");
        var prover = h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        await h.StopAfterCommitmentAsync(aggregator, prover, sequence.FinalNewBatch);

        // The sequence was proved again (say after a deep reorg seen by the rollup sync): the stored final proof differs
        // from the committed one.
        await h.ExecuteAsync("reproved", $"UPDATE final_proofs SET proof = proof || '00' WHERE final_batch = {sequence.FinalNewBatch};");
        aggregator = await h.StartMinerAsync(us, "reproved");

        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved
                || (await h.EventsAsync()).OfType<SlashedEvent>().Any(e => SenderHarness.Same(e.Prover, us.Address)),
            TimeSpan.FromSeconds(30), "our reveal (or a slash)");
        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.True((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, us.Address, default)).Proved);
        Assert.Single(events.OfType<RewardPaidEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
    }

    [Fact]
    public async Task finding7_a_reveal_refused_because_our_commitment_was_slashed_is_recorded_as_slashed_not_revealed()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var a = h.Chain.Miners[0];
        var b = h.Chain.Miners[1];
        var aggA = await h.StartMinerAsync(a, "a");
        var aggB = await h.StartMinerAsync(b, "b");
        h.AddProver(aggA, "a-gpu");
        h.AddProver(aggB, "b-gpu");
        var sequence = await h.SequenceAsync(1, aggA, aggB);
        await h.HashesInOneBlockAsync(sequence.FinalNewBatch, aggA, aggB); // A proves the sequence in B's round

        // B is down from right after its hash until past the round's end, and the admin settles B's overdue commitment.
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, b.Address, default)).Exists,
            TimeSpan.FromSeconds(20), "B's commitment");
        await h.StopMinerAsync(aggB);
        var round = (await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, b.Address, default)).RoundStart;
        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(20));
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 16, TimeSpan.FromSeconds(15),
            "the round to end");
        Assert.True((await h.Chain.SendAsync(h.Chain.Admin, h.Chain.Contracts.Rollup, RollupCalls.Settle(b.Address))).Succeeded);
        Assert.Single((await h.EventsAsync()).OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, b.Address));

        aggB = await h.StartMinerAsync(b, "b");
        SubmissionRecord? record = null;
        await SenderHarness.WaitUntilAsync(async () =>
            {
                record = await aggB.Store.GetSubmissionAsync(sequence.FinalNewBatch, default);
                return record is { State: SubmissionState.Revealed or SubmissionState.Slashed or SubmissionState.Lost or SubmissionState.Parked };
            }, TimeSpan.FromSeconds(20), "B's submission to end");
        Assert.Equal(SubmissionState.Slashed, record!.State);
        Assert.Equal(1, aggB.Sender.Metrics.CommitmentsSlashed);
        Assert.False((await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, b.Address, default)).Proved);
    }

    [Fact]
    public async Task a_sequence_nobody_verified_is_committed_again_after_our_commitment_to_it_was_slashed()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var a = h.Chain.Miners[0];
        var aggA = await h.StartMinerAsync(a, "a");
        var prover = h.AddProver(aggA, "a-gpu");
        var sequence = await h.SequenceAsync(1, aggA);

        // A is down from right after its hash until past the round's end, and the admin settles A's overdue commitment:
        // no one has verified the sequence, so the rollup cannot go on unless A proves it in a new round.
        var round = await h.StopAfterCommitmentAsync(aggA, prover, sequence.FinalNewBatch);
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 16, TimeSpan.FromSeconds(30),
            "the round to end");
        Assert.True((await h.Chain.SendAsync(h.Chain.Admin, h.Chain.Contracts.Rollup, RollupCalls.Settle(a.Address))).Succeeded);
        Assert.Single((await h.EventsAsync()).OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, a.Address));
        Assert.Equal(0UL, await h.Reader.GetLastVerifiedBatchAsync(default));

        aggA = await h.StartMinerAsync(a, "a");
        h.AddProver(aggA, "a-gpu");
        await h.WaitForVerifiedAsync(sequence.FinalNewBatch, TimeSpan.FromSeconds(60));

        var commitment = await h.Reader.GetCommitmentAsync(sequence.FinalNewBatch, a.Address, default);
        Assert.True(commitment.Proved);
        Assert.True(commitment.RoundStart > round);
        Assert.Single((await h.EventsAsync()).OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, a.Address));
        SubmissionRecord? record = null;
        await SenderHarness.WaitUntilAsync(async () =>
            {
                record = await aggA.Store.GetSubmissionAsync(sequence.FinalNewBatch, default);
                return record is { IsTerminal: true };
            }, TimeSpan.FromSeconds(30), "A's submission to end");
        Assert.Equal(SubmissionState.Revealed, record!.State);
        Assert.Equal(1, record.HashAttempt);
    }

    /// <summary>Signs and stores <c>submitProofHash</c> for <paramref name="sequence"/> in the miner's store without
    /// broadcasting it, as a process killed between the two would leave it.</summary>
    [Fact]
    public async Task a_hash_tx_mined_just_before_a_stop_the_store_did_not_see_is_adopted_once_and_not_cancelled()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "mined");
        var prover = h.AddProver(aggregator, "gpu");
        var sequence = await h.SequenceAsync(1, aggregator);
        var final = sequence.FinalNewBatch;
        var round = await h.StopAfterCommitmentAsync(aggregator, prover, final);

        // As if the process had stopped right after handing the hash tx to the tx manager: the tx is stored as sent and
        // the record is still Queued; on chain the tx is mined and the commitment is live. The restarted tx manager must
        // not find the receipt before the sender re-decides the held tx (as behind a node that has not indexed it yet):
        // the stored tx hash is one no node knows.
        var hashKey = TxRequest.KeyFor("submitProofHash", final, 0);
        var unknown = "0x" + new string('7', 64);
        await h.ExecuteAsync("mined", $"""
            UPDATE txs SET state = {(int)TxState.Sent}, block_number = NULL, block_hash = NULL, succeeded = NULL, tx_hash = '{unknown}'
            WHERE idem_key = '{hashKey}';
            """);
        await h.ExecuteAsync("mined", $"""
            UPDATE tx_versions SET tx_hash = '{unknown}' WHERE tx_id = (SELECT id FROM txs WHERE idem_key = '{hashKey}');
            """);
        await h.ExecuteAsync("mined", $"""
            UPDATE submissions SET state = {(int)SubmissionState.Queued}, proof_hash = NULL, round_start = NULL, proof_attempt = 0
            WHERE final_batch = {final};
            """);

        // The hash window is closed when the restarted sender re-decides the tx (the reveal window is open).
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 6, TimeSpan.FromSeconds(15),
            "the hash window to close");
        aggregator = await h.StartMinerAsync(us, "mined");
        h.AddProver(aggregator, "gpu");
        await h.WaitForVerifiedAsync(final, TimeSpan.FromSeconds(40));
        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(final, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(20), "our reveal recorded");

        // One adoption (the reveal goes out under attempt 1, the first key the restarted run could use), the mined hash
        // tx kept as it is (no cancel), one hash and one reveal on chain, nothing slashed.
        var record = (await aggregator.Store.GetSubmissionAsync(final, default))!;
        Assert.Equal(1, record.ProofAttempt);
        Assert.Equal(0, record.HashAttempt);
        Assert.NotNull(await aggregator.Store.GetTxAsync(TxRequest.KeyFor("verifyBatches", final, 1), default));
        Assert.Null(await aggregator.Store.GetTxAsync(TxRequest.KeyFor("verifyBatches", final, 2), default));
        Assert.Equal("submitProofHash", (await aggregator.Store.GetTxAsync(hashKey, default))!.Kind);
        Assert.Equal(0, aggregator.Sender.Metrics.HashTxCancels);
        var events = await h.EventsAsync();
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == final && SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == final);
        Assert.Empty(events.OfType<SlashedEvent>());
    }

    [Fact]
    public async Task a_held_hash_tx_whose_original_beats_its_cancel_is_adopted_and_revealed_while_the_policy_waits_for_its_predecessor()
    {
        await using var h = await SenderHarness.StartAsync(store, t1: 12, t2: 24);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "beaten", confirmations: 3);
        var prover = h.AddProver(aggregator, "gpu");
        var first = await h.SequenceAsync(1);
        var second = await h.SequenceAsync(1);
        var final = second.FinalNewBatch;
        var firstKey = TxRequest.KeyFor("submitProofHash", first.FinalNewBatch, 0);
        var hashKey = TxRequest.KeyFor("submitProofHash", final, 0);

        // Blocks are mined by the test from here. Our hash for the first sequence is mined; the second is committed ahead
        // of it (the first is ours and due in time) and reaches the node, not a block.
        await h.PauseMiningAsync();
        await SenderHarness.AddToAsync(aggregator, first);
        await SenderHarness.AddToAsync(aggregator, second);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(firstKey, default) is { State: TxState.Sent },
            TimeSpan.FromSeconds(60), "our first hash tx sent");
        await h.Chain.MineAsync();
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { State: TxState.Sent },
            TimeSpan.FromSeconds(60), "our second hash tx sent (committed ahead)");
        var original = (await aggregator.Store.GetTxAsync(hashKey, default))!;

        // A restart with commit-ahead turned off: the held hash tx of the second sequence is re-decided, the policy now
        // waits for its predecessor (unverified), so it is cancelled and the record goes back to Queued.
        await h.StopMinerAsync(aggregator);
        await h.StopProverAsync(prover);
        aggregator = await h.StartMinerAsync(us, "beaten", o => o.CommitAhead = false, confirmations: 3);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { Kind: TxRequest.CancelKind },
            TimeSpan.FromSeconds(30), "our held hash tx cancelled");
        Assert.Equal(SubmissionState.Queued, (await aggregator.Store.GetSubmissionAsync(final, default))!.State);
        var cancel = (await aggregator.Store.GetTxAsync(hashKey, default))!.TxHash;
        await SenderHarness.WaitUntilAsync(async () => (await h.Chain.Rpc.CallAsync("eth_getTransactionByHash", [cancel], default)).ValueKind == JsonValueKind.Object,
            TimeSpan.FromSeconds(30), "the cancel at the node");
        await h.Chain.MineAsync();
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { Kind: TxRequest.CancelKind, State: TxState.Mined },
            TimeSpan.FromSeconds(30), "the cancel mined");

        // The original beats the cancel (another node had it): our commitment is live on chain, in a round of its own.
        await h.Chain.Rpc.CallAsync("anvil_reorg", [1, new JsonArray(new JsonArray(HexData.Encode(original.RawTx!), 0))], default);
        var live = await h.Reader.GetCommitmentAsync(final, us.Address, default);
        Assert.True(live.Exists);

        // Confirmed at depth, and still in its hash window (the predecessor can only be revealed from its own proof window
        // on, 12 blocks after its hash): the policy keeps the record waiting, so no commit attempt would find the
        // commitment. It is adopted at once all the same.
        await h.Chain.MineAsync(2);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetSubmissionAsync(final, default) is { State: SubmissionState.Committed } r &&
                r.RoundStart == live.RoundStart,
            TimeSpan.FromSeconds(30), $"the live commitment (round {live.RoundStart}) adopted while the policy waits for the predecessor");
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetTxAsync(hashKey, default) is { Kind: "submitProofHash", State: TxState.Confirmed },
            TimeSpan.FromSeconds(30), "the tx recorded as the original that was mined");
        h.MiningPaused = false;

        // The predecessor is revealed, then ours in its round: verified, nothing slashed.
        await h.WaitForVerifiedAsync(final, TimeSpan.FromSeconds(90));
        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(final, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(30), "our reveal recorded");
        var commitment = await h.Reader.GetCommitmentAsync(final, us.Address, default);
        Assert.True(commitment.Proved, $"our commitment (round {commitment.RoundStart}) was not revealed: a slash at its round's end");
        Assert.Equal(live.RoundStart, commitment.RoundStart);
        var events = await h.EventsAsync();
        Assert.Single(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == final && SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == final);
        Assert.Empty(events.OfType<SlashedEvent>());
    }

    [Fact]
    public async Task a_reveal_slashed_as_wrong_is_proved_and_committed_again_under_fresh_keys_and_the_sequence_gets_verified()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var rollup = h.Chain.Contracts.Rollup;
        var aggregator = await h.StartMinerAsync(us, "wrong");
        h.AddProver(aggregator, "gpu");

        // The storage slot of the rollup's genesis state root (batchNumToStateRoot[0]).
        var (slot, genesis) = await h.GenesisStateRootSlotAsync();
        var sequence = await h.SequenceAsync(1, aggregator);
        var final = sequence.FinalNewBatch;

        // Our hash lands (its proof checked against the chain); then, before the reveal, the root the proof starts from
        // changes on chain: the reveal no longer verifies and is slashed as wrong. The root is put back after the slash.
        await SenderHarness.WaitUntilAsync(async () => (await h.Reader.GetCommitmentAsync(final, us.Address, default)).Exists,
            TimeSpan.FromSeconds(20), "our commitment");
        await h.PauseMiningAsync();
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [rollup, slot, "0x" + new string('1', 64)], default);
        h.MiningPaused = false;
        await SenderHarness.WaitUntilAsync(async () => (await h.EventsAsync()).OfType<SlashedEvent>()
                .Any(e => SenderHarness.Same(e.Prover, us.Address) && e.FinalNewBatch == final && e.Reason == 1),
            TimeSpan.FromSeconds(30), "our reveal slashed as wrong");
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [rollup, slot, genesis], default);

        // Proved again, committed in a later round under a new hash key, revealed under a new reveal key: verified.
        await h.WaitForVerifiedAsync(final, TimeSpan.FromSeconds(60));
        await SenderHarness.WaitUntilAsync(async () => (await aggregator.Store.GetSubmissionAsync(final, default))?.State == SubmissionState.Revealed,
            TimeSpan.FromSeconds(20), "our reveal recorded");
        var events = await h.EventsAsync();
        Assert.Equal(2, events.OfType<SubmitProofHashEvent>().Count(e => e.FinalNewBatch == final && SenderHarness.Same(e.Prover, us.Address)));
        Assert.Single(events.OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, us.Address));
        Assert.Single(events.OfType<VerifyBatchesEvent>(), e => e.NumBatch == final);
        Assert.True((await h.Reader.GetCommitmentAsync(final, us.Address, default)).Proved);
        var record = (await aggregator.Store.GetSubmissionAsync(final, default))!;
        Assert.True(record.HashAttempt >= 1, $"hash attempt {record.HashAttempt}");
        Assert.Equal("submitProofHash", (await aggregator.Store.GetTxAsync(record.HashTxKey, default))!.Kind);
    }

    [Fact]
    public async Task no_hash_is_committed_ahead_of_a_predecessor_whose_commitment_of_ours_is_parked()
    {
        await using var h = await SenderHarness.StartAsync(store);
        var us = h.Chain.Miners[0];
        var aggregator = await h.StartMinerAsync(us, "ahead");
        var prover = h.AddProver(aggregator, "gpu");
        var first = await h.SequenceAsync(1, aggregator);
        var round = await h.StopAfterCommitmentAsync(aggregator, prover, first.FinalNewBatch);

        // An operator parked the first sequence while our commitment to it was live: we will not reveal it. The next
        // sequence must not be committed ahead on the strength of that commitment (it would expire unverified: a
        // second slash).
        await h.ExecuteAsync("ahead", $"""
            UPDATE submissions SET state = {(int)SubmissionState.Parked}, parked_reason = 'parked by the test' WHERE final_batch = {first.FinalNewBatch};
            """);
        aggregator = await h.StartMinerAsync(us, "ahead");
        h.AddProver(aggregator, "gpu");
        var second = await h.SequenceAsync(1, aggregator);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetFinalProofAsync(second.FinalNewBatch, default) is not null,
            TimeSpan.FromSeconds(20), "the second sequence proved");
        await SenderHarness.WaitUntilAsync(async () => await h.Reader.GetBlockNumberAsync(default) > round + 16, TimeSpan.FromSeconds(20),
            "the first sequence's round to end");

        var events = await h.EventsAsync();
        Assert.DoesNotContain(events.OfType<SubmitProofHashEvent>(), e => e.FinalNewBatch == second.FinalNewBatch);
        Assert.True((await aggregator.Store.GetSubmissionAsync(second.FinalNewBatch, default))?.State is null or SubmissionState.Queued);
    }

    private static async Task StoreUnsentHashTxAsync(SenderHarness h, DevAccount miner, string storeName, DevnetSequence sequence)
    {
        var store = await h.OpenStoreAsync(storeName);
        await using (store)
        {
            using var rpc = new EthRpcClient(h.Chain.RpcUrl, TimeSpan.FromSeconds(5));
            var manager = new TxManager(store, rpc, TxKey.FromDevKey(miner.PrivateKey), new TxManagerOptions { Confirmations = 1 },
                NullLogger<TxManager>.Instance, TimeProvider.System);
            await using (manager)
            {
                await manager.StartAsync(runLoop: false, default);
                var hash = ProofHash.Compute(Abi.Keccak("a proof we no longer hold"u8), miner.Address);
                var request = new TxRequest(TxRequest.KeyFor("submitProofHash", sequence.FinalNewBatch, 0), "submitProofHash", h.Chain.Contracts.Rollup,
                    RollupCalls.SubmitProofHash(sequence.InitNumBatch, sequence.FinalNewBatch, hash));
                var submission = await manager.SubmitWithoutBroadcastAsync(request, default);
                Assert.True(submission.Accepted);
                Assert.Equal(TxState.Signed, (await manager.GetAsync(request.Key, default))!.State);
            }
        }
    }
}
