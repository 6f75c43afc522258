using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

public sealed class DevnetVerifierTests(ChainFixture fixture) : IClassFixture<ChainFixture>, IAsyncLifetime
{
    private static readonly DevnetVectors V = DevnetVectors.Load();

    private DevChain _chain = null!;

    public async Task InitializeAsync() => _chain = await fixture.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>A claim (the decoded contents of a devnet final proof) that a test can alter field by field.</summary>
    private sealed record Claim(
        byte[] Tag, string Aggregator, ulong ChainId, ulong ForkId, ulong Init, ulong Final,
        byte[] OldStateRoot, byte[] OldAcc, byte[] NewStateRoot, byte[] NewAcc, byte[] Ler, string Coinbase,
        byte[][] TxHashes, byte[][] Gers, BigInteger[] Timestamps)
    {
        public static Claim FromVectors() => new(
            V.FinalProofTag, V.Aggregator, V.ChainId, V.ForkId, V.Sequence.InitNumBatch, V.Sequence.FinalNewBatch,
            V.Sequence.OldStateRoot, V.Sequence.OldAccInputHash, V.Sequence.NewStateRoot, V.Sequence.NewAccInputHash,
            V.Sequence.NewLocalExitRoot, V.L2Coinbase,
            [.. V.Batches.Select(b => b.TxHash)], [.. V.Batches.Select(b => b.Batch.GlobalExitRoot)],
            [.. V.Batches.Select(b => new BigInteger(b.Batch.Timestamp))]);

        public byte[] Encode() => Abi.Encode(
        [
            AbiArg.Bytes32(Tag), AbiArg.Address(Aggregator), AbiArg.Uint(ChainId), AbiArg.Uint(ForkId),
            AbiArg.Uint(Init), AbiArg.Uint(Final), AbiArg.Bytes32(OldStateRoot), AbiArg.Bytes32(OldAcc),
            AbiArg.Bytes32(NewStateRoot), AbiArg.Bytes32(NewAcc), AbiArg.Bytes32(Ler), AbiArg.Address(Coinbase),
            AbiArg.Array([.. TxHashes.Select(h => AbiArg.Bytes32(h))]),
            AbiArg.Array([.. Gers.Select(h => AbiArg.Bytes32(h))]),
            AbiArg.Array([.. Timestamps.Select(AbiArg.Uint)]),
        ]);

        /// <summary>The SNARK input this claim itself implies (so that only the chain checks can catch a change).</summary>
        public BigInteger ImpliedInput() => ContractTestProofs.SnarkInput(ContractTestProofs.Concat(
            HexData.Decode(Aggregator), OldStateRoot, OldAcc, ContractTestProofs.U64(Init), ContractTestProofs.U64(ChainId),
            ContractTestProofs.U64(ForkId), NewStateRoot, NewAcc, Ler, ContractTestProofs.U64(Final)));
    }

    private static byte[] Flip(byte[] value)
    {
        var copy = (byte[])value.Clone();
        copy[31] ^= 0x01;
        return copy;
    }

    private static byte[][] FlipAt(byte[][] values, int i) => [.. values.Select((v, j) => j == i ? Flip(v) : v)];

