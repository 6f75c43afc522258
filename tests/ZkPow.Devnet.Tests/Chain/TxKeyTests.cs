using ZkPow.Aggregator;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Tests.Chain;

public sealed class TxKeyTests
{
    // anvil's well-known account 1 (a dev key: never use it on a real network).
    private const string DevKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    private const string DevAddress = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

    [Fact]
    public void the_address_is_derived_from_the_key_and_the_key_is_never_shown()
    {
        var key = TxKey.FromDevKey(DevKey);
        Assert.Equal(DevAddress, key.Address);
        Assert.True(key.IsDevKey);
        Assert.DoesNotContain(DevKey[2..], key.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void a_keystore_opens_with_its_password_from_a_file_or_the_environment()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"zkpow-key-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        try
        {
            var keystore = Path.Combine(directory, "miner.json");
            // A cheap scrypt cost keeps the test fast on a loaded machine; the file format and the decryption are the same.
            TxKey.WriteKeystore(keystore, DevKey, "correct horse", scryptCost: 1024);
            File.WriteAllText(Path.Combine(directory, "password"), "correct horse\n");
            Assert.DoesNotContain(DevKey[2..], File.ReadAllText(keystore), StringComparison.OrdinalIgnoreCase);

            var fromFile = TxKey.Load(new TxKeyOptions { KeystorePath = keystore, PasswordFile = Path.Combine(directory, "password") });
            Assert.Equal((DevAddress, false), (fromFile.Address, fromFile.IsDevKey));

            var variable = $"ZKPOW_TEST_PASSWORD_{Guid.NewGuid():N}";
            Environment.SetEnvironmentVariable(variable, "correct horse");
            try
            {
                Assert.Equal(DevAddress, TxKey.Load(new TxKeyOptions { KeystorePath = keystore, PasswordEnvironmentVariable = variable }).Address);
                Environment.SetEnvironmentVariable(variable, "not-the-Pa55word");
                var wrong = Assert.Throws<OptionsException>(() => TxKey.Load(new TxKeyOptions { KeystorePath = keystore, PasswordEnvironmentVariable = variable }));
                Assert.DoesNotContain("not-the-Pa55word", wrong.Message, StringComparison.Ordinal);
            }
            finally
            {
                Environment.SetEnvironmentVariable(variable, null);
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Theory]
    [InlineData(null, null, null, DevKey)]
    [InlineData("k.json", null, null, null)]
    [InlineData("k.json", "VAR", "file", null)]
    [InlineData("k.json", "VAR", null, DevKey)]
    [InlineData(null, null, null, "0x1234")]
    public void key_options_name_one_source(string? keystore, string? variable, string? file, string? devKey)
    {
        var options = new TxKeyOptions { KeystorePath = keystore, PasswordEnvironmentVariable = variable, PasswordFile = file, DevPrivateKey = devKey };
        if (keystore is null && devKey == DevKey)
        {
            options.Validate();
        }
        else
        {
            Assert.Throws<OptionsException>(options.Validate);
        }
    }

    [Theory]
    [InlineData("Confirmations", 0)]
    [InlineData("PollInterval", 5)]
    [InlineData("StuckAfter", 50)]
    [InlineData("FeeBumpPercent", 5)]
    [InlineData("MaxFeePerGas", 0)]
    [InlineData("GasLimitMultiplier", 0.5)]
    public void tx_manager_options_are_validated(string key, double value)
    {
        var options = new TxManagerOptions();
        options.Validate();
        switch (key)
        {
            case "Confirmations": options.Confirmations = (int)value; break;
            case "PollInterval": options.PollInterval = TimeSpan.FromMilliseconds(value); break;
            case "StuckAfter": options.StuckAfter = TimeSpan.FromMilliseconds(value); break;
            case "FeeBumpPercent": options.FeeBumpPercent = (decimal)value; break;
            case "MaxFeePerGas": options.MaxFeePerGas = (System.Numerics.BigInteger)value; break;
            default: options.GasLimitMultiplier = value; break;
        }

        Assert.Equal($"TxManager:{key}", Assert.Throws<OptionsException>(options.Validate).Key);
    }

    [Fact]
    public void eip1559_signatures_are_nethereums_byte_for_byte_and_recover_to_the_key()
    {
        var key = TxKey.FromDevKey(DevKey);
        var data = Convert.FromHexString("b2c4f0a1" + new string('7', 128));
        var fees = new TxFees(30_000_000_000, 1_500_000_000, Legacy: false);
        var parities = new HashSet<byte>();
        var shortScalars = 0;
        for (ulong nonce = 0; nonce < 1024; nonce++)
        {
            var signed = key.Sign(31337, nonce, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 0, data, 250_000, fees);
            var expected = key.SignWithNethereum(31337, nonce, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 0, data, 250_000, fees);
            Assert.Equal(HexData.Encode(expected), HexData.Encode(signed.Raw));
            Assert.Equal(HexData.Encode(Abi.Keccak(expected)), signed.Hash);

            var decoded = (Nethereum.Model.Transaction1559)Nethereum.Model.TransactionFactory.CreateTransaction(signed.Raw);
            parities.Add(decoded.Signature.V is { Length: > 0 } v ? v[0] : (byte)0);
            shortScalars += decoded.Signature.R.Length < 32 || decoded.Signature.S.Length < 32 ? 1 : 0;
            if (nonce % 64 == 0)
            {
                Assert.Equal(DevAddress, new Nethereum.Util.AddressUtil().ConvertToChecksumAddress(
                    Nethereum.Signer.TransactionVerificationAndRecovery.GetSenderAddress(HexData.Encode(signed.Raw))));
            }
        }

        // Both y parities and r or s values with a leading zero byte (shorter in RLP) came up, and still matched.
        Assert.Equal(new byte[] { 0, 1 }, parities.Order().ToArray());
        Assert.True(shortScalars > 0);
    }

    [Fact]
    public void a_private_key_with_leading_zero_bytes_signs_for_its_own_address()
    {
        // Any key whose big-endian form starts with a zero byte (stored with or without it).
        const string ShortKey = "0x00000000000000000000000000000000000000000000000000000000000000ff";
        var key = TxKey.FromDevKey(ShortKey);
        Assert.Equal(new Nethereum.Signer.EthECKey(ShortKey).GetPublicAddress(), key.Address);
        var signed = key.Sign(31337, 3, key.Address, 1, [], 21_000, new TxFees(2, 1, Legacy: false));
        Assert.Equal(key.Address, new Nethereum.Util.AddressUtil().ConvertToChecksumAddress(
            Nethereum.Signer.TransactionVerificationAndRecovery.GetSenderAddress(HexData.Encode(signed.Raw))));
    }

    [Fact]
    public void fee_bumps_round_up()
    {
        var bumped = new TxFees(1_000_000_001, 7, false).BumpedBy(12.5m);
        Assert.Equal((1_125_000_002, 8), ((long)bumped.MaxFeePerGas, (long)bumped.MaxPriorityFeePerGas));
    }
}
