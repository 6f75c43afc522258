using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Sender;

public sealed partial class ProofSender
{
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
        var submission = await _tx.SubmitAsync(RevealRequest(record, message.Proof), cancellationToken).ConfigureAwait(false);
        if (!submission.Accepted)
        {
            Metrics.ProofTx("rejected");
            await RevealRejectedAsync(record, submission.Rejected!, cancellationToken).ConfigureAwait(false);
            return;
        }

        Metrics.ProofTx("sent");
        _revealKeys[record.FinalBatch] = record.ProofTxKey;
        LogRevealSent(record.FinalBatch, submission.Handle.Key);
        Watch(WatchRevealAsync(record, submission.Handle, message.RevealableFrom, _stopping.Token));
    }

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
                    // Early, predecessor not verified yet, node trouble: try again with a new key, bounded.
                    var next = record with { State = SubmissionState.Committed, ProofAttempt = record.ProofAttempt + 1, LastError = revert.ToString() };
                    if (next.ProofAttempt >= _options.MaxRevealAttempts)
                    {
                        await ParkAsync(next, $"reveal failed {next.ProofAttempt} times: {revert}", cancellationToken).ConfigureAwait(false);
                        return;
                    }

                    await SaveAsync(next, cancellationToken).ConfigureAwait(false);
                    MonitPHTxCache.Put(record.FinalBatch, new MonitItem(null, null));
                    return;
                }
        }
    }
}
