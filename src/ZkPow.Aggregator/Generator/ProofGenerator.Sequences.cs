using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

public sealed partial class ProofGenerator
{
    /// <summary>Jobs running for us now, by task id: the session running each, and since when.</summary>
    private readonly Dictionary<long, (ProverSession Session, ProofTask Task, DateTimeOffset Since)> _running = [];
    private readonly HashSet<ulong> _retired = [];

    /// <summary>The inputs of a sequence are no longer valid (a reorg replaced them): its tasks and proofs are
    /// discarded, its running jobs cancelled, and a later <see cref="AddSequenceAsync"/> with new inputs proves it
    /// again. Returns the number of tasks discarded.</summary>
    public async Task<int> DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        var count = await _store.DiscardSequenceAsync(finalBatch, reason, cancellationToken).ConfigureAwait(false);
        StopSequence(finalBatch);
        LogSequenceDiscarded(finalBatch, count, reason);
        return count;
    }

    /// <summary>The sequence is worth nothing to us any more (verified by another miner before we committed): its
    /// open tasks are dropped for good and its running jobs cancelled. Returns the number of tasks dropped.</summary>
    public async Task<int> AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        var count = await _store.AbandonSequenceAsync(finalBatch, reason, cancellationToken).ConfigureAwait(false);
        StopSequence(finalBatch);
        LogSequenceAbandoned(finalBatch, count, reason);
        return count;
    }

    /// <summary>Sets (or clears, with null) the base-chain block by which this sequence's final proof is needed;
    /// sequences with a deadline go first, earliest first.</summary>
    public void SetDeadline(ulong finalBatch, ulong? deadlineBlock)
    {
        lock (_gate)
        {
            if (_priority.Get(finalBatch) == deadlineBlock)
            {
                return;
            }

            var affected = _ready.Where(t => t.Sequence == finalBatch).ToList();
            foreach (var task in affected)
            {
                _ready.Remove(task);
            }

            _priority.Set(finalBatch, deadlineBlock);
            foreach (var task in affected)
            {
                _ready.Add(task);
            }
        }
    }

    /// <summary>The deadline set for a sequence, if any.</summary>
    public ulong? GetDeadline(ulong finalBatch)
    {
        lock (_gate)
        {
            return _priority.Get(finalBatch);
        }
    }

    private void StopSequence(ulong finalBatch)
    {
        List<(ProverSession Session, string JobId)> cancel = [];
        lock (_gate)
        {
            _retired.Add(finalBatch);
            _priority.Set(finalBatch, null);
            _proofCache.RemoveSequence(finalBatch);
            foreach (var (id, cached) in _inputCache.Where(c => c.Value.Sequence == finalBatch).ToList())
            {
                _inputCache.Remove(id);
                _inputCacheBytes -= cached.Input.Length;
            }

            _ready.RemoveWhere(t =>
            {
                if (t.Sequence != finalBatch)
                {
                    return false;
                }

                _readyAt.Remove(t.Id);
                _readyById.Remove(t.Id);
                return true;
            });
            foreach (var held in _held.Values.Where(h => h.Task.Sequence == finalBatch).ToList())
            {
                _held.Remove(held.Task.Id);
            }

            foreach (var (session, _, _) in _running.Values.Where(r => r.Task.Sequence == finalBatch))
            {
                if (session.CurrentJobId is { } jobId)
                {
                    cancel.Add((session, jobId));
                }
            }

            foreach (var id in _triedOn.Where(t => t.Value.Sequence == finalBatch).Select(t => t.Key).ToList())
            {
                _triedOn.Remove(id);
            }

            _reproves.Remove(finalBatch);
        }

        // In the background, all at once: a cancel waits for its session's one request lane, which a long poll of the
        // running job may hold for seconds, and the caller (the rollup sync) must not wait for that.
        foreach (var (session, jobId) in cancel)
        {
            Track(CancelJobAsync(session, jobId, finalBatch));
        }
    }

    private async Task CancelJobAsync(ProverSession session, string jobId, ulong finalBatch)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            timeout.CancelAfter(session.LongestRequest);
            var cancelled = await session.CancelJobAsync(jobId, timeout.Token).ConfigureAwait(false);
            LogJobCancelled(session.Name, jobId, finalBatch, cancelled);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ProverSessionClosedException)
        {
            LogJobCancelled(session.Name, jobId, finalBatch, false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence ending at {Final} discarded ({Tasks} tasks): {Reason}")]
    private partial void LogSequenceDiscarded(ulong final, int tasks, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence ending at {Final} abandoned ({Tasks} open tasks dropped): {Reason}")]
    private partial void LogSequenceAbandoned(ulong final, int tasks, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Asked prover {Prover} to cancel job {JobId} of sequence {Final}: {Cancelled}")]
    private partial void LogJobCancelled(string prover, string jobId, ulong final, bool cancelled);
}
