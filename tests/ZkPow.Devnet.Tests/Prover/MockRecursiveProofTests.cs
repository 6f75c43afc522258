using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Proof;

namespace ZkPow.Devnet.Tests.Prover;

public sealed class MockRecursiveProofTests
{
    private static DevnetVectors V => DevnetVectors.Current;

    private static MockRecursiveProof BatchProof(int index)
    {
        var b = V.BuildSequence().Batches[index];
        return MockRecursiveProof.ForBatch(V.ChainId, V.ForkId, V.Coinbase, b.Number - 1, b.OldStateRoot,
            b.OldAccInputHash, b.Transactions, b.GlobalExitRoot, b.Timestamp);
    }

    [Fact]
    public void json_round_trips_and_aggregates_to_the_vector_proof()
    {
        var text = BatchProof(0).ToJson();
        Assert.StartsWith("{\"kind\":\"batch\"", text, StringComparison.Ordinal);
        Assert.True(MockRecursiveProof.TryParse(text, out var parsed, out var error), error);
        Assert.Equal(text, parsed.ToJson());

        Assert.True(MockRecursiveProof.TryAggregate(parsed, BatchProof(1), out var a12, out error), error);
        Assert.True(MockRecursiveProof.TryAggregate(a12, BatchProof(2), out var a123, out error), error);
        Assert.True(MockRecursiveProof.TryParse(a123.ToJson(), out var reparsed, out error), error);
        Assert.Equal(V.FinalProof, reparsed.ToFinalProof(HexData.DecodeAddress(V.Aggregator)).Encode());
    }

    [Fact]
    public void a_padded_proof_has_the_requested_size_and_proves_the_same()
    {
        var plain = BatchProof(0).ToJson();
        var padded = BatchProof(0).ToJson(1024 * 1024);
        Assert.Equal(1024 * 1024, padded.Length);
        Assert.Equal(plain, BatchProof(0).ToJson(10));
        Assert.DoesNotContain("padding", plain, StringComparison.Ordinal);

        // The padding survives parsing but not aggregation at another size, and the aggregate still proves the vector.
        Assert.True(MockRecursiveProof.TryParse(padded, out var parsed, out var error), error);
        Assert.Equal(padded, parsed.ToJson(1024 * 1024));
        Assert.True(MockRecursiveProof.TryAggregate(parsed, BatchProof(1), out var a12, out error), error);
        Assert.True(MockRecursiveProof.TryAggregate(a12, BatchProof(2), out var a123, out error), error);
        Assert.Equal(4096, a123.ToJson(4096).Length);
        Assert.True(MockRecursiveProof.TryParse(a123.ToJson(0), out var reparsed, out error), error);
        Assert.Equal(V.FinalProof, reparsed.ToFinalProof(HexData.DecodeAddress(V.Aggregator)).Encode());
    }

    [Theory]
    [InlineData("")]
    [InlineData("42")]
    [InlineData("{")]
    [InlineData("{\"kind\":\"batch\"}")]
    [InlineData("null")]
    public void garbage_is_rejected(string text)
    {
        Assert.False(MockRecursiveProof.TryParse(text, out var proof, out var error));
        Assert.Null(proof);
        Assert.NotEmpty(error);
    }

    [Fact]
    public void tampered_proofs_are_rejected()
    {
        var proof = BatchProof(1);
        var cases = new[]
        {
            proof with { NewStateRoot = HexData.Encode(V.Batches[2].StateRoot) },
            proof with { NewBatch = 3 },
            proof with { Kind = "final" },
            proof with { Coinbase = "0x1234" },
            proof with { Batches = [proof.Batches[0] with { Timestamp = 1 }] },
        };
        foreach (var tampered in cases)
        {
            Assert.False(MockRecursiveProof.TryParse(tampered.ToJson(), out _, out _), tampered.ToJson());
        }
    }
}
