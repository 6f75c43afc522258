using System.Text.Json.Nodes;
using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>The node misbehaves: it drops a transaction, leaves one pending, reorgs one away, or is unreachable.</summary>
public abstract class TxManagerFaultTests(ChainFixture fixture, StoreKind store) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private DevChain _chain = null!;

    public async Task InitializeAsync() => _chain = await fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private TxRequest Settle(string key, DevAccount account) => TxHarness.Settle(key, account, _chain.Contracts.Rollup);

    [Fact]
    public async Task a_key_submitted_again_as_the_loop_finishes_it_ends_with_the_final_record()
    {
        var account = _chain.ExtraAccounts[0];
        var sink = _chain.ExtraAccounts[1].Address;
        await _chain.SetAutomineAsync(false);
        HeldCreateStore control = null!;
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, account, store: store, wrap: inner =>
        {
            (var wrapped, control) = HeldCreateStore.Wrap(inner);
            return wrapped;
        });
        var first = await h.Manager.SubmitAsync(TxHarness.Transfer("again/1", sink, 1), default);
        await h.WaitForStateAsync(first.Handle, TxState.Sent);

        // Submitted again (as a restarted owner does): the store reads the record while it is pending, and the
        // submission gets it only after the loop has confirmed it and dropped its tracker.
        control.Hold = first.Handle.Completion;
        var again = h.Manager.SubmitAsync(TxHarness.Transfer("again/1", sink, 1), default);
        await _chain.MineAsync();
        var confirmed = await first.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        var record = await (await again.WaitAsync(TimeSpan.FromSeconds(10))).Handle.Completion.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(TxState.Sent, Assert.Single(control.HeldReads).State);
        Assert.Equal((TxState.Confirmed, confirmed.TxHash, confirmed.Id), (record.State, record.TxHash, record.Id));
        Assert.Null(h.Manager.OldestInFlightSince);
    }

    [Fact]
    public async Task a_dropped_transaction_is_broadcast_again()
    {
        var miner = _chain.Miners[0];
        await _chain.SetAutomineAsync(false);
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);
        var submission = await h.Manager.SubmitAsync(Settle("settle/1/0", miner), default);
        await h.WaitForStateAsync(submission.Handle, TxState.Sent);
        var hash = (await h.RecordAsync(submission.Handle)).TxHash!;
        Assert.NotNull(await ChainRpc.TransactionAsync(_chain, hash));

        // Not asserted gone here: the manager's loop may look and broadcast it again before this test could. Its
        // rebroadcast count says it found the transaction missing.
        await _chain.Rpc.CallAsync("anvil_dropTransaction", [hash], default);

        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(submission.Handle)).Rebroadcasts >= 1, TimeSpan.FromSeconds(5), "a rebroadcast");
        Assert.NotNull(await ChainRpc.TransactionAsync(_chain, hash));
        await _chain.MineAsync();
        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((TxState.Confirmed, hash, 0), (record.State, record.TxHash, record.Replacements));
    }

    [Fact]
    public async Task the_next_nonce_lost_by_the_node_is_broadcast_again_long_before_it_counts_as_stuck_and_the_ones_behind_it_follow()
    {
        var miner = _chain.ExtraAccounts[1];
        await _chain.SetAutomineAsync(false);
        var options = TxHarness.FastOptions();
        options.StuckAfter = TimeSpan.FromSeconds(120); // Nothing here may wait for that.
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, options, store: store);
        var sink = _chain.ExtraAccounts[0].Address;
        var first = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 1), default);
        var second = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/2/0", sink, 2), default);
        await h.WaitForStateAsync(first.Handle, TxState.Sent);
        await h.WaitForStateAsync(second.Handle, TxState.Sent);
        var lost = await h.RecordAsync(first.Handle);

        // The node loses the next nonce (as when the block it was mined in is reorganised away before its receipt is
        // seen): anvil drops the later nonce with it. Every later transaction of the account waits behind it.
        // (Not asserted gone: the loop may broadcast it again before this test could look; the rebroadcast count tells.)
        await _chain.Rpc.CallAsync("anvil_dropTransaction", [lost.TxHash!], default);

        await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, lost.TxHash!) is not null, TimeSpan.FromSeconds(30),
            "the next nonce back at the node");
        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(first.Handle)).Rebroadcasts >= 1, TimeSpan.FromSeconds(30),
            "the rebroadcast recorded");
        await _chain.MineAsync();
        await first.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30));

        // Mined, it makes the second the next nonce: looked at, found missing, broadcast again.
        var secondHash = (await h.RecordAsync(second.Handle)).TxHash!;
        await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, secondHash) is not null, TimeSpan.FromSeconds(30),
            "the second back at the node");
        await _chain.MineAsync();
        var done = await second.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((TxState.Confirmed, 0), (done.State, done.Replacements));
    }

    [Fact]
    public async Task a_stuck_transaction_is_replaced_with_higher_fees_on_the_same_nonce()
    {
        var miner = _chain.Miners[1];
        await _chain.SetAutomineAsync(false);
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);
        var nonce = await ChainRpc.NonceAsync(_chain, miner.Address);
        var submission = await h.Manager.SubmitAsync(Settle("settle/2/0", miner), default);
        await h.WaitForStateAsync(submission.Handle, TxState.Sent);
        var original = await h.RecordAsync(submission.Handle);

        // Nothing is mined: after StuckAfter the manager replaces it.
        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(submission.Handle)).Replacements >= 1, TimeSpan.FromSeconds(5), "a replacement");
        var replaced = await h.RecordAsync(submission.Handle);
        Assert.NotEqual(original.TxHash, replaced.TxHash);
        Assert.Equal(original.Nonce, replaced.Nonce);
        Assert.True(replaced.Fees!.Value.MaxFeePerGas * 1000 >= original.Fees!.Value.MaxFeePerGas * 1125);
        Assert.True(replaced.Fees.Value.MaxPriorityFeePerGas * 1000 >= original.Fees.Value.MaxPriorityFeePerGas * 1125);
        // The replacement is recorded before it is broadcast: once it reaches the node, it evicts the original.
        await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, original.TxHash!) is null, TimeSpan.FromSeconds(20),
            "the original evicted by its replacement");
        // Every version sent is kept (a later replacement may have followed meanwhile).
        Assert.Equal((await h.RecordAsync(submission.Handle)).Replacements + 1, (await h.Store.GetTxHashesAsync(submission.Handle.Id, default)).Count);

        await _chain.MineAsync();
        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(TxState.Confirmed, record.State);
        var mined = (await ChainRpc.TransactionAsync(_chain, record.TxHash!))!.Value;
        Assert.Equal(record.Fees!.Value.MaxFeePerGas, HexData.ParseQuantity(mined.GetProperty("maxFeePerGas")));
        Assert.Equal(nonce + 1, await ChainRpc.NonceAsync(_chain, miner.Address));
    }

    [Fact]
    public async Task a_transaction_lost_to_a_reorg_goes_back_to_sent_and_is_mined_again()
    {
        var miner = _chain.Miners[2];
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, TxHarness.FastOptions(confirmations: 4), store: store);
        var submission = await h.Manager.SubmitAsync(Settle("settle/3/0", miner), default);
        await h.WaitForStateAsync(submission.Handle, TxState.Mined);
        var mined = await h.RecordAsync(submission.Handle);

        // Replace the last block by an empty one; the manager must notice before the tx is at depth.
        await _chain.SetAutomineAsync(false);
        await _chain.Rpc.CallAsync("anvil_reorg", [1, new JsonArray()], default);
        Assert.Null(await ChainRpc.ReceiptAsync(_chain, mined.TxHash!));

        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(submission.Handle)).Reorgs >= 1, TimeSpan.FromSeconds(5), "the reorg to be seen");
        await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, mined.TxHash!) is not null, TimeSpan.FromSeconds(5),
            "the transaction back in the pool");
        await _chain.MineAsync();
        await h.WaitForStateAsync(submission.Handle, TxState.Mined);
        var again = await h.RecordAsync(submission.Handle);
        Assert.NotEqual(mined.BlockHash, again.BlockHash);
        await _chain.MineAsync(3);
        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((TxState.Confirmed, 1), (record.State, record.Reorgs));
    }

    [Fact]
    public async Task an_unreachable_node_delays_transactions_without_losing_them()
    {
        var miner = _chain.ExtraAccounts[0];
        await using var proxy = new TcpProxy(_chain.Port);
        proxy.Start();
        await _chain.SetAutomineAsync(false);
        await using var h = await TxHarness.StartAsync(proxy.Url, miner, store: store);
        var sink = _chain.ExtraAccounts[1].Address;
        var first = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 1), default);
        await h.WaitForStateAsync(first.Handle, TxState.Sent);

        proxy.Stop();
        await _chain.MineAsync();
        // Submitted while the node is down: stored, waiting for the node.
        var second = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/2/0", sink, 2), default);
        Assert.True(second.Accepted);
        await Task.Delay(300);
        Assert.Equal(TxState.Sent, (await h.RecordAsync(first.Handle)).State);
        Assert.Equal(TxState.Created, (await h.RecordAsync(second.Handle)).State);

        proxy.Start();
        await h.WaitForStateAsync(second.Handle, TxState.Sent);
        await _chain.MineAsync();
        var records = await Task.WhenAll(first.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5)), second.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.All(records, r => Assert.Equal(TxState.Confirmed, r.State));
        Assert.Equal(records[0].Nonce + 1, records[1].Nonce);
    }

    [Fact]
    public async Task an_urgent_transaction_is_bumped_past_the_fee_cap_up_to_the_emergency_cap()
    {
        Assert.Equal("TxManager:EmergencyMaxFeePerGas", Assert.Throws<OptionsException>(() =>
            new TxManagerOptions { MaxFeePerGas = 10, EmergencyMaxFeePerGas = 9 }.Validate()).Key);
        var miner = _chain.Miners[0];
        await _chain.SetAutomineAsync(false);
        var options = TxHarness.FastOptions();
        options.MaxFeePerGas = 1_000_000_000; // anvil suggests a 1 gwei tip: every tx is signed at this cap
        options.EmergencyMaxFeePerGas = 10_000_000_000;
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, options, store: store);
        var sink = _chain.ExtraAccounts[0].Address;
        var urgent = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 1), default);
        var normal = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/2/0", sink, 2), default);
        await h.WaitForStateAsync(urgent.Handle, TxState.Sent);
        await h.WaitForStateAsync(normal.Handle, TxState.Sent);
        Assert.Equal(options.MaxFeePerGas, (await h.RecordAsync(urgent.Handle)).Fees!.Value.MaxFeePerGas); // signed at the cap

        // Nothing is mined. The urgent one is re-priced past the cap; the other stays at the cap (re-broadcast as it is).
        h.Manager.MarkUrgent("transfer/1/0");
        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(urgent.Handle)).Replacements >= 2, TimeSpan.FromSeconds(10), "two urgent bumps");
        var bumped = (await h.RecordAsync(urgent.Handle)).Fees!.Value;
        Assert.InRange(bumped.MaxFeePerGas, options.MaxFeePerGas + 1, options.EmergencyMaxFeePerGas);
        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(normal.Handle)).Rebroadcasts >= 1, TimeSpan.FromSeconds(10),
            "the capped one re-broadcast");
        Assert.Equal((0, options.MaxFeePerGas), ((await h.RecordAsync(normal.Handle)).Replacements, (await h.RecordAsync(normal.Handle)).Fees!.Value.MaxFeePerGas));

        await _chain.MineAsync();
        var done = await Task.WhenAll(urgent.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5)), normal.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.All(done, r => Assert.Equal(TxState.Confirmed, r.State));
    }

    [Fact]
    public async Task an_urgent_transaction_and_the_lower_nonce_before_it_jump_to_the_uncapped_fee_suggestion_when_the_base_fee_passes_the_cap()
    {
        var miner = _chain.ExtraAccounts[1];
        await _chain.SetAutomineAsync(false);
        var options = TxHarness.FastOptions();
        options.MaxFeePerGas = 1_000_000_000;
        options.EmergencyMaxFeePerGas = 100_000_000_000;
        var baseFee = new System.Numerics.BigInteger(10_000_000_000); // ten times the cap
        var before = (await _chain.Rpc.CallAsync("eth_getBlockByNumber", ["latest", false], default)).GetProperty("baseFeePerGas").GetString()!;
        try
        {
            await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, options, store: store);
            var sink = _chain.ExtraAccounts[0].Address;
            var first = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 1), default);
            var second = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/2/0", sink, 2), default);
            await h.WaitForStateAsync(first.Handle, TxState.Sent);
            await h.WaitForStateAsync(second.Handle, TxState.Sent);
            Assert.Equal(options.MaxFeePerGas, (await h.RecordAsync(second.Handle)).Fees!.Value.MaxFeePerGas); // signed at the cap

            // The base fee jumps past the cap: the next block leaves both out.
            await _chain.Rpc.CallAsync("anvil_setNextBlockBaseFeePerGas", [HexData.Quantity(baseFee)], default);
            await _chain.MineAsync();
            Assert.Equal(HexData.Quantity(baseFee),
                (await _chain.Rpc.CallAsync("eth_getBlockByNumber", ["latest", false], default)).GetProperty("baseFeePerGas").GetString());
            Assert.Equal((TxState.Sent, TxState.Sent), ((await h.RecordAsync(first.Handle)).State, (await h.RecordAsync(second.Handle)).State));

            // The second is urgent; the first (a lower nonce, not mined) holds it back, so it is urgent too. One replacement
            // each bids the uncapped suggestion (2 x base fee + tip), not a 12.5 % bump on the cap: the next block takes both.
            h.Manager.MarkUrgent("transfer/2/0");
            await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(second.Handle)).Replacements >= 1, TimeSpan.FromSeconds(30),
                "the urgent one replaced");
            await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(first.Handle)).Replacements >= 1, TimeSpan.FromSeconds(30),
                "the one before it replaced");
            foreach (var handle in new[] { second.Handle, first.Handle })
            {
                var fees = (await h.RecordAsync(handle)).Fees!.Value;
                Assert.True(fees.MaxFeePerGas >= baseFee * 2, $"{handle.Key} replaced at {fees}, below the uncapped suggestion (base fee {baseFee})");
                Assert.True(fees.MaxFeePerGas <= options.EmergencyMaxFeePerGas, $"{handle.Key} replaced at {fees}, above the emergency cap");
                await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, (await h.RecordAsync(handle)).TxHash!) is not null,
                    TimeSpan.FromSeconds(30), $"the replacement of {handle.Key} at the node");
            }

            await _chain.MineAsync();
            var done = await Task.WhenAll(first.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30)), second.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.All(done, r => Assert.Equal(TxState.Confirmed, r.State));
            Assert.Equal(done[0].BlockNumber, done[1].BlockNumber);
        }
        finally
        {
            await _chain.Rpc.CallAsync("anvil_setNextBlockBaseFeePerGas", [before], default);
        }
    }

    [Fact]
    public async Task a_dropped_transaction_the_node_refuses_back_under_a_higher_base_fee_is_re_priced_within_the_cap()
    {
        var miner = _chain.ExtraAccounts[1];
        await _chain.SetAutomineAsync(false);
        var options = TxHarness.FastOptions();
        options.MaxFeePerGas = 100_000_000_000;
        var before = (await _chain.Rpc.CallAsync("eth_getBlockByNumber", ["latest", false], default)).GetProperty("baseFeePerGas").GetString()!;
        try
        {
            await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, options, store: store);
            var sink = _chain.ExtraAccounts[0].Address;
            var transfer = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/3/0", sink, 3), default);
            await h.WaitForStateAsync(transfer.Handle, TxState.Sent);
            var original = await h.RecordAsync(transfer.Handle);
            var signedAt = original.Fees!.Value.MaxFeePerGas;

            // The base fee climbs past the fee cap it was signed with (still under Chain:MaxFeePerGas) and the node drops it,
            // as a node drops what it can no longer include; offered back as it is, it is refused.
            var baseFee = signedAt * 4;
            Assert.True(baseFee * 2 < options.MaxFeePerGas, $"the test needs the new base fee ({baseFee}) well under the cap");
            await _chain.Rpc.CallAsync("anvil_setNextBlockBaseFeePerGas", [HexData.Quantity(baseFee)], default);
            await _chain.MineAsync();
            await _chain.Rpc.CallAsync("anvil_dropTransaction", [original.TxHash!], default);
            Assert.Null(await ChainRpc.TransactionAsync(_chain, original.TxHash!));

            // Not urgent, no deadline: still re-priced (a tx that is never mined holds back every later nonce of the account).
            await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(transfer.Handle)).Replacements >= 1, TimeSpan.FromSeconds(30),
                "a re-priced replacement");
            var replaced = await h.RecordAsync(transfer.Handle);
            Assert.True(replaced.Fees!.Value.MaxFeePerGas >= baseFee, $"replaced at {replaced.Fees}, under the base fee {baseFee}");
            Assert.True(replaced.Fees.Value.MaxFeePerGas <= options.MaxFeePerGas, $"replaced at {replaced.Fees}, above the cap");
            await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, (await h.RecordAsync(transfer.Handle)).TxHash!) is not null,
                TimeSpan.FromSeconds(30), "the replacement at the node");

            await _chain.MineAsync();
            var record = await transfer.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal((TxState.Confirmed, original.Nonce), (record.State, record.Nonce));
        }
        finally
        {
            await _chain.Rpc.CallAsync("anvil_setNextBlockBaseFeePerGas", [before], default);
        }
    }

    [Fact]
    public async Task a_held_kind_unmined_through_an_outage_is_not_broadcast_again_until_approved_or_cancelled()
    {
        var miner = _chain.ExtraAccounts[0];
        await using var proxy = new TcpProxy(_chain.Port);
        proxy.Start();
        await _chain.SetAutomineAsync(false);
        await using var h = await TxHarness.StartAsync(proxy.Url, miner, start: false, store: store);
        h.Manager.HeldKinds.Add("transfer");
        await h.Manager.StartAsync(default);
        var sink = _chain.ExtraAccounts[1].Address;
        var approved = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 1), default);
        var cancelled = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/2/0", sink, 2), default);
        await h.WaitForStateAsync(approved.Handle, TxState.Sent);
        await h.WaitForStateAsync(cancelled.Handle, TxState.Sent);

        // An outage, during which the node loses both transactions.
        proxy.Stop();
        await TxHarness.WaitUntilAsync(() => Task.FromResult(h.Manager.NodeIsDown), TimeSpan.FromSeconds(10), "the outage seen");
        foreach (var handle in new[] { approved.Handle, cancelled.Handle })
        {
            await _chain.Rpc.CallAsync("anvil_dropTransaction", [(await h.RecordAsync(handle)).TxHash], default);
        }

        proxy.Start();
        await TxHarness.WaitUntilAsync(() => Task.FromResult(h.Manager.HeldTransactions().Count == 2), TimeSpan.FromSeconds(10), "both held");

        // Held: not broadcast again, even once they count as stuck.
        await Task.Delay(TxHarness.FastOptions().StuckAfter * 3);
        Assert.Null(await ChainRpc.TransactionAsync(_chain, (await h.RecordAsync(approved.Handle)).TxHash!));
        Assert.Equal(0, (await h.RecordAsync(approved.Handle)).Rebroadcasts);

        Assert.True(h.Manager.Approve("transfer/1/0"));
        var cancel = await h.Manager.CancelAsync("transfer/2/0", default);
        Assert.Equal(TxRequest.CancelKind, cancel!.Kind);
        Assert.Equal(miner.Address, cancel.To, ignoreCase: true);
        await TxHarness.WaitUntilAsync(async () => await ChainRpc.TransactionAsync(_chain, (await h.RecordAsync(approved.Handle)).TxHash!) is not null,
            TimeSpan.FromSeconds(5), "the approved one broadcast again");
        await _chain.MineAsync();
        var done = await Task.WhenAll(approved.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5)), cancelled.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.All(done, r => Assert.Equal(TxState.Confirmed, r.State));
        var mined = (await ChainRpc.TransactionAsync(_chain, done[1].TxHash!))!.Value;
        Assert.Equal((miner.Address.ToLowerInvariant(), "0x0", "0x"),
            (mined.GetProperty("to").GetString(), mined.GetProperty("value").GetString(), mined.GetProperty("input").GetString()));
        Assert.Equal(done[0].Nonce + 1, done[1].Nonce);
    }

    [Fact]
    public async Task a_cancel_decided_after_the_original_was_mined_unseen_records_the_mined_original()
    {
        var miner = _chain.ExtraAccounts[1];
        await _chain.SetAutomineAsync(false);
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, start: false, store: store);
        h.Manager.HeldKinds.Add("transfer");
        await h.Manager.StartAsync(default);
        var sink = _chain.ExtraAccounts[0].Address;
        var submission = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 7), default);
        await h.WaitForStateAsync(submission.Handle, TxState.Sent);
        var original = await h.RecordAsync(submission.Handle);

        // The process stops; the original is mined while no manager watches.
        await h.Manager.DisposeAsync();
        await _chain.MineAsync();
        Assert.Equal("0x1", (await ChainRpc.ReceiptAsync(_chain, original.TxHash!))!.Value.GetProperty("status").GetString());

        // Restarted, the tx is held; its owner re-decides before the manager has looked at the chain, and cancels it: the
        // cancel is stored as the current version, and the node refuses it (its nonce is used).
        var restarted = await h.RestartAsync(runLoop: false, m => m.HeldKinds.Add("transfer"));
        Assert.True(restarted.IsHeld("transfer/1/0"));
        var cancel = await restarted.CancelAsync("transfer/1/0", default);
        Assert.Equal(TxRequest.CancelKind, cancel!.Kind);
        Assert.NotEqual(original.TxHash, cancel.TxHash);

        // The next run finds the receipt of the earlier version: the row records that version as mined.
        await h.RestartAsync(configure: m => m.HeldKinds.Add("transfer"));
        await TxHarness.WaitUntilAsync(async () => (await h.Store.GetTxAsync("transfer/1/0", default))!.IsFinal, TimeSpan.FromSeconds(10),
            "the transaction final");
        var record = (await h.Store.GetTxAsync("transfer/1/0", default))!;
        Assert.Equal((TxState.Confirmed, "transfer", original.TxHash, true), (record.State, record.Kind, record.TxHash, record.Succeeded));
        Assert.Equal((original.To, original.Value, original.GasLimit, original.Nonce), (record.To, record.Value, record.GasLimit, record.Nonce));
        Assert.Equal(original.RawTx, record.RawTx);
        Assert.Equal(original.Fees, record.Fees);
        Assert.Equal([original.TxHash!, cancel.TxHash!], await h.Store.GetTxHashesAsync(record.Id, default));
        Assert.Equal(1, record.Replacements);
        var mined = (await ChainRpc.TransactionAsync(_chain, record.TxHash!))!.Value;
        Assert.Equal(HexData.Quantity(7), mined.GetProperty("value").GetString());
    }
    [Fact]
    public async Task following_a_cancelled_transaction_ends_with_the_version_mined_the_original_or_the_cancel()
    {
        var miner = _chain.ExtraAccounts[1];
        await _chain.SetAutomineAsync(false);
        var options = TxHarness.FastOptions();
        options.StuckAfter = TimeSpan.FromSeconds(60); // Nothing is replaced or re-broadcast behind the test's back.
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, options, start: false, store: store);
        h.Manager.HeldKinds.Add("transfer");
        await h.Manager.StartAsync(default);
        Assert.Null(await h.Manager.FollowAsync("transfer/9/0", default));

        var sink = _chain.ExtraAccounts[0].Address;
        var first = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/1/0", sink, 7), default);
        var second = await h.Manager.SubmitAsync(TxHarness.Transfer("transfer/2/0", sink, 8), default);
        await h.WaitForStateAsync(first.Handle, TxState.Sent);
        await h.WaitForStateAsync(second.Handle, TxState.Sent);
        var original = await h.RecordAsync(first.Handle);

        // Both are cancelled and followed; the first's original reaches the block ahead of its cancel (another node still
        // had it), the second's cancel wins.
        var cancel1 = (await h.Manager.CancelAsync("transfer/1/0", default))!;
        var cancel2 = (await h.Manager.CancelAsync("transfer/2/0", default))!;
        var follow1 = (await h.Manager.FollowAsync("transfer/1/0", default))!;
        var follow2 = (await h.Manager.FollowAsync("transfer/2/0", default))!;
        Assert.False(follow1.Completion.IsCompleted);
        Assert.False(follow2.Completion.IsCompleted);
        await _chain.Rpc.CallAsync("anvil_dropTransaction", [cancel1.TxHash!], default);
        await _chain.Rpc.CallAsync("eth_sendRawTransaction", [HexData.Encode(original.RawTx!)], default);
        if (await ChainRpc.TransactionAsync(_chain, cancel2.TxHash!) is null)
        {
            // anvil drops the later nonces of the account with the one dropped: the second's cancel goes back as it was.
            await _chain.Rpc.CallAsync("eth_sendRawTransaction", [HexData.Encode(cancel2.RawTx!)], default);
        }

        await _chain.MineAsync();

        var done1 = await follow1.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        var done2 = await follow2.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((TxState.Confirmed, "transfer", original.TxHash), (done1.State, done1.Kind, done1.TxHash));
        Assert.Equal((TxState.Confirmed, TxRequest.CancelKind, cancel2.TxHash), (done2.State, done2.Kind, done2.TxHash));

        // Followed again once final: the final record at once.
        var again = (await h.Manager.FollowAsync("transfer/1/0", default))!;
        Assert.True(again.Completion.IsCompleted);
        Assert.Equal((done1.Id, done1.Kind, done1.TxHash), ((await again.Completion).Id, (await again.Completion).Kind, (await again.Completion).TxHash));
    }
}
