using System.Collections.Frozen;
using System.Text.Json;

namespace ZkPow.Devnet.Chain;

/// <summary>Decodes custom-error revert data of the project's contracts by selector.</summary>
internal static class ContractErrors
{
    private static readonly Lazy<FrozenDictionary<string, string>> BySelector = new(Build);

    /// <summary>The error's name (e.g. <c>CommittedTimeout</c>) for revert data, or null when unknown or empty.</summary>
    public static string? NameOf(string? revertData)
    {
        if (revertData is null || revertData.Length < 10)
        {
            return null;
        }

        return BySelector.Value.TryGetValue(revertData[..10].ToLowerInvariant(), out var signature)
            ? signature[..signature.IndexOf('(', StringComparison.Ordinal)]
            : null;
    }

    /// <summary>The error's full signature (e.g. <c>ErrSequencerRange(uint64,uint64)</c>), or null.</summary>
    public static string? SignatureOf(string? revertData) =>
        revertData is { Length: >= 10 } && BySelector.Value.TryGetValue(revertData[..10].ToLowerInvariant(), out var signature)
            ? signature
            : null;

    private static FrozenDictionary<string, string> Build()
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in ContractArtifact.Names)
        {
            using var abi = JsonDocument.Parse(ContractArtifact.Load(name).AbiJson);
            foreach (var entry in abi.RootElement.EnumerateArray())
            {
                if (entry.GetProperty("type").GetString() != "error")
                {
                    continue;
                }

                var types = entry.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("type").GetString());
                var signature = $"{entry.GetProperty("name").GetString()}({string.Join(',', types)})";
                map[Hex.Encode(AbiEncoder.Selector(signature))] = signature;
            }
        }

        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
