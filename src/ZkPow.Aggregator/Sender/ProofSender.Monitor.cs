using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

public sealed partial class ProofSender
{
    // ---- worker 2: monitPHTxCache

    private async Task MonitorWorkerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // Hash txs held by the tx manager (after a restart, an outage or a reorg) are re-decided first.
                if (_tx.HeldTransactions().Count > 0)
                {
                    await ReDecideHeldHashTxsAsync(cancellationToken).ConfigureAwait(false);
                }

                // Taken before the pass, so that what comes while it runs is not lost: a block mined meanwhile (the pass
                // read the head before it; on a chain that then holds still the pass after it would never come), a reveal
                // of ours sent meanwhile (a successor may go right behind it), a commitment put in meanwhile, and a hash
                // tx being watched that is final meanwhile (the pass may have looked at it just before).
                var nextHead = NextHeadSignal();
                var nudged = MonitPHTxCache.NudgeSignal();
                var changed = MonitPHTxCache.ChangeSignal();
                var items = MonitPHTxCache.Snapshot();
                var hashTxsNotFinal = items.Select(i => i.Value.HashTx?.Completion).OfType<Task>().Where(t => !t.IsCompleted).ToList();
                if (items.Count > 0 || !_openRounds.IsEmpty)
                {
                    // The chain reads of a pass go out together (behind a provider that stalls, one read after another
                    // made a pass take seconds, and a reveal missed its window); the commitments are then handled one by
                    // one, lowest first, as before.
                    var headTask = _chain.GetBlockNumberAsync(cancellationToken);
                    var windowsTask = _chain.GetProofWindowsAsync(cancellationToken);
                    var lastVerifiedTask = _chain.GetLastVerifiedBatchAsync(cancellationToken);
                    var reads = items.ToDictionary(i => i.Key, i => new ChainReads(
                        _chain.GetCommitmentAsync(i.Key, Miner, cancellationToken), _chain.GetSequenceAsync(i.Key, cancellationToken)));
                    try
                    {
                        var head = await headTask.ConfigureAwait(false);
                        var windows = await windowsTask.ConfigureAwait(false);
                        var lastVerified = await lastVerifiedTask.ConfigureAwait(false);
                        foreach (var (final, item) in items)
                        {
                            await WatchCommitmentAsync(final, item, head, windows, lastVerified, reads[final], cancellationToken).ConfigureAwait(false);
                        }

                        ReportDeadlines(head, windows);
                    }
                    finally
                    {
                        await ChainReads.SettleAsync([headTask, windowsTask, lastVerifiedTask, .. reads.Values.SelectMany(r => r.All)]).ConfigureAwait(false);
                    }

                }
                else
                {
                    Metrics.OpenCommitments(0, null);
                }

                if (AfterMonitorPass is { } afterPass)
                {
                    await afterPass().ConfigureAwait(false);
                }

