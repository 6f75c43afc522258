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
        var receipt = await ChainRpc.ReceiptAsync(_chain, record.TxHash!);
        Assert.Equal(0, (int)HexData.ParseQuantity(receipt!.Value.GetProperty("status")));
    }
}
