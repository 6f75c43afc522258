using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Tests.Contracts;
using ZkPow.Devnet.Tests.Storage;

namespace ZkPow.Devnet.Tests.Chain;

public abstract class TxManagerTests(ChainFixture fixture, StoreKind store) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private DevChain _chain = null!;

    public async Task InitializeAsync() => _chain = await fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task a_revert_caught_by_the_preflight_is_returned_decoded_and_uses_no_nonce()
    {
        var miner = _chain.Miners[0];
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);
        var nonce = await ChainRpc.NonceAsync(_chain, miner.Address, "pending");
        var reveal = new TxRequest(TxRequest.KeyFor("verifyBatches", 1, 0), "verifyBatches", _chain.Contracts.Rollup,
            RollupCalls.VerifyBatches(0, 1, new byte[32], new byte[32], [1, 2, 3]));

        var submission = await h.Manager.SubmitAsync(reveal, default);

        Assert.False(submission.Accepted);
        Assert.Equal(ChainError.CommittedProofHash, submission.Rejected!.Error);
        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((TxState.Failed, (ulong?)null, (byte[]?)null), (record.State, record.Nonce, record.RawTx));
        Assert.Equal(ChainError.CommittedProofHash, record.Revert?.Error);
        Assert.Equal(nonce, await ChainRpc.NonceAsync(_chain, miner.Address, "pending"));

        // The same key again is the same (rejected) transaction; the next transaction takes the unused nonce.
        var again = await h.Manager.SubmitAsync(reveal, default);
        Assert.Equal((submission.Handle.Id, ChainError.CommittedProofHash), (again.Handle.Id, again.Rejected?.Error));
        var settle = await h.Manager.SubmitAsync(TxHarness.Settle("settle/0/0", miner, _chain.Contracts.Rollup), default);
        Assert.True(settle.Accepted);
        var settled = await settle.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((TxState.Confirmed, nonce), (settled.State, settled.Nonce!.Value));
    }

    [Fact]
    public async Task a_warm_up_stores_nothing_sends_nothing_and_uses_no_nonce()
    {
        var miner = _chain.Miners[0];
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);
        var nonce = await ChainRpc.NonceAsync(_chain, miner.Address, "pending");

        await h.Manager.WarmUpAsync(default);
        await h.Manager.WarmUpAsync(default);

        Assert.Empty(await h.Store.LoadOpenTxsAsync(miner.Address, default));
        Assert.Equal(0, h.Manager.InFlight);
        Assert.Equal(nonce, await ChainRpc.NonceAsync(_chain, miner.Address, "pending"));
        // The next transaction takes the nonce the warm-up's rolled-back signing took.
        var settle = await h.Manager.SubmitAsync(TxHarness.Settle("settle/0/0", miner, _chain.Contracts.Rollup), default);
        Assert.True(settle.Accepted);
        Assert.Equal(nonce, (await h.RecordAsync(settle.Handle)).Nonce);
    }

    [Fact]
    public async Task a_submission_returns_once_the_node_has_the_stored_tx_and_the_sent_mark_follows()
    {
        var miner = _chain.Miners[0];
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);

        var submission = await h.Manager.SubmitAsync(TxHarness.Settle("settle/0/0", miner, _chain.Contracts.Rollup), default);

        Assert.True(submission.Accepted);
        var record = await h.RecordAsync(submission.Handle);
        Assert.Contains(record.State, new[] { TxState.Signed, TxState.Sent, TxState.Mined, TxState.Confirmed });
        Assert.NotNull(record.RawTx);
        Assert.NotNull(await ChainRpc.TransactionAsync(_chain, record.TxHash!));
        await TxHarness.WaitUntilAsync(async () => (await h.RecordAsync(submission.Handle)).State is TxState.Sent or TxState.Mined or TxState.Confirmed,
            TimeSpan.FromSeconds(10), "the tx to be marked sent");
        Assert.NotNull((await h.RecordAsync(submission.Handle)).SentAt);
    }

    [Fact]
    public async Task preflight_reads_made_ahead_for_another_call_are_not_used()
    {
        var miner = _chain.Miners[0];
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);
        var nonce = await ChainRpc.NonceAsync(_chain, miner.Address, "pending");
        var settle = TxHarness.Settle("settle/0/0", miner, _chain.Contracts.Rollup);
        var reads = h.Manager.StartPreflight(settle, default);
        Assert.NotNull(reads);
        Assert.True((await reads.Call).Succeeded);

        // A reveal that reverts, handed the settle's (successful) reads: they are not its reads, so its own pre-flight
        // turns it away.
        var reveal = new TxRequest(TxRequest.KeyFor("verifyBatches", 1, 0), "verifyBatches", _chain.Contracts.Rollup,
            RollupCalls.VerifyBatches(0, 1, new byte[32], new byte[32], [1, 2, 3]));
        var submission = await h.Manager.SubmitAsync(reveal, reads, default);

        Assert.Equal(ChainError.CommittedProofHash, submission.Rejected?.Error);
        Assert.Equal(nonce, await ChainRpc.NonceAsync(_chain, miner.Address, "pending"));
    }

    [Fact]
    public async Task a_revert_read_ahead_is_read_again_before_it_turns_the_tx_away()
    {
        var miner = _chain.Miners[0];
        // A poll interval long enough that the reads made ahead are still taken when the tx is submitted.
        var options = TxHarness.FastOptions();
        options.PollInterval = TimeSpan.FromSeconds(20);
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, options, store: store);
        var target = HexData.Encode(Guid.NewGuid().ToByteArray().Concat(new byte[4]).ToArray());
        await h.Rpc.CallAsync("anvil_setCode", [target, "0x60006000fd"], default); // REVERT(0, 0)
        var request = new TxRequest("call/0/0", "call", target, [1, 2, 3]);
        var reads = h.Manager.StartPreflight(request, default);
        Assert.NotNull(reads);
        Assert.False((await reads.Call).Succeeded);

        await h.Rpc.CallAsync("anvil_setCode", [target, "0x00"], default); // STOP: the call succeeds now
        var submission = await h.Manager.SubmitAsync(request, reads, default);

        Assert.True(submission.Accepted, submission.Rejected?.ToString());
        Assert.NotNull((await h.RecordAsync(submission.Handle)).Nonce);
    }

    [Fact]
    public async Task many_transactions_in_flight_confirm_with_consecutive_nonces()
    {
        var miner = _chain.Miners[1];
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, TxHarness.FastOptions(confirmations: 2), store: store);
        var first = await ChainRpc.NonceAsync(_chain, miner.Address);
        const int count = 40;

        var submissions = await Task.WhenAll(Enumerable.Range(0, count)
            .Select(i => h.Manager.SubmitAsync(TxHarness.Settle($"settle/{i}/0", miner, _chain.Contracts.Rollup), default)));
        Assert.All(submissions, s => Assert.True(s.Accepted));
        // With automine every transaction is its own block; one more block puts the last one at depth 2.
        await TxHarness.WaitUntilAsync(async () => await ChainRpc.NonceAsync(_chain, miner.Address) == first + count, TimeSpan.FromSeconds(15), "all mined");
        await _chain.MineAsync();
        var records = await Task.WhenAll(submissions.Select(s => s.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(15))));

        Assert.All(records, r => Assert.Equal(TxState.Confirmed, r.State));
        Assert.All(records, r => Assert.True(r.Succeeded));
        Assert.Equal(Enumerable.Range(0, count).Select(i => first + (ulong)i), records.Select(r => r.Nonce!.Value).Order());
        Assert.Equal(first + count, await ChainRpc.NonceAsync(_chain, miner.Address));
        foreach (var r in records)
        {
            var receipt = await ChainRpc.ReceiptAsync(_chain, r.TxHash!);
            Assert.Equal(r.BlockNumber, (ulong)HexData.ParseQuantity(receipt!.Value.GetProperty("blockNumber")));
        }

        // Submitting a key again returns the stored transaction and sends nothing.
        var again = await h.Manager.SubmitAsync(TxHarness.Settle("settle/7/0", miner, _chain.Contracts.Rollup), default);
        Assert.Equal(submissions[7].Handle.Id, again.Handle.Id);
        Assert.Equal(TxState.Confirmed, (await again.Handle.Completion).State);
        Assert.Equal(first + count, await ChainRpc.NonceAsync(_chain, miner.Address, "pending"));
    }

    [Fact]
    public async Task a_transaction_that_fails_on_chain_ends_failed_with_its_block()
    {
        var miner = _chain.Miners[2];
        var d = new RollupDriver(_chain);
        var s = await d.SequenceAsync();
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, miner, store: store);
        var hash = ProofHash.Compute(RollupDriver.FinalProofFor(miner, s), miner.Address);

        // The pre-flight (eth_call, unbounded gas) passes; the fixed gas limit covers the intrinsic cost but not the
        // execution, so the mined transaction fails.
        var commit = new TxRequest(TxRequest.KeyFor("submitProofHash", s.FinalNewBatch, 0), "submitProofHash", _chain.Contracts.Rollup,
            RollupCalls.SubmitProofHash(s.InitNumBatch, s.FinalNewBatch, hash))
        { GasLimit = 30_000 };
        var submission = await h.Manager.SubmitAsync(commit, default);
        Assert.True(submission.Accepted);

        var record = await submission.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((TxState.Failed, false, "reverted on chain"), (record.State, record.Succeeded, record.Error));
        Assert.NotNull(record.BlockNumber);
        Assert.NotNull(record.Revert);
        Assert.Equal("out of gas: used 30000 of its gas limit 30000", record.Revert!.Message);
        var receipt = await ChainRpc.ReceiptAsync(_chain, record.TxHash!);
        Assert.Equal(0, (int)HexData.ParseQuantity(receipt!.Value.GetProperty("status")));
    }

    [Fact]
    public async Task a_transaction_that_runs_out_of_gas_behind_one_that_made_it_valid_is_said_to_run_out_of_gas()
    {
        // An account with no stake commits a hash right behind its own deposit, in the same block. Replayed on the state
        // before that block, the hash tx reverts (no stake); in its block it only ran out of gas, and that is the reason.
        var account = _chain.ExtraAccounts[0];
        var d = new RollupDriver(_chain);
        var s = await d.SequenceAsync();
        await using var h = await TxHarness.StartAsync(_chain.RpcUrl, account, store: store);
        var hash = ProofHash.Compute(RollupDriver.FinalProofFor(account, s), account.Address);
        var nonce = await ChainRpc.NonceAsync(_chain, account.Address);
        await _chain.SetAutomineAsync(false);
        try
        {
            var deposit = await h.Manager.SubmitAsync(new TxRequest("deposit/0", "deposit", _chain.Contracts.MinerDeposit, ContractCalls.Deposit())
            {
                Value = Wei.FromEther(10),
            }, default);
            var commit = await h.Manager.SubmitAsync(new TxRequest(TxRequest.KeyFor("submitProofHash", s.FinalNewBatch, 0), "submitProofHash",
                _chain.Contracts.Rollup, RollupCalls.SubmitProofHash(s.InitNumBatch, s.FinalNewBatch, hash))
            { GasLimit = 40_000, SkipPreflightCall = true }, default);
            Assert.True(deposit.Accepted && commit.Accepted);
            await TxHarness.WaitUntilAsync(async () => await ChainRpc.NonceAsync(_chain, account.Address, "pending") == nonce + 2, TimeSpan.FromSeconds(20),
                "both transactions sent");
            Assert.Equal(ChainError.InsufficientPledge, (await h.Rpc.EthCallAsync(account.Address, _chain.Contracts.Rollup,
                RollupCalls.SubmitProofHash(s.InitNumBatch, s.FinalNewBatch, hash), 0, "latest", default)).Revert?.Error);
            await _chain.MineAsync();
            await _chain.MineAsync(2);

            var deposited = await deposit.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(20));
            var record = await commit.Handle.Completion.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(TxState.Confirmed, deposited.State);
            Assert.Equal((TxState.Failed, false, deposited.BlockNumber), (record.State, record.Succeeded, record.BlockNumber));
            Assert.Equal("out of gas: used 40000 of its gas limit 40000", record.Revert?.Message);
        }
        finally
        {
            await _chain.SetAutomineAsync(true);
        }
    }
}
