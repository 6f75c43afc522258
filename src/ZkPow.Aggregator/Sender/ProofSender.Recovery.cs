using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sender;

/// <summary>Slash-proof recovery: re-deciding held hash txs, adopting live commitments of ours, revealing only the
/// proof that matches the commitment, resolving vanished commitments, recording slashes.</summary>
public sealed partial class ProofSender
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, ulong> _missingSince = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, string> _revealKeys = new();

    /// <summary>Sequences whose cancelled hash tx was mined as the original: worker 1 adopts the commitment.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, bool> _cancelLost = new();

    /// <summary>Final batch → round start of a commitment of ours whose reveal was slashed as wrong: the contract has
    /// closed it (a second reveal is refused) but its view still shows it unproved in the round, so it is not taken as
    /// live. In memory: after a restart a closed commitment can be tried once more, refused, until its round ends.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, ulong> _closedRounds = new();

    private bool IsClosed(ulong final, ulong roundStart) => _closedRounds.TryGetValue(final, out var closed) && closed == roundStart;

    // ---- finding 1: hash txs held by the tx manager after a restart, an outage or a reorg

    /// <summary>
    /// Re-decides every hash tx the tx manager holds (see <see cref="TxManager.HeldKinds"/>): if the sequence's record
    /// still stands behind it, its proof matches, no overdue commitment of ours comes first and the commit policy says
    /// commit, the tx is approved as it is; otherwise its nonce is freed by a cancel (a 0-value transfer to ourselves at a
    /// higher fee) and the sequence goes back to worker 1 under a new hash key.
    /// </summary>
    public async Task ReDecideHeldHashTxsAsync(CancellationToken cancellationToken)
    {
        foreach (var tx in _tx.HeldTransactions())
        {
            if (!string.Equals(tx.Kind, "submitProofHash", StringComparison.Ordinal))
            {
                continue;
            }

            var (approve, why, final) = await ReDecideAsync(tx, cancellationToken).ConfigureAwait(false);
            if (approve)
            {
                if (_tx.Approve(tx.Key))
                {
                    LogHeldApproved(final, tx.Key, why);
                }

                continue;
            }

            LogHeldCancelled(final, tx.Key, why);
            var cancelled = await _tx.CancelAsync(tx.Key, cancellationToken).ConfigureAwait(false);
            if (cancelled is not null)
            {
                Metrics.HashTxCancelled();
            }

            if (final != 0)
            {
                await FollowCancelledHashTxAsync(final, tx.Key, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Watches the outcome of a hash tx of ours whose cancel was decided (its record is back in Queued under the next hash
    /// key). The original can still be mined before its cancel (or was, unseen): the tx manager then records the original
    /// as mined, and our commitment is live on chain while no worker watches it, and the commit policy may keep the record
    /// waiting for its whole hash window (no commit attempt, whose revert would adopt it). The commitment is then adopted
    /// and revealed at once (<see cref="AdoptCancelLostAsync"/>): left unrevealed, it is a slash at its round's end.
    /// </summary>
    private async Task FollowCancelledHashTxAsync(ulong final, string key, CancellationToken cancellationToken)
    {
        if (await _tx.FollowAsync(key, cancellationToken).ConfigureAwait(false) is { } outcome)
        {
            Watch(WatchCancelledHashTxAsync(final, outcome, _stopping.Token));
        }
    }

    private async Task WatchCancelledHashTxAsync(ulong final, TxHandle outcome, CancellationToken cancellationToken)
    {
        TxRecord done;
        try
        {
            done = await outcome.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return; // Stopping: the next start finds the commitment on chain (submitPendingProof adopts it).
        }

        if (done is not { State: TxState.Confirmed } || done.Kind == TxRequest.CancelKind)
        {
            return; // The cancel was mined (or the original reverted): no commitment of ours came of it.
        }

        // Worker 1 adopts it: the only one that moves a Queued record on (no race with a commit pass of the same sequence).
        LogCancelLost(final, done.Key, done.TxHash ?? "?");
        _cancelLost[final] = true;
        FinalProofMsgCache.Put(final, 0);
    }

    /// <summary>Worker 1, for a sequence whose cancelled hash tx was mined as the original
    /// (<see cref="WatchCancelledHashTxAsync"/>): a Queued or Resend record adopts our live commitment. True if it did.</summary>
    private async Task<bool> AdoptCancelLostAsync(ulong final, CancellationToken cancellationToken)
    {
        if (!_cancelLost.TryRemove(final, out _))
        {
            return false;
        }

        return await AdoptIfLiveAsync(final, SubmissionState.Resend, "our cancelled hash tx was mined before its cancel: its commitment is on chain",
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A Queued record (or one in <paramref name="alsoFrom"/>) whose commitment of ours is live on chain, watched by
    /// no worker, adopts it (<see cref="AdoptCommitmentAsync"/>). True if it did.</summary>
    private async Task<bool> AdoptIfLiveAsync(ulong final, SubmissionState alsoFrom, string why, CancellationToken cancellationToken)
    {
        if (await _store.GetSubmissionAsync(final, cancellationToken).ConfigureAwait(false) is { } record &&
            (record.State == SubmissionState.Queued || record.State == alsoFrom) &&
            await LiveCommitmentAsync(final, cancellationToken).ConfigureAwait(false) is { } live)
        {
            await AdoptCommitmentAsync(record, live, why, cancellationToken).ConfigureAwait(false);
            return true;
        }

        return false;
    }

    private async Task<(bool Approve, string Why, ulong Final)> ReDecideAsync(TxRecord tx, CancellationToken cancellationToken)
    {
        if (!TryParseKey(tx.Key, out var final, out var attempt))
        {
            return (false, "not a key of ours", 0);
        }

        var record = await _store.GetSubmissionAsync(final, cancellationToken).ConfigureAwait(false);
        var proof = await _store.GetFinalProofAsync(final, cancellationToken).ConfigureAwait(false);
        if (proof is null)
        {
            await MoveOffHeldKeyAsync(record, final, attempt, cancellationToken).ConfigureAwait(false);
            return (false, "no final proof stands behind it", final);
        }

        record ??= new SubmissionRecord { FinalBatch = final, InitBatch = proof.InitBatch, State = SubmissionState.Queued, HashAttempt = attempt };
        var hash = ProofHash.Compute(HexData.Decode(proof.Proof), Miner);
        if (record.HashAttempt != attempt || record.State is not (SubmissionState.Queued or SubmissionState.Committing or SubmissionState.Committed) ||
            !tx.Data.AsSpan().SequenceEqual(RollupCalls.SubmitProofHash(record.InitBatch, final, hash)))
        {
            await MoveOffHeldKeyAsync(record, final, attempt, cancellationToken).ConfigureAwait(false);
            return (false, $"its record moved on ({record.State}, attempt {record.HashAttempt}) or its proof changed", final);
        }

        // The tx may be mined already with the tx manager not knowing it yet (a stop right after it was mined): then our
        // commitment with its hash is on chain in the sequence's round. It is approved as it is (the tx manager finds
        // its receipt; a rebroadcast of a mined tx is harmless), and the record keeps (or adopts) that commitment.
        // Re-deciding it would cancel a mined tx and put a live commitment back to worker 1, which adopts it again: a
        // reveal attempt spent for nothing each time, and a record that looked uncommitted meanwhile.
        if (await CommittedOnChainAsync(record, hash, cancellationToken).ConfigureAwait(false))
        {
            return (true, "its commitment is on chain (mined)", final);
        }

        var decision = _draining ? null : await DecideNowAsync(record, proof, cancellationToken).ConfigureAwait(false);
        if (decision == CommitDecision.Commit)
        {
            await _commitGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_draining)
                {
                    await _store.SaveCommittedProofAsync(hash, proof, cancellationToken).ConfigureAwait(false);
                    var committing = record with { State = SubmissionState.Committing, ProofHash = hash, RoundStart = null };
                    var submission = await _tx.SubmitAsync(HashRequest(committing, hash), cancellationToken).ConfigureAwait(false);
                    await SaveAsync(committing, cancellationToken).ConfigureAwait(false);
                    MonitPHTxCache.Put(final, new MonitItem(submission.Handle, null));
                    return (true, "commit", final);
                }
            }
            finally
            {
                _commitGate.Release();
            }
        }

        await MoveOffHeldKeyAsync(record, final, attempt, cancellationToken).ConfigureAwait(false);
        return (false, _draining ? "draining: no new hash is committed" :
            decision is null ? "an overdue commitment of ours comes first" : $"the commit policy now says {decision}", final);
    }

    /// <summary>Whether our commitment to the record's sequence with <paramref name="hash"/> is on chain in the sequence's
    /// current round (a held hash tx carrying that hash was mined). A record not yet Committing or Committed adopts it if
    /// it can still be revealed; if it cannot, false (the held tx is re-decided as any other).</summary>
    private async Task<bool> CommittedOnChainAsync(SubmissionRecord record, byte[] hash, CancellationToken cancellationToken)
    {
        var final = record.FinalBatch;
        var oursTask = _chain.GetCommitmentAsync(final, Miner, cancellationToken);
        var sequenceTask = _chain.GetSequenceAsync(final, cancellationToken);
        await Task.WhenAll(oursTask, sequenceTask).ConfigureAwait(false);
        var ours = await oursTask.ConfigureAwait(false);
        var sequence = await sequenceTask.ConfigureAwait(false);
        if (!ours.Exists || ours.RoundStart != sequence.RoundStart || !ours.ProofHash.AsSpan().SequenceEqual(hash))
        {
            return false;
        }

        if (record.State is SubmissionState.Committing or SubmissionState.Committed)
        {
            return true; // Watched by worker 2 already (the tx's handle, or the adopted commitment).
        }

        if (await LiveCommitmentAsync(final, cancellationToken).ConfigureAwait(false) is not { } live)
        {
            return false;
        }

        await AdoptCommitmentAsync(record, live, "our held hash tx is mined: its commitment is on chain", cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Before a held hash tx is cancelled: the sequence (if ours) goes back to worker 1 under the next hash key, so
    /// that the cancelled key is never watched again.</summary>
    private async Task MoveOffHeldKeyAsync(SubmissionRecord? record, ulong final, int attempt, CancellationToken cancellationToken)
    {
        if (record is null || record.HashAttempt != attempt ||
            record.State is not (SubmissionState.Queued or SubmissionState.Committing or SubmissionState.Committed))
        {
            return;
        }

        // (A Committed record here had its hash tx dropped by a reorg: the commitment it saw is gone with it.)
        MonitPHTxCache.TryRemove(final, out _);
        _openRounds.TryRemove(final, out _);
        await SaveAsync(record with
        {
            State = SubmissionState.Queued,
            HashAttempt = attempt + 1,
            ProofHash = null,
            RoundStart = null,
            LastError = "hash tx held after a restart or outage and cancelled"
        }, cancellationToken).ConfigureAwait(false);
        _deferred.Put(final, 0);
    }

    private static bool TryParseKey(string key, out ulong final, out int attempt)
    {
        var parts = key.Split('/');
        final = 0;
        attempt = 0;
        return parts.Length == 3 && ulong.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out final) &&
            int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out attempt);
    }

    /// <summary>
    /// Steps 2 and 3 of worker 1 on live reads: null while an overdue commitment of ours must be revealed first or the
    /// sequence is not visible on chain yet; otherwise the commit policy's decision.
    /// </summary>
    private async Task<CommitDecision?> DecideNowAsync(SubmissionRecord record, FinalProofRecord proof, CancellationToken cancellationToken)
    {
        var final = record.FinalBatch;
        var headTask = _chain.GetBlockNumberAsync(cancellationToken);
        var windowsTask = _chain.GetProofWindowsAsync(cancellationToken);
        var sequenceTask = _chain.GetSequenceAsync(final, cancellationToken);
        var lastVerifiedTask = _chain.GetLastVerifiedBatchAsync(cancellationToken);
        await Task.WhenAll(headTask, windowsTask, sequenceTask, lastVerifiedTask).ConfigureAwait(false);
        var head = await headTask.ConfigureAwait(false);
        var windows = await windowsTask.ConfigureAwait(false);
        if (_openRounds.Any(r => r.Key != final && CommitPolicy.IsOverdue(head, r.Value, windows, _options.LandingSlackBlocks)))
        {
            return null;
        }

        var sequence = await sequenceTask.ConfigureAwait(false);
        if (!sequence.Exists)
        {
            return null;
        }

        var lastVerified = await lastVerifiedTask.ConfigureAwait(false);
        var predecessors = lastVerified >= proof.InitBatch
            ? []
            : await UnverifiedPredecessorRoundsAsync(proof.InitBatch, lastVerified, cancellationToken).ConfigureAwait(false);
        var inputs = new CommitInputs(head, windows, lastVerified, proof.InitBatch, final, sequence.RoundStart, sequence.ProofSubmitted, predecessors,
            Metrics.RecentRevealBlocks());
        return CommitPolicy.Decide(inputs, _options);
    }

    // ---- finding 4: a live commitment of ours is revealed, never abandoned

    /// <summary>Our commitment to <paramref name="final"/> if it is live on chain and can still be revealed: in the
    /// sequence's current round, not proved, and either some proof landed (a late reveal is allowed) or the round's last
    /// block is still ahead of a tx sent now.</summary>
    internal async Task<ProofCommitment?> LiveCommitmentAsync(ulong final, CancellationToken cancellationToken) =>
        (await ReadLiveCommitmentAsync(final, cancellationToken).ConfigureAwait(false))?.Commitment;

    /// <summary><see cref="LiveCommitmentAsync"/> with the head it was read at and the end of the commitment's proof
    /// window.</summary>
    internal async Task<LiveCommitment?> ReadLiveCommitmentAsync(ulong final, CancellationToken cancellationToken) =>
        (await ReadCommitmentAsync(final, cancellationToken).ConfigureAwait(false)).Live;

    /// <summary>Our commitment to <paramref name="final"/> as the chain has it, and whether it is live
    /// (<see cref="ReadLiveCommitmentAsync"/>).</summary>
    private async Task<(ProofCommitment Ours, LiveCommitment? Live)> ReadCommitmentAsync(ulong final, CancellationToken cancellationToken)
    {
        var oursTask = _chain.GetCommitmentAsync(final, Miner, cancellationToken);
        var sequenceTask = _chain.GetSequenceAsync(final, cancellationToken);
        var headTask = _chain.GetBlockNumberAsync(cancellationToken);
        var windowsTask = _chain.GetProofWindowsAsync(cancellationToken);
        await Task.WhenAll(oursTask, sequenceTask, headTask, windowsTask).ConfigureAwait(false);
        var ours = await oursTask.ConfigureAwait(false);
        var sequence = await sequenceTask.ConfigureAwait(false);
        if (!ours.Exists || ours.Proved || ours.RoundStart != sequence.RoundStart || IsClosed(final, ours.RoundStart))
        {
            return (ours, null);
        }

        var head = await headTask.ConfigureAwait(false);
        var windows = await windowsTask.ConfigureAwait(false);
        var end = windows.ProofWindowEnd(ours.RoundStart);
        return (ours, sequence.ProofSubmitted || head + 1 <= end ? new LiveCommitment(ours, head, end) : null);
    }

    /// <summary>Takes the live commitment <paramref name="ours"/> as the record's: Committed in its round with its hash,
    /// watched by worker 2 (which reveals the committed proof that matches the hash).</summary>
    internal async Task AdoptCommitmentAsync(SubmissionRecord record, ProofCommitment ours, string why, CancellationToken cancellationToken)
    {
        var adopted = record with
        {
            State = SubmissionState.Committed,
            RoundStart = ours.RoundStart,
            ProofHash = ours.ProofHash,
            ProofAttempt = record.ProofAttempt + 1,
            LastError = why,
        };
        _openRounds[record.FinalBatch] = ours.RoundStart;
        LogAdopted(record.FinalBatch, ours.RoundStart, why);
        await SaveAsync(adopted, cancellationToken).ConfigureAwait(false);
        MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
    }

    // ---- a reveal that a reorg took away

    /// <summary>
    /// Re-checks a Revealed record whose sequence the chain does not show as verified: read at the highest head seen
    /// (a backend that lags cannot answer that block), if our commitment is not proved, the reveal is gone (a reorg
    /// deeper than the confirmation depth). A live commitment of ours is then revealed again; otherwise the sequence
    /// goes round again. Returns true if the record was reopened.
    /// </summary>
    internal async Task<bool> RecheckRevealedAsync(SubmissionRecord record, ulong head, CancellationToken cancellationToken)
    {
        var ours = await _chain.GetCommitmentAsync(record.FinalBatch, Miner, head, cancellationToken).ConfigureAwait(false);
        if (ours.Proved)
        {
            return false;
        }

        _revealed.TryRemove(record.FinalBatch, out _);
        LogRevealGone(record.FinalBatch, head);
        Metrics.Sequence("reveal_reorged");
        if (await LiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is { } live)
        {
            await AdoptCommitmentAsync(record, live, "our reveal is gone from the chain (reorg); the commitment is live", cancellationToken)
                .ConfigureAwait(false);
            return true;
        }

        await ResendAsync(record, "our reveal is gone from the chain (reorg)", countRetry: false, cancellationToken).ConfigureAwait(false);
        return true;
    }

    // ---- a lost store is not a lost miner

    /// <summary>
    /// Rebuilds our open commitments from the chain: every <c>SubmitProofHash</c> event of ours in the last
    /// <see cref="SenderOptions.RecoveryLookbackRounds"/> rounds whose sequence has no submission in the store and whose
    /// commitment is live (revealable) becomes a Committed submission; its round counts for the overdue rule at once,
    /// and the generator is asked to prove the sequence first (worker 2 reveals the new proof if it matches the
    /// committed hash). Returns how many were rebuilt.
    /// </summary>
    public async Task<int> RecoverCommitmentsFromChainAsync(CancellationToken cancellationToken)
    {
        var head = await _chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var windows = await _chain.GetProofWindowsAsync(cancellationToken).ConfigureAwait(false);
        var lookback = ((ulong)windows.T1 + windows.T2 + 1) * (ulong)_options.RecoveryLookbackRounds;
        var latest = new Dictionary<ulong, SubmitProofHashEvent>();
        for (var from = head > lookback ? head - lookback : 0; from <= head; from += RecoveryChunkBlocks)
        {
            var to = Math.Min(head, from + RecoveryChunkBlocks - 1);
            foreach (var e in (await _chain.GetEventsAsync(from, to, cancellationToken).ConfigureAwait(false)).OfType<SubmitProofHashEvent>())
            {
                if (SameAddress(e.Prover, Miner))
                {
                    latest[e.FinalNewBatch] = e;
                }
            }
        }

        var rebuilt = 0;
        foreach (var (final, e) in latest.OrderBy(p => p.Key))
        {
            if (await _store.GetSubmissionAsync(final, cancellationToken).ConfigureAwait(false) is not null)
            {
                continue;
            }

            var (ours, found) = await ReadCommitmentAsync(final, cancellationToken).ConfigureAwait(false);
            if (found?.Commitment is not { } live)
            {
                // Not revealable: proved, or its round ended with no proof (or was reorged away). One still open on chain is
                // slashed at our next transaction, and nothing can prevent that now: say so, so that it is no surprise.
                if (ours.Exists && !ours.Proved)
                {
                    Metrics.Sequence("unrevealable");
                    LogUnrevealable(final, ours.RoundStart);
                }

                continue;
            }

            var record = new SubmissionRecord { FinalBatch = final, InitBatch = e.InitNumBatch, State = SubmissionState.Committed };
            await AdoptCommitmentAsync(record, live, "rebuilt from our SubmitProofHash event (not in the store)", cancellationToken).ConfigureAwait(false);
            if (await _store.GetFinalProofAsync(final, cancellationToken).ConfigureAwait(false) is null)
            {
                _reprover.Expedite(final, windows.ProofWindowStart(live.RoundStart));
            }

            rebuilt++;
        }

        return rebuilt;
    }

    private const ulong RecoveryChunkBlocks = 1000;

    // ---- finding 6: reveal only the proof that matches the commitment

    /// <summary>The proof behind our commitment <paramref name="hash"/>: the committed proof kept under that hash, or the
    /// stored final proof if it matches; each checked by recomputing <c>keccak256(keccak256(proof) ‖ miner)</c>. Null if
    /// none matches (a wrong reveal is slashed harder than none).</summary>
    private async Task<FinalProofRecord?> CommittedProofAsync(ulong final, byte[] hash, CancellationToken cancellationToken)
    {
        var kept = await _store.GetCommittedProofAsync(final, hash, cancellationToken).ConfigureAwait(false);
        if (kept is not null && Matches(kept, hash))
        {
            return kept;
        }

        var stored = await _store.GetFinalProofAsync(final, cancellationToken).ConfigureAwait(false);
        if (stored is not null && Matches(stored, hash))
        {
            await _store.SaveCommittedProofAsync(hash, stored, cancellationToken).ConfigureAwait(false);
            return stored;
        }

        return null;
    }

    private bool Matches(FinalProofRecord proof, byte[] hash) => ProofHash.Compute(HexData.Decode(proof.Proof), Miner).AsSpan().SequenceEqual(hash);

    // ---- finding 7: slashes are recorded

    /// <summary>Our commitment to the sequence was slashed. Nothing more can be done for that commitment; but a sequence
    /// nobody has verified yet still needs a proof (the rollup cannot go past it), so it goes round again: committed
    /// anew in a new round (<see cref="ResendAsync"/>, a counted retry) after a commitment left unrevealed, or proved
    /// again after a wrong reveal. Only a sequence verified by others ends here as <see cref="SubmissionState.Slashed"/>.</summary>
    private async Task SlashedAsync(SubmissionRecord record, string why, bool wrongReveal, CancellationToken cancellationToken)
    {
        _openRounds.TryRemove(record.FinalBatch, out _);
        MonitPHTxCache.TryRemove(record.FinalBatch, out _);
        ForgetRevealTries(record.FinalBatch);
        var stored = await _store.GetSubmissionAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) ?? record;
        if (stored.State == SubmissionState.Slashed || stored.HashAttempt != record.HashAttempt)
        {
            return; // recorded already (this commitment's slash, or a later go)
        }

        Metrics.CommitmentSlashed();
        LogCommitmentSlashed(record.FinalBatch, why);
        var lastVerified = await _chain.GetLastVerifiedBatchAsync(cancellationToken).ConfigureAwait(false);
        if (lastVerified >= record.FinalBatch)
        {
            await SaveAsync(stored with { State = SubmissionState.Slashed, LastError = why }, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (wrongReveal)
        {
            if ((record.RoundStart ?? (await _chain.GetCommitmentAsync(record.FinalBatch, Miner, cancellationToken).ConfigureAwait(false)).RoundStart) is
                var closedRound and not 0)
            {
                _closedRounds[record.FinalBatch] = closedRound;
            }

            // The next go commits and reveals under fresh keys: the hash and reveal txs of this commitment are mined, and
            // their keys would only return them again (a re-proved proof "resumed" as the old commitment, which is closed).
            var retries = stored.Retries + 1;
            var fresh = stored with
            {
                HashAttempt = stored.HashAttempt + 1,
                ProofAttempt = stored.ProofAttempt + 1,
                ProofHash = null,
                RoundStart = null,
                Retries = retries,
                LastError = why,
            };
            if (retries > _options.MaxRetries)
            {
                await ParkAsync(fresh, $"{RejectedParkReason} {retries} times: {why}", cancellationToken).ConfigureAwait(false);
                return;
            }

            await _reprover.ReproveAsync(record.FinalBatch, $"our reveal was slashed as wrong: {why}", null, cancellationToken).ConfigureAwait(false);
            await SaveAsync(fresh with { State = SubmissionState.Reproving }, cancellationToken).ConfigureAwait(false);
            return;
        }

        await ResendAsync(stored, $"our commitment was slashed and the sequence is not verified yet: {why}", countRetry: true, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>A reveal refused with <c>CommittedProof</c>: revealed if our commitment is proved, else it was slashed.</summary>
    private async Task ProvedOrSlashedAsync(SubmissionRecord record, string why, CancellationToken cancellationToken)
    {
        var ours = await _chain.GetCommitmentAsync(record.FinalBatch, Miner, cancellationToken).ConfigureAwait(false);
        if (ours.Proved)
        {
            await MarkRevealedAsync(record, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await SlashedAsync(record, why, wrongReveal: false, cancellationToken).ConfigureAwait(false);
        }
    }

    // ---- deadlines: gauges, urgent reveals

    /// <summary>Exports the open commitments and the fewest blocks left; marks reveals urgent near their round's end.</summary>
    private void ReportDeadlines(ulong head, ProofWindows windows)
    {
        long? fewest = null;
        foreach (var (final, start) in _openRounds)
        {
            var left = (long)windows.ProofWindowEnd(start) - (long)head;
            fewest = fewest is { } f ? Math.Min(f, left) : left;
            if (left <= _options.UrgentRevealBlocks && _revealKeys.TryGetValue(final, out var key))
            {
                _tx.MarkUrgent(key);
            }
        }

        Metrics.OpenCommitments(_openRounds.Count, fewest);
    }

}
