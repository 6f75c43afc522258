using System.Numerics;
using Nethereum.KeyStore;
using Nethereum.KeyStore.Model;
using Nethereum.Model;
using Nethereum.Signer;
using Nethereum.Util;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The miner's signing key. It never leaves this object: no property returns it and <see cref="ToString"/> shows the
/// address only. The address is what final proofs are bound to.
/// </summary>
public sealed class TxKey
{
    /// <summary>Chain ids where a raw dev key is accepted.</summary>
    public static readonly IReadOnlySet<ulong> DevnetChainIds = new HashSet<ulong> { 31337, 1337 };

    private readonly EthECKey _key;

    private TxKey(EthECKey key, bool isDevKey)
    {
        _key = key;
        IsDevKey = isDevKey;
        Address = new AddressUtil().ConvertToChecksumAddress(key.GetPublicAddress());
    }

    /// <summary>The checksummed sender address.</summary>
    public string Address { get; }

    /// <summary>A raw dev key (refused on chains other than the devnet's).</summary>
    public bool IsDevKey { get; }

    /// <summary>Loads the key that <paramref name="options"/> describes.</summary>
    public static TxKey Load(TxKeyOptions options)
    {
        options.Validate();
        if (!string.IsNullOrWhiteSpace(options.DevPrivateKey))
        {
            return FromDevKey(options.DevPrivateKey);
        }

        string password;
        if (!string.IsNullOrWhiteSpace(options.PasswordEnvironmentVariable))
        {
            password = Environment.GetEnvironmentVariable(options.PasswordEnvironmentVariable)
                ?? throw new OptionsException("Key:PasswordEnvironmentVariable", $"the environment variable {options.PasswordEnvironmentVariable} is not set");
        }
        else
        {
            password = File.ReadAllText(options.PasswordFile!).TrimEnd('\r', '\n');
        }

        var json = File.ReadAllText(options.KeystorePath!);
        byte[] secret;
        try
        {
            secret = new KeyStoreService().DecryptKeyStoreFromJson(password, json);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The library's message says nothing secret, but keep ours generic anyway.
            throw new OptionsException("Key:KeystorePath", $"cannot decrypt {options.KeystorePath}: wrong password or not a keystore file");
        }

        try
        {
            return new TxKey(new EthECKey(secret, true), isDevKey: false);
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    /// <summary>A raw 0x-hex dev key (devnet only).</summary>
    public static TxKey FromDevKey(string privateKey) => new(new EthECKey(privateKey), isDevKey: true);

    /// <summary>The scrypt cost (N) of the keystores written here: the usual Ethereum default.</summary>
    public const int DefaultScryptCost = 262144;

    /// <summary>Writes an encrypted scrypt keystore file for a raw key (for set-up and tests), readable by its owner only. <paramref name="scryptCost"/>
    /// is scrypt's N (a power of two); a low one makes a keystore that is fast to open and easy to crack: tests only.</summary>
    public static void WriteKeystore(string path, string privateKey, string password, int scryptCost = DefaultScryptCost)
    {
        if (scryptCost < 2 || (scryptCost & (scryptCost - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(scryptCost), scryptCost, "the scrypt cost must be a power of two");
        }

        var key = new EthECKey(privateKey);
        var parameters = new ScryptParams { Dklen = 32, N = scryptCost, R = 8, P = 1 };
        var json = new KeyStoreScryptService().EncryptAndGenerateKeyStoreAsJson(password, key.GetPrivateKeyAsBytes(), key.GetPublicAddress(), parameters);
        SecretFiles.Write(path, json);
    }

    /// <summary>The keystore and password files of <paramref name="options"/> that group or others may read (see
    /// <see cref="SecretFiles.IsExposed"/>).</summary>
    public static IReadOnlyList<string> ExposedFiles(TxKeyOptions options) =>
        [.. new[] { options.KeystorePath, options.PasswordFile }.OfType<string>().Where(p => p.Length > 0 && SecretFiles.IsExposed(p))];

    /// <summary>Signs a transaction (EIP-1559, or legacy EIP-155 when <see cref="TxFees.Legacy"/>).</summary>
    public SignedTx Sign(ulong chainId, ulong nonce, string to, BigInteger value, byte[] data, ulong gasLimit, TxFees fees)
    {
        string rawHex;
        if (fees.Legacy)
        {
            rawHex = new LegacyTransactionSigner().SignTransaction(_key.GetPrivateKeyAsBytes(), new BigInteger(chainId), to, value, nonce,
                fees.MaxFeePerGas, gasLimit, HexData.Encode(data));
        }
        else
        {
            var tx = new Transaction1559(chainId, nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, to, value, HexData.Encode(data), []);
            rawHex = new Transaction1559Signer().SignTransaction(_key, tx);
        }

        var raw = HexData.Decode(rawHex);
        return new SignedTx(nonce, gasLimit, fees, raw, HexData.Encode(Abi.Keccak(raw)));
    }

    public override string ToString() => $"key of {Address}";
}
