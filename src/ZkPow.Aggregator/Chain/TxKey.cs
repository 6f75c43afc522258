using System.Numerics;
using NBitcoin.Secp256k1;
using Nethereum.KeyStore;
using Nethereum.KeyStore.Model;
using Nethereum.Model;
using Nethereum.Signer;
using Nethereum.Util;

namespace ZkPow.Aggregator.Chain;

/// <summary>
/// The miner's signing key. It never leaves this object: no property returns it and <see cref="ToString"/> shows the
/// address only. The address is what final proofs are bound to.
/// <para>EIP-1559 transactions are signed with libsecp256k1's port (NBitcoin.Secp256k1) on a private key object made
/// once: it returns the recovery id with the signature, where Nethereum's signer recovers the public key up to four
/// times to find it (about ten times slower). The signature is the same (RFC 6979, low S).</para>
/// </summary>
public sealed class TxKey
{
    /// <summary>Chain ids where a raw dev key is accepted.</summary>
    public static readonly IReadOnlySet<ulong> DevnetChainIds = new HashSet<ulong> { 31337, 1337 };

    private readonly EthECKey _key;
    private readonly ECPrivKey _signer;

    private TxKey(EthECKey key, ReadOnlySpan<byte> secret, bool isDevKey)
    {
        _key = key;
        IsDevKey = isDevKey;
        Address = new AddressUtil().ConvertToChecksumAddress(key.GetPublicAddress());
        Span<byte> scalar = stackalloc byte[32];
        try
        {
            ToScalar(secret, scalar);
            _signer = ECPrivKey.TryCreate(scalar, out var signer) ? signer! : throw new OptionsException("Key", "the private key is not a valid secp256k1 key");
        }
        finally
        {
            scalar.Clear();
        }

        // Both signers must stand for the same account.
        Span<byte> publicKey = stackalloc byte[65];
        _signer.CreatePubKey().WriteToSpan(compressed: false, publicKey, out _);
        var fromSigner = HexData.Encode(Abi.Keccak(publicKey[1..])[12..]);
        if (!string.Equals(fromSigner, HexData.NormalizeAddress(Address), StringComparison.Ordinal))
        {
            throw new OptionsException("Key", "the key's address differs between the two signers");
        }
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
            return new TxKey(new EthECKey(secret, true), secret, isDevKey: false);
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    /// <summary>A raw 0x-hex dev key (devnet only).</summary>
    public static TxKey FromDevKey(string privateKey)
    {
        var secret = HexData.Decode(privateKey);
        try
        {
            return new(new EthECKey(secret, true), secret, isDevKey: true);
        }
        finally
        {
            Array.Clear(secret);
        }
    }

    /// <summary>A big-endian private key of any length (leading zero bytes or not) as the 32 bytes of a scalar.</summary>
    private static void ToScalar(ReadOnlySpan<byte> secret, Span<byte> scalar)
    {
        var significant = secret.TrimStart((byte)0);
        if (significant.Length > 32)
        {
            throw new OptionsException("Key", "the private key is longer than 32 bytes");
        }

        scalar.Clear();
        significant.CopyTo(scalar[(32 - significant.Length)..]);
    }

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
            var raw1559 = Sign1559(new Transaction1559(chainId, nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, to, value,
                HexData.Encode(data), []));
            return new SignedTx(nonce, gasLimit, fees, raw1559, HexData.Encode(Abi.Keccak(raw1559)));
        }

        var raw = HexData.Decode(rawHex);
        return new SignedTx(nonce, gasLimit, fees, raw, HexData.Encode(Abi.Keccak(raw)));
    }

    /// <summary>Signs the EIP-1559 transaction's hash; returns the raw signed transaction.</summary>
    private byte[] Sign1559(Transaction1559 tx)
    {
        if (!_signer.TrySignRecoverable(tx.RawHash, out var signature) || signature is null)
        {
            throw new InvalidOperationException("secp256k1 signing failed");
        }

        Span<byte> compact = stackalloc byte[64];
        signature.WriteToSpanCompact(compact, out var recoveryId);
        // RLP integers: no leading zero bytes; a y parity of 0 is the empty string.
        tx.SetSignature(new Signature(compact[..32].TrimStart((byte)0).ToArray(), compact[32..].TrimStart((byte)0).ToArray(),
            recoveryId == 0 ? [] : [(byte)recoveryId]));
        return tx.GetRLPEncoded();
    }

    /// <summary>Nethereum's own EIP-1559 signing, which <see cref="Sign"/> replaces; kept to check that both agree.</summary>
    internal byte[] SignWithNethereum(ulong chainId, ulong nonce, string to, BigInteger value, byte[] data, ulong gasLimit, TxFees fees) =>
        HexData.Decode(new Transaction1559Signer().SignTransaction(_key,
            new Transaction1559(chainId, nonce, fees.MaxPriorityFeePerGas, fees.MaxFeePerGas, gasLimit, to, value, HexData.Encode(data), [])));

    public override string ToString() => $"key of {Address}";
}
