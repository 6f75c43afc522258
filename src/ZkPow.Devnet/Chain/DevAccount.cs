namespace ZkPow.Devnet.Chain;

/// <summary>A funded dev account of the local chain (derived from anvil's default mnemonic).</summary>
internal sealed class DevAccount(int index, string address, string privateKey)
{
    /// <summary>The account's index in the mnemonic (0 = admin/sequencer, 1.. = miners, then extra accounts).</summary>
    public int Index { get; } = index;

    /// <summary>The checksummed 0x address.</summary>
    public string Address { get; } = address;

    /// <summary>The 0x-hex private key (a well-known dev key: never use it on a real network).</summary>
    public string PrivateKey { get; } = privateKey;

    public override string ToString() => $"account {Index} {Address}";
}
