using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Tests.Proof;

public sealed class DevnetSequenceBuilderTests
{
    private const string Coinbase = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

    [Fact]
    public void batches_chain_from_the_given_roots()
    {
        var builder = new DevnetSequenceBuilder(new Random(42), Coinbase, 1001, 6) { TransactionSize = 64 };
        var first = builder.FromGenesis(3);
        var second = builder.After(first, 4);

        Assert.Equal([1UL, 2, 3], first.Batches.Select(b => b.Number));
        Assert.Equal([4UL, 5, 6, 7], second.Batches.Select(b => b.Number));
        Assert.Equal(DevnetRules.GenesisStateRoot(), first.OldStateRoot);
        Assert.Equal(first.NewStateRoot, second.OldStateRoot);
        Assert.Equal(first.NewAccInputHash, second.OldAccInputHash);
        Assert.All(second.Batches, b => Assert.Equal(64, b.Transactions.Length));
        Assert.True(second.Batches.Zip(second.Batches.Skip(1)).All(p => p.Second.Timestamp > p.First.Timestamp));
        foreach (var b in first.Batches.Concat(second.Batches))
        {
            var again = DevnetBatch.Create(b.Number, b.Transactions, b.GlobalExitRoot, b.Timestamp, b.Coinbase,
                b.OldStateRoot, b.OldAccInputHash);
            Assert.Equal(again.StateRoot, b.StateRoot);
            Assert.Equal(again.AccInputHash, b.AccInputHash);
            Assert.Equal(again.LocalExitRoot, b.LocalExitRoot);
        }

        Assert.True(DevnetVerifier.Verify(second.ToFinalProof(Coinbase).Encode(),
            second.ToFinalProof(Coinbase).SnarkInput(HexData.DecodeAddress(Coinbase))));
    }

    [Fact]
    public void same_seed_gives_same_sequence()
    {
        var a = new DevnetSequenceBuilder(new Random(5), Coinbase, 1, 6).FromGenesis(5);
        var b = new DevnetSequenceBuilder(new Random(5), Coinbase, 1, 6).FromGenesis(5);
        var c = new DevnetSequenceBuilder(new Random(6), Coinbase, 1, 6).FromGenesis(5);
        Assert.Equal(a.NewAccInputHash, b.NewAccInputHash);
        Assert.NotEqual(a.NewAccInputHash, c.NewAccInputHash);
    }

    [Fact]
    public void global_exit_root_changes_sometimes()
    {
        var sequence = new DevnetSequenceBuilder(new Random(9), Coinbase, 1, 6) { NewGlobalExitRootProbability = 0.5 }
            .FromGenesis(40);
        var distinct = sequence.Batches.Select(b => HexData.Encode(b.GlobalExitRoot)).Distinct().Count();
        Assert.InRange(distinct, 5, 39);
    }
}
