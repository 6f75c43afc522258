using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

/// <summary>
/// The Proof Generator: keeps the ready tasks of every sequence in priority order and gives each to an idle prover
/// the moment both exist (no polling on the dispatch path). Every prover session gets a worker that waits for its
/// prover to be idle, takes the best task for it, claims it in the store, runs the job and stores the proof; storing
/// a proof creates, in the same transaction, the aggregation or final task it unlocks.
/// </summary>
public sealed partial class ProofGenerator : IProverSessionObserver, IAsyncDisposable
{
    private readonly IGeneratorStore _store;
    private readonly GeneratorOptions _options;
    private readonly ILogger<ProofGenerator> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly SortedSet<ProofTask> _ready;
    private readonly DeadlinePriority _priority;

    /// <summary>The default policy's least-slack order, whose keys depend on the fleet size (null with a custom priority).</summary>
    private readonly SlackPriority? _slack;
    private readonly Dictionary<long, long> _readyAt = [];

    /// <summary>The tasks of <see cref="_ready"/> by id.</summary>
    private readonly Dictionary<long, ProofTask> _readyById = [];
    private readonly LinkedList<Waiter> _waiters = new();
    private readonly Dictionary<long, Held> _held = [];
    private readonly Dictionary<ProverSession, Task> _workers = [];
    private readonly Dictionary<ProverSession, CancellationTokenSource> _nudges = [];
    private readonly ProofCache _proofCache;

    /// <summary>Batch inputs of tasks not dispatched yet, as the sync handed them over (bounded by
    /// <see cref="InputCacheLimit"/>), so that a dispatch does not wait for a database read.</summary>
    private readonly Dictionary<long, (ulong Sequence, byte[] Input)> _inputCache = [];
    private long _inputCacheBytes;
    private const long InputCacheLimit = 64L * 1024 * 1024;
    private readonly HashSet<Task> _inFlight = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task _sweeper = Task.CompletedTask;
    private bool _listening;

    public ProofGenerator(IGeneratorStore store, GeneratorOptions options, string aggregatorAddress, GeneratorMetrics metrics,
        ILogger<ProofGenerator> logger, TimeProvider time, IComparer<ProofTask>? priority = null)
    {
        options.Validate();
        if (!IsAddress(aggregatorAddress))
        {
            throw new ArgumentException($"'{aggregatorAddress}' is not a 0x-hex address", nameof(aggregatorAddress));
        }

        _store = store;
        _options = options;
        AggregatorAddress = aggregatorAddress;
        Metrics = metrics;
        _logger = logger;
        _time = time;
        _slack = priority is null ? new SlackPriority(TaskPriority.Default) : null;
        _priority = new DeadlinePriority(priority ?? _slack!);
        _ready = new SortedSet<ProofTask>(_priority);
        metrics.QuarantinedProvers = CountQuarantined;
        _proofCache = new ProofCache(options.ProofCacheBytes);
    }

    /// <summary>The address final proofs are bound to (the miner's sender address).</summary>
    public string AggregatorAddress { get; }

    public GeneratorMetrics Metrics { get; }

    /// <summary>Raised (on a worker thread) after a final proof has been stored.</summary>
    public event Action<FinalProofRecord>? FinalProofStored;

    /// <summary>Final batches whose proof is being written, from before the write until <see cref="FinalProofStored"/>
    /// has returned.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, byte> _storingFinals = new();

    /// <summary>Completions being stored, by task id: done once the write has committed or failed. A parent may be handed
    /// out before its input's completion commits (<see cref="Applied"/>); an input proof not in the cache is read from the
    /// store only after that.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<long, Task> _committing = new();

    /// <summary>Parents handed out before their input's completion committed, whose completion then failed to commit (under
    /// _gate): no task has their id, so none is queued or requested again (ids are never reused).</summary>
    private readonly HashSet<long> _withdrawn = [];

    /// <summary>Whether the final proof of <paramref name="finalBatch"/> is being stored and not yet announced by
    /// <see cref="FinalProofStored"/>: a reader of the store can see the proof before the announcement comes, and can
    /// leave it to the announcement while this is true.</summary>
    public bool IsStoringFinal(ulong finalBatch) => _storingFinals.ContainsKey(finalBatch);

    /// <summary>Whether every request waits for its claim (a shared store, or <see cref="GeneratorOptions.ClaimBeforeSend"/>).</summary>
    private bool WaitsForClaims => _store.Shared || _options.ClaimBeforeSend;

    /// <summary>Number of ready tasks waiting for a prover.</summary>
    /// <summary>How many provers wait for a task now (tests).</summary>
    internal int WaitingProvers
    {
        get
        {
            lock (_gate)
            {
                return _waiters.Count;
            }
        }
    }

    public int ReadyCount
    {
        get
        {
            lock (_gate)
            {
                return _ready.Count;
            }
        }
    }

