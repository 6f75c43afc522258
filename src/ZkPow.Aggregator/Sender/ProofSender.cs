using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sender;

/// <summary>
/// The Proof Sender: the two-step, commit-then-reveal submission of final proofs, through three caches ordered by
/// sequence (lowest first) and de-duplicated by sequence, each drained by its own worker:
/// <list type="number">
/// <item><see cref="FinalProofMsgCache"/>: check the proof, reveal overdue commitments first, apply
/// <see cref="CommitPolicy"/>, send <c>submitProofHash</c> and put the sequence into <see cref="MonitPHTxCache"/>.</item>
/// <item><see cref="MonitPHTxCache"/>: once our hash is on chain, wait (block by block) until the proof window is open
/// and the predecessor is verified, then put the proof message into <see cref="ProofHashCache"/>.</item>
/// <item><see cref="ProofHashCache"/>: send <c>verifyBatches</c>.</item>
/// </list>
/// Every decision reads the windows, the round start and <c>proofSubmitted</c> from the contract. Every tx goes through
/// the tx manager and is watched without blocking the worker. The state of each sequence is stored
/// (<see cref="ISubmissionStore"/>) before each tx is submitted, and tx keys are derived from it, so a restart never
/// sends a duplicate.
/// </summary>
public sealed partial class ProofSender : IAsyncDisposable
{
    /// <summary>How the reason of a sequence parked for rejected final proofs begins (a requeue proves it again).</summary>
    public const string RejectedParkReason = "final proof rejected";

    private readonly ISubmissionStore _store;
    private readonly IRollupChain _chain;
    private readonly TxManager _tx;
    private readonly IBatchRootsSource _roots;
    private readonly ISequenceReprover _reprover;
    private readonly SenderOptions _options;
    private readonly ILogger<ProofSender> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SequenceCache<long> _deferred = new("deferred");
    private readonly ConcurrentDictionary<ulong, ulong> _openRounds = new();
    private readonly ConcurrentDictionary<ulong, ulong> _verifiedAt = new();
    private readonly ConcurrentDictionary<ulong, bool> _revealed = new();
    private readonly ConcurrentDictionary<ulong, int> _busy = new();
    private readonly ConcurrentDictionary<Task, bool> _watchers = new();
    private readonly Lock _headGate = new();
    private TaskCompletionSource _newHead = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ulong _head;
    private Task[] _workers = [];

    public ProofSender(ISubmissionStore store, IRollupChain chain, TxManager tx, IBatchRootsSource roots, ISequenceReprover reprover,
        SenderOptions options, SenderMetrics metrics, ILogger<ProofSender> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _store = store;
        _chain = chain;
        _tx = tx;
        _roots = roots;
        _reprover = reprover;
        _options = options;
        Metrics = metrics;
        _logger = logger;
        _time = time;
    }

    /// <summary>Final proofs to check and commit; the value is the <see cref="Stopwatch"/> timestamp at which the proof
    /// was stored (0 if unknown), for the latency metric.</summary>
    public SequenceCache<long> FinalProofMsgCache { get; } = new("finalProofMsgCache");

    /// <summary>Our hash commitments to watch until their proof window opens.</summary>
    public SequenceCache<MonitItem> MonitPHTxCache { get; } = new("monitPHTxCache");

    /// <summary>Proof messages ready for <c>verifyBatches</c>.</summary>
    public SequenceCache<ProofMessage> ProofHashCache { get; } = new("ProofHashCache");

    public SenderMetrics Metrics { get; }

    /// <summary>The head the block follower last saw.</summary>
    internal ulong FollowedHead
    {
        get
        {
            lock (_headGate)
            {
                return _head;
            }
        }
    }

    /// <summary>For tests: awaited by worker 2 after each pass, before it waits for the next change (a test holds a pass
    /// there to let the chain move on while it runs).</summary>
    internal Func<Task>? AfterMonitorPass { get; set; }

    /// <summary>The miner's address (sender of every tx, and the address proofs are bound to).</summary>
    public string Miner => _tx.Address;

    /// <summary>Starts the three workers and the block follower. Call after the Proof Manager's start-up recovery has
    /// filled the caches.</summary>
    public void Start()
    {
        var token = _stopping.Token;
        _workers =
        [
            Task.Run(() => FollowHeadAsync(token), token),
            Task.Run(() => CommitWorkerAsync(token), token),
            Task.Run(() => MonitorWorkerAsync(token), token),
            Task.Run(() => RevealWorkerAsync(token), token),
        ];
    }

