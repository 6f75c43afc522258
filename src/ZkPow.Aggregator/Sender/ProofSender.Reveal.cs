using System.Collections.Concurrent;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

public sealed partial class ProofSender
{
    /// <summary>Final batch → the round of our commitment whose reveals were refused, and how many times: the bound
    /// <see cref="SenderOptions.MaxRevealAttempts"/> is per commitment (<see cref="SubmissionRecord.ProofAttempt"/> counts
    /// every reveal key of the sequence's life: resends, re-proofs, adoptions, earlier rounds). In memory: after a restart a
    /// commitment is counted from 0 again (more tries, never fewer).</summary>
    private readonly ConcurrentDictionary<ulong, (ulong Round, int Refused)> _refusedReveals = new();

    /// <summary>Final batch → the head at which worker 2 last handed its reveal to worker 3: at most one reveal per
    /// sequence per block (a reveal refused at once is sent again on the next block, not in a loop within one).</summary>
    private readonly ConcurrentDictionary<ulong, ulong> _revealHandedAt = new();

    private int CountRefusedReveal(ulong final, ulong round) =>
        _refusedReveals.AddOrUpdate(final, (round, 1), (_, seen) => seen.Round == round ? (round, seen.Refused + 1) : (round, 1)).Refused;

    private void ForgetRevealTries(ulong final)
    {
        _refusedReveals.TryRemove(final, out _);
        _revealHandedAt.TryRemove(final, out _);
    }

    // ---- worker 3: ProofHashCache

    private async Task RevealWorkerAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            KeyValuePair<ulong, ProofMessage> item;
            try
            {
                item = await ProofHashCache.TakeAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            Enter(item.Key);
            try
            {
                await RevealAsync(item.Value, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is ChainUnavailableException or EthRpcException or InvalidOperationException or FormatException
                                           or System.Data.Common.DbException)
            {
                LogWorkerError("reveal", item.Key, e.Message);
                MonitPHTxCache.Put(item.Key, new MonitItem(null, null)); // Decide again on the next block.
            }
            finally
            {
                Exit(item.Key);
            }
        }
    }

    private async Task RevealAsync(ProofMessage message, CancellationToken cancellationToken)
    {
        var record = await _store.GetSubmissionAsync(message.Record.FinalBatch, cancellationToken).ConfigureAwait(false);
        if (record is not { State: SubmissionState.Committed or SubmissionState.Revealing })
        {
            return;
        }

        // Never reveal a proof that does not match our commitment (a wrong reveal is slashed).
        if (record.ProofHash is not { } committed || !Matches(message.Proof, committed))
        {
            MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
            return;
        }

        record = record with { State = SubmissionState.Revealing };
        await SaveAsync(record, cancellationToken).ConfigureAwait(false);
        var request = RevealRequest(record, message.Proof);
        if (message.BehindGasLimit > 0)
        {
            request = request with { GasLimit = message.BehindGasLimit, SkipPreflightCall = true };
        }

        var submission = await _tx.SubmitAsync(request, cancellationToken).ConfigureAwait(false);
        if (!submission.Accepted)
        {
            Metrics.ProofTx("rejected");
            await RevealRejectedAsync(record, submission.Rejected!, cancellationToken).ConfigureAwait(false);
            return;
        }

        Metrics.ProofTx("sent");
        _revealKeys[record.FinalBatch] = record.ProofTxKey;
        LogRevealSent(record.FinalBatch, submission.Handle.Key);
        if (_options.RevealBehindOwn)
        {
            MonitPHTxCache.Nudge(); // A successor's reveal may go right behind this one.
        }

        Watch(WatchRevealAsync(record, submission.Handle, message.RevealableFrom, _stopping.Token));
    }

    /// <summary>The gas limit of a reveal sent behind our own reveal of its predecessor, which cannot be estimated (it
    /// reverts until the predecessor is verified): the predecessor reveal's own limit (its estimate times the reveal's
    /// multiplier), scaled by the call data sizes when ours is larger (a longer proof, more batches: what a reveal's gas
    /// grows with). Gas a limit leaves unused is not paid for.</summary>
    internal static ulong GasLimitBehind(ulong predecessorLimit, int dataLength, int predecessorDataLength) =>
        predecessorDataLength > 0 && dataLength > predecessorDataLength
            ? (ulong)Math.Ceiling(predecessorLimit * ((double)dataLength / predecessorDataLength))
            : predecessorLimit;