    /// <summary>Loads the open work from the store: ready tasks are queued; tasks that were running when the
    /// aggregator stopped wait (up to their lease) for their prover instance to come back and be polled again.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var tasks = await _store.LoadOpenTasksAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        var ready = 0;
        var held = 0;
        foreach (var task in tasks)
        {
            switch (task.State)
            {
                case TaskState.Ready:
                    MakeReady(task, fresh: true);
                    ready++;
                    break;
                case TaskState.Assigned when _store.Shared:
                    // Another replica may be running it: its prover's next connection (to any replica) adopts it, or
                    // the lease sweeper gives it back once its lease expires.
                    break;
                case TaskState.Assigned:
                    var until = task.LeaseUntil is { } lease && lease > now + _options.ReconnectGrace ? lease : now + _options.ReconnectGrace;
                    Hold(task, task.Prover!.Value, until, "running when the aggregator stopped", fromRestart: true);
                    held++;
                    break;
                case TaskState.Done:
                case TaskState.Parked:
                case TaskState.Discarded:
                    break;
                default:
                    throw new InvalidOperationException($"task {task.Id} has unknown state {task.State}");
            }
        }

        LogLoaded(tasks.Count, ready, held);
        _sweeper = SweepHeldAsync(_stopping.Token);
        _leaseSweeper = SweepLeasesAsync(_stopping.Token);
        if (_store.Shared)
        {
            StartSharing();
        }
    }

    /// <summary>Stores a sequence and queues its batch tasks (idempotent).</summary>
    public async Task AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken)
    {
        var created = await _store.AddSequenceAsync(sequence, cancellationToken).ConfigureAwait(false);
        if (created.Count > 0)
        {
            var inputs = sequence.Batches.ToDictionary(b => b.Number, b => b.ProverInput);
            lock (_gate)
            {
                _retired.Remove(sequence.FinalBatch);
                foreach (var task in created)
                {
                    if (task.Kind == TaskKind.Batch && inputs.TryGetValue(task.ToBatch, out var input) &&
                        _inputCacheBytes + input.Length <= InputCacheLimit && _inputCache.TryAdd(task.Id, (sequence.FinalBatch, input)))
                    {
                        _inputCacheBytes += input.Length;
                    }
                }
            }
        }

        foreach (var task in created)
        {
            MakeReady(task, fresh: true);
        }
    }

    /// <summary>The final proof of a sequence was rejected (it failed the check before commit, or its inputs changed):
    /// proves the whole sequence again from its batches. Returns the number of tasks queued.</summary>
    public async Task<int> ReproveSequenceAsync(ulong finalBatch, string reason, string? culprit, CancellationToken cancellationToken)
    {
        if (culprit is not null)
        {
            // Its final proof was rejected: the prover is to blame (quarantined at once unless it is the last usable one),
            // and before the new tasks are queued, so that they go elsewhere.
            BlameMakers([culprit], $"its final proof of sequence {finalBatch} was rejected");
        }

        var created = await _store.ReproveSequenceAsync(finalBatch, reason, cancellationToken).ConfigureAwait(false);
        foreach (var task in created)
        {
            MakeReady(task, fresh: true);
        }

        return created.Count;
    }

    /// <summary>Queues a task that was given back by an operator (requeue of a parked task).</summary>
    public void Enqueue(ProofTask task)
    {
        if (task.State == TaskState.Ready)
        {
            MakeReady(task);
        }
    }

    void IProverSessionObserver.OnConnected(ProverSession session)
    {
        Metrics.ProverConnected(1);
        List<(ProofTask Task, ProverRef Prover)> restarted = [];
        List<ProverSession> replaced;
        lock (_gate)
        {
            // Only a session of the same principal can replace a stream or show that its prover restarted: a
            // connection from anyone else reusing the name and id is another prover and takes over nothing.
            replaced = [.. _workers.Keys.Where(s => s.Ref == session.Ref && s != session)];
            foreach (var held in _held.Values.Where(h => h.Prover.Name == session.Name && h.Prover.Principal == session.Principal &&
                                                          h.Prover.InstanceId != session.InstanceId).ToList())
            {
                _held.Remove(held.Task.Id);
                restarted.Add((held.Task, held.Prover));
            }

            NoteConnected(session);
            _workers[session] = Task.Run(() => WorkerAsync(session));
            ResizeFleetLocked();
        }

        foreach (var old in replaced)
        {
            old.Close("a new stream from the same prover instance replaced it");
        }

        foreach (var (task, prover) in restarted)
        {
            _ = ReleaseAndRequeueAsync(task, prover, ReleaseReason.Restarted,
                $"prover {prover.Name} restarted (instance {session.InstanceId}); its jobs are lost");
        }
    }

    void IProverSessionObserver.OnDisconnected(ProverSession session, string reason)
    {
        Metrics.ProverConnected(-1);
        lock (_gate)
        {
            _workers.Remove(session);
            ResizeFleetLocked();
        }

        ReofferAvoided();
    }

    private async Task WorkerAsync(ProverSession session)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(session.Closed, _stopping.Token);
        var token = stop.Token;
        try
        {
            if (_store.Shared)
            {
                // Jobs this prover runs for a replica it left are adopted before it gets new work.
                await AdoptFromStoreAsync(session, token).ConfigureAwait(false);
            }

            while (!token.IsCancellationRequested && !session.IsClosed)
            {
                // A job held for this prover instance while the worker waits (its old stream was seen dead only after
                // this one connected) nudges the worker back here to adopt it.
                using var nudge = CancellationTokenSource.CreateLinkedTokenSource(token);
                lock (_gate)
                {
                    _nudges[session] = nudge;
                }

                try
                {
                    // A job this prover instance was running for us before a restart or a dropped stream is resumed
                    // first, even while the prover is still computing it.
                    if (TakeHeld(session) is { } held)
                    {
                        await AdoptAsync(session, held, token).ConfigureAwait(false);
                        continue;
                    }

                    await session.WaitUntilIdleAsync(nudge.Token).ConfigureAwait(false);
                    if (QuarantinedUntil(session) is { } until)
                    {
                        // No work for a prover that keeps failing until its quarantine ends.
                        var left = until - _time.GetUtcNow();
                        await Task.Delay(left > TimeSpan.Zero ? left + TimeSpan.FromMilliseconds(1) : TimeSpan.Zero, _time, nudge.Token)
                            .ConfigureAwait(false);
                        continue;
                    }

                    var idleAt = Stopwatch.GetTimestamp();

                    var (task, readyAt) = await TakeAsync(session, nudge.Token).ConfigureAwait(false);
                    await RunAsync(session, task, readyAt, Math.Max(readyAt, idleAt), token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (nudge.IsCancellationRequested && !token.IsCancellationRequested)
                {
                    // Nudged: look for the held job again.
                }
                finally
                {
                    lock (_gate)
                    {
                        _nudges.Remove(session);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ProverSessionClosedException)
        {
        }
        catch (Exception ex)
        {
            LogWorkerFailed(ex, session.Name);
            session.Close($"internal error: {ex.Message}");
        }
    }

    private async Task RunAsync(ProverSession session, ProofTask task, long readyAt, long dispatchStart, CancellationToken cancellationToken)
    {
        // From the claim until its outcome is stored, the task is ours: the lease sweeper leaves it alone.
        MarkBusy(task.Id);
        var settling = false;
        try
        {
            settling = await RunClaimedAsync(session, task, readyAt, dispatchStart, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (!settling)
            {
                Unbusy(task.Id);
            }
        }
    }

    /// <summary>Claims and runs one task; returns whether its outcome is being stored (which then ends its busy mark).</summary>
    private async Task<bool> RunClaimedAsync(ProverSession session, ProofTask task, long readyAt, long dispatchStart, CancellationToken cancellationToken)
    {
        var prover = session.Ref;
        var now = _time.GetUtcNow();
        // The claim is one atomic statement. A final proof request waits until its claim is durable (it must never be
        // requested twice); batch and aggregation requests go out while their claim commits, in the same ordered
        // write queue as the job id and the proof that follow it.
        Task<bool> claim;
        try
        {
            // A final's request waits for its claim: the claim is committed ahead of the proofs queued for storing.
            claim = task.Kind == TaskKind.Final
                ? _store.TryClaimAheadAsync(task.Id, prover, now, now + _options.Lease, CancellationToken.None)
                : _store.TryClaimAsync(task.Id, prover, now, now + _options.Lease, CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            claim = Task.FromException<bool>(ex);
        }

        if (task.Kind != TaskKind.Final && !WaitsForClaims)
        {
            _ = claim.ContinueWith(t =>
            {
                if (t.IsFaulted)
                {
                    LogRecordJobFailed(t.Exception!, task.ToString());
                }
                else if (!t.Result)
                {
                    LogClaimLost(task.ToString());
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        AggregatorMessage request;
        try
        {
            request = await BuildRequestAsync(task, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or Google.Protobuf.InvalidProtocolBufferException)
        {
            if (!await ClaimedAsync(claim, task).ConfigureAwait(false))
            {
                return false;
            }

            await ParkAsync(task, $"cannot build the request: {ex.Message}").ConfigureAwait(false);
            return false;
        }

        // The final request was built while its claim committed; it goes out only once the claim is durable. With
        // replicas sharing the store every request waits for its claim: another replica may win it.
        if ((task.Kind == TaskKind.Final || WaitsForClaims) && !await ClaimedAsync(claim, task).ConfigureAwait(false))
        {
            return false;
        }

        if (IsWithdrawn(task.Id))
        {
            // Handed out before its input's proof committed, and that commit failed: there is no such task.
            LogClaimLost(task.ToString());
            return false;
        }

        var lastRenewal = _time.GetTimestamp();
        Metrics.ProverBusy(1);
        JobOutcome outcome;
        lock (_gate)
        {
            _running[task.Id] = (session, task, _time.GetUtcNow());
        }

        // A final proof must never be requested twice: its job id is stored (ahead of the proofs queued for storing) while
        // the proof is fetched, and is durable before this prover is given anything else, so that a restart adopts the
        // job (by its id, or as the last job the prover computed) instead of asking again.
        Task<bool>? finalJobId = null;
        try
        {
            using var scope = _logger.BeginScope("prover {Prover} task {Task}", session.Name, task.ToString());
            outcome = await session.RunJobAsync(task.Kind, request,
                onJobId: (jobId, ct) =>
                {
                    if (task.Kind != TaskKind.Final)
                    {
                        return RecordJob(task, prover, jobId);
                    }

                    finalJobId = _store.RecordJobAheadAsync(task.Id, prover, jobId, _time.GetUtcNow() + _options.Lease, CancellationToken.None);
                    return Task.CompletedTask;
                },
                onPending: ct =>
                {
                    if (_time.GetElapsedTime(lastRenewal) < _options.Lease / 2)
                    {
                        return Task.CompletedTask;
                    }

                    lastRenewal = _time.GetTimestamp();
                    return _store.RecordJobAsync(task.Id, prover, session.CurrentJobId ?? "", _time.GetUtcNow() + _options.Lease, ct);
                },
                cancellationToken, MaxJobTimeFor(session, task.Kind)).ConfigureAwait(false);
        }
        finally
        {
            Metrics.ProverBusy(-1);
            lock (_gate)
            {
                _running.Remove(task.Id);
            }
        }

        var settleNow = false;
        if (finalJobId is not null)
        {
            try
            {
                await finalJobId.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The job id is not stored: the outcome is, before this prover gets anything else (a restart can still
                // recognise the job as the last one the prover computed).
                LogRecordJobFailed(ex, task.ToString());
                settleNow = true;
            }
        }

        if (outcome.RequestWrittenAt != 0)
        {
            Metrics.Dispatched(Stopwatch.GetElapsedTime(dispatchStart, outcome.RequestWrittenAt), task, session.Name, outcome.RequestId, readyAt,
                outcome.RequestWrittenAt, outcome.AnsweredAt);
        }

        // The prover is free again: storing the outcome (one grouped commit) goes on in the background, as long as the
        // outcomes not yet stored stay within their memory bound; past it this prover waits for the store to catch up.
        var size = OutcomeBytes(outcome);
        Interlocked.Add(ref _pendingOutcomeBytes, size);
        var settle = SettleAsync(session, task, claim, outcome, outcome.RequestWrittenAt);
        _ = settle.ContinueWith(_ => Interlocked.Add(ref _pendingOutcomeBytes, -size), CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        Track(settle);
        if (settleNow)
        {
            await Task.WhenAny(settle).ConfigureAwait(false);
        }

        await WaitForOutcomeRoomAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Bytes of proofs received and not stored yet.</summary>
    private long _pendingOutcomeBytes;

    private static long OutcomeBytes(JobOutcome outcome) =>
        2L * (outcome.RecursiveProof?.Length ?? 0) + (outcome.FinalProof?.CalculateSize() ?? 0);

    /// <summary>Waits while the proofs received and not stored yet exceed <see cref="GeneratorOptions.MaxPendingOutcomeBytes"/>
    /// (provers deliver faster than the store writes): the backlog in memory stays bounded.</summary>
    private async Task WaitForOutcomeRoomAsync(CancellationToken cancellationToken)
    {
        var waited = false;
        while (Interlocked.Read(ref _pendingOutcomeBytes) > _options.MaxPendingOutcomeBytes)
        {
            if (!waited)
            {
                Metrics.OutcomeBackpressure();
                waited = true;
            }

            Task[] inFlight;
            lock (_gate)
            {
                inFlight = [.. _inFlight];
            }

            if (inFlight.Length == 0)
            {
                return;
            }

            await Task.WhenAny(inFlight).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Whether the claim is durable; a failed claim (a store error) gives the task out again later.</summary>
    private async Task<bool> ClaimedAsync(Task<bool> claim, ProofTask task)
    {
        try
        {
            if (await claim.ConfigureAwait(false))
            {
                return true;
            }

            if (_store.Shared)
            {
                Metrics.ClaimLost();
            }

            LogClaimLost(task.ToString());
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogRecordJobFailed(ex, task.ToString());
            RequeueLater(task);
            return false;
        }
    }

    /// <summary>Queues a task whose claim failed again after a pause (the store may be failing for a while).</summary>
    private void RequeueLater(ProofTask task) => Track(Task.Run(async () =>
    {
        try
        {
            await Task.Delay(_options.LeaseSweepInterval, _time, _stopping.Token).ConfigureAwait(false);
            MakeReady(task);
        }
        catch (OperationCanceledException)
        {
        }
    }));

    /// <summary>The longest a job of this kind may run on this prover: the floor, or a multiple of the learned duration.</summary>
    private TimeSpan MaxJobTimeFor(ProverSession session, TaskKind kind)
    {
        var learned = session.LearnedJobTime(kind) ?? TimeSpan.Zero;
        var scaled = learned.TotalMilliseconds * _options.MaxJobTimeFactor;
        return scaled > _options.MaxJobTime.TotalMilliseconds
            ? TimeSpan.FromMilliseconds(Math.Min(scaled, TimeSpan.FromDays(365).TotalMilliseconds))
            : _options.MaxJobTime;
    }

    private async Task SettleAsync(ProverSession session, ProofTask task, Task<bool> claim, JobOutcome outcome, long writtenAt)
    {
        try
        {
            // A failure counts against the prover at once, before any store write: a prover reaching its quarantine gets
            // no further task in the meantime.
            var counted = false;
            if (outcome.Kind is JobOutcomeKind.Failed or JobOutcomeKind.Expired && !IsRetired(task.Sequence))
            {
                RecordFailure(session.Ref, outcome.Error ?? outcome.Kind.ToString());
                counted = true;
            }

            if (!claim.IsCompletedSuccessfully)
            {
                try
                {
                    await claim.ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The claim never became durable: the store does not know the task ran, so its outcome cannot be
                    // stored. The task is given out again once the store answers (the claim's failure is logged).
                    RequeueLater(task);
                    return;
                }
            }

            await HandleOutcomeAsync(session, task, outcome, writtenAt, counted).ConfigureAwait(false);
        }
        finally
        {
            Unbusy(task.Id);
        }
    }

    private void Track(Task work)
    {
        lock (_gate)
        {
            _inFlight.Add(work);
        }

        _ = work.ContinueWith(t =>
        {
            lock (_gate)
            {
                _inFlight.Remove(t);
            }

            if (t.IsFaulted)
            {
                LogOutcomeFailed(t.Exception!);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Stores the job id of a batch or aggregation job in the background (its request did not wait for its claim
    /// either: both are in the same ordered write queue).</summary>
    private Task RecordJob(ProofTask task, ProverRef prover, string jobId)
    {
        var write = _store.RecordJobAsync(task.Id, prover, jobId, _time.GetUtcNow() + _options.Lease, CancellationToken.None);

        _ = write.ContinueWith(t => LogRecordJobFailed(t.Exception!, task.ToString()), CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    private async Task AdoptAsync(ProverSession session, Held held, CancellationToken cancellationToken)
    {
        var task = held.Task;
        var jobId = task.JobId ?? GuessJobId(session.LastStatus, task);
        if (jobId is null)
        {
            await ReleaseAndRequeueAsync(task, held.Prover, ReleaseReason.Lost,
                "no job id was recorded and the prover shows no job to adopt").ConfigureAwait(false);
            return;
        }

        LogAdopting(session.Name, jobId, task.ToString());
        MarkBusy(task.Id);
        try
        {
            await AdoptJobAsync(session, held, task, jobId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Unbusy(task.Id);
        }
    }

    private async Task AdoptJobAsync(ProverSession session, Held held, ProofTask task, string jobId, CancellationToken cancellationToken)
    {
        if (task.JobId is null)
        {
            await _store.RecordJobAsync(task.Id, held.Prover, jobId, _time.GetUtcNow() + _options.Lease, cancellationToken).ConfigureAwait(false);
        }

        Metrics.ProverBusy(1);
        JobOutcome outcome;
        lock (_gate)
        {
            _running[task.Id] = (session, task, _time.GetUtcNow());
        }

        try
        {
            var lastRenewal = _time.GetTimestamp();
            outcome = await session.ResumeJobAsync(task.Kind, jobId, onPending: ct =>
            {
                if (_time.GetElapsedTime(lastRenewal) < _options.Lease / 2)
                {
                    return Task.CompletedTask;
                }

                lastRenewal = _time.GetTimestamp();
                return _store.RecordJobAsync(task.Id, held.Prover, jobId, _time.GetUtcNow() + _options.Lease, ct);
            }, cancellationToken, MaxJobTimeFor(session, task.Kind)).ConfigureAwait(false);
        }
        finally
        {
            Metrics.ProverBusy(-1);
            lock (_gate)
            {
                _running.Remove(task.Id);
            }
        }

        if (outcome.Kind == JobOutcomeKind.Completed && task.Kind == TaskKind.Final && task.JobId is null &&
            outcome.FinalProof?.Public?.NewBatchNum != task.ToBatch)
        {
            // The guessed job was another one: prove this task again.
            outcome = JobOutcome.Lost(jobId, "the adopted job was not this task's");
        }

        await HandleOutcomeAsync(session, task with { JobId = jobId }, outcome, Stopwatch.GetTimestamp()).ConfigureAwait(false);
    }

    /// <summary>A job whose id was never recorded (a crash right after sending) can still be recognised: a prover
    /// computes one job at a time, so the job it is computing (or, for a final task, the one it just finished) is ours.</summary>
    private static string? GuessJobId(GetStatusResponse? status, ProofTask task)
    {
        if (status is null)
        {
            return null;
        }

        if (!string.IsNullOrEmpty(status.CurrentComputingRequestId))
        {
            return status.CurrentComputingRequestId;
        }

        return task.Kind == TaskKind.Final && !string.IsNullOrEmpty(status.LastComputedRequestId) ? status.LastComputedRequestId : null;
    }

    /// <summary>Stores or acts on a job's outcome; <paramref name="counted"/>: the failure was already counted against
    /// the prover.</summary>
    private async Task HandleOutcomeAsync(ProverSession session, ProofTask task, JobOutcome outcome, long writtenAt, bool counted = false)
    {
        var prover = session.Ref;
        switch (outcome.Kind)
        {
            case JobOutcomeKind.Completed:
                await StoreProofAsync(session, task, outcome, writtenAt).ConfigureAwait(false);
                break;
            case JobOutcomeKind.Failed:
                await FailedAsync(task, prover, outcome.Error ?? "failed", counted).ConfigureAwait(false);
                break;
            case JobOutcomeKind.Expired:
                // Cancelled for exceeding the maximum job time: another prover does it (for a final task too: this is
                // one of the two cases in which a final proof is requested again). Not a sign of bad inputs.
                await ReleaseAndRequeueAsync(task, prover, ReleaseReason.Lost, outcome.Error ?? "exceeded the maximum job time", counted)
                    .ConfigureAwait(false);
                break;
            case JobOutcomeKind.Lost:
                if (session.IsClosed && outcome.JobId is not null && _options.ReconnectGrace > TimeSpan.Zero && !_stopping.IsCancellationRequested)
                {
                    // The stream dropped: the prover may come back (same instance) and still have the job.
                    Hold(task with { JobId = outcome.JobId }, prover, _time.GetUtcNow() + _options.ReconnectGrace, outcome.Error ?? "lost");
                }
                else if (!_stopping.IsCancellationRequested)
                {
                    await ReleaseAndRequeueAsync(task, prover, ReleaseReason.Lost, outcome.Error ?? "lost").ConfigureAwait(false);
                }

                break;
            case JobOutcomeKind.TooLarge:
                await ParkAsync(task, outcome.Error ?? "request too large").ConfigureAwait(false);
                break;
            default:
                throw new InvalidOperationException($"unknown job outcome {outcome.Kind}");
        }
    }

    private async Task StoreProofAsync(ProverSession session, ProofTask task, JobOutcome outcome, long writtenAt)
    {
        var prover = session.Ref;
        var duration = Stopwatch.GetElapsedTime(writtenAt);
        if (task.Kind == TaskKind.Final)
        {
            if (!FinalProofs.TryCreateRecord(task, outcome.FinalProof!, AggregatorAddress, session.Name, _time.GetUtcNow(), out var record, out var error))
            {
                await FailedAsync(task, prover, error).ConfigureAwait(false);
                return;
            }

            RecordSuccess(prover);
            _storingFinals[task.Sequence] = 0;
            try
            {
                if (await _store.CompleteFinalAsync(task.Id, prover, record, CancellationToken.None).ConfigureAwait(false))
                {
                    ForgetTried(task.Id);
                    lock (_gate)
                    {
                        _reproves.Remove(task.Sequence);
                    }

                    Metrics.TaskCompleted(task.Kind, duration);
                    _proofCache.RemoveSequence(task.Sequence);
                    LogFinalStored(task.SequenceInit, task.Sequence, session.Name);
                    FinalProofStored?.Invoke(record);
                }
            }
            finally
            {
                _storingFinals.TryRemove(task.Sequence, out _);
            }

            return;
        }

        RecordSuccess(prover);
        var parent = AggregationTree.ParentOf(task.SequenceInit, task.Sequence, task.FromBatch, task.ToBatch);
        var proof = outcome.RecursiveProof!;

        // The parent this proof unlocks is handed out as soon as the store has applied the write, while the write is
        // being made durable (a store that cannot tell says so once it is durable): the parent's request carries this
        // proof from memory, and its claim is queued behind the write. A final's request still waits until its claim is
        // durable, which this write is then too.
        CompletionResult? applied = null;
        var handedOut = false;
        CompletionResult result;
        var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _committing[task.Id] = durable.Task;
        try
        {
            result = await _store.CompleteAsync(task.Id, prover, proof, parent, r =>
            {
                applied = r;
                handedOut = Applied(task, proof, r);
            }, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception) when (applied is { Accepted: true } undone)
        {
            // Applied but never committed: the task is still assigned to this prover in the store (its lease runs out and
            // it is done again), so neither its proof nor the parent it unlocked may be used. A parent handed out already
            // loses its claim (no task has its id).
            Withdraw(task, undone.Unlocked);
            throw;
        }
        finally
        {
            _committing.TryRemove(new KeyValuePair<long, Task>(task.Id, durable.Task));
            durable.SetResult();
        }

        if (!result.Accepted)
        {
            LogClaimLost(task.ToString());
            return;
        }

        if (!handedOut)
        {
            // The callback failed (logged): the proof is durable now, so its parent is made ready from here.
            Applied(task, proof, result);
        }

        ForgetTried(task.Id);
        Metrics.TaskCompleted(task.Kind, duration);
        if (task.Kind == TaskKind.Aggregate)
        {
            ForgetProofs(task);
        }
    }

    /// <summary>On the store's writer thread, once the completion of <paramref name="task"/> is applied: keeps its proof for
    /// the parent's request and makes the parent ready. Returns whether it did (or had nothing to do); never throws (the
    /// store drops what it throws).</summary>
    private bool Applied(ProofTask task, string proof, CompletionResult result)
    {
        try
        {
            if (result.Accepted)
            {
                lock (_gate)
                {
                    _proofCache.Add(task.Id, task.Sequence, proof);
                }

                if (result.Unlocked is { } next)
                {
                    MakeReady(next, fresh: true);
                }
            }

            return true;
        }
        catch (Exception ex)
        {
            LogHandOutFailed(ex, task.ToString());
            return false;
        }
    }

    /// <summary>The completion of <paramref name="task"/> was applied but did not commit: its proof leaves the cache and the
    /// parent it unlocked leaves the ready tasks.</summary>
    private void Withdraw(ProofTask task, ProofTask? unlocked)
    {
        lock (_gate)
        {
            _proofCache.Remove(task.Id);
            if (unlocked is null)
            {
                return;
            }

            // Handed to a prover already, it is not sent if it has not been (RunClaimedAsync looks here), and is never
            // queued again; a request already sent loses its claim, and its proof is refused.
            _withdrawn.Add(unlocked.Id);
            if (_readyById.Remove(unlocked.Id, out var queued))
            {
                _ready.Remove(queued);
                _readyAt.Remove(unlocked.Id);
            }
        }
    }

    private bool IsWithdrawn(long taskId)
    {
        lock (_gate)
        {
            return _withdrawn.Contains(taskId);
        }
    }

    private async Task FailedAsync(ProofTask task, ProverRef prover, string error, bool counted = false)
    {
        var failedOn = task.FailedOn.Append(prover.Name).Distinct(StringComparer.Ordinal).Count();
        if (task.Kind != TaskKind.Batch && failedOn >= 2)
        {
            bool mayReprove;
            lock (_gate)
            {
                mayReprove = _reproves.GetValueOrDefault(task.Sequence) < _options.MaxReprovesPerSequence;
                if (mayReprove)
                {
                    _reproves[task.Sequence] = _reproves.GetValueOrDefault(task.Sequence) + 1;
                }
            }

            if (!mayReprove)
            {
                // Proving the range again did not help: an operator looks at it.
                await ParkAsync(task, $"failed on {failedOn} provers after {_options.MaxReprovesPerSequence} re-proofs of sequence " +
                                      $"{task.Sequence} (Generator:MaxReprovesPerSequence): {error}").ConfigureAwait(false);
                return;
            }

            var suspects = await _store.ReproveRangeAsync(task.Id, CancellationToken.None).ConfigureAwait(false);
            Metrics.RangeReproved();
            LogReproving(task.ToString(), failedOn, error, suspects.Count);
            ForgetProofs(task);
            ForgetTried(task.Id);
            // The makers of the suspect inputs are to blame, not the provers that could not use them: two different
            // provers could not use their proofs. A sole maker, or a repeat offender, is quarantined at once (the
            // quarantine doubling each time), so a prover sending junk gets no more work before it poisons further
            // sequences; the fresh tasks avoid every maker while another prover can take them.
            BlameMakers([.. suspects.SelectMany(t => t.AvoidProvers).Distinct(StringComparer.Ordinal)], $"its proofs were unusable inputs of {task}");

            foreach (var t in suspects)
            {
                MakeReady(t, fresh: true);
            }

            return;
        }

        await ReleaseAndRequeueAsync(task, prover, ReleaseReason.Failed, error, counted).ConfigureAwait(false);
    }

    private bool IsRetired(ulong sequence)
    {
        lock (_gate)
        {
            return _retired.Contains(sequence);
        }
    }

    /// <summary>The provers (principal and name) known by this name: the store remembers only names.</summary>
    private List<ProverRef> HealthByName(string name)
    {
        lock (_gate)
        {
            var known = _health.Values.Where(h => h.Name == name).Select(h => new ProverRef(h.Name, "", h.Principal)).ToList();
            return known.Count > 0 ? known : [.. _workers.Keys.Where(s => s.Name == name).Select(s => s.Ref).Distinct()];
        }
    }

    /// <summary>Gives an assigned task back. A failure or a lost job counts against its prover, and the retry avoids
    /// the provers the task failed on; the task is parked once it has used up its attempts on at least two different
    /// provers (or on the only prover ever seen).</summary>
    private async Task ReleaseAndRequeueAsync(ProofTask task, ProverRef prover, ReleaseReason reason, string error, bool counted = false)
    {
        // A job cancelled because its sequence was dropped is nobody's fault. Otherwise the failure counts before the
        // store write, so that a prover reaching its quarantine gets no further task in the meantime.
        var counts = reason != ReleaseReason.Unassigned && !IsRetired(task.Sequence);
        var tried = 0;
        if (counts)
        {
            if (!counted)
            {
                RecordFailure(prover, error);
            }

            tried = NoteTried(task, prover.Name);
        }

        var maxAttempts = counts && MayPark(tried) ? _options.MaxAttempts : int.MaxValue;
        var updated = await _store.ReleaseAsync(task.Id, prover, reason, error, maxAttempts, CancellationToken.None)
            .ConfigureAwait(false);
        if (updated is null)
        {
            return;
        }

        if (updated.State == TaskState.Parked)
        {
            ForgetTried(task.Id);
            Metrics.TaskParked(task.Kind);
            _proofCache.RemoveSequence(task.Sequence);
            LogParked(task.ToString(), updated.Attempts, error);
            return;
        }

        if (reason != ReleaseReason.Unassigned)
        {
            Metrics.TaskRetried(task.Kind);
            LogRetry(task.ToString(), prover.Name, updated.Attempts, error);
        }

        MakeReady(AvoidingFailed(updated));
    }

    private async Task ParkAsync(ProofTask task, string reason)
    {
        await _store.ParkAsync(task.Id, reason, CancellationToken.None).ConfigureAwait(false);
        ForgetTried(task.Id);
        Metrics.TaskParked(task.Kind);
        _proofCache.RemoveSequence(task.Sequence);
        LogParked(task.ToString(), task.Attempts, reason);
    }

    private async Task<AggregatorMessage> BuildRequestAsync(ProofTask task, CancellationToken cancellationToken)
    {
        switch (task.Kind)
        {
            case TaskKind.Batch:
                var input = TakeCachedInput(task.Id) ?? await _store.GetBatchInputAsync(task.ToBatch, cancellationToken).ConfigureAwait(false);
                return new AggregatorMessage { GenBatchProofRequest = new GenBatchProofRequest { Input = InputProver.Parser.ParseFrom(input) } };
            case TaskKind.Aggregate:
                return new AggregatorMessage
                {
                    GenAggregatedProofRequest = new GenAggregatedProofRequest
                    {
                        RecursiveProof1 = await ProofOfAsync(task.Input1, cancellationToken).ConfigureAwait(false),
                        RecursiveProof2 = await ProofOfAsync(task.Input2, cancellationToken).ConfigureAwait(false),
                    },
                };
            case TaskKind.Final:
                return new AggregatorMessage
                {
                    GenFinalProofRequest = new GenFinalProofRequest
                    {
                        RecursiveProof = await ProofOfAsync(task.Input1, cancellationToken).ConfigureAwait(false),
                        AggregatorAddr = AggregatorAddress,
                    },
                };
            default:
                throw new InvalidOperationException($"unknown task kind {task.Kind}");
        }
    }

    private byte[]? TakeCachedInput(long taskId)
    {
        lock (_gate)
        {
            if (!_inputCache.Remove(taskId, out var cached))
            {
                return null;
            }

            _inputCacheBytes -= cached.Input.Length;
            return cached.Input;
        }
    }

    private async Task<string> ProofOfAsync(long? taskId, CancellationToken cancellationToken)
    {
        if (taskId is not { } id)
        {
            throw new KeyNotFoundException("the task has no input");
        }

        lock (_gate)
        {
            if (_proofCache.TryGetValue(id, out var cached))
            {
                return cached;
            }
        }

        if (_committing.TryGetValue(id, out var committing))
        {
            // Not cached (evicted, or larger than the cache) while its completion commits: the store has it once that is done.
            await committing.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await _store.GetProofAsync(id, cancellationToken).ConfigureAwait(false)
               ?? throw new KeyNotFoundException($"the proof of input task {id} is not stored");
    }

    private void ForgetProofs(ProofTask task)
    {
        lock (_gate)
        {
            if (task.Input1 is { } a)
            {
                _proofCache.Remove(a);
            }

            if (task.Input2 is { } b)
            {
                _proofCache.Remove(b);
            }
        }
    }

    private static bool IsAddress(string value) =>
        value.Length == 42 && value.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && value.AsSpan(2).ContainsAnyExcept(
            "0123456789abcdefABCDEF") is false;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task[] workers;
        lock (_gate)
        {
            workers = [.. _workers.Values];
            foreach (var waiter in _waiters)
            {
                waiter.Completion.TrySetCanceled();
            }

            _waiters.Clear();
        }

        await Task.WhenAll(workers.Append(_sweeper).Append(_leaseSweeper).Append(_readyWatch).Append(_announcedLoader)).ConfigureAwait(false);
        Task[] inFlight;
        lock (_gate)
        {
            inFlight = [.. _inFlight];
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
        _stopping.Dispose();
    }
}
