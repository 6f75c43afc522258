using System.Collections.Frozen;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// Who may open a prover stream: the remote address must be in <c>Provers:Allow</c>; when client certificates or tokens
/// are configured, the connection must also present a valid certificate or a valid bearer token (and a token, when
/// sent, must be valid). The answer names the principal the session belongs to: the certificate, the token, or
/// (allow-list only) the remote address.
/// </summary>
public sealed class ProverAccess : IDisposable
{
    /// <summary>The TLS client-authentication purpose (EKU); a certificate without EKUs is valid for every purpose.</summary>
    private const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    private readonly IReadOnlyList<IPNetwork> _allow;
    private readonly X509Certificate2? _clientCa;
    private readonly FrozenSet<string> _thumbprints;
    private readonly FrozenDictionary<string, string> _tokensByHash;
    private readonly bool _authenticates;

    public ProverAccess(ProverServerOptions options)
    {
        options.Validate();
        _allow = options.ParseAllow();
        _clientCa = string.IsNullOrEmpty(options.ClientCaFile) ? null : X509CertificateLoader.LoadCertificateFromFile(options.ClientCaFile);
        _thumbprints = options.ClientCertThumbprints.Select(ProverServerOptions.NormalizeThumbprint).ToFrozenSet(StringComparer.Ordinal);
        _tokensByHash = options.Tokens.ToFrozenDictionary(t => t.Sha256.ToLowerInvariant(), t => t.Name, StringComparer.Ordinal);
        _authenticates = options.Authenticates;
        ClientCertificates = options.RequiresClientCertificate;
    }

    /// <summary>Whether the TLS handshake asks for a client certificate.</summary>
    public bool ClientCertificates { get; }

    /// <summary>The TLS handshake's check of a presented client certificate: it must chain to the configured CA or be
    /// pinned by its SHA-256 thumbprint. A connection presenting none still completes the handshake (the health
    /// service stays open to all) but opens no prover stream.</summary>
    public bool ValidateClientCertificate(X509Certificate2 certificate, X509Chain? presented, SslPolicyErrors errors)
    {
        if (_thumbprints.Contains(Thumbprint(certificate)))
        {
            return true;
        }

        if (_clientCa is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(_clientCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ClientAuthenticationOid));
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain.Build(certificate);
    }

    /// <summary>Decides whether a stream may open; returns the principal, or the reason it may not.</summary>
    public AccessDecision Check(IPAddress? remote, X509Certificate2? certificate, string? authorization)
    {
        if (remote is null)
        {
            return AccessDecision.Refuse("the remote address is unknown");
        }

        if (remote.IsIPv4MappedToIPv6)
        {
            remote = remote.MapToIPv4();
        }

        if (!_allow.Any(n => n.Contains(remote)))
        {
            return AccessDecision.Refuse($"{remote} is not in Provers:Allow");
        }

        string? tokenName = null;
        if (!string.IsNullOrEmpty(authorization))
        {
            const string scheme = "Bearer ";
            if (!authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) ||
                !_tokensByHash.TryGetValue(ProverTokens.Hash(authorization[scheme.Length..].Trim()), out tokenName))
            {
                return AccessDecision.Refuse("the bearer token is not one of Provers:Tokens");
            }
        }

        if (certificate is not null && ClientCertificates)
        {
            // The TLS handshake already validated it.
            return AccessDecision.Admit($"cert:{Thumbprint(certificate)}");
        }

        if (tokenName is not null)
        {
            return AccessDecision.Admit($"token:{tokenName}");
        }

        return _authenticates
            ? AccessDecision.Refuse("neither a valid client certificate nor a bearer token was presented")
            : AccessDecision.Admit($"addr:{remote}");
    }

    private static string Thumbprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256).ToUpperInvariant();

    public void Dispose() => _clientCa?.Dispose();
}
