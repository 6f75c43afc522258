using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Sync;

public sealed class SequenceBatchesCallTests
{
    private const string Coinbase = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

    private static byte[] Call(params DevBatch[] batches) => ContractCalls.SequenceBatches(batches, Coinbase);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void decodes_every_batch_of_a_sequence(int count)
    {
        var batches = Enumerable.Range(0, count).Select(i => new DevBatch(
            Enumerable.Range(0, 31 * i + 1).Select(b => (byte)(b + i)).ToArray(),
            Enumerable.Repeat((byte)(i + 1), 32).ToArray(),
            1_700_000_000UL + (ulong)i,
            (ulong)i)).ToArray();

        var call = SequenceBatchesCall.TryDecode(Call(batches), out var error);

        Assert.NotNull(call);
        Assert.Equal(string.Empty, error);
        Assert.Equal(Coinbase, call.L2Coinbase);
        Assert.Equal(batches.Select(b => (b.Transactions, b.GlobalExitRoot, b.Timestamp, b.MinForcedTimestamp)),
            call.Batches.Select(b => (b.Transactions, b.GlobalExitRoot, b.Timestamp, b.MinForcedTimestamp)));
    }

    [Fact]
    public void an_empty_transactions_field_decodes()
    {
        var call = SequenceBatchesCall.TryDecode(Call(new DevBatch([], new byte[32], 5)), out _);
        Assert.Empty(Assert.Single(call!.Batches).Transactions);
    }

    [Fact]
    public void other_calls_and_truncated_data_are_refused_with_a_reason()
    {
        Assert.Null(SequenceBatchesCall.TryDecode(RollupCalls.Settle(Coinbase), out var other));
        Assert.Contains("not a sequenceBatches call", other, StringComparison.Ordinal);

        var data = Call(new DevBatch(new byte[100], new byte[32], 5));
        Assert.Null(SequenceBatchesCall.TryDecode(data.AsSpan(0, data.Length - 40), out var truncated));
        Assert.Contains("malformed", truncated, StringComparison.Ordinal);

        var huge = data.ToArray();
        huge[4 + 64 + 31] = 0xff; // the array length
        huge[4 + 64 + 30] = 0xff;
        Assert.Null(SequenceBatchesCall.TryDecode(huge, out var length));
        Assert.NotEmpty(length);
    }
}
