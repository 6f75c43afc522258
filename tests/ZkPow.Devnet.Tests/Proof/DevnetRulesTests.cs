using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Tests.Proof;

public sealed class DevnetRulesTests
{
    private static DevnetVectors V => DevnetVectors.Current;

    [Fact]
    public void genesis_constants_match_vectors()
    {
        Assert.Equal(V.GenesisStateRoot, DevnetRules.GenesisStateRoot());
        Assert.Equal(V.GenesisAccInputHash, DevnetRules.GenesisAccInputHash());
        Assert.Equal(V.FinalProofTag, DevnetRules.FinalProofTag());
        Assert.Equal(V.Rfield, DevnetRules.Rfield);
    }

    [Fact]
    public void mask_clears_the_top_bit_of_each_limb_only()
    {
        var ones = Enumerable.Repeat((byte)0xff, 32).ToArray();
        var masked = DevnetRules.Mask(ones);
        for (var i = 0; i < 32; i++)
        {
            Assert.Equal(i % 8 == 0 ? 0x7f : 0xff, masked[i]);
        }

        Assert.Equal(new byte[32], DevnetRules.Mask(new byte[32]));
        Assert.Throws<ArgumentException>(() => DevnetRules.Mask(new byte[31]));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void each_vector_batch_gives_its_roots(int index)
    {
        var sequence = V.BuildSequence();
        var expected = V.Batches[index];
        var batch = sequence.Batches[index];
        Assert.Equal(expected.Number, batch.Number);
        Assert.Equal(expected.TxHash, batch.ComputeTxHash());
        Assert.Equal(expected.StateRoot, batch.StateRoot);
        Assert.Equal(expected.AccInputHash, batch.AccInputHash);
        Assert.Equal(expected.LocalExitRoot, batch.LocalExitRoot);
    }

    [Fact]
    public void sequence_roots_match_vectors()
    {
        var sequence = V.BuildSequence();
        Assert.Equal(V.InitNumBatch, sequence.InitNumBatch);
        Assert.Equal(V.FinalNewBatch, sequence.FinalNewBatch);
        Assert.Equal(V.OldStateRoot, sequence.OldStateRoot);
        Assert.Equal(V.OldAccInputHash, sequence.OldAccInputHash);
        Assert.Equal(V.NewStateRoot, sequence.NewStateRoot);
        Assert.Equal(V.NewAccInputHash, sequence.NewAccInputHash);
        Assert.Equal(V.NewLocalExitRoot, sequence.NewLocalExitRoot);
    }

    [Fact]
    public void snark_input_preimage_and_value_match_vectors()
    {
        var preimage = DevnetRules.SnarkInputPreimage(HexData.DecodeAddress(V.Aggregator), V.OldStateRoot,
            V.OldAccInputHash, V.InitNumBatch, V.ChainId, V.ForkId, V.NewStateRoot, V.NewAccInputHash,
            V.NewLocalExitRoot, V.FinalNewBatch);
        Assert.Equal(DevnetRules.SnarkInputPreimageLength, preimage.Length);
        Assert.Equal(V.SnarkInputPreimage, preimage);
        Assert.Equal(V.SnarkInput, DevnetRules.SnarkInput(preimage));
        Assert.Equal(V.SnarkInput, V.BuildSequence().ToFinalProof(V.Aggregator).SnarkInput(HexData.DecodeAddress(V.Aggregator)));
    }

    [Fact]
    public void proof_hash_matches_vector_and_depends_on_sender()
    {
        var sender = HexData.DecodeAddress(V.Aggregator);
        Assert.Equal(V.ProofHash, DevnetRules.ProofHash(V.FinalProof, sender));
        sender[19] ^= 1;
        Assert.NotEqual(V.ProofHash, DevnetRules.ProofHash(V.FinalProof, sender));
    }

    [Fact]
    public void batch_input_prover_follows_the_protocol()
    {
        var batch = V.BuildSequence().Batches[1];
        var input = batch.ToInputProver(V.ChainId, V.ForkId, V.Aggregator).PublicInputs;
        Assert.Equal(V.Batches[0].StateRoot, input.OldStateRoot.ToByteArray());
        Assert.Equal(V.Batches[0].AccInputHash, input.OldAccInputHash.ToByteArray());
        Assert.Equal(1UL, input.OldBatchNum);
        Assert.Equal(V.ChainId, input.ChainId);
        Assert.Equal(V.ForkId, input.ForkId);
        Assert.Equal(V.Batches[1].Transactions, input.BatchL2Data.ToByteArray());
        Assert.Equal(V.Batches[1].GlobalExitRoot, input.GlobalExitRoot.ToByteArray());
        Assert.Equal(V.Batches[1].Timestamp, input.EthTimestamp);
        Assert.Equal(V.Coinbase, input.SequencerAddr);
        Assert.Equal(V.Aggregator, input.AggregatorAddr);
    }
}
