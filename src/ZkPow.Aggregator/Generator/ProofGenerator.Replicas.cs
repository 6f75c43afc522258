using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

/// <summary>
/// Replicas sharing one store (<see cref="IGeneratorStore.Shared"/>): every task any replica makes ready is announced by
/// the database and queued here too, so that a prover dialling any replica is served tasks of every sequence; a claim
/// decides which replica runs a task, and no request goes out before it has won. A prover that dials this replica after
/// another one died (or lost it) has its running jobs adopted here: they are looked up in the store when it connects.
/// </summary>
public sealed partial class ProofGenerator
{
    private static readonly TimeSpan AnnouncedRetry = TimeSpan.FromSeconds(1);

    /// <summary>Ids announced by the database and not loaded yet.</summary>
    private readonly HashSet<long> _announced = [];
    private bool _announcedSweep;
    private readonly Channel<bool> _announcedWake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private Task _readyWatch = Task.CompletedTask;
    private Task _announcedLoader = Task.CompletedTask;

    private void StartSharing()
    {
        _announcedLoader = Task.Run(() => LoadAnnouncedAsync(_stopping.Token));
        _readyWatch = Task.Run(() => _store.WatchReadyTasksAsync(OnTaskAnnounced, OnTaskTaken, _logger, _stopping.Token));
    }

    /// <summary>A task became ready somewhere (null: any may have, load them all).</summary>
    private void OnTaskAnnounced(long? id)
    {
        lock (_gate)
        {
            if (id is not { } taskId)
            {
                _announcedSweep = true;
            }
            else if (!KnownLocked(taskId))
            {
                _announced.Add(taskId);
            }
            else
            {
                return;
            }
        }

        _announcedWake.Writer.TryWrite(true);
    }

    /// <summary>A ready task was claimed (or dropped) somewhere: it leaves this replica's queue, so that no worker here
    /// spends a claim on it.</summary>
    private void OnTaskTaken(long taskId)
    {
        lock (_gate)
        {
            _announced.Remove(taskId);
            if (_readyById.Remove(taskId, out var task))
            {
                _ready.Remove(task);
                _readyAt.Remove(taskId);
            }
        }
    }

    /// <summary>Whether this process already queues, runs or holds the task.</summary>
    private bool KnownLocked(long taskId) =>
        _readyAt.ContainsKey(taskId) || _busy.Contains(taskId) || _running.ContainsKey(taskId) || _held.ContainsKey(taskId);

    private async Task LoadAnnouncedAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _announcedWake.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _announcedWake.Reader.TryRead(out _);
                long[] ids;
                bool sweep;
                lock (_gate)
                {
                    ids = [.. _announced];
                    _announced.Clear();
                    sweep = _announcedSweep;
                    _announcedSweep = false;
                }

                if (ids.Length == 0 && !sweep)
                {
                    continue;
                }

                try
                {
                    var tasks = await _store.LoadReadyTasksAsync(sweep ? null : ids, cancellationToken).ConfigureAwait(false);
                    var queued = 0;
                    foreach (var task in tasks)
                    {
                        bool known;
                        lock (_gate)
                        {
                            known = KnownLocked(task.Id);
                        }

                        if (!known)
                        {
                            // The provers this process saw it fail on are avoided as when it queues a retry itself.
                            MakeReady(AvoidingFailed(task), fresh: true);
                            queued++;
                        }
                    }

                    if (queued > 0)
                    {
                        LogAnnouncedQueued(queued, sweep);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    lock (_gate)
                    {
                        _announced.UnionWith(ids);
                        _announcedSweep |= sweep;
                    }

                    LogAnnouncedLoadFailed(ex, Durations.Format(AnnouncedRetry));
                    await Task.Delay(AnnouncedRetry, _time, cancellationToken).ConfigureAwait(false);
                    _announcedWake.Writer.TryWrite(true);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>A prover dialled this replica: the jobs the store shows it running (for a replica that died or that it
    /// left) are held for it, to be adopted by its worker before it gets new work; jobs of an earlier instance of it
    /// are lost and given back.</summary>
    private async Task AdoptFromStoreAsync(ProverSession session, CancellationToken cancellationToken)
    {
        IReadOnlyList<ProofTask> assigned;
        try
        {
            assigned = await _store.ListAssignedToAsync(session.Name, session.Principal, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not fatal: the lease sweeper gives those jobs back once their leases expire.
            LogAdoptLookupFailed(ex, session.Name);
            return;
        }

        var now = _time.GetUtcNow();
        foreach (var task in assigned)
        {
            if (task.Prover is not { } prover)
            {
                continue;
            }

            lock (_gate)
            {
                if (_busy.Contains(task.Id) || _running.ContainsKey(task.Id) || _held.ContainsKey(task.Id))
                {
                    continue;
                }
            }

            if (prover.InstanceId == session.InstanceId)
            {
                var until = task.LeaseUntil is { } lease && lease > now + _options.ReconnectGrace ? lease : now + _options.ReconnectGrace;
                LogAdoptingFromStore(session.Name, task.ToString());
                Hold(task, prover, until, "its prover dialled this replica while running it");
            }
            else
            {
                await ReleaseAndRequeueAsync(task, prover, ReleaseReason.Restarted,
                    $"prover {prover.Name} restarted (instance {session.InstanceId}); its jobs are lost").ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queued {Count} tasks made ready by replicas (sweep: {Sweep})")]
    private partial void LogAnnouncedQueued(int count, bool sweep);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Loading the tasks other replicas made ready failed; retrying in {Wait}")]
    private partial void LogAnnouncedLoadFailed(Exception error, string wait);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up the jobs prover {Prover} runs for other replicas failed; their leases will expire")]
    private partial void LogAdoptLookupFailed(Exception error, string prover);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover} dialled this replica while running task {Task}: adopting its job")]
    private partial void LogAdoptingFromStore(string prover, string task);
}
