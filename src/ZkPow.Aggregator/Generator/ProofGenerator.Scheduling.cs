using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

public sealed partial class ProofGenerator
{
    private sealed record Waiter(ProverSession Session, TaskCompletionSource<(ProofTask Task, long ReadyAt)> Completion);

    /// <summary>A task waiting for its prover instance to come back; <paramref name="FromRestart"/>: it was running
    /// when the aggregator stopped, so its grace counts again from the moment the prover port opens.</summary>
    private sealed record Held(ProofTask Task, ProverRef Prover, DateTimeOffset Until, string Why, bool FromRestart = false);

    /// <summary>Puts a task in the ready set, or straight into the hands of a waiting prover. <paramref name="fresh"/>: the
    /// task was just created or loaded, so if this process already took it (replicas: the database announced it and it
    /// was handed out before its creator got here), it is not queued twice.</summary>
    private void MakeReady(ProofTask task, bool fresh = false)
    {
        var readyAt = Stopwatch.GetTimestamp();
        Waiter? chosen = null;
        lock (_gate)
        {
            if (_retired.Contains(task.Sequence) || _withdrawn.Contains(task.Id) || _readyAt.ContainsKey(task.Id) ||
                (fresh && (_busy.Contains(task.Id) || _running.ContainsKey(task.Id))))
            {
                // A sequence given up, or a task queued already (replicas: announced by the database as well).
                return;
            }

            // Of the idle provers the task can go to, the fastest gets it (the one waiting longest among equally fast
            // ones): with a mixed fleet a task that becomes ready while several provers wait is done sooner.
            var node = _waiters.First;
            LinkedListNode<Waiter>? fallback = null;
            LinkedListNode<Waiter>? onProbation = null;
            LinkedListNode<Waiter>? best = null;
            var bestTime = TimeSpan.MaxValue;
            var now = _time.GetUtcNow();
            while (node is not null)
            {
                var session = node.Value.Session;
                if (QuarantinedUntilLocked(session.Principal, session.Name, now) is not null)
                {
                    // A prover in quarantine gets nothing (its worker leaves the queue when it is nudged).
                }
                else if (!task.AvoidProvers.Contains(session.Name) && task.Kind != TaskKind.Batch && OnProbationLocked(session))
                {
                    onProbation ??= node;
                }
                else if (!task.AvoidProvers.Contains(session.Name))
                {
                    var expected = session.ExpectedJobTime(task.Kind) ?? TimeSpan.MaxValue;
                    if (best is null || expected.Ticks < bestTime.Ticks * 0.9)
                    {
                        best = node;
                        bestTime = expected;
                    }
                }
                else
                {
                    fallback ??= node;
                }

                node = node.Next;
            }

            node = best;

            // An aggregation or a final (on a sequence's chain) goes to a prover that failed its last job only when no
            // prover without such a failure could take it, even once it is done with its job: a job that hangs until the
            // maximum job time holds the whole sequence up, and can cost its round.
            if (node is null && onProbation is not null && !OtherProverCanTakeLocked(task, now, onProbation.Value.Session, withoutFailure: true))
            {
                node = onProbation;
            }

            // A prover the task avoids (it failed there, or made its suspect inputs) gets it only when no other prover
            // could take it: none is connected and out of quarantine.
            if (node is null && fallback is not null && !OtherProverCanTakeLocked(task, now))
            {
                node = fallback;
            }

            if (node is not null)
            {
                _waiters.Remove(node);
                chosen = node.Value;
                // Taken from now on (a notification of the same task from the database must not queue it again).
                _busy.Add(task.Id);
            }
            else
            {
                _ready.Add(task);
                _readyAt[task.Id] = readyAt;
                _readyById[task.Id] = task;
            }
        }

        if (chosen is not null && !chosen.Completion.TrySetResult((task, readyAt)))
        {
            // The waiter gave up at that very moment: queue the task for the next prover.
            Unbusy(task.Id);
            MakeReady(task);
        }
    }

