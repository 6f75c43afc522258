namespace ZkPow.Devnet.Network;

/// <summary>What the devnet did to its aggregators: faults its proxies injected, reorgs it made, outage time.</summary>
public sealed record DevnetFaultReport
{
    /// <summary>The proxies' fault rate (<c>--rpc-faults</c>); null when the aggregators reach the nodes directly.</summary>
    public required double? RpcFaultRate { get; init; }

    /// <summary>Fault proxies running (two per node per miner).</summary>
    public required int Proxies { get; init; }

    /// <summary>Requests the proxies received.</summary>
    public required long ProxiedRequests { get; init; }

    /// <summary>Faults injected, by kind (<c>http503</c>, <c>http429</c>, <c>rpcInternalError</c>, <c>rpcRateLimit</c>,
    /// <c>stall</c>, <c>lostReply</c>, <c>truncated</c>, <c>lag</c>, <c>receiptMissing</c>, <c>outage</c> = requests refused during the outage).</summary>
    public required IReadOnlyDictionary<string, long> Injected { get; init; }

    public required long InjectedTotal { get; init; }

    /// <summary><c>anvil_reorg</c>s made (<c>--reorgs</c>).</summary>
    public required int Reorgs { get; init; }

    /// <summary>Blocks those reorgs replaced.</summary>
    public required int ReorgedBlocks { get; init; }

    /// <summary>Sequences the devnet sequencer sent again because a reorg dropped them.</summary>
    public required int SequencesResent { get; init; }

    /// <summary>Seconds every endpoint was unreachable (<c>--outage</c>).</summary>
    public required double OutageSeconds { get; init; }

    /// <summary>An empty record: no proxies, no reorgs, no outage.</summary>
    public static DevnetFaultReport None { get; } = new()
    {
        RpcFaultRate = null,
        Proxies = 0,
        ProxiedRequests = 0,
        Injected = Enum.GetValues<Faults.RpcFaultKind>().ToDictionary(Faults.RpcFaultProxy.Name, _ => 0L),
        InjectedTotal = 0,
        Reorgs = 0,
        ReorgedBlocks = 0,
        SequencesResent = 0,
        OutageSeconds = 0,
    };
}
