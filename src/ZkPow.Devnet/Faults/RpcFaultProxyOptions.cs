namespace ZkPow.Devnet.Faults;

/// <summary>Settings of one <see cref="RpcFaultProxy"/>.</summary>
public sealed class RpcFaultProxyOptions
{
    /// <summary>The JSON-RPC server the proxy forwards to. Example: <c>http://127.0.0.1:8545</c>.</summary>
    public required Uri Upstream { get; init; }

    /// <summary>The share of requests that get a fault, 0..1.</summary>
    public double Rate { get; init; }

    /// <summary>Seed of the proxy's random choices (which request, which fault, how long a stall).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Loopback port to listen on; 0 = a free one.</summary>
    public int Port { get; init; }

    /// <summary>The faults drawn from (uniformly) when a request gets one. Default: all but <see cref="RpcFaultKind.Outage"/>.</summary>
    public IReadOnlyList<RpcFaultKind> Kinds { get; init; } =
        [RpcFaultKind.Http503, RpcFaultKind.Http429, RpcFaultKind.RpcInternalError, RpcFaultKind.RpcRateLimit, RpcFaultKind.Stall, RpcFaultKind.LostReply, RpcFaultKind.Lag,
         RpcFaultKind.ReceiptMissing];

    /// <summary>How many blocks behind the head a lagging answer is, and how many recent blocks' receipts a
    /// <see cref="RpcFaultKind.ReceiptMissing"/> answer leaves out.</summary>
    public int LagBlocks { get; init; } = 3;

    /// <summary>The shortest stall.</summary>
    public TimeSpan StallMin { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest stall.</summary>
    public TimeSpan StallMax { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long a forwarded request may take upstream.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (!Upstream.IsAbsoluteUri || (Upstream.Scheme != Uri.UriSchemeHttp && Upstream.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"the fault proxy's upstream '{Upstream}' is not an http(s) URL");
        }

        if (double.IsNaN(Rate) || Rate is < 0 or > 1)
        {
            throw new ArgumentException("the fault rate must be between 0 and 1");
        }

        if (Kinds.Count == 0 || Kinds.Contains(RpcFaultKind.Outage))
        {
            throw new ArgumentException("the fault kinds must be some of the injected kinds (the outage is a switch)");
        }

        if (LagBlocks < 1 || StallMin < TimeSpan.Zero || StallMax < StallMin || Port is < 0 or > 65535)
        {
            throw new ArgumentException("invalid fault proxy settings (lag, stall or port)");
        }
    }
}
