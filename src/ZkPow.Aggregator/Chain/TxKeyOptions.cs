namespace ZkPow.Aggregator.Chain;

/// <summary>Where the miner's signing key comes from: an encrypted Web3 keystore file with its password in an environment
/// variable or a file, or (devnet only) a raw dev key.</summary>
public sealed class TxKeyOptions
{
    /// <summary>Path of a Web3 secret-storage (keystore v3) JSON file. Example: <c>keys/miner.json</c>.</summary>
    public string? KeystorePath { get; set; }

    /// <summary>Name of the environment variable holding the keystore password. Example: <c>ZKPOW_KEYSTORE_PASSWORD</c>.</summary>
    public string? PasswordEnvironmentVariable { get; set; }

    /// <summary>Path of a file whose content (trailing line break removed) is the keystore password. Example: <c>/run/secrets/miner</c>.</summary>
    public string? PasswordFile { get; set; }

    /// <summary>A raw 0x-hex private key; accepted only on a devnet chain (chain id 31337 or 1337).</summary>
    public string? DevPrivateKey { get; set; }

    public void Validate()
    {
        var keystore = !string.IsNullOrWhiteSpace(KeystorePath);
        var dev = !string.IsNullOrWhiteSpace(DevPrivateKey);
        if (keystore == dev)
        {
            throw new OptionsException("Key", "set exactly one of Key:KeystorePath and Key:DevPrivateKey");
        }

        if (keystore && string.IsNullOrWhiteSpace(PasswordEnvironmentVariable) == string.IsNullOrWhiteSpace(PasswordFile))
        {
            throw new OptionsException("Key:PasswordEnvironmentVariable", "set exactly one of Key:PasswordEnvironmentVariable and Key:PasswordFile");
        }

        if (dev && (DevPrivateKey!.Length != 66 || !DevPrivateKey.StartsWith("0x", StringComparison.OrdinalIgnoreCase)))
        {
            throw new OptionsException("Key:DevPrivateKey", "must be 32 bytes of 0x-hex");
        }
    }
}
