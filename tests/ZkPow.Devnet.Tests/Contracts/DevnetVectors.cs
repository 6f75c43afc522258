using System.Globalization;
using System.Numerics;
using System.Text.Json;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

/// <summary>The shared devnet vectors (a copy of shared/spec/devnet-vectors.json kept next to these tests).</summary>
internal sealed record DevnetVectors(
    byte[] GenesisStateRoot,
    byte[] FinalProofTag,
    BigInteger RField,
    ulong ChainId,
    ulong ForkId,
    string L2Coinbase,
    string Aggregator,
    IReadOnlyList<(DevBatch Batch, byte[] TxHash, byte[] StateRoot, byte[] AccInputHash, byte[] LocalExitRoot)> Batches,
    TestSequence Sequence,
    byte[] SnarkInputPreimage,
    BigInteger SnarkInput,
    byte[] FinalProof,
    byte[] ProofHash)
{
    public static DevnetVectors Load()
    {
        var root = NodeTools.FindRepoRoot() ?? throw new InvalidOperationException("repository root not found");
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "tests", "ZkPow.Devnet.Tests", "Contracts", "devnet-vectors.json")));
        var v = json.RootElement;
        var constants = v.GetProperty("constants");
        var batches = v.GetProperty("batches").EnumerateArray().Select(b => (
            new DevBatch(Bytes(b, "transactions"), Bytes(b, "globalExitRoot"), b.GetProperty("timestamp").GetUInt64()),
            Bytes(b, "txHash"),
            Bytes(b, "stateRoot"),
            Bytes(b, "accInputHash"),
            Bytes(b, "localExitRoot"))).ToList();
        var s = v.GetProperty("sequence");
        var sequence = new TestSequence(
            s.GetProperty("initNumBatch").GetUInt64(),
            s.GetProperty("finalNewBatch").GetUInt64(),
            [.. batches.Select(b => b.Item1)],
            v.GetProperty("l2Coinbase").GetString()!,
            Bytes(s, "oldStateRoot"),
            Bytes(s, "oldAccInputHash"),
            Bytes(s, "newStateRoot"),
            Bytes(s, "newAccInputHash"),
            Bytes(s, "newLocalExitRoot"));
        return new DevnetVectors(
            Bytes(constants, "genesisStateRoot"),
            Bytes(constants, "finalProofTag"),
            BigInteger.Parse(constants.GetProperty("rfield").GetString()!, CultureInfo.InvariantCulture),
            constants.GetProperty("chainID").GetUInt64(),
            constants.GetProperty("forkID").GetUInt64(),
            v.GetProperty("l2Coinbase").GetString()!,
            v.GetProperty("aggregator").GetString()!,
            batches,
            sequence,
            Bytes(s, "snarkInputPreimage"),
            BigInteger.Parse(s.GetProperty("snarkInput").GetString()!, CultureInfo.InvariantCulture),
            Bytes(s, "finalProof"),
            Bytes(s, "proofHash"));
    }

    private static byte[] Bytes(JsonElement e, string name) => HexData.Decode(e.GetProperty(name).GetString()!);
}