    [Fact]
    public void test_arithmetic_reproduces_the_shared_vectors()
    {
        Assert.Equal(V.GenesisStateRoot, ContractTestProofs.GenesisStateRoot);
        Assert.Equal(V.GenesisStateRoot, DevChainOptions.DevnetGenesisStateRoot());
        Assert.Equal(V.FinalProofTag, ContractTestProofs.FinalProofTag);
        Assert.Equal(V.RField, ContractTestProofs.RField);
        var rebuilt = TestSequence.After(0, V.GenesisStateRoot, new byte[32], V.Sequence.Batches, V.L2Coinbase);
        var root = V.GenesisStateRoot;
        var acc = new byte[32];
        foreach (var b in V.Batches)
        {
            Assert.Equal(b.TxHash, ContractTestProofs.Keccak(b.Batch.Transactions));
            root = ContractTestProofs.NextStateRoot(root, b.Batch, V.L2Coinbase);
            acc = ContractTestProofs.NextAccInputHash(acc, b.Batch, V.L2Coinbase);
            Assert.Equal(b.StateRoot, root);
            Assert.Equal(b.AccInputHash, acc);
            Assert.Equal(b.LocalExitRoot, ContractTestProofs.LocalExitRoot(root));
        }

        Assert.Equal(V.Sequence.NewStateRoot, rebuilt.NewStateRoot);
        Assert.Equal(V.Sequence.NewAccInputHash, rebuilt.NewAccInputHash);
        Assert.Equal(V.Sequence.NewLocalExitRoot, rebuilt.NewLocalExitRoot);
        Assert.Equal(V.SnarkInputPreimage, ContractTestProofs.SnarkInputPreimage(V.Aggregator, rebuilt));
        Assert.Equal(212, V.SnarkInputPreimage.Length);
        Assert.Equal(V.SnarkInput, ContractTestProofs.SnarkInput(V.SnarkInputPreimage));
        Assert.Equal(V.FinalProof, ContractTestProofs.FinalProof(V.Aggregator, rebuilt));
        Assert.Equal(V.FinalProof, Claim.FromVectors().Encode());
        Assert.Equal(V.ProofHash, ContractTestProofs.ProofHash(V.FinalProof, V.Aggregator));
    }

    [Fact]
    public async Task verifier_accepts_the_vector_proof()
    {
        Assert.True(await VerifyAsync(V.FinalProof, V.SnarkInput));
        Assert.True(await VerifyAsync(Claim.FromVectors().Encode(), Claim.FromVectors().ImpliedInput()));
    }

    public static TheoryData<string> WrongClaims =>
    [
        "tag", "aggregator", "chainID", "forkID", "initNumBatch", "finalNewBatch", "oldStateRoot", "oldAccInputHash",
        "newStateRoot", "newAccInputHash", "newLocalExitRoot", "l2Coinbase", "txHash", "globalExitRoot", "timestamp",
        "input",
    ];

    [Theory]
    [MemberData(nameof(WrongClaims))]
    public async Task verifier_rejects_a_well_formed_proof_with_one_wrong_field(string field)
    {
        var c = Claim.FromVectors();
        var wrong = field switch
        {
            "tag" => c with { Tag = Flip(c.Tag) },
            "aggregator" => c with { Aggregator = _chain.Miners[1].Address },
            "chainID" => c with { ChainId = c.ChainId + 1 },
            "forkID" => c with { ForkId = c.ForkId + 1 },
            "initNumBatch" => c with { Init = c.Init + 1 },
            "finalNewBatch" => c with { Final = c.Final + 1 },
            "oldStateRoot" => c with { OldStateRoot = Flip(c.OldStateRoot) },
            "oldAccInputHash" => c with { OldAcc = Flip(c.OldAcc) },
            "newStateRoot" => c with { NewStateRoot = Flip(c.NewStateRoot) },
            "newAccInputHash" => c with { NewAcc = Flip(c.NewAcc) },
            "newLocalExitRoot" => c with { Ler = Flip(c.Ler) },
            "l2Coinbase" => c with { Coinbase = _chain.ExtraAccounts[1].Address },
            "txHash" => c with { TxHashes = FlipAt(c.TxHashes, 1) },
            "globalExitRoot" => c with { Gers = FlipAt(c.Gers, 2) },
            "timestamp" => c with { Timestamps = [.. c.Timestamps.Select((t, i) => i == 0 ? t + 1 : t)] },
            "input" => c,
            _ => throw new ArgumentOutOfRangeException(nameof(field)),
        };

        // Against the contract's input (the true claim) ...
        Assert.False(await VerifyAsync(wrong.Encode(), field == "input" ? V.SnarkInput + 1 : V.SnarkInput));
        // ... and against the input the altered claim implies, so that the chain checks alone must catch it.
        if (field is not ("aggregator" or "chainID" or "forkID" or "input"))
        {
            Assert.False(await VerifyAsync(wrong.Encode(), wrong.ImpliedInput()));
        }
    }

