using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Faults;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Devnet.Network;

/// <summary>
/// The devnet's fault injection: a pair of <see cref="RpcFaultProxy"/>s per node per miner (<c>--rpc-faults</c>),
/// <c>anvil_reorg</c>s of depth 1–3 every ~N blocks (<c>--reorgs</c>, the sequencer re-sending what they drop) and an
/// outage of every proxied endpoint (<c>--outage D@S</c>).
/// </summary>
internal sealed partial class DevnetFaults : IAsyncDisposable
{
    private readonly DevnetOptions _options;
    private readonly DevChain _chain;
    private readonly DevnetSequencer _sequencer;
    private readonly ILogger _logger;
    private readonly List<RpcFaultProxy> _proxies = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    private Task _reorging = Task.CompletedTask;
    private Task _outage = Task.CompletedTask;
    private int _reorgs;
    private int _reorgedBlocks;
    private TimeSpan _outageServed;
    private DateTime? _outageSince;
    private bool _started;

    public DevnetFaults(DevnetOptions options, DevChain chain, DevnetSequencer sequencer, ILogger<DevnetFaults> logger)
    {
        _options = options;
        _chain = chain;
        _sequencer = sequencer;
        _logger = logger;
    }

    public IReadOnlyList<RpcFaultProxy> Proxies
    {
        get
        {
            lock (_gate)
            {
                return [.. _proxies];
            }
        }
    }

    /// <summary>Every proxied endpoint is refusing requests right now.</summary>
    public bool OutageOn => _outageSince is not null;

    /// <summary>
    /// The endpoints miner <paramref name="miner"/>'s aggregator is given: with proxies, two independent ones in front
    /// of each node (seeded apart); without, the nodes themselves.
    /// </summary>
    public async Task<(string[] Chain, string[] RollupNode)> EndpointsAsync(int miner, string chainUrl, string rollupNodeUrl, CancellationToken cancellationToken)
    {
        if (!_options.Proxied)
        {
            return ([chainUrl], [rollupNodeUrl]);
        }

        var chain = new string[2];
        var rollup = new string[2];
        for (var k = 0; k < 2; k++)
        {
            chain[k] = (await StartProxyAsync(chainUrl, (_options.Seed * 1000) + (miner * 10) + k, cancellationToken).ConfigureAwait(false)).Url;
            rollup[k] = (await StartProxyAsync(rollupNodeUrl, (_options.Seed * 1000) + (miner * 10) + 5 + k, cancellationToken).ConfigureAwait(false)).Url;
        }

        return (chain, rollup);
    }

    private async Task<RpcFaultProxy> StartProxyAsync(string upstream, int seed, CancellationToken cancellationToken)
    {
        var proxy = await RpcFaultProxy.StartAsync(new RpcFaultProxyOptions
        {
            Upstream = new Uri(upstream),
            Rate = _started ? _options.RpcFaults ?? 0 : 0, // armed by Start, once the in-process aggregators are up
            Seed = seed,
        }, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _proxies.Add(proxy);
        }

        return proxy;
    }

    /// <summary>Arms the proxies' faults and starts the reorgs and the outage clock (call once the network is up:
    /// the in-process aggregators meet faults once started; an external one from its own start-up).</summary>
    public void Start()
    {
        lock (_gate)
        {
            _started = true;
            foreach (var proxy in _proxies)
            {
                proxy.Rate = _options.RpcFaults ?? 0;
            }
        }

        if (_options.Reorgs > 0)
        {
            _reorging = Task.Run(() => ReorgAsync(_stopping.Token), CancellationToken.None);
        }

        if (_options.OutageDuration is { } duration)
        {
            _outage = Task.Run(() => OutageAsync(_options.OutageStart, duration, _stopping.Token), CancellationToken.None);
        }
    }

    public DevnetFaultReport Report()
    {
        var proxies = Proxies;
        var injected = DevnetFaultReport.None.Injected.ToDictionary(p => p.Key, p => 0L);
        foreach (var proxy in proxies)
        {
            foreach (var (kind, count) in proxy.Snapshot())
            {
                injected[kind] += count;
            }
        }

        TimeSpan outage;
        lock (_gate)
        {
            outage = _outageServed + (_outageSince is { } since ? DateTime.UtcNow - since : TimeSpan.Zero);
        }

        return new DevnetFaultReport
        {
            RpcFaultRate = _options.Proxied ? _options.RpcFaults ?? 0 : null,
            Proxies = proxies.Count,
            ProxiedRequests = proxies.Sum(p => p.Requests),
            Injected = injected,
            InjectedTotal = injected.Values.Sum(),
            Reorgs = Volatile.Read(ref _reorgs),
            ReorgedBlocks = Volatile.Read(ref _reorgedBlocks),
            SequencesResent = _sequencer.Resent,
            OutageSeconds = Math.Round(outage.TotalSeconds, 1),
        };
    }

    private async Task ReorgAsync(CancellationToken cancellationToken)
    {
        var random = new Random(_options.Seed ^ 0x4e06);
        int Gap() => Math.Max(1, (_options.Reorgs / 2) + random.Next(_options.Reorgs + 1));
        try
        {
            // The set-up blocks (deployment, funding, stakes) are never reorganised.
            var floor = await _chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
            var next = floor + (ulong)Gap();
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
                try
                {
                    var head = await _chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
                    if (head < next)
                    {
                        continue;
                    }

                    var depth = (ulong)random.Next(1, 4);
                    depth = Math.Min(depth, head - floor - 1);
                    next = head + (ulong)Gap();
                    if (depth < 1)
                    {
                        continue;
                    }

                    // No sequence of the devnet's is on its way during the reorg (see DevnetSequencer.ReorgAsync).
                    var resent = await _sequencer.ReorgAsync(async token =>
                    {
                        await _chain.Rpc.CallAsync("anvil_reorg", [depth, new JsonArray()], token).ConfigureAwait(false);
                        Interlocked.Increment(ref _reorgs);
                        Interlocked.Add(ref _reorgedBlocks, (int)depth);
                        LogReorg(depth, head);
                    }, cancellationToken).ConfigureAwait(false);
                    if (resent > 0)
                    {
                        LogResent(resent);
                    }
                }
                catch (Exception ex) when (ex is EthRpcException or ChainUnavailableException or InvalidOperationException or ContractRevertException)
                {
                    LogReorgFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task OutageAsync(TimeSpan start, TimeSpan duration, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(start, cancellationToken).ConfigureAwait(false);
            SetOutage(true);
            LogOutage(duration);
            await Task.Delay(duration, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            SetOutage(false);
        }
    }

    private void SetOutage(bool on)
    {
        lock (_gate)
        {
            foreach (var proxy in _proxies)
            {
                proxy.Outage = on;
            }

            if (on)
            {
                _outageSince ??= DateTime.UtcNow;
            }
            else if (_outageSince is { } since)
            {
                _outageServed += DateTime.UtcNow - since;
                _outageSince = null;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _reorging.ConfigureAwait(false);
        await _outage.ConfigureAwait(false);
        foreach (var proxy in Proxies)
        {
            await proxy.DisposeAsync().ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reorganised the last {Depth} blocks below head {Head} (anvil_reorg; their transactions are dropped)")]
    private partial void LogReorg(ulong depth, ulong head);

    [LoggerMessage(Level = LogLevel.Information, Message = "The sequencer sent {Count} dropped sequences again")]
    private partial void LogResent(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A devnet reorg failed: {Error}")]
    private partial void LogReorgFailed(string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outage: every proxied endpoint refuses requests for {Duration}")]
    private partial void LogOutage(TimeSpan duration);
}
