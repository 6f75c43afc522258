namespace ZkPow.Devnet.Chain;

/// <summary>A call or transaction that the node reports as reverted, with its decoded custom error if known.</summary>
internal sealed class ContractRevertException(string message, string? revertData, Exception? inner = null)
    : Exception($"{message}: {ContractErrors.SignatureOf(revertData) ?? revertData ?? "no revert data"}", inner)
{
    /// <summary>The raw revert data (0x-hex), if the node returned any.</summary>
    public string? RevertData { get; } = revertData;

    /// <summary>The custom error's name (e.g. <c>SubmitProofEarly</c>), or null when not one of the project's errors.</summary>
    public string? ErrorName { get; } = ContractErrors.NameOf(revertData);
}
