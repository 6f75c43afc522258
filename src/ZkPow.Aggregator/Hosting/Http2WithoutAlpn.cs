using System.Net.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The application protocol a TLS connection without ALPN is taken to speak on the prover port: HTTP/2.</summary>
internal sealed class Http2WithoutAlpn : ITlsApplicationProtocolFeature
{
    public static Http2WithoutAlpn Instance { get; } = new();

    public ReadOnlyMemory<byte> ApplicationProtocol { get; } = SslApplicationProtocol.Http2.Protocol;
}