    private async Task WatchRevealAsync(SubmissionRecord record, TxHandle handle, ulong revealableFrom, CancellationToken cancellationToken)
    {
        try
        {
            var done = await handle.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (done.State == TxState.Failed)
            {
                Metrics.ProofTx("failed");
                await RevealRejectedAsync(record, done.Revert ?? ChainRevert.Decode(null, done.Error), cancellationToken).ConfigureAwait(false);
                return;
            }

            Metrics.ProofTx("mined");
            if (done.BlockNumber is { } block)
            {
                _verifiedAt.TryAdd(record.FinalBatch, block);
                if (revealableFrom != 0)
                {
                    Metrics.RevealDelay(block >= revealableFrom ? (long)(block - revealableFrom) : 0);
                }
            }

            // The tx is at the confirmation depth: re-read the commitment there before recording the outcome.
            var slashed = await RecordEventsAsync(done, cancellationToken).ConfigureAwait(false);
            var commitment = await _chain.GetCommitmentAsync(record.FinalBatch, Miner, cancellationToken).ConfigureAwait(false);
            if (commitment.Proved)
            {
                await MarkRevealedAsync(record, cancellationToken).ConfigureAwait(false);
            }
            else if (slashed)
            {
                // Mined without proving and slashed (a wrong reveal): nothing more can be done for this commitment.
                await SlashedAsync(record, "the reveal was slashed as wrong", wrongReveal: true, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // Not proved at depth and no slash seen (a lagging node, a deeper reorg): look again from worker 2.
                _revealKeys.TryRemove(record.FinalBatch, out _);
                await SaveAsync(record with { State = SubmissionState.Committed, ProofAttempt = record.ProofAttempt + 1 }, cancellationToken)
                    .ConfigureAwait(false);
                MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: a restart resumes the tx from the store.
        }
        catch (Exception e) when (e is ChainUnavailableException or EthRpcException or InvalidOperationException or System.Data.Common.DbException)
        {
            LogWorkerError("reveal watch", record.FinalBatch, e.Message);
            MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
        }
    }

    private async Task RevealRejectedAsync(SubmissionRecord record, ChainRevert revert, CancellationToken cancellationToken)
    {
        LogRevealFailed(record.FinalBatch, revert.ToString());
        switch (revert.Error)
        {
            case ChainError.CommittedProof:
                // Proved by us already, or closed without a proof: slashed (settled after its round, or a wrong reveal).
                await ProvedOrSlashedAsync(record, $"reveal refused: {revert}", cancellationToken).ConfigureAwait(false);
                return;
            case ChainError.SubmitProofTooLate:
            case ChainError.ErrCommitProof:
            case ChainError.CommittedProofHash:
                await ResendAsync(record, revert.ToString(), countRetry: true, cancellationToken).ConfigureAwait(false);
                return;
            default:
                {
                    // Early, predecessor not verified yet, node trouble: try again with a new key (a key is never reused for
                    // another tx), on the next block at the earliest. Bounded per commitment, but a live commitment of ours is
                    // never parked while a reveal can still land in its proof window (left unrevealed, it is slashed): its
                    // reveal is retried past the bound until it is proved or the window ends; then the bound parks it.
                    var next = record with { State = SubmissionState.Committed, ProofAttempt = record.ProofAttempt + 1, LastError = revert.ToString() };
                    var round = record.RoundStart ?? 0;
                    var refused = CountRefusedReveal(record.FinalBatch, round);
                    if (refused >= _options.MaxRevealAttempts)
                    {
                        if (await ReadLiveCommitmentAsync(record.FinalBatch, cancellationToken).ConfigureAwait(false) is not { InWindow: true } live)
                        {
                            await ParkAsync(next, $"reveal failed {refused} times for our commitment in round {round}: {revert}", cancellationToken)
                                .ConfigureAwait(false);
                            return;
                        }

                        LogRevealRetriedPastBound(record.FinalBatch, refused, live.Commitment.RoundStart, _options.MaxRevealAttempts, live.ProofWindowEnd,
                            revert.ToString());
                    }

                    await SaveAsync(next, cancellationToken).ConfigureAwait(false);
                    MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
                    return;
                }
        }
    }
}