    /// <summary>Takes the best ready task for this prover, waiting for one if there is none.</summary>
    private async Task<(ProofTask Task, long ReadyAt)> TakeAsync(ProverSession session, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var pick = Pick(_ready, session.Name, IsSlowLocked(session), task => OtherProverCanTakeLocked(task, now),
                OnProbationLocked(session) ? task => task.Kind != TaskKind.Batch && OtherProverCanTakeLocked(task, now, session, withoutFailure: true) : null);

            if (pick is not null && _store.Shared)
            {
                pick = SpreadLocked(pick, session);
            }

            if (pick is not null)
            {
                _ready.Remove(pick);
                _readyAt.Remove(pick.Id, out var readyAt);
                _readyById.Remove(pick.Id);
                _busy.Add(pick.Id);
                return (pick, readyAt);
            }

            waiter = new Waiter(session, new TaskCompletionSource<(ProofTask, long)>(TaskCreationOptions.RunContinuationsAsynchronously));
            _waiters.AddLast(waiter);
        }

        try
        {
            return await waiter.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }

            if (waiter.Completion.Task.IsCompletedSuccessfully)
            {
                Unbusy(waiter.Completion.Task.Result.Task.Id);
                MakeReady(waiter.Completion.Task.Result.Task);
            }

            throw;
        }
    }

    /// <summary>The least-slack keys count job times for a fleet of the connected provers: when that number has moved by
    /// an eighth or more since the keys were computed, the ready set is sorted again with the new one (under _gate).</summary>
    private void ResizeFleetLocked()
    {
        if (_slack is null)
        {
            return;
        }

        var fleet = Math.Max(1, _workers.Count);
        if (Math.Abs(fleet - _slack.Fleet) < Math.Max(1, _slack.Fleet / 8))
        {
            return;
        }

        var tasks = _ready.ToList();
        _ready.Clear();
        _slack.Fleet = fleet;
        foreach (var task in tasks)
        {
            _ready.Add(task);
        }
    }

    /// <summary>How far down the ready tasks a slow prover looks for a batch before it takes a chain task after all.</summary>
    internal const int SlowProverLookahead = 8;

    /// <summary>
    /// The task a prover takes from the ready tasks (best first): the first one it does not avoid, except that a slow
    /// prover leaves the aggregations and finals (each on a sequence's chain: on it, one would hold the sequence up) to
    /// the fast ones when a batch comes within the first <see cref="SlowProverLookahead"/> tasks it could take; it takes
    /// the first of them otherwise. A task it avoids (it failed there, or made its suspect inputs) only when no other
    /// prover can take it and nothing else fits. A task <paramref name="leave"/> says yes to is left to other provers.
    /// </summary>
    internal static ProofTask? Pick(IEnumerable<ProofTask> ready, string prover, bool slow, Func<ProofTask, bool> otherCanTake,
        Func<ProofTask, bool>? leave = null)
    {
        ProofTask? avoided = null;
        ProofTask? passed = null;
        var passes = 0;
        foreach (var task in ready)
        {
            if (leave is not null && !task.AvoidProvers.Contains(prover) && leave(task))
            {
                continue;
            }

            if (!task.AvoidProvers.Contains(prover))
            {
                if (slow && task.Kind != TaskKind.Batch && ++passes < SlowProverLookahead)
                {
                    passed ??= task;
                    continue;
                }

                return task.Kind == TaskKind.Batch ? task : passed ?? task;
            }

            if (avoided is null && !otherCanTake(task))
            {
                avoided = task;
            }
        }

        return avoided ?? passed;
    }

    /// <summary>Whether the connected prover of this name counts as slow (tests).</summary>
    internal bool IsSlow(string prover)
    {
        lock (_gate)
        {
            return _workers.Keys.FirstOrDefault(s => s.Name == prover && !s.IsClosed) is { } session && IsSlowLocked(session);
        }
    }

    /// <summary>Whether this prover takes twice as long as the fastest connected one or longer (batch jobs, as learned).</summary>
    private bool IsSlowLocked(ProverSession session)
    {
        if (session.ExpectedJobTime(TaskKind.Batch) is not { } own)
        {
            return false;
        }

        foreach (var other in _workers.Keys)
        {
            if (other != session && !other.IsClosed && other.ExpectedJobTime(TaskKind.Batch) is { } theirs && theirs * 2 <= own)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How many equally urgent tasks a replica chooses among at random (replicas sharing a store).</summary>
    private const int SpreadWidth = 4;

    /// <summary>Replicas see the same ready tasks in the same order: if each took the first, their claims would collide
    /// on every task (one wins, the others lose a round trip). Among the first few tasks of the same sequence and kind
    /// as <paramref name="pick"/> (equally urgent: batches or aggregations of one sequence) this one is chosen at random.</summary>
    private ProofTask SpreadLocked(ProofTask pick, ProverSession session)
    {
        List<ProofTask>? peers = null;
        foreach (var task in _ready.GetViewBetween(pick, _ready.Max!))
        {
            if (task.Sequence != pick.Sequence || task.Kind != pick.Kind)
            {
                break;
            }

            if (!task.AvoidProvers.Contains(session.Name))
            {
                (peers ??= []).Add(task);
                if (peers.Count == SpreadWidth)
                {
                    break;
                }
            }
        }

        return peers is { Count: > 1 } ? peers[Random.Shared.Next(peers.Count)] : pick;
    }

    /// <summary>Whether a connected prover out of quarantine that the task does not avoid exists (busy or not), other than
    /// <paramref name="except"/>; with <paramref name="withoutFailure"/>, one whose last job did not fail.</summary>
    private bool OtherProverCanTakeLocked(ProofTask task, DateTimeOffset now, ProverSession? except = null, bool withoutFailure = false)
    {
        foreach (var session in _workers.Keys)
        {
            if (session != except && !session.IsClosed && !task.AvoidProvers.Contains(session.Name) &&
                QuarantinedUntilLocked(session.Principal, session.Name, now) is null && !(withoutFailure && OnProbationLocked(session)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The provers that could take a task instead of the ones it avoids, or instead of the ones whose last job
    /// failed, changed (one left or was quarantined): the ready tasks that avoid some prover, and the aggregations and
    /// finals, are offered again, possibly to such a prover.</summary>
    private void ReofferAvoided()
    {
        List<ProofTask> avoiding;
        lock (_gate)
        {
            avoiding = [.. _ready.Where(t => t.AvoidProvers.Count > 0 || t.Kind != TaskKind.Batch)];
            foreach (var task in avoiding)
            {
                _ready.Remove(task);
                _readyAt.Remove(task.Id);
                _readyById.Remove(task.Id);
            }
        }

        foreach (var task in avoiding)
        {
            MakeReady(task);
        }
    }

    private void Hold(ProofTask task, ProverRef prover, DateTimeOffset until, string why, bool fromRestart = false)
    {
        List<CancellationTokenSource> nudges;
        lock (_gate)
        {
            _held[task.Id] = new Held(task, prover, until, why, fromRestart);
            // The prover instance may already be back on a new stream (it reconnected before its old stream was seen
            // dead): wake that stream's worker so that it adopts the job now.
            nudges = [.. _nudges.Where(n => n.Key.Ref == prover && !n.Key.IsClosed).Select(n => n.Value)];
        }

        foreach (var nudge in nudges)
        {
            try
            {
                nudge.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That worker already moved on; it looks for held jobs first anyway.
            }
        }
    }

    /// <summary>The prover port opened (possibly long after <see cref="StartAsync"/>, behind start-up RPC work): the
    /// provers of tasks that were running when the aggregator stopped get their whole grace from now.</summary>
    void IProverSessionObserver.OnListening()
    {
        var until = _time.GetUtcNow() + _options.ReconnectGrace;
        lock (_gate)
        {
            _listening = true;
            foreach (var held in _held.Values.Where(h => h.FromRestart && h.Until < until).ToList())
            {
                _held[held.Task.Id] = held with { Until = until };
            }
        }
    }

    private Held? TakeHeld(ProverSession session)
    {
        if (session.IsClosed)
        {
            return null;
        }

        lock (_gate)
        {
            foreach (var held in _held.Values)
            {
                if (held.Prover == session.Ref)
                {
                    _held.Remove(held.Task.Id);
                    return held;
                }
            }
        }

        return null;
    }

    /// <summary>Gives back to the pool the held tasks whose prover did not come back in time. A store error puts the
    /// rest back on hold and is retried with a backoff: the sweep ends only with the generator.</summary>
    private async Task SweepHeldAsync(CancellationToken cancellationToken)
    {
        var tick = TimeSpan.FromMilliseconds(250);
        var wait = tick;
        try
        {
            while (true)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                List<Held> expired;
                var now = _time.GetUtcNow();
                lock (_gate)
                {
                    // Until the prover port opens, no prover could have come back for a job held over a restart.
                    expired = [.. _held.Values.Where(h => h.Until <= now && (_listening || !h.FromRestart))];
                    foreach (var held in expired)
                    {
                        _held.Remove(held.Task.Id);
                    }
                }

                var done = 0;
                try
                {
                    foreach (var held in expired)
                    {
                        await ReleaseAndRequeueAsync(held.Task, held.Prover, ReleaseReason.Lost,
                            $"lease expired: prover {held.Prover} did not come back ({held.Why})").ConfigureAwait(false);
                        done++;
                    }

                    _heldSweepError = null;
                    wait = tick;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    lock (_gate)
                    {
                        foreach (var held in expired.Skip(done))
                        {
                            _held.TryAdd(held.Task.Id, held);
                        }
                    }

                    _heldSweepError = $"giving back held tasks failed: {ex.Message}";
                    wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, _options.LeaseSweepInterval.Ticks > tick.Ticks ? _options.LeaseSweepInterval.Ticks : tick.Ticks));
                    LogHeldSweepFailed(ex, Durations.Format(wait));
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Giving back held tasks failed; retrying in {Wait}")]
    private partial void LogHeldSweepFailed(Exception error, string wait);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded {Count} open tasks: {Ready} ready, {Held} waiting for their prover to come back")]
    private partial void LogLoaded(int count, int ready, int held);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Task {Task} was claimed elsewhere or is gone")]
    private partial void LogClaimLost(string task);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover} still has job {JobId}: resuming {Task}")]
    private partial void LogAdopting(string prover, string jobId, string task);

    [LoggerMessage(Level = LogLevel.Information, Message = "Final proof of sequence ({Init},{Final}] stored (prover {Prover})")]
    private partial void LogFinalStored(ulong init, ulong final, string prover);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {Task} failed on prover {Prover} (attempt {Attempts}): {Error}; retrying")]
    private partial void LogRetry(string task, string prover, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Task {Task} parked after {Attempts} attempts: {Error}")]
    private partial void LogParked(string task, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Task {Task} failed on {Provers} different provers ({Error}): its inputs are suspect; proving the range again from {Batches} batches")]
    private partial void LogReproving(string task, int provers, string error, int batches);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not record the job id of {Task}")]
    private partial void LogRecordJobFailed(Exception error, string task);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing the outcome of a job failed; the task is given back when its lease expires")]
    private partial void LogOutcomeFailed(Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Handing out the task that the proof of {Task} unlocked failed; it is handed out once that proof is stored")]
    private partial void LogHandOutFailed(Exception error, string task);

    [LoggerMessage(Level = LogLevel.Error, Message = "Worker of prover {Prover} failed")]
    private partial void LogWorkerFailed(Exception error, string prover);
}
