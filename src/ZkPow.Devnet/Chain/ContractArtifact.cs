using System.Text.Json;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Chain;

/// <summary>A compiled contract (abi + creation bytecode), embedded from <c>contracts/artifacts/</c>.</summary>
internal sealed class ContractArtifact
{
    public const string RollupName = "ZkPowRollup";
    public const string MinerDepositName = "MinerDeposit";
    public const string VerifierName = "DevnetVerifier";

    private const string ResourcePrefix = "ZkPow.Devnet.Contracts.";

    private ContractArtifact(string name, string abiJson, byte[] bytecode)
    {
        Name = name;
        AbiJson = abiJson;
        Bytecode = bytecode;
    }

    public static IReadOnlyList<string> Names { get; } = [RollupName, MinerDepositName, VerifierName];

    public string Name { get; }

    /// <summary>The contract's ABI as JSON text.</summary>
    public string AbiJson { get; }

    /// <summary>The creation bytecode (constructor arguments are appended to it).</summary>
    public byte[] Bytecode { get; }

    public static ContractArtifact Load(string name)
    {
        using var document = JsonDocument.Parse(ReadResource(name + ".json"));
        var root = document.RootElement;
        return new ContractArtifact(
            name,
            root.GetProperty("abi").GetRawText(),
            HexData.Decode(root.GetProperty("bytecode").GetString() ?? throw new InvalidDataException($"{name}: no bytecode")));
    }

    /// <summary>The text of an embedded artifact file, e.g. <c>manifest.json</c>.</summary>
    public static string ReadResource(string fileName)
    {
        using var stream = typeof(ContractArtifact).Assembly.GetManifestResourceStream(ResourcePrefix + fileName)
            ?? throw new InvalidOperationException($"embedded contract artifact {fileName} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
