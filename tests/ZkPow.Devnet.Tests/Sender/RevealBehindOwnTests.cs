using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Sender;

/// <summary>A reveal whose predecessor is being verified by our own reveal, still in flight, goes right behind it. On a
/// real anvil whose blocks the test mines itself (the pump held still), on SQLite (what matters is the chain and the
/// nonce order, not the store).</summary>
public sealed class RevealBehindOwnTests
{
    private const byte T1 = 5;
    private const byte T2 = 10;

    [Fact]
    public async Task a_reveal_goes_right_behind_our_own_reveal_of_its_predecessor_and_lands_in_the_same_block()
    {
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, T1, T2);
        var (aggregator, first, second, windowStart) = await TwoCommitmentsInOneRoundAsync(h);

        // The window opens: our reveal of the first goes out, and, with the first still in the pool, the second's too.
        await h.Chain.MineAsync();
        Assert.Equal(windowStart, await h.Chain.GetBlockNumberAsync());
        await BothRevealsSentAsync(aggregator, first, second, "while the first is not mined");

        await h.Chain.MineAsync();
        var verified = (await h.EventsAsync()).OfType<VerifyBatchesEvent>().ToList();
        var ofFirst = Assert.Single(verified, e => e.NumBatch == first);
        var ofSecond = Assert.Single(verified, e => e.NumBatch == second);
        Assert.Equal(windowStart + 1, ofFirst.BlockNumber);
        Assert.Equal(ofFirst.BlockNumber, ofSecond.BlockNumber);
        Assert.True(ofFirst.LogIndex < ofSecond.LogIndex);
        Assert.True(SenderHarness.Same(ofSecond.Aggregator, aggregator.Miner));

