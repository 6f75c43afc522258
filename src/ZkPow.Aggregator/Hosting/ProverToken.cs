namespace ZkPow.Aggregator.Hosting;

/// <summary>One prover token as configured: a name (the prover's principal) and the SHA-256 of the token. The token
/// itself is never stored; <c>zkpow token new</c> prints a fresh one with its hash.</summary>
public sealed class ProverToken
{
    /// <summary>Who holds the token; letters, digits, <c>.</c>, <c>_</c> and <c>-</c>. Example: <c>rig-7</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Lower- or upper-case hex SHA-256 of the token's UTF-8 text (64 digits).</summary>
    public string Sha256 { get; set; } = "";
}
