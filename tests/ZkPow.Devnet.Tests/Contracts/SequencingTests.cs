using System.Text.Json;
using System.Text.Json.Nodes;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class SequencingTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private RollupDriver _d = null!;

    public async Task InitializeAsync() => _d = new RollupDriver(await fixture.ResetAsync());

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task sequences_chain_the_acc_input_hash_and_store_the_sequence_under_its_last_batch()
    {
        var first = await _d.SequenceAsync(2);
        var second = await _d.SequenceAsync(1);
        Assert.Equal(2UL, first.FinalNewBatch);
        Assert.Equal(3UL, second.FinalNewBatch);

        var stored = await _d.Chain.ReadAsync(_d.Rollup, RollupCalls.SequencedBatches(3));
        Assert.Equal(second.NewAccInputHash, stored.Bytes32(0));
        Assert.True(stored.UInt64(1) > 0); // sequencedTimestamp
        Assert.Equal(2UL, stored.UInt64(2)); // previousLastBatchSequenced
        Assert.Equal(0UL, stored.UInt64(3)); // no round yet
        Assert.False(stored.Bool(4));
        Assert.Equal(first.NewAccInputHash, (await _d.Chain.ReadAsync(_d.Rollup, RollupCalls.SequencedBatches(2))).Bytes32(0));
        Assert.Equal(3UL, (await _d.Chain.ReadAsync(_d.Rollup, RollupCalls.LastBatchSequenced())).UInt64(0));
        Assert.Equal(0UL, await _d.LastVerifiedBatchAsync());
    }

    [Fact]
    public async Task sequence_batches_emits_the_new_last_batch()
    {
        var batches = _d.NewBatches(3);
        var receipt = await _d.Chain.SendAsync(_d.Admin, _d.Rollup, ContractCalls.SequenceBatches(batches, _d.Extra(1).Address));
        var log = Assert.Single(receipt.Logs);
        Assert.Equal(RollupDriver.Topic("SequenceBatches(uint64)"), log.Topics[0]);
        Assert.Equal(3UL, (ulong)HexData.ParseQuantity(log.Topics[1]));
    }

    [Fact]
    public async Task only_the_admin_may_sequence()
    {
        Assert.Equal("OnlyAdmin", await RollupDriver.RevertOfAsync(() =>
            _d.Chain.SendAsync(_d.Miner(0), _d.Rollup, ContractCalls.SequenceBatches(_d.NewBatches(1), _d.Miner(0).Address))));
    }

    [Fact]
    public async Task a_sequence_needs_at_least_one_batch()
    {
        Assert.Equal("SequenceZeroBatches", await RollupDriver.RevertOfAsync(() =>
            _d.Chain.SendAsync(_d.Admin, _d.Rollup, ContractCalls.SequenceBatches([], _d.Admin.Address))));
    }

    [Fact]
    public async Task a_second_sequence_in_the_same_block_fails_with_committed_batches()
    {
        var chain = _d.Chain;
        await chain.SetAutomineAsync(false);
        var first = await chain.SendTransactionAsync(chain.Admin, _d.Rollup, ContractCalls.SequenceBatches(_d.NewBatches(1), _d.Admin.Address), gas: 500_000);
        var second = await chain.SendTransactionAsync(chain.Admin, _d.Rollup, ContractCalls.SequenceBatches(_d.NewBatches(1), _d.Admin.Address), gas: 500_000);
        await chain.MineAsync();
        var firstReceipt = await chain.WaitForReceiptAsync(first);
        var secondReceipt = await chain.WaitForReceiptAsync(second);
        Assert.Equal(firstReceipt.BlockNumber, secondReceipt.BlockNumber);
        Assert.True(firstReceipt.Succeeded);
        Assert.False(secondReceipt.Succeeded);
        Assert.Equal(1UL, (await chain.ReadAsync(_d.Rollup, RollupCalls.LastBatchSequenced())).UInt64(0));

        var trace = await chain.Rpc.CallAsync("debug_traceTransaction", [second, new JsonObject { ["disableStorage"] = true, ["disableStack"] = true }], default);
        var returned = trace.GetProperty("returnValue").GetString();
        Assert.Equal("CommittedBatches", ChainRevert.Decode(returned!.StartsWith("0x", StringComparison.Ordinal) ? returned : "0x" + returned).Name);
        Assert.Equal(JsonValueKind.True, trace.GetProperty("failed").ValueKind);
    }
}
