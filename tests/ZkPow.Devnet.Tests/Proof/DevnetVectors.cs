using System.Numerics;
using System.Text.Json;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Tests.Proof;

/// <summary>The shared vectors: the repository's copy of shared/spec/devnet-vectors.json
/// (tests/ZkPow.Devnet.Tests/Contracts/devnet-vectors.json, checked against the original where it is present).</summary>
internal sealed class DevnetVectors
{
    private static readonly Lazy<DevnetVectors> Instance = new(Load);

    private DevnetVectors(JsonElement root)
    {
        var constants = root.GetProperty("constants");
        GenesisStateRoot = Hex(constants, "genesisStateRoot");
        GenesisAccInputHash = Hex(constants, "genesisAccInputHash");
        FinalProofTag = Hex(constants, "finalProofTag");
        Rfield = BigInteger.Parse(constants.GetProperty("rfield").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        ChainId = constants.GetProperty("chainID").GetUInt64();
        ForkId = constants.GetProperty("forkID").GetUInt64();
        Coinbase = root.GetProperty("l2Coinbase").GetString()!;
        Aggregator = root.GetProperty("aggregator").GetString()!;
        Batches = root.GetProperty("batches").EnumerateArray().Select(b => new VectorBatch(
            b.GetProperty("batch").GetUInt64(),
            Hex(b, "transactions"),
            Hex(b, "globalExitRoot"),
            b.GetProperty("timestamp").GetUInt64(),
            Hex(b, "txHash"),
            Hex(b, "stateRoot"),
            Hex(b, "accInputHash"),
            Hex(b, "localExitRoot"))).ToArray();
        var sequence = root.GetProperty("sequence");
        InitNumBatch = sequence.GetProperty("initNumBatch").GetUInt64();
        FinalNewBatch = sequence.GetProperty("finalNewBatch").GetUInt64();
        OldStateRoot = Hex(sequence, "oldStateRoot");
        OldAccInputHash = Hex(sequence, "oldAccInputHash");
        NewStateRoot = Hex(sequence, "newStateRoot");
        NewAccInputHash = Hex(sequence, "newAccInputHash");
        NewLocalExitRoot = Hex(sequence, "newLocalExitRoot");
        SnarkInputPreimage = Hex(sequence, "snarkInputPreimage");
        SnarkInput = BigInteger.Parse(sequence.GetProperty("snarkInput").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        FinalProof = Hex(sequence, "finalProof");
        FinalProofHex = sequence.GetProperty("finalProof").GetString()!;
        ProofHash = Hex(sequence, "proofHash");
    }

    public static DevnetVectors Current => Instance.Value;

    public byte[] GenesisStateRoot { get; }
    public byte[] GenesisAccInputHash { get; }
    public byte[] FinalProofTag { get; }
    public BigInteger Rfield { get; }
    public ulong ChainId { get; }
    public ulong ForkId { get; }
    public string Coinbase { get; }
    public string Aggregator { get; }
    public IReadOnlyList<VectorBatch> Batches { get; }
    public ulong InitNumBatch { get; }
    public ulong FinalNewBatch { get; }
    public byte[] OldStateRoot { get; }
    public byte[] OldAccInputHash { get; }
    public byte[] NewStateRoot { get; }
    public byte[] NewAccInputHash { get; }
    public byte[] NewLocalExitRoot { get; }
    public byte[] SnarkInputPreimage { get; }
    public BigInteger SnarkInput { get; }
    public byte[] FinalProof { get; }
    public string FinalProofHex { get; }
    public byte[] ProofHash { get; }

    /// <summary>The vector batches as a <see cref="DevnetSequence"/> built by the code under test.</summary>
    public DevnetSequence BuildSequence()
    {
        var stateRoot = DevnetRules.GenesisStateRoot();
        var accInputHash = DevnetRules.GenesisAccInputHash();
        var batches = new List<DevnetBatch>();
        foreach (var v in Batches)
        {
            var batch = DevnetBatch.Create(v.Number, v.Transactions, v.GlobalExitRoot, v.Timestamp, Coinbase, stateRoot, accInputHash);
            batches.Add(batch);
            stateRoot = batch.StateRoot;
            accInputHash = batch.AccInputHash;
        }

        return new DevnetSequence(ChainId, ForkId, Coinbase, batches);
    }

    private static byte[] Hex(JsonElement element, string name) => HexData.Decode(element.GetProperty(name).GetString()!);

    public static string RepositoryCopy(string root) => Path.Combine(root, "tests", "ZkPow.Devnet.Tests", "Contracts", "devnet-vectors.json");

    /// <summary>The original beside the repository (<c>../shared/spec</c>), if this checkout has it.</summary>
    public static string? SharedOriginal(string root) =>
        Path.Combine(root, "..", "shared", "spec", "devnet-vectors.json") is var path && File.Exists(path) ? path : null;

    private static DevnetVectors Load()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ZkPow.slnx")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException($"no ZkPow.slnx above {AppContext.BaseDirectory}");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryCopy(directory.FullName)));
        return new DevnetVectors(document.RootElement);
    }
}