    /// <summary>Opens the node connections and runs the read paths once, and the tx manager's submission steps without
    /// storing or sending anything (<see cref="TxManager.WarmUpAsync"/>), so that the first final proof does not pay for
    /// connection set-up and first runs.</summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_chain.GetBlockNumberAsync(cancellationToken), _chain.GetProofWindowsAsync(cancellationToken),
            _chain.GetLastVerifiedBatchAsync(cancellationToken), _chain.GetSequenceAsync(0, cancellationToken),
            _chain.GetCommitmentAsync(0, Miner, cancellationToken), _tx.GetAsync("warm-up", cancellationToken),
            _store.GetSubmissionAsync(0, cancellationToken), _store.GetFinalProofAsync(0, cancellationToken), _roots.GetRootsAsync(0, cancellationToken),
            // The proof check's reads and the verifier's eth_call, with an empty proof (a read: it says no).
            _chain.CheckProofAsync(Miner, new ProofClaim(0, 1, new byte[32], new byte[32], new byte[32]), [], cancellationToken))
            .ConfigureAwait(false);
        await _tx.WarmUpAsync(cancellationToken).ConfigureAwait(false);
        _ = ProofHash.Compute([0], Miner);
        _ = RollupCalls.SubmitProofHash(0, 1, new byte[32]);
    }

    /// <summary>Start-up recovery of one stored submission (see the Proof Manager's submitPendingProof): resumes
    /// watching its txs and puts it back into the right cache.</summary>
    public async Task ResumeAsync(SubmissionRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        switch (record.State)
        {
            case SubmissionState.Queued:
                FinalProofMsgCache.Put(record.FinalBatch, 0);
                break;
            case SubmissionState.Committing:
            case SubmissionState.Committed:
                {
                    // The same key returns the tx that was stored before the restart (nothing new is sent); the tx
                    // manager holds it until ReDecideHeldHashTxsAsync approves or cancels it.
                    TxHandle? handle = null;
                    if (record.State == SubmissionState.Committing && record.ProofHash is { } hash)
                    {
                        if (await _tx.GetAsync(record.HashTxKey, cancellationToken).ConfigureAwait(false) is null)
                        {
                            // Never handed to the tx manager: decide again from the start.
                            await SaveAsync(record with { State = SubmissionState.Queued }, cancellationToken).ConfigureAwait(false);
                            FinalProofMsgCache.Put(record.FinalBatch, 0);
                            break;
                        }

                        var submission = await _tx.SubmitAsync(HashRequest(record, hash), cancellationToken).ConfigureAwait(false);
                        handle = submission.Handle;
                    }

                    if (record.RoundStart is { } round)
                    {
                        _openRounds[record.FinalBatch] = round;
                    }
                    else if (await _chain.GetCommitmentAsync(record.FinalBatch, Miner, cancellationToken).ConfigureAwait(false) is
                    { Exists: true, Proved: false } onChain)
                    {
                        // Our hash may be on chain already: its round counts for the overdue rule from the start.
                        _openRounds[record.FinalBatch] = onChain.RoundStart;
                    }

                    MonitPHTxCache.Put(record.FinalBatch, new MonitItem(handle, null));
                    break;
                }

            case SubmissionState.Revealing:
                {
                    if (record.RoundStart is { } round)
                    {
                        _openRounds[record.FinalBatch] = round;
                    }

                    // Only an existing reveal tx is resumed (its key returns it as it was sent); otherwise worker 2
                    // decides again, with the committed proof that matches our commitment.
                    var proof = record.ProofHash is { } committedHash
                        ? await CommittedProofAsync(record.FinalBatch, committedHash, cancellationToken).ConfigureAwait(false)
                        : null;
                    if (proof is null || await _tx.GetAsync(record.ProofTxKey, cancellationToken).ConfigureAwait(false) is null)
                    {
                        await SaveAsync(record with { State = SubmissionState.Committed }, cancellationToken).ConfigureAwait(false);
                        MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
                        break;
                    }

                    _revealKeys[record.FinalBatch] = record.ProofTxKey;

                    var submission = await _tx.SubmitAsync(RevealRequest(record, proof), cancellationToken).ConfigureAwait(false);
                    if (submission.Accepted)
                    {
                        Watch(WatchRevealAsync(record, submission.Handle, 0, _stopping.Token));
                    }
                    else
                    {
                        await RevealRejectedAsync(record, submission.Rejected!, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                }

            case SubmissionState.Resend:
            case SubmissionState.Reproving:
            case SubmissionState.Revealed:
            case SubmissionState.Lost:
            case SubmissionState.Parked:
            case SubmissionState.Slashed:
                break;
            default:
                throw new InvalidOperationException($"unknown submission state {record.State}");
        }
    }

    /// <summary>True while the sequence is held by one of the sender's caches or waiting for a later block.</summary>
    public bool Holds(ulong finalBatch) =>
        FinalProofMsgCache.Contains(finalBatch) || MonitPHTxCache.Contains(finalBatch) || ProofHashCache.Contains(finalBatch) ||
        _deferred.Contains(finalBatch) || _busy.ContainsKey(finalBatch);

    private void Enter(ulong finalBatch) => _busy.AddOrUpdate(finalBatch, 1, (_, n) => n + 1);

    private void Exit(ulong finalBatch)
    {
        if (_busy.AddOrUpdate(finalBatch, 0, (_, n) => n - 1) <= 0)
        {
            _busy.TryRemove(new KeyValuePair<ulong, int>(finalBatch, 0));
        }
    }

    // ---- block follower

    private async Task FollowHeadAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var head = await _chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
                TaskCompletionSource? signal = null;
                lock (_headGate)
                {
                    if (head != _head)
                    {
                        _head = head;
                        signal = _newHead;
                        _newHead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                }

                if (signal is not null)
                {
                    foreach (var (final, stored) in _deferred.Snapshot())
                    {
                        if (_deferred.TryRemove(final, out _))
                        {
                            FinalProofMsgCache.Put(final, stored);
                        }
                    }

                    signal.TrySetResult();
                }
            }
            catch (ChainUnavailableException e)
            {
                LogChainDown(e.Message);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            await DelayAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Asks again about <paramref name="final"/> at the block after <paramref name="decidedAt"/>, the head its decision
    /// was made on: at the next new head the follower sees, or at once if the follower has seen a newer head already (it
    /// came while the decision was being made, and its hand-back of the deferred ones has run or is running; on a chain
    /// that then holds still, waiting for the one after would wait for ever).
    /// </summary>
    private void DeferToNextBlock(ulong final, long storedAt, ulong decidedAt)
    {
        lock (_headGate)
        {
            if (_head <= decidedAt)
            {
                // The follower hands the deferred ones back after it has moved its head on under this lock: this one is
                // among them.
                _deferred.Put(final, storedAt);
                return;
            }
        }

        FinalProofMsgCache.Put(final, storedAt);
    }

    /// <summary>A task that completes when the next new head is seen (take it before reading the head).</summary>
    private Task NextHeadSignal()
    {
        lock (_headGate)
        {
            return _newHead.Task;
        }
    }

    private async Task DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    // ---- worker 1: finalProofMsgCache

    private async Task CommitWorkerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            KeyValuePair<ulong, long> item;
            try
            {
                item = await FinalProofMsgCache.TakeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Enter(item.Key);
            try
            {
                await CommitAsync(item.Key, item.Value, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ChainUnavailableException or EthRpcException or InvalidOperationException or FormatException
                                           or System.Data.Common.DbException)
            {
                LogWorkerError("commit", item.Key, e.Message);
                _deferred.Put(item.Key, item.Value);
            }
            finally
            {
                Exit(item.Key);
            }
        }
    }

    private async Task CommitAsync(ulong final, long storedAt, CancellationToken cancellationToken)
    {
        if (!_cancelLost.IsEmpty && await AdoptCancelLostAsync(final, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (_draining)
        {
            // A planned stop: the sequence stays queued in the store for the next start, unless a commitment of ours to it
            // is live on chain.
            await AdoptWhileDrainingAsync(final, cancellationToken).ConfigureAwait(false);
            return;
        }

        using var span = AggregatorTracing.Sender.StartActivity("sender.commit");
        var proof = await _store.GetFinalProofAsync(final, cancellationToken).ConfigureAwait(false);
        var record = await _store.GetSubmissionAsync(final, cancellationToken).ConfigureAwait(false);
        if (proof is null)
        {
            return; // Being proved again: the Proof Manager hands it over when the new proof is stored.
        }

        if (record is { State: not (SubmissionState.Queued or SubmissionState.Reproving) })
        {
            return; // Already past this stage (a duplicate hand-over).
        }

        record ??= new SubmissionRecord { FinalBatch = final, InitBatch = proof.InitBatch, State = SubmissionState.Queued };
        var proofBytes = HexData.Decode(proof.Proof);

        // A hash tx under this key exists already (we stopped between handing it to the tx manager and recording it):
        // carry on with that tx instead of deciding again.
        var existing = await _tx.GetAsync(record.HashTxKey, cancellationToken).ConfigureAwait(false);
        if (existing is not null && _tx.IsHeld(existing.Key))
        {
            return; // Held after a restart or outage: ReDecideHeldHashTxsAsync approves or cancels it.
        }

        // Only the tx for this very proof is carried on with (a tx under the key for another proof is an earlier go's).
        var hash = ProofHash.Compute(proofBytes, Miner);
        if (existing is { State: not TxState.Failed } && existing.Kind != TxRequest.CancelKind &&
            existing.Data.AsSpan().SequenceEqual(RollupCalls.SubmitProofHash(record.InitBatch, final, hash)))
        {
            await _store.SaveCommittedProofAsync(hash, proof, cancellationToken).ConfigureAwait(false);
            record = record with { State = SubmissionState.Committing, ProofHash = hash };
            var resumed = await _tx.SubmitAsync(HashRequest(record, hash), cancellationToken).ConfigureAwait(false);
            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            MonitPHTxCache.Put(final, new MonitItem(resumed.Handle, null));
            return;
        }

        if (existing is not null)
        {
            record = record with { HashAttempt = record.HashAttempt + 1 };
        }

        // 1. Check the proof before committing to it (a committed hash that cannot be revealed is slashed), while
        //    reading the chain for the commit policy.
        var reads = AggregatorTracing.Sender.StartActivity("sender.preflight_reads");
        var checkTask = CheckProofAsync(proof, proofBytes, cancellationToken);

        // The proof behind the hash is kept under the hash before any hash tx exists (a later proof of the sequence, a
        // re-proof, never replaces it; the reveal takes the one that matches the commitment on chain). Written while the
        // chain is read, off the latency path; a row for a hash that is never committed is harmless.
        var keepTask = _store.SaveCommittedProofAsync(hash, proof, cancellationToken);
        // The hash tx's own pre-flight reads (its eth_call, gas estimate and fees) go out with ours: reads only, used
        // below if the checks and the policy say commit, dropped otherwise.
        var hashReads = _tx.StartPreflight(HashRequest(record, hash), cancellationToken);
        var headTask = _chain.GetBlockNumberAsync(cancellationToken);
        var windowsTask = _chain.GetProofWindowsAsync(cancellationToken);
        var sequenceTask = _chain.GetSequenceAsync(final, cancellationToken);
        var lastVerifiedTask = _chain.GetLastVerifiedBatchAsync(cancellationToken);
        // A sequence that had a hash tx of ours before (an earlier hash attempt) may have our commitment live on chain
        // while its record is Queued (a cancelled hash tx whose original was mined first, however it ended here): one more
        // read with the others, none for a first commit (the common case).
        var earlierTask = record.HashAttempt > 0 ? _chain.GetCommitmentAsync(final, Miner, cancellationToken) : null;
        using (reads)
        {
            await Task.WhenAll(checkTask, headTask, windowsTask, sequenceTask, lastVerifiedTask, keepTask, earlierTask ?? Task.CompletedTask)
                .ConfigureAwait(false);
        }

        // Such a commitment is revealed (with the proof that matches it), never left to expire while the policy waits.
        if (earlierTask is not null && await earlierTask.ConfigureAwait(false) is { Exists: true, Proved: false } earlier &&
            earlier.RoundStart == (await sequenceTask.ConfigureAwait(false)).RoundStart &&
            await LiveCommitmentAsync(final, cancellationToken).ConfigureAwait(false) is { } ours)
        {
            await AdoptCommitmentAsync(record, ours, "our commitment from an earlier hash tx is live on chain", cancellationToken).ConfigureAwait(false);
            return;
        }

        var head = await headTask.ConfigureAwait(false);
        if (await checkTask.ConfigureAwait(false) is { } problem)
        {
            if (problem.Length == 0)
            {
                DeferToNextBlock(final, storedAt, head); // Cannot tell yet (roots unknown to the node).
                return;
            }

            await RejectProofAsync(record, proof, problem, cancellationToken).ConfigureAwait(false);
            return;
        }

        // 2. Overdue commitments of ours are revealed before any new hash (a new hash would settle their slash).
        var windows = await windowsTask.ConfigureAwait(false);
        if (_openRounds.Any(r => r.Key != final && CommitPolicy.IsOverdue(head, r.Value, windows, _options.LandingSlackBlocks)))
        {
            LogOverdueFirst(final);
            DeferToNextBlock(final, storedAt, head);
            return;
        }

        // 3. The commit policy, on live reads.
        var sequence = await sequenceTask.ConfigureAwait(false);
        if (!sequence.Exists)
        {
            DeferToNextBlock(final, storedAt, head); // Proved ahead of the chain (our view of it lags).
            return;
        }

        var lastVerified = await lastVerifiedTask.ConfigureAwait(false);
        var predecessors = lastVerified >= proof.InitBatch
            ? []
            : await UnverifiedPredecessorRoundsAsync(proof.InitBatch, lastVerified, cancellationToken).ConfigureAwait(false);
        var inputs = new CommitInputs(head, windows, lastVerified, proof.InitBatch, final, sequence.RoundStart, sequence.ProofSubmitted, predecessors,
            Metrics.RecentRevealBlocks());
        var decision = CommitPolicy.Decide(inputs, _options);
        switch (decision)
        {
            case CommitDecision.Verified:
                if (await LiveCommitmentAsync(final, cancellationToken).ConfigureAwait(false) is { } live)
                {
                    await AdoptCommitmentAsync(record, live, "verified by another miner, and our commitment is in that round", cancellationToken)
                        .ConfigureAwait(false);
                    return;
                }

                await SaveAsync(record with { State = SubmissionState.Lost, LastError = "verified by another miner before we committed" },
                    cancellationToken).ConfigureAwait(false);
                Metrics.Sequence("lost");
                LogLost(final);
                return;
            case CommitDecision.WindowClosed:
                await ResendAsync(record, "hash window closed", countRetry: false, cancellationToken).ConfigureAwait(false);
                return;
            case CommitDecision.WaitForPredecessor:
                if (record.State != SubmissionState.Queued)
                {
                    await SaveAsync(record with { State = SubmissionState.Queued }, cancellationToken).ConfigureAwait(false);
                }

                // Held back by the policy, not by the sender: the broadcast latency is measured only for proofs
                // that could be committed when they were stored.
                DeferToNextBlock(final, 0, head);
                return;
            case CommitDecision.Commit:
                break;
            default:
                throw new InvalidOperationException($"unknown commit decision {decision}");
        }

        // 4. Commit. The tx key derives from the stored hash attempt, so the tx manager (which stores the tx before
        //    broadcasting it) makes a restart at any point here return the same tx rather than send a second one; our
        //    own record is updated right after, off the latency path.
        //    While draining no new hash is committed: the gate makes the check and the hand-over one step (a drain that
        //    begins waits for a hash being handed over, and its record, and counts it as open).
        record = record with { State = SubmissionState.Committing, ProofHash = hash, RoundStart = null, LastError = null };
        TxSubmission submission;
        await _commitGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_draining)
            {
                LogDrainHeld(final);
                return;
            }

            using (AggregatorTracing.Sender.StartActivity("sender.submit_hash"))
            {
                submission = await _tx.SubmitAsync(HashRequest(record, hash), hashReads, cancellationToken).ConfigureAwait(false);
            }

            if (!submission.Accepted)
            {
                Metrics.HashTx("rejected");
                await HashFailedAsync(record, submission.Rejected!, cancellationToken).ConfigureAwait(false);
                return;
            }

            Metrics.HashTx("sent");
            if (storedAt != 0)
            {
                Metrics.HashBroadcast(Stopwatch.GetElapsedTime(storedAt).TotalMilliseconds);
            }

            using (AggregatorTracing.Sender.StartActivity("sender.store_write"))
            {
                await SaveAsync(record, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _commitGate.Release();
        }

        LogCommitted(final, record.HashAttempt, submission.Handle.Key);
        MonitPHTxCache.Put(final, new MonitItem(submission.Handle, null));
    }

    /// <summary>Null if the proof is good; an empty string if it cannot be told yet; otherwise why it is wrong.</summary>
    private async Task<string?> CheckProofAsync(FinalProofRecord proof, byte[] proofBytes, CancellationToken cancellationToken)
    {
        if (!string.Equals(HexData.NormalizeAddress(proof.AggregatorAddress), HexData.NormalizeAddress(Miner), StringComparison.Ordinal))
        {
            return $"bound to {proof.AggregatorAddress}, not to the miner {Miner}";
        }

        var expectedTask = _roots.GetRootsAsync(proof.FinalBatch, cancellationToken);
        var oldTask = _roots.GetRootsAsync(proof.InitBatch, cancellationToken);
        await Task.WhenAll(expectedTask, oldTask).ConfigureAwait(false);
        var (expected, old) = (await expectedTask.ConfigureAwait(false), await oldTask.ConfigureAwait(false));
        if (expected is null || old is null)
        {
            return string.Empty;
        }

        if (!expected.StateRoot.AsSpan().SequenceEqual(proof.NewStateRoot) || !expected.LocalExitRoot.AsSpan().SequenceEqual(proof.NewLocalExitRoot))
        {
            return "its roots differ from the rollup node's";
        }

        var claim = new ProofClaim(proof.InitBatch, proof.FinalBatch, proof.NewLocalExitRoot, old.StateRoot, proof.NewStateRoot);
        ProofCheck check;
        using (AggregatorTracing.Sender.StartActivity("sender.verifier_call"))
        {
            check = await _chain.CheckProofAsync(Miner, claim, proofBytes, cancellationToken).ConfigureAwait(false);
        }

        if (check.Revert is { } revert)
        {
            LogCheckReverted(proof.FinalBatch, revert.ToString());
            return string.Empty;
        }

        return check.Valid ? null : "the verifier rejects it";
    }

    private async Task RejectProofAsync(SubmissionRecord record, FinalProofRecord proof, string problem, CancellationToken cancellationToken)
    {
        Metrics.RejectedProof(proof.ProverName);
        LogProofRejected(record.FinalBatch, proof.ProverName, problem);
        var retries = record.Retries + 1;
        if (retries > _options.MaxRetries)
        {
            await ParkAsync(record with { Retries = retries }, $"{RejectedParkReason} {retries} times: {problem}", cancellationToken).ConfigureAwait(false);
            return;
        }

        await _reprover.ReproveAsync(record.FinalBatch, $"final proof by {proof.ProverName} rejected: {problem}", proof.ProverName, cancellationToken).ConfigureAwait(false);
        await SaveAsync(record with { State = SubmissionState.Reproving, Retries = retries, LastError = problem }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>For each unverified sequence in (<paramref name="lastVerified"/>, <paramref name="initBatch"/>], lowest
    /// first: the round start of our own live commitment to it that we are revealing, or null.</summary>
    private async Task<IReadOnlyList<ulong?>> UnverifiedPredecessorRoundsAsync(ulong initBatch, ulong lastVerified, CancellationToken cancellationToken)
    {
        var rounds = new List<ulong?>();
        var batch = initBatch;
        while (batch > lastVerified && rounds.Count < 256)
        {
            var sequenceTask = _chain.GetSequenceAsync(batch, cancellationToken);
            var oursTask = _chain.GetCommitmentAsync(batch, Miner, cancellationToken);
            await Task.WhenAll(sequenceTask, oursTask).ConfigureAwait(false);
            var sequence = await sequenceTask.ConfigureAwait(false);
            if (!sequence.Exists)
            {
                rounds.Add(null);
                break;
            }

            // Counted only while the sender takes it to the reveal (watched by worker 2, or an open round of ours): a
            // commitment of ours that we parked, or whose reveal was slashed as wrong (closed), will not verify the
            // predecessor in time. (In memory: a store read per predecessor here lengthened the hash broadcast's tail.)
            var ours = await oursTask.ConfigureAwait(false);
            var revealing = ours.Exists && !ours.Proved && ours.RoundStart == sequence.RoundStart &&
                (MonitPHTxCache.Contains(batch) || (_openRounds.TryGetValue(batch, out var open) && open == ours.RoundStart)) &&
                !IsClosed(batch, ours.RoundStart);
            rounds.Add(revealing ? ours.RoundStart : null);
            batch = sequence.PreviousLastBatchSequenced;
        }

        rounds.Reverse();
        return rounds;
    }

    private async Task HashFailedAsync(SubmissionRecord record, ChainRevert revert, CancellationToken cancellationToken)
    {
        LogHashFailed(record.FinalBatch, revert.ToString());
        switch (revert.Error)
        {
            case ChainError.CommittedProof:
                {
                    // Verified already, or proved by us. A commitment of ours in the round that got the proof is revealed late.
                    var proved = await _chain.GetCommitmentAsync(record.FinalBatch, Miner, cancellationToken).ConfigureAwait(false);
                    if (proved.Proved)
                    {
                        await MarkRevealedAsync(record, cancellationToken).ConfigureAwait(false);
                        return;
                    }

                    if (await LiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is { } live)
                    {
                        await AdoptCommitmentAsync(record with { HashAttempt = record.HashAttempt + 1 }, live, revert.ToString(), cancellationToken)
                            .ConfigureAwait(false);
                        return;
                    }

                    _openRounds.TryRemove(record.FinalBatch, out _);
                    await SaveAsync(record with { State = SubmissionState.Lost, HashAttempt = record.HashAttempt + 1, LastError = revert.ToString() },
                        cancellationToken).ConfigureAwait(false);
                    Metrics.Sequence("lost");
                    return;
                }
            case ChainError.CommittedTimeout:
                await ResendAsync(record, revert.ToString(), countRetry: false, cancellationToken).ConfigureAwait(false);
                return;
            case ChainError.CommittedProofHash:
                {
                    // We hold a hash for the live round already: watch and reveal it (with the committed proof that matches
                    // it) instead of committing again.
                    if (await LiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is { } live)
                    {
                        await AdoptCommitmentAsync(record with { HashAttempt = record.HashAttempt + 1 }, live, revert.ToString(), cancellationToken)
                            .ConfigureAwait(false);
                        return;
                    }

                    await ResendAsync(record, revert.ToString(), countRetry: true, cancellationToken).ConfigureAwait(false);
                    return;
                }
            default:
                await ResendAsync(record, revert.ToString(), countRetry: true, cancellationToken).ConfigureAwait(false);
                return;
        }
    }

    // ---- shared

    internal TxRequest HashRequest(SubmissionRecord record, byte[] hash) =>
        new(record.HashTxKey, "submitProofHash", _chain.RollupAddress, RollupCalls.SubmitProofHash(record.InitBatch, record.FinalBatch, hash));

    internal TxRequest RevealRequest(SubmissionRecord record, FinalProofRecord proof) =>
        new(record.ProofTxKey, "verifyBatches", _chain.RollupAddress,
            RollupCalls.VerifyBatches(record.InitBatch, record.FinalBatch, proof.NewLocalExitRoot, proof.NewStateRoot, HexData.Decode(proof.Proof)));

    private Task SaveAsync(SubmissionRecord record, CancellationToken cancellationToken) => _store.SaveSubmissionAsync(record, cancellationToken);

    /// <summary>The sequence needs another go in a new round: new tx keys, and (for failures) one more retry; parked after
    /// too many. False if a live commitment of ours was found instead and adopted.</summary>
    internal async Task<bool> ResendAsync(SubmissionRecord record, string reason, bool countRetry, CancellationToken cancellationToken)
    {
        // A live commitment of ours is revealed, never abandoned (abandoning it is a slash): a transient read (a lagging
        // node, a reorg) must not send it round again, however many reveal keys the sequence has used (ProofAttempt counts
        // those of every round; processResend adopts a live commitment whatever the count as well). The reveals are at
        // most one per block; refused ones are bounded per commitment once its proof window has ended.
        if (await ReadLiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is { } live)
        {
            if (record.ProofAttempt + 1 >= _options.MaxRevealAttempts)
            {
                LogAdoptedPastBound(record.FinalBatch, record.ProofAttempt + 1, _options.MaxRevealAttempts, live.Commitment.RoundStart,
                    live.ProofWindowEnd, reason);
            }

            await AdoptCommitmentAsync(record, live.Commitment, reason, cancellationToken).ConfigureAwait(false);
            return false;
        }

        _openRounds.TryRemove(record.FinalBatch, out _);
        _missingSince.TryRemove(record.FinalBatch, out _);
        ForgetRevealTries(record.FinalBatch);
        var retries = record.Retries + (countRetry ? 1 : 0);
        var next = record with
        {
            State = SubmissionState.Resend,
            HashAttempt = record.HashAttempt + 1,
            ProofAttempt = record.ProofAttempt + 1,
            RoundStart = null,
            Retries = retries,
            LastError = reason,
        };
        if (retries > _options.MaxRetries)
        {
            await ParkAsync(next, $"gave up after {retries} failed goes: {reason}", cancellationToken).ConfigureAwait(false);
            return true;
        }

        LogResend(record.FinalBatch, reason);
        Metrics.Sequence("resend");
        await SaveAsync(next, cancellationToken).ConfigureAwait(false);
        return true;
    }

    internal async Task ParkAsync(SubmissionRecord record, string reason, CancellationToken cancellationToken)
    {
        _openRounds.TryRemove(record.FinalBatch, out _);
        ForgetRevealTries(record.FinalBatch);
        LogParked(record.FinalBatch, reason);
        Metrics.Sequence("parked");
        await SaveAsync(record with { State = SubmissionState.Parked, ParkedReason = reason }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// An operator gives a parked sequence another go, its retries reset. A sequence parked because its final proofs kept
    /// failing the check is proved again (its proof and tasks are discarded, other provers preferred); any other is
    /// offered to the sender again as <see cref="SubmissionState.Resend"/>, where processResend reveals a live commitment
    /// of ours (never abandoned) or commits again once a hash can land. Returns the new record, or null if the sequence
    /// is not parked.
    /// </summary>
    public async Task<SubmissionRecord?> RequeueParkedAsync(ulong finalBatch, CancellationToken cancellationToken)
    {
        var record = await _store.GetSubmissionAsync(finalBatch, cancellationToken).ConfigureAwait(false);
        if (record is not { State: SubmissionState.Parked })
        {
            return null;
        }

        var reason = record.ParkedReason ?? "parked";
        SubmissionRecord next;
        if (reason.StartsWith(RejectedParkReason, StringComparison.Ordinal))
        {
            // The proof goes first: a Reproving record is handed over again as soon as a final proof is stored.
            await _reprover.ReproveAsync(finalBatch, $"requeued by an operator after: {reason}", null, cancellationToken).ConfigureAwait(false);
            next = record with { State = SubmissionState.Reproving, Retries = 0, ParkedReason = null, LastError = reason };
        }
        else
        {
            next = record with { State = SubmissionState.Resend, Retries = 0, ParkedReason = null, LastError = reason };
        }

        await SaveAsync(next, cancellationToken).ConfigureAwait(false);
        Metrics.Sequence("requeued");
        LogRequeued(finalBatch, next.State.ToString(), reason);
        return next;
    }

    private void Watch(Task task)
    {
        _watchers[task] = true;
        _ = task.ContinueWith(t => _watchers.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Rewards and slashes of ours in the block of <paramref name="tx"/>.</summary>
    private async Task<bool> RecordEventsAsync(TxRecord tx, CancellationToken cancellationToken)
    {
        if (tx.BlockNumber is not { } block)
        {
            return false;
        }

        var slashedHere = false;
        foreach (var e in await _chain.GetEventsAsync(block, block, cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case RewardPaidEvent paid when SameAddress(paid.Prover, Miner) && SameHash(paid.TransactionHash, tx.TxHash):
                    Metrics.Reward(paid.Amount);
                    break;
                case SlashedEvent slashed when SameAddress(slashed.Prover, Miner) && SameHash(slashed.TransactionHash, tx.TxHash):
                    Metrics.Slash(slashed.Amount, slashed.Reason);
                    slashedHere = true;
                    LogSlashed(slashed.FinalNewBatch, slashed.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture), slashed.Reason);
                    break;
                default:
                    break;
            }
        }

        return slashedHere;
    }

    private static bool SameAddress(string a, string b) => string.Equals(HexData.NormalizeAddress(a), HexData.NormalizeAddress(b), StringComparison.Ordinal);

    private static bool SameHash(string a, string? b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            // A worker or watcher that failed on its last call (the node going away) is rethrown for the host to log.
            await Task.WhenAll(_workers.Concat(_watchers.Keys)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
        finally
        {
            _stopping.Dispose();
            _commitGate.Dispose();
        }
    }
}