    public static TheoryData<string> MalformedProofs =>
    [
        "empty", "31 bytes", "head only", "truncated", "trailing word", "dirty address", "dirty uint64", "timestamp above uint64",
        "non-canonical offset", "array length mismatch", "huge array length", "final not above init", "garbage",
    ];

    [Theory]
    [MemberData(nameof(MalformedProofs))]
    public async Task verifier_returns_false_for_malformed_bytes_without_reverting(string kind)
    {
        var proof = V.FinalProof;
        byte[] SetWord(int word, BigInteger value)
        {
            var copy = (byte[])proof.Clone();
            AbiArg.Uint(value).Encoding.CopyTo(copy, word * 32);
            return copy;
        }

        var malformed = kind switch
        {
            "empty" => [],
            "31 bytes" => proof[..31],
            "head only" => proof[..(15 * 32)],
            "truncated" => proof[..^1],
            "trailing word" => [.. proof, .. new byte[32]],
            "dirty address" => SetWord(1, new BigInteger(HexData.Decode(V.Aggregator), isUnsigned: true, isBigEndian: true) + (BigInteger.One << 200)),
            "dirty uint64" => SetWord(2, V.ChainId + (BigInteger.One << 64)),
            "timestamp above uint64" => SetWord(15 + 4 + 4 + 2 + 1, BigInteger.One << 64),
            "non-canonical offset" => SetWord(12, 15 * 32 + 32),
            "array length mismatch" => SetWord(15, 2),
            "huge array length" => SetWord(15, BigInteger.One << 255),
            "final not above init" => SetWord(5, 0),
            "garbage" => [.. Enumerable.Range(0, 700).Select(i => (byte)(i * 37 + 11))],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        Assert.False(await VerifyAsync(malformed, V.SnarkInput));
    }

    [Fact]
    public async Task rollup_verifies_the_vector_sequence_end_to_end()
    {
        var driver = new RollupDriver(_chain);
        var miner = driver.Miner(0);
        Assert.Equal(V.Aggregator, miner.Address, StringComparer.OrdinalIgnoreCase);

        var s = await driver.SequenceAsync(V.Sequence.Batches, V.L2Coinbase);
        var stored = await _chain.ReadAsync(_chain.Contracts.Rollup, RollupCalls.SequencedBatches(3));
        Assert.Equal(V.Sequence.NewAccInputHash, stored.Bytes32(0));
        Assert.Equal(0UL, stored.UInt64(2));
        var preimage = (await _chain.ReadAsync(
            _chain.Contracts.Rollup,
            RollupCalls.GetInputSnarkBytes(new ProofClaim(0, 3, s.NewLocalExitRoot, s.OldStateRoot, s.NewStateRoot)),
            miner.Address)).Bytes(0);
        Assert.Equal(V.SnarkInputPreimage, preimage);

        await driver.CommitHashAsync(miner, s, V.ProofHash);
        await driver.NextTxInBlockAsync(await driver.RoundStartAsync(s) + RollupDriver.T1);
        var receipt = await driver.RevealAsync(miner, s, V.FinalProof);
        Assert.True(RollupDriver.Verified(receipt));
        Assert.Empty(RollupDriver.Slashes(receipt));
        Assert.Equal(3UL, await driver.LastVerifiedBatchAsync());
        Assert.Equal(V.Sequence.NewStateRoot, await driver.StateRootAsync(3));
    }

    private async Task<bool> VerifyAsync(byte[] proof, BigInteger input)
    {
        var output = await _chain.CallAsync(_chain.Contracts.Verifier, RollupCalls.VerifyProof(proof, input));
        Assert.Equal(32, output.Length);
        return new AbiWords(output).Bool(0);
    }
}