                // Re-evaluate on the next block, as soon as a new commitment is put in, once a reveal of ours was sent, or
                // once a hash tx being watched is final; at once if one of these came during the pass. The signals are
                // waited on as they are (WhenAny lets go of the others when one completes), so a signal that stays
                // pending for many passes collects nothing.
                await Task.WhenAny([changed, nudged, nextHead, .. hashTxsNotFinal]).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ChainUnavailableException or EthRpcException or InvalidOperationException or FormatException
                                           or System.Data.Common.DbException)
            {
                LogWorkerError("monitor", 0, e.Message);
                await DelayAsync(_options.PollInterval, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WatchCommitmentAsync(ulong final, MonitItem item, ulong head, ProofWindows windows, ulong lastVerified, ChainReads reads,
        CancellationToken cancellationToken)
    {
        var record = await _store.GetSubmissionAsync(final, cancellationToken).ConfigureAwait(false);
        if (record is not { State: SubmissionState.Committing or SubmissionState.Committed or SubmissionState.Revealing })
        {
            MonitPHTxCache.TryRemove(final, out _);
            return;
        }

        if (item.HashTx is { Completion.IsCompleted: true } tx)
        {
            var done = await tx.Completion.ConfigureAwait(false);
            if (done.Kind == TxRequest.CancelKind)
            {
                MonitPHTxCache.TryRemove(final, out _); // Cancelled after a re-decision: the record moved on.
                return;
            }

            if (done.State == TxState.Failed)
            {
                MonitPHTxCache.TryRemove(final, out _);
                Metrics.HashTx("failed");
                await HashFailedAsync(record, done.Revert ?? ChainRevert.Decode(null, done.Error), cancellationToken).ConfigureAwait(false);
                return;
            }

            Metrics.HashTx("mined");
            await RecordEventsAsync(done, cancellationToken).ConfigureAwait(false);
            item = item with { HashTx = null };
            MonitPHTxCache.Put(final, item);
        }

        if (record.State == SubmissionState.Committing)
        {
            // Until our hash tx is mined, the commitment on chain (if any) is an older one of ours, possibly with the
            // same hash (same proof, same sender): do not take it for the new one.
            var stored = await _tx.GetAsync(record.HashTxKey, cancellationToken).ConfigureAwait(false);
            if (stored is { Kind: TxRequest.CancelKind })
            {
                // Cancelled (a stop between the cancel and our record): the sequence goes back to worker 1 under a new key.
                MonitPHTxCache.TryRemove(final, out _);
                await SaveAsync(record with { State = SubmissionState.Queued, HashAttempt = record.HashAttempt + 1, ProofHash = null },
                    cancellationToken).ConfigureAwait(false);
                _deferred.Put(final, 0);
                await FollowCancelledHashTxAsync(final, stored.Key, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (stored is { State: TxState.Failed })
            {
                MonitPHTxCache.TryRemove(final, out _);
                await HashFailedAsync(record, stored.Revert ?? ChainRevert.Decode(null, stored.Error), cancellationToken).ConfigureAwait(false);
                return;
            }

            if (stored is not { State: TxState.Mined or TxState.Confirmed })
            {
                return;
            }
        }

        var commitment = await reads.Commitment.ConfigureAwait(false);
        if (!commitment.Exists)
        {
            if (await CommitmentGoneAsync(record, head, cancellationToken).ConfigureAwait(false))
            {
                // Our commitment vanished (a reorg, a dropped or reverted re-mine; for a Committing record, a hash tx
                // confirmed and then reorged away) and no hash tx of it is in flight.
                MonitPHTxCache.TryRemove(final, out _);
                LogCommitmentGone(final, _missingSince.TryGetValue(final, out var since) ? since : head);
                await ResendAsync(record with { RoundStart = null }, "our commitment is gone from the chain", countRetry: true, cancellationToken)
                    .ConfigureAwait(false);
            }

            return; // Not visible yet.
        }

        _missingSince.TryRemove(final, out _);
        if (record.ProofHash is null || !commitment.ProofHash.AsSpan().SequenceEqual(record.ProofHash))
        {
            if (record.State == SubmissionState.Committing)
            {
                return; // An older commitment of ours: ours is not visible yet.
            }

            // The chain holds our hash: it is the one to reveal (with the committed proof that matches it).
            record = record with { ProofHash = commitment.ProofHash };
            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
        }

        if (commitment.Proved)
        {
            if (record.State == SubmissionState.Revealing &&
                await _tx.GetAsync(record.ProofTxKey, cancellationToken).ConfigureAwait(false) is { State: not (TxState.Confirmed or TxState.Failed) })
            {
                return; // Our reveal is not at the confirmation depth yet: its watcher records it.
            }

            MonitPHTxCache.TryRemove(final, out _);
            await MarkRevealedAsync(record, cancellationToken).ConfigureAwait(false);
            return;
        }

        var start = commitment.RoundStart;
        if (record.State == SubmissionState.Committing || record.RoundStart != start)
        {
            record = record with { State = SubmissionState.Committed, RoundStart = start };
            await SaveAsync(record, cancellationToken).ConfigureAwait(false);
        }

        _openRounds[final] = start;
        var sequence = await reads.Sequence.ConfigureAwait(false);
        if (sequence.RoundStart != start)
        {
            // The round was reset (it expired with no proof): our commitment can no longer be revealed.
            MonitPHTxCache.TryRemove(final, out _);
            if (await ResendAsync(record, $"round {start} expired with no proof", countRetry: true, cancellationToken).ConfigureAwait(false))
            {
                Unrevealed(final, start);
            }

            return;
        }

        var predecessorVerified = lastVerified >= record.InitBatch;
        if (predecessorVerified && item.PredecessorVerifiedAt is null)
        {
            item = item with { PredecessorVerifiedAt = _verifiedAt.TryGetValue(record.InitBatch, out var at) ? at : head };
            MonitPHTxCache.Put(final, item);
        }

        if (!sequence.ProofSubmitted && head >= windows.ProofWindowEnd(start))
        {
            // The reveal can land at head + 1 at the earliest: too late while no proof has landed.
            MonitPHTxCache.TryRemove(final, out _);
            if (await ResendAsync(record, $"round {start} ended before the reveal (predecessor verified: {predecessorVerified})", countRetry: true,
                    cancellationToken).ConfigureAwait(false))
            {
                Unrevealed(final, start);
            }

            return;
        }

        // Not verified yet, but being verified by our own reveal, signed and in flight: this reveal can go right behind it.
        var behind = !predecessorVerified && head >= windows.ProofWindowStart(start) && _options.RevealBehindOwn
            ? await OwnRevealInFlightAsync(record.InitBatch, lastVerified, cancellationToken).ConfigureAwait(false)
            : null;
        if (head >= windows.ProofWindowStart(start) && (predecessorVerified || behind is not null))
        {
            if (_revealHandedAt.TryGetValue(final, out var handedAt) && head <= handedAt)
            {
                return; // A reveal of it was sent at this head already (and came back, refused): the next block wakes this worker.
            }

            // Reveal only the proof that matches the commitment on chain (a re-proof may have replaced the stored one).
            var proof = await CommittedProofAsync(final, commitment.ProofHash, cancellationToken).ConfigureAwait(false);
            if (proof is null && await _store.GetFinalProofAsync(final, cancellationToken).ConfigureAwait(false) is null)
            {
                return; // Being proved (a commitment rebuilt from the chain): reveal once the proof is stored, if it matches.
            }

            if (proof is null)
            {
                MonitPHTxCache.TryRemove(final, out _);
                LogNoMatchingProof(final);
                await ParkAsync(record, "no proof of ours matches our commitment on chain (not revealed: a wrong reveal is slashed harder)",
                    cancellationToken).ConfigureAwait(false);
                return;
            }

            var revealableFrom = Math.Max(windows.ProofWindowStart(start), item.PredecessorVerifiedAt ?? 0);
            var behindGasLimit = 0UL;
            if (behind is not null)
            {
                // The reveal delay counts from the block at which our predecessor's reveal let this one go (it feeds the
                // commit policy's estimate of how soon a reveal lands once it can).
                revealableFrom = Math.Max(windows.ProofWindowStart(start), head);
                behindGasLimit = GasLimitBehind(behind.GasLimit, RevealRequest(record, proof).Data.Length, behind.Data.Length);
                LogRevealBehindOwn(final, record.InitBatch, behind.Key, behindGasLimit);
            }

            _revealHandedAt[final] = head;
            ProofHashCache.Put(final, new ProofMessage(record, proof, revealableFrom, behindGasLimit));
            MonitPHTxCache.TryRemove(final, out _);
        }
    }

    /// <summary>Our reveal of the sequence ending at <paramref name="predecessor"/>, if it is the one its record stands on,
    /// signed (its nonce taken) and neither failed (nor mined reverted, short of its confirmation depth) nor replaced by a
    /// cancel, and if it can succeed: its own predecessor is verified, or being verified the same way by ours, and so on up
    /// (a reveal sent behind one that is bound to revert reverts too); otherwise null.</summary>
    private async Task<TxRecord?> OwnRevealInFlightAsync(ulong predecessor, ulong lastVerified, CancellationToken cancellationToken)
    {
        TxRecord? first = null;
        while (predecessor > lastVerified)
        {
            if (!_revealKeys.TryGetValue(predecessor, out var key) ||
                await _tx.GetAsync(key, cancellationToken).ConfigureAwait(false) is not
                { Kind: "verifyBatches", State: TxState.Signed or TxState.Sent or TxState.Mined, Nonce: not null, GasLimit: > 0, Succeeded: not false } ahead)
            {
                return null;
            }

            var own = await _store.GetSubmissionAsync(predecessor, cancellationToken).ConfigureAwait(false);
            if (own is not { State: SubmissionState.Revealing } || own.ProofTxKey != key || own.InitBatch >= predecessor)
            {
                return null; // Else an older key of it.
            }

            first ??= ahead;
            predecessor = own.InitBatch;
        }

        return first;
    }

    /// <summary>True once a Committed record's commitment has been missing for <see cref="SenderOptions.CommitmentMissingBlocks"/>
    /// blocks with no hash tx of it in flight.</summary>
    private async Task<bool> CommitmentGoneAsync(SubmissionRecord record, ulong head, CancellationToken cancellationToken)
    {
        var hashTx = await _tx.GetAsync(record.HashTxKey, cancellationToken).ConfigureAwait(false);
        if (hashTx is { IsFinal: false } && hashTx.Kind != TxRequest.CancelKind)
        {
            _missingSince.TryRemove(record.FinalBatch, out _); // In flight (re-mined after a reorg, or held): wait for it.
            return false;
        }

        var since = _missingSince.GetOrAdd(record.FinalBatch, head);
        return head >= since + (ulong)_options.CommitmentMissingBlocks;
    }

    private async Task MarkRevealedAsync(SubmissionRecord record, CancellationToken cancellationToken)
    {
        _openRounds.TryRemove(record.FinalBatch, out _);
        ForgetRevealTries(record.FinalBatch);
        _revealKeys.TryRemove(record.FinalBatch, out _);
        _missingSince.TryRemove(record.FinalBatch, out _);
        if (!_revealed.TryAdd(record.FinalBatch, true))
        {
            return; // The reveal watcher and the monitor can both see it: record it once.
        }

        var stored = await _store.GetSubmissionAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) ?? record;
        if (stored.State != SubmissionState.Revealed)
        {
            await SaveAsync(stored with { State = SubmissionState.Revealed, LastError = null }, cancellationToken).ConfigureAwait(false);
            Metrics.Sequence("revealed");
            LogRevealed(record.FinalBatch);
        }
    }

    /// <summary>Our commitment's round ended with no proof before we revealed it (we were down, or its predecessor was
    /// never verified in time): the contract slashes it at our next transaction. Said and counted, so that the slash is
    /// no surprise.</summary>
    private void Unrevealed(ulong final, ulong roundStart)
    {
        Metrics.Sequence("unrevealable");
        LogRoundEndedUnrevealed(final, roundStart);
    }
}
