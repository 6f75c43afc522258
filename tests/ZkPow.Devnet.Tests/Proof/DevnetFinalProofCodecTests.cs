using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Tests.Proof;

public sealed class DevnetFinalProofCodecTests
{
    private static DevnetVectors V => DevnetVectors.Current;

    [Fact]
    public void encoding_the_vector_sequence_gives_the_vector_bytes()
    {
        var proof = V.BuildSequence().ToFinalProof(V.Aggregator);
        Assert.Equal(V.FinalProofHex, HexData.Encode(proof.Encode()));
    }

    [Fact]
    public void decoding_the_vector_bytes_gives_the_vector_fields()
    {
        var result = DevnetFinalProofCodec.Decode(V.FinalProof);
        Assert.True(result.Success, result.Error);
        var proof = result.Proof;
        Assert.Equal(HexData.DecodeAddress(V.Aggregator), proof.Aggregator);
        Assert.Equal(HexData.DecodeAddress(V.Coinbase), proof.L2Coinbase);
        Assert.Equal(V.ChainId, proof.ChainId);
        Assert.Equal(V.ForkId, proof.ForkId);
        Assert.Equal(V.InitNumBatch, proof.InitNumBatch);
        Assert.Equal(V.FinalNewBatch, proof.FinalNewBatch);
        Assert.Equal(V.NewStateRoot, proof.NewStateRoot);
        Assert.Equal(V.NewLocalExitRoot, proof.NewLocalExitRoot);
        Assert.Equal(V.Batches.Select(b => b.TxHash), proof.TxHashes);
        Assert.Equal(V.Batches.Select(b => b.GlobalExitRoot), proof.GlobalExitRoots);
        Assert.Equal(V.Batches.Select(b => b.Timestamp), proof.Timestamps);
        Assert.Equal(V.BuildSequence().ToFinalProof(V.Aggregator), proof);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(3, 40)]
    public void decode_of_encode_is_identity(int seed, int batches)
    {
        var builder = new DevnetSequenceBuilder(new Random(seed), V.Coinbase, 77, 5) { TransactionSize = 33 };
        var original = builder.Next(1000, DevnetRules.GenesisStateRoot(), new byte[32], batches).ToFinalProof(V.Aggregator);
        var decoded = DevnetFinalProofCodec.Decode(original.Encode());
        Assert.True(decoded.Success, decoded.Error);
        Assert.Equal(original, decoded.Proof);
        Assert.Equal(original.Encode(), decoded.Proof.Encode());
    }

    [Fact]
    public void records_with_different_contents_are_not_equal()
    {
        var proof = V.BuildSequence().ToFinalProof(V.Aggregator);
        var changed = proof with { Timestamps = [.. proof.Timestamps.Take(2), 1UL] };
        Assert.NotEqual(proof, changed);
    }

    public static TheoryData<string, Func<byte[], byte[]>> Malformations => new()
    {
        { "empty", _ => [] },
        { "truncated head", p => p[..479] },
        { "truncated array", p => p[..^1] },
        { "wrong tag", p => Flip(p, 0) },
        { "dirty aggregator high bytes", p => Flip(p, 32) },
        { "uint64 overflow in chain id", p => Flip(p, (2 * 32) + 23) },
        { "offset beyond the end", p => SetWord(p, 12, (ulong)p.Length) },
        { "huge offset", p => Flip(p, (13 * 32) + 0) },
        { "array length beyond the end", p => SetWord(p, 0x1e0 / 32, 1_000_000) },
        { "timestamp overflow", p => Flip(p, p.Length - 32) },
    };

    [Theory]
    [MemberData(nameof(Malformations))]
    public void decode_rejects_malformed_bytes(string name, Func<byte[], byte[]> malform)
    {
        var bytes = malform((byte[])V.FinalProof.Clone());
        var result = DevnetFinalProofCodec.Decode(bytes);
        Assert.False(result.Success, name);
        Assert.False(string.IsNullOrEmpty(result.Error));
        Assert.Null(result.Proof);
    }

    [Fact]
    public void verifier_accepts_the_vector_and_rejects_changes()
    {
        Assert.True(DevnetVerifier.Verify(V.FinalProof, V.SnarkInput, out var reason), reason);
        Assert.False(DevnetVerifier.Verify(V.FinalProof, V.SnarkInput + 1));

        var proof = V.BuildSequence().ToFinalProof(V.Aggregator);
        var wrongRoot = proof with { NewStateRoot = DevnetRules.Mask(DevnetRules.Keccak256("other")) };
        Assert.False(DevnetVerifier.Verify(wrongRoot.Encode(), wrongRoot.SnarkInput(wrongRoot.Aggregator), out reason));
        Assert.Equal("state root does not chain", reason);

        var wrongRange = proof with { FinalNewBatch = 4 };
        Assert.False(DevnetVerifier.Verify(wrongRange.Encode(), wrongRange.SnarkInput(wrongRange.Aggregator)));
    }

    private static byte[] Flip(byte[] bytes, int index)
    {
        bytes[index] ^= 0x01;
        return bytes;
    }

    private static byte[] SetWord(byte[] bytes, int slot, ulong value)
    {
        Array.Clear(bytes, slot * 32, 32);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan((slot * 32) + 24), value);
        return bytes;
    }
}
