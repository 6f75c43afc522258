using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Aggregator.Dashboard;

/// <summary>
/// Builds <see cref="DashboardSnapshot"/>s from the node, the store and the base chain. One read serves every caller
/// for <see cref="MaxAge"/> (each open page's event stream asks once a second), and the contract's windows are read
/// again every <see cref="WindowsMaxAge"/>.
/// </summary>
internal sealed class DashboardReader(AggregatorNode node, HttpOptions options, TimeProvider time)
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(500);
    public static readonly TimeSpan WindowsMaxAge = TimeSpan.FromSeconds(30);
    private const int SequenceLimit = 40;
    private const int RecentTxs = 10;
    private const int EarningsLimit = 500;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DashboardSnapshot? _last;
    private (ProofWindows Windows, DateTimeOffset At)? _windows;

    public async Task<DashboardSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_last is { } last && time.GetUtcNow() - last.Time < MaxAge)
            {
                return last;
            }

            _last = await BuildAsync(cancellationToken).ConfigureAwait(false);
            return _last;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<DashboardSnapshot> BuildAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var snapshot = new DashboardSnapshot
        {
            Time = now,
            Phase = node.Phase.ToString().ToLowerInvariant(),
            PhaseReason = node.PhaseReason,
            TokenRequired = options.RequiresToken,
        };
        if (!node.IsRunning)
        {
            return snapshot;
        }

        var problems = new List<string>();
        ulong? block = null;
        try
        {
            block = await node.Chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
            if (_windows is not { } cached || now - cached.At > WindowsMaxAge)
            {
                _windows = (await node.Chain.GetProofWindowsAsync(cancellationToken).ConfigureAwait(false), now);
            }
        }
        catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or RpcTransientException or HttpRequestException)
        {
            // The error text may hold the RPC URL (providers put API keys in it): not shown.
            problems.Add("the base chain did not answer");
        }

        var windows = _windows?.Windows;
        try
        {
            var status = await node.GetStatusAsync(cancellationToken).ConfigureAwait(false);
            var rows = await node.Store.ListDashboardSequencesAsync(SequenceLimit, cancellationToken).ConfigureAwait(false);
            var parked = await node.Store.ListParkedAsync(cancellationToken).ConfigureAwait(false);
            return snapshot with
            {
                Status = status,
                Block = block,
                Windows = windows,
                Sequences = [.. rows.Select(r => DashboardSequence.From(r, node.MinerAddress, windows))],
                SequencesVerified = await node.Store.CountVerifiedByAsync(node.MinerAddress, cancellationToken).ConfigureAwait(false),
                Txs = await node.Store.ListDashboardTxsAsync(RecentTxs, cancellationToken).ConfigureAwait(false),
                Earnings = await node.Store.ListEarningsAsync(node.MinerAddress, EarningsLimit, cancellationToken).ConfigureAwait(false),
                ParkedTasks = [.. parked.Select(OperatorEndpoint.TaskView.From)],
                Problems = problems,
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The page keeps its last figures and shows why they are not current.
            problems.Add($"the store could not be read: {ex.Message}");
            return snapshot with { Block = block, Windows = windows, Problems = problems };
        }
    }
}
