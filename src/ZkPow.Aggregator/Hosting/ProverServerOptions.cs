using System.Net;

namespace ZkPow.Aggregator.Hosting;

/// <summary>Where provers dial in, and who may.</summary>
public sealed class ProverServerOptions
{
    /// <summary>Longest token or certificate name accepted (token names are principals, and principals are shown).</summary>
    public const int MaxTokenNameLength = 64;

    /// <summary>Address to listen on. Example: <c>127.0.0.1</c> (loopback) or <c>0.0.0.0</c> (all interfaces).</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port for the prover gRPC endpoint; 0 picks a free one. Example: 50081.</summary>
    public int Port { get; set; } = 50081;

    /// <summary>If the port is taken, listen on a free one instead (and say which).</summary>
    public bool FallBackToFreePort { get; set; }

    /// <summary>PFX certificate for TLS; empty means cleartext HTTP/2. Example: <c>/etc/zkpow/prover.pfx</c>.</summary>
    public string? TlsCertificatePath { get; set; }

    /// <summary>Password of the PFX file, if any.</summary>
    public string? TlsCertificatePassword { get; set; }

    /// <summary>Networks (CIDR, or single addresses) provers may connect from; every other address gets no request.
    /// Example: <c>10.0.0.0/8,127.0.0.1</c>. Default: loopback only.</summary>
    public List<string> Allow { get; set; } = ["127.0.0.0/8", "::1/128"];

    /// <summary>Lets an allow-list that admits any address (<c>0.0.0.0/0</c>, <c>::/0</c>) start without client
    /// certificates or tokens (a warning is logged at every start).</summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>PEM or DER CA certificate: provers must present a client certificate that chains to it (mutual TLS).
    /// Example: <c>/etc/zkpow/provers-ca.pem</c>.</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>SHA-256 thumbprints (hex) of the client certificates accepted as they are (mutual TLS, pinned).</summary>
    public List<string> ClientCertThumbprints { get; set; } = [];

    /// <summary>Per-prover bearer tokens, stored hashed.</summary>
    public List<ProverToken> Tokens { get; set; } = [];

    /// <summary>Most TCP connections open at once on the prover port. Example: 1024.</summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>Most prover sessions one principal (certificate, token or address) may hold at once. Example: 64.</summary>
    public int MaxSessionsPerPrincipal { get; set; } = 64;

    /// <summary>Whether provers must present a client certificate.</summary>
    public bool RequiresClientCertificate => !string.IsNullOrEmpty(ClientCaFile) || ClientCertThumbprints.Count > 0;

    /// <summary>Whether any authentication (client certificates or tokens) is configured.</summary>
    public bool Authenticates => RequiresClientCertificate || Tokens.Count > 0;

    /// <summary>Whether the allow-list admits every address.</summary>
    public bool AllowsAnyAddress => ParseAllow().Any(n => n.PrefixLength == 0);

    /// <summary>The allow-list, parsed (call after <see cref="Validate"/>).</summary>
    public IReadOnlyList<IPNetwork> ParseAllow()
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in Allow)
        {
            var text = entry.Trim();
            if (IPAddress.TryParse(text, out var single) && !text.Contains('/', StringComparison.Ordinal))
            {
                networks.Add(new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else if (IPNetwork.TryParse(text, out var network) && IPAddress.TryParse(text.Split('/')[0], out var written) && written.Equals(network.BaseAddress))
            {
                networks.Add(network);
            }
            else
            {
                throw new OptionsException("Provers:Allow",
                    $"'{entry}' is not a network in CIDR notation (such as 10.0.0.0/8, with no bits set after the prefix) or an IP address");
            }
        }

        return networks;
    }

    public void Validate()
    {
        if (!IPAddress.TryParse(ListenAddress, out _))
        {
            throw new OptionsException("Provers:ListenAddress", $"'{ListenAddress}' is not an IP address");
        }

        if (Port is < 0 or > 65535)
        {
            throw new OptionsException("Provers:Port", $"{Port} is not a TCP port (0 to 65535)");
        }

        if (!string.IsNullOrEmpty(TlsCertificatePath) && !File.Exists(TlsCertificatePath))
        {
            throw new OptionsException("Provers:TlsCertificatePath", $"no file at '{TlsCertificatePath}'");
        }

        if (Allow.Count == 0)
        {
            throw new OptionsException("Provers:Allow", "is empty: no prover could connect (the default is loopback only: 127.0.0.0/8, ::1/128)");
        }

        _ = ParseAllow();
        if (!string.IsNullOrEmpty(ClientCaFile) && !File.Exists(ClientCaFile))
        {
            throw new OptionsException("Provers:ClientCaFile", $"no file at '{ClientCaFile}'");
        }

        foreach (var thumbprint in ClientCertThumbprints)
        {
            if (NormalizeThumbprint(thumbprint) is not { Length: 64 } normalized || !IsHex(normalized))
            {
                throw new OptionsException("Provers:ClientCertThumbprints", $"'{thumbprint}' is not a SHA-256 thumbprint (64 hex digits, colons allowed)");
            }
        }

        if (RequiresClientCertificate && string.IsNullOrEmpty(TlsCertificatePath))
        {
            throw new OptionsException(!string.IsNullOrEmpty(ClientCaFile) ? "Provers:ClientCaFile" : "Provers:ClientCertThumbprints",
                "client certificates need TLS: set Provers:TlsCertificatePath too");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var token in Tokens)
        {
            if (token.Name.Length is 0 or > MaxTokenNameLength || token.Name.AsSpan().ContainsAnyExcept(TokenNameCharacters))
            {
                throw new OptionsException("Provers:Tokens",
                    $"token name '{token.Name}' must be 1 to {MaxTokenNameLength} letters, digits, '.', '_' or '-'");
            }

            if (token.Sha256.Length != 64 || !IsHex(token.Sha256))
            {
                throw new OptionsException("Provers:Tokens", $"the Sha256 of token '{token.Name}' is not 64 hex digits (print one with 'zkpow token new')");
            }

            if (!names.Add(token.Name) || !hashes.Add(token.Sha256))
            {
                throw new OptionsException("Provers:Tokens", $"token '{token.Name}' is listed twice (by name or by hash)");
            }
        }

        if (AllowsAnyAddress && !Authenticates && !AllowUnauthenticated)
        {
            throw new OptionsException("Provers:Allow",
                "admits any address but no client certificates (Provers:ClientCaFile, Provers:ClientCertThumbprints) or tokens " +
                "(Provers:Tokens) are configured: anyone reaching the port would receive proofs. Restrict it to your provers' networks, " +
                "configure authentication, or set Provers:AllowUnauthenticated=true");
        }

        if (MaxConnections < 1)
        {
            throw new OptionsException("Provers:MaxConnections", "must be at least 1");
        }

        if (MaxSessionsPerPrincipal < 1)
        {
            throw new OptionsException("Provers:MaxSessionsPerPrincipal", "must be at least 1");
        }
    }

    private const string TokenNameCharacters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";

    /// <summary>Upper-case hex without separators.</summary>
    public static string NormalizeThumbprint(string thumbprint) =>
        thumbprint.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal).Trim().ToUpperInvariant();

    private static bool IsHex(string text) => !text.AsSpan().ContainsAnyExcept("0123456789abcdefABCDEF");
}
