using System.Security.Cryptography;
using System.Text;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Making and hashing the bearer tokens provers send in the <c>authorization</c> metadata.</summary>
public static class ProverTokens
{
    /// <summary>A fresh random token (32 random bytes, base64url, prefixed so it is recognisable in a config).</summary>
    public static string New() => "zkpt_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The lower-case hex SHA-256 of the token's UTF-8 text, as <c>Provers:Tokens:N:Sha256</c> holds it.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
