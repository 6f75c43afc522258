using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// A planned stop (<c>POST /api/drain</c>, <c>zkpow drain</c>): the sender stops committing new hashes
/// (<see cref="ProofSender.BeginDrainAsync"/>), every commitment of ours already made is revealed in its proof window as
/// usual, and once none is open and no tx of ours is in flight (the reveals mined and confirmed) the aggregator stops on
/// its own; <c>zkpow run</c> then exits 0.
/// </summary>
internal sealed partial class DrainCoordinator(SenderService sender, StoreService store, TxManagerService transactions, IHostApplicationLifetime lifetime,
    TimeProvider time, ILogger<DrainCoordinator> logger)
{
    /// <summary>How often the open commitments are counted while draining.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _gate = new();
    private DrainState _state = DrainState.None;
    private int _open;
    private int _pending;
    private DateTimeOffset? _since;
    private DateTimeOffset? _drainedAt;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    public DrainState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public DrainStatus Status
    {
        get
        {
            lock (_gate)
            {
                return new DrainStatus(_state.ToString().ToLowerInvariant(), _open, _pending, _since, _drainedAt);
            }
        }
    }

    /// <summary>Begins the drain (once; later calls return the drain's status). The aggregator must be running.</summary>
    public async Task<DrainStatus> BeginAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_state != DrainState.None)
            {
                return Status;
            }

            _state = DrainState.Draining;
            _since = time.GetUtcNow();
        }

        LogBegun();
        await sender.Sender.BeginDrainAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await CountAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or System.Data.Common.DbException or ChainUnavailableException or EthRpcException)
        {
            LogCountFailed(e.Message); // The loop counts again.
        }

        _loop = Task.Run(() => RunAsync(lifetime.ApplicationStopping), CancellationToken.None);
        return Status;
    }

    /// <summary>Returns once the status changes (or after <paramref name="timeout"/>): a long poll for progress.</summary>
    public async Task<DrainStatus> WaitForChangeAsync(DrainStatus seen, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task changed;
        lock (_gate)
        {
            if (Status != seen)
            {
                return Status;
            }

            changed = _changed.Task;
        }

        try
        {
            await changed.WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // No change: the same status again.
        }

        return Status;
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (await CountAsync(stopping).ConfigureAwait(false))
                {
                    LogDrained();
                    lifetime.StopApplication();
                    return;
                }

                await Task.Delay(PollInterval, time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is InvalidOperationException or System.Data.Common.DbException or ChainUnavailableException or EthRpcException)
            {
                LogCountFailed(e.Message);
                await Task.Delay(PollInterval, time, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Counts what is still open (<see cref="ProofSender.CountOpenCommitmentsAsync"/> reads the chain for queued
    /// records); true (and the state Drained) once nothing is.</summary>
    private async Task<bool> CountAsync(CancellationToken cancellationToken)
    {
        var open = await sender.Sender.CountOpenCommitmentsAsync(await store.Store.ListOpenSubmissionsAsync(cancellationToken).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        var pending = transactions.Running?.InFlight ?? 0;
        TaskCompletionSource? signal = null;
        var drained = open == 0 && pending == 0;
        lock (_gate)
        {
            var state = drained ? DrainState.Drained : DrainState.Draining;
            if (_open != open || _pending != pending || _state != state)
            {
                _open = open;
                _pending = pending;
                _state = state;
                _drainedAt = drained ? time.GetUtcNow() : null;
                signal = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (signal is not null)
        {
            if (!drained)
            {
                LogProgress(open, pending);
            }

            signal.TrySetResult();
        }

        return drained;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain requested: no new proof hash is committed; open commitments are revealed, then the aggregator stops")]
    private partial void LogBegun();

    [LoggerMessage(Level = LogLevel.Information, Message = "Draining: {Open} open commitments, {Pending} txs of ours in flight")]
    private partial void LogProgress(int open, int pending);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drained: every commitment of ours is revealed and no tx of ours is in flight; stopping")]
    private partial void LogDrained();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Draining: cannot count the open commitments ({Reason}); trying again")]
    private partial void LogCountFailed(string reason);
}
