using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Chain;

/// <summary>A call or transaction that the node reports as reverted, with its error decoded (<see cref="ChainRevert"/>).</summary>
internal sealed class ContractRevertException(string message, string? revertData, Exception? inner = null)
    : Exception($"{message}: {Describe(revertData)}", inner)
{
    /// <summary>The raw revert data (0x-hex), if the node returned any.</summary>
    public string? RevertData { get; } = revertData;

    /// <summary>The decoded revert.</summary>
    public ChainRevert Revert { get; } = ChainRevert.Decode(revertData);

    /// <summary>The custom error's name (e.g. <c>SubmitProofEarly</c>), or null when not one of the contracts' errors.</summary>
    public string? ErrorName => Revert.Error == ChainError.Unknown ? null : Revert.Name;

    private static string Describe(string? revertData) => revertData is null ? "no revert data" : ChainRevert.Decode(revertData) is
    { Error: not ChainError.Unknown } revert ? revert.ToString() : revertData;
}
