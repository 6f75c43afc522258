using System.Net;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The operator endpoint: health, metrics, status, the dashboard and the operator API.</summary>
public sealed class HttpOptions
{
    /// <summary>Address to listen on; loopback by default. Example: <c>127.0.0.1</c>.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one. Example: 9091.</summary>
    public int Port { get; set; } = 9091;

    /// <summary>
    /// SHA-256 (64 hex digits) of the operator token that state-changing requests (<c>POST /api/…</c>: requeue, drain)
    /// must send as <c>Authorization: Bearer &lt;token&gt;</c>; made like prover tokens (<c>zkpow token new</c>). Null = no
    /// token asked, which is allowed only on loopback unless <see cref="AllowUnauthenticated"/> is set.
    /// </summary>
    public string? OperatorTokenHash { get; set; }

    /// <summary>Lets the endpoint listen beyond loopback without <see cref="OperatorTokenHash"/> (anyone reaching the port
    /// may then requeue or drain; a warning is logged at start). Default false.</summary>
    public bool AllowUnauthenticated { get; set; }

    /// <summary>Whether <see cref="ListenAddress"/> is a loopback address (only local processes can connect).</summary>
    public bool IsLoopback => IPAddress.TryParse(ListenAddress, out var address) && IPAddress.IsLoopback(address);

    /// <summary>Whether state-changing requests need the operator token.</summary>
    public bool RequiresToken => !string.IsNullOrEmpty(OperatorTokenHash);

    public void Validate()
    {
        if (!IPAddress.TryParse(ListenAddress, out _))
        {
            throw new OptionsException("Http:ListenAddress", $"'{ListenAddress}' is not an IP address");
        }

        if (Port is < 0 or > 65535)
        {
            throw new OptionsException("Http:Port", $"{Port} is not a TCP port (0 to 65535)");
        }

        if (RequiresToken && (OperatorTokenHash!.Length != 64 || OperatorTokenHash.AsSpan().ContainsAnyExcept("0123456789abcdefABCDEF")))
        {
            throw new OptionsException("Http:OperatorTokenHash", "is not 64 hex digits (make a token and its hash with 'zkpow token new')");
        }

        if (!IsLoopback && !RequiresToken && !AllowUnauthenticated)
        {
            throw new OptionsException("Http:ListenAddress",
                $"'{ListenAddress}' is reachable beyond this machine but no operator token is configured: anyone reaching the port could " +
                "requeue tasks or drain the aggregator. Set Http:OperatorTokenHash (make one with 'zkpow token new'), listen on 127.0.0.1, " +
                "or set Http:AllowUnauthenticated=true");
        }
    }
}