        // Recorded as revealed, with no failed or refused reveal and no slash.
        h.MiningPaused = false;
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetSubmissionAsync(second, default) is { State: SubmissionState.Revealed },
            TimeSpan.FromSeconds(30), "the second recorded as revealed");
        Assert.Equal(0, aggregator.Sender.Metrics.Count("proof", "failed") + aggregator.Sender.Metrics.Count("proof", "rejected"));
        Assert.DoesNotContain((await h.EventsAsync()).OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, aggregator.Miner));
    }

    [Fact]
    public async Task a_reveal_behind_ours_that_reverts_because_ours_failed_is_sent_again_once_the_predecessor_is_verified()
    {
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, T1, T2);
        var (slot, genesis) = await h.GenesisStateRootSlotAsync();
        var (aggregator, first, second, windowStart) = await TwoCommitmentsInOneRoundAsync(h);
        await h.Chain.MineAsync();
        Assert.Equal(windowStart, await h.Chain.GetBlockNumberAsync());
        await BothRevealsSentAsync(aggregator, first, second, "while the first is not mined");

        // Both reveals are in the pool when the root the first proof starts from reads as zero: the first reverts
        // (OldStateRootDoesNotExist), and the second behind it (its predecessor not verified).
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [h.Chain.Contracts.Rollup, slot, "0x" + new string('0', 64)], default);
        await h.Chain.MineAsync();
        Assert.Empty((await h.EventsAsync()).OfType<VerifyBatchesEvent>());
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("proof", "failed") >= 2), TimeSpan.FromSeconds(30),
            "both reverts seen");

        // The root is back: both are revealed inside their window, the second after the first, and nobody is slashed.
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [h.Chain.Contracts.Rollup, slot, genesis], default);
        h.MiningPaused = false;
        await h.WaitForVerifiedAsync(second, TimeSpan.FromSeconds(30));
        var verified = (await h.EventsAsync()).OfType<VerifyBatchesEvent>().ToList();
        var ofFirst = Assert.Single(verified, e => e.NumBatch == first);
        var ofSecond = Assert.Single(verified, e => e.NumBatch == second);
        Assert.True(SenderHarness.Same(ofFirst.Aggregator, aggregator.Miner) && SenderHarness.Same(ofSecond.Aggregator, aggregator.Miner));
        Assert.InRange(ofSecond.BlockNumber, ofFirst.BlockNumber, windowStart + T2);
        await SenderHarness.WaitUntilAsync(async () => await aggregator.Store.GetSubmissionAsync(second, default) is { State: SubmissionState.Revealed },
            TimeSpan.FromSeconds(30), "the second recorded as revealed");
        Assert.DoesNotContain((await h.EventsAsync()).OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, aggregator.Miner));
    }

    [Fact]
    public async Task a_block_and_a_reveal_of_ours_that_come_while_a_pass_of_the_monitor_runs_wake_the_next_pass()
    {
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, T1, T2);
        var (aggregator, first, second, windowStart) = await TwoCommitmentsInOneRoundAsync(h);

        // A pass at the block before the windows open is held while the block that opens them is mined and seen; the
        // chain then holds still, so no later block wakes the monitor. Once released, the pass after it reveals the
        // first, and the reveal sent (while that pass may still run) lets the second go right behind it.
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        aggregator.Sender.AfterMonitorPass = async () =>
        {
            if (aggregator.Sender.FollowedHead < windowStart && held.TrySetResult())
            {
                await release.Task;
            }
        };
        aggregator.Sender.MonitPHTxCache.Nudge();
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await h.Chain.MineAsync();
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.FollowedHead == windowStart), TimeSpan.FromSeconds(30),
            "the block follower at the window's start");
        release.SetResult();

        await BothRevealsSentAsync(aggregator, first, second, "with the chain held at the window's start");
        Assert.Equal(windowStart, await h.Chain.GetBlockNumberAsync());
    }

    [Fact]
    public async Task a_reveal_does_not_go_behind_ours_of_its_predecessor_when_the_one_above_that_was_mined_reverted()
    {
        await using var h = await SenderHarness.StartAsync(StoreKind.Sqlite, T1, T2);
        var (slot, genesis) = await h.GenesisStateRootSlotAsync();
        var (aggregator, finals, windowStart) = await CommitmentsAsync(h, 3, openedLater: 1);
        var (first, second, third) = (finals[0], finals[1], finals[2]);
        await h.Chain.MineAsync();
        await BothRevealsSentAsync(aggregator, first, second, "while the first is not mined");

        // The monitor is held at the end of a pass while, in the next block (where the third's window opens), the first's
        // reveal is mined reverted (the root it starts from reads as zero) and the second's, behind it, does not fit (the
        // block gas limit leaves room for one reveal).
        var passes = 0;
        var hold = true;
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        aggregator.Sender.AfterMonitorPass = async () =>
        {
            Interlocked.Increment(ref passes);
            if (Volatile.Read(ref hold) && held.TrySetResult())
            {
                await release.Task;
            }
        };
        aggregator.Sender.MonitPHTxCache.Nudge();
        await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var revealLimit = (await aggregator.Store.GetTxAsync((await aggregator.Store.GetSubmissionAsync(first, default))!.ProofTxKey, default))!.GasLimit;
        var blockLimit = (await h.Chain.Rpc.CallAsync("eth_getBlockByNumber", ["latest", false], default)).GetProperty("gasLimit").GetString()!;
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [h.Chain.Contracts.Rollup, slot, "0x" + new string('0', 64)], default);
        await h.Chain.Rpc.CallAsync("anvil_setBlockGasLimit", [HexData.Quantity(revealLimit + 1_000)], default);
        await h.Chain.MineAsync();
        Assert.Equal(windowStart + 1, await h.Chain.GetBlockNumberAsync());
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("proof", "failed") >= 1), TimeSpan.FromSeconds(30),
            "the first's revert seen");
        await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.FollowedHead == windowStart + 1), TimeSpan.FromSeconds(30),
            "the block follower at the third's window");
        var secondTx = await aggregator.Store.GetTxAsync((await aggregator.Store.GetSubmissionAsync(second, default))!.ProofTxKey, default);
        Assert.True(secondTx is { State: TxState.Sent or TxState.Signed }, $"the second's reveal is still in the pool: {secondTx?.State}");

        // Two whole passes at this head: the third's predecessor is being verified by our reveal in flight, but that one
        // is bound to revert (the first's failed), so the third does not go behind it.
        Volatile.Write(ref hold, false);
        release.SetResult();
        for (var i = 0; i < 2; i++)
        {
            var before = Volatile.Read(ref passes);
            aggregator.Sender.MonitPHTxCache.Nudge();
            await SenderHarness.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref passes) > before), TimeSpan.FromSeconds(30), "a pass of the monitor");
        }

        Assert.Equal(2, aggregator.Sender.Metrics.Count("proof", "sent"));
        Assert.Null((await aggregator.Store.GetSubmissionAsync(third, default))!.ProofTxKey is { } key ? await aggregator.Store.GetTxAsync(key, default) : null);

        // All back as it was: the three are verified, and nobody of ours is slashed.
        await h.Chain.Rpc.CallAsync("anvil_setStorageAt", [h.Chain.Contracts.Rollup, slot, genesis], default);
        await h.Chain.Rpc.CallAsync("anvil_setBlockGasLimit", [blockLimit], default);
        h.MiningPaused = false;
        await h.WaitForVerifiedAsync(third, TimeSpan.FromSeconds(60));
        Assert.DoesNotContain((await h.EventsAsync()).OfType<SlashedEvent>(), e => SenderHarness.Same(e.Prover, aggregator.Miner));
    }

    /// <summary>Waits for both reveals sent; on a timeout, says where the two sequences stand.</summary>
    private static async Task BothRevealsSentAsync(MinerAggregator aggregator, ulong first, ulong second, string when)
    {
        try
        {
            await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("proof", "sent") >= 2), TimeSpan.FromSeconds(30),
                $"both reveals sent {when}");
        }
        catch (TimeoutException e)
        {
            var watched = aggregator.Sender.MonitPHTxCache.Snapshot().Select(i => $"{i.Key}: hash tx done {i.Value.HashTx?.Completion.IsCompleted}");
            throw new TimeoutException($"{e.Message}; sent {aggregator.Sender.Metrics.Count("proof", "sent")}, head seen {aggregator.Sender.FollowedHead}, " +
                $"{first}: {(await aggregator.Store.GetSubmissionAsync(first, default))?.State}, {second}: {(await aggregator.Store.GetSubmissionAsync(second, default))?.State}, " +
                $"watched [{string.Join("; ", watched)}]", e);
        }
    }

    /// <summary>
    /// Two one-batch sequences whose rounds start in the same block (another miner opens both), committed by our
    /// aggregator; returns with the pump held still at the block before their proof windows open, neither revealed.
    /// </summary>
    private static async Task<(MinerAggregator Aggregator, ulong First, ulong Second, ulong WindowStart)> TwoCommitmentsInOneRoundAsync(SenderHarness h)
    {
        var (aggregator, finals, windowStart) = await CommitmentsAsync(h, 2, openedLater: 0);
        return (aggregator, finals[0], finals[1], windowStart);
    }

    /// <summary>
    /// <paramref name="count"/> one-batch sequences, committed by our aggregator, whose rounds another miner opens: all in
    /// one block but the last <paramref name="openedLater"/>, opened in the block after it. Returns with the pump held
    /// still at the block before the proof windows of the first rounds open (the others open a block later), none revealed.
    /// </summary>
    private static async Task<(MinerAggregator Aggregator, ulong[] Finals, ulong WindowStart)> CommitmentsAsync(SenderHarness h, int count, int openedLater)
    {
        var us = h.Chain.Miners[0];
        var other = h.Chain.Miners[1];
        var aggregator = await h.StartMinerAsync(us, "us");
        var sequences = new List<DevnetSequence>();
        for (var i = 0; i < count; i++)
        {
            sequences.Add(await h.SequenceAsync(1, aggregator));
        }

        // No prover yet: the other miner opens the rounds.
        await h.PauseMiningAsync();
        var opens = new List<string>();
        async Task OpenAsync(IEnumerable<DevnetSequence> which)
        {
            foreach (var sequence in which)
            {
                opens.Add(await h.Chain.SendTransactionAsync(other, h.Chain.Contracts.Rollup,
                    RollupCalls.SubmitProofHash(sequence.InitNumBatch, sequence.FinalNewBatch, Abi.Keccak([(byte)sequence.FinalNewBatch])),
                    gas: 300_000));
            }
        }

        await OpenAsync(sequences.Take(count - openedLater));
        await h.Chain.MineAsync();
        var round = (await h.Reader.GetSequenceAsync(sequences[0].FinalNewBatch, default)).RoundStart;

        // Our commitments one by one, each once the one before is on chain (the commit policy wants it there); the later
        // rounds are opened in the block of our first.
        h.AddProver(aggregator, "gpu");
        for (var i = 0; i < count; i++)
        {
            var sent = i + 1;
            await SenderHarness.WaitUntilAsync(() => Task.FromResult(aggregator.Sender.Metrics.Count("hash", "sent") >= sent), TimeSpan.FromSeconds(30),
                $"our hash {sent} sent");
            if (i == 0)
            {
                await OpenAsync(sequences.Skip(count - openedLater));
            }

            await h.Chain.MineAsync();
        }

        foreach (var hash in opens)
        {
            Assert.True((await h.Chain.WaitForReceiptAsync(hash)).Succeeded);
        }

        for (var i = 0; i < count; i++)
        {
            var expected = round + (i < count - openedLater ? 0UL : 1UL);
            Assert.Equal(expected, (await h.Reader.GetSequenceAsync(sequences[i].FinalNewBatch, default)).RoundStart);
            var ours = await h.Reader.GetCommitmentAsync(sequences[i].FinalNewBatch, us.Address, default);
            Assert.True(ours is { Exists: true, Proved: false } && ours.RoundStart == expected, $"our commitment to {sequences[i].FinalNewBatch}: {ours}");
        }

        var windowStart = round + T1;
        Assert.True(await h.Chain.GetBlockNumberAsync() < windowStart, "the proof windows opened before the test could hold the chain");
        await h.Chain.MineToAsync(windowStart - 1);
        Assert.Equal(0, aggregator.Sender.Metrics.Count("proof", "sent"));
        return (aggregator, [.. sequences.Select(sq => sq.FinalNewBatch)], windowStart);
    }
}
