using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>A real store whose calls can be made to fail (a fake for injecting store errors only): while
/// <see cref="Fail"/> answers true for a call's name, the call throws before reaching the store.</summary>
internal sealed class FaultyGeneratorStore(IGeneratorStore inner) : IGeneratorStore
{
    private int _failures;

    /// <summary>Decides, per call (by method name, e.g. <c>nameof(IGeneratorStore.CompleteAsync)</c>), whether it fails.</summary>
    public Func<string, bool> Fail { get; set; } = _ => false;

    /// <summary>Calls made to fail so far.</summary>
    public int Failures => Volatile.Read(ref _failures);

    private void Check(string call)
    {
        if (Fail(call))
        {
            Interlocked.Increment(ref _failures);
            throw new InvalidOperationException($"injected store error in {call}");
        }
    }

    public Task<IReadOnlyList<ProofTask>> AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken)
    {
        Check(nameof(AddSequenceAsync));
        return inner.AddSequenceAsync(sequence, cancellationToken);
    }

    public Task<IReadOnlyList<ProofTask>> LoadOpenTasksAsync(CancellationToken cancellationToken)
    {
        Check(nameof(LoadOpenTasksAsync));
        return inner.LoadOpenTasksAsync(cancellationToken);
    }

    public Task<IReadOnlyList<ProofTask>> ListExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        Check(nameof(ListExpiredLeasesAsync));
        return inner.ListExpiredLeasesAsync(now, limit, cancellationToken);
    }

    public Task<byte[]> GetBatchInputAsync(ulong batch, CancellationToken cancellationToken)
    {
        Check(nameof(GetBatchInputAsync));
        return inner.GetBatchInputAsync(batch, cancellationToken);
    }

    public Task<string?> GetProofAsync(long taskId, CancellationToken cancellationToken)
    {
        Check(nameof(GetProofAsync));
        return inner.GetProofAsync(taskId, cancellationToken);
    }

    public Task<bool> TryClaimAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        Check(nameof(TryClaimAsync));
        return inner.TryClaimAsync(taskId, prover, now, leaseUntil, cancellationToken);
    }

    public Task<bool> RecordJobAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken)
    {
        Check(nameof(RecordJobAsync));
        return inner.RecordJobAsync(taskId, prover, jobId, leaseUntil, cancellationToken);
    }

    public Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, CancellationToken cancellationToken)
    {
        Check(nameof(CompleteAsync));
        return inner.CompleteAsync(taskId, prover, proof, parent, cancellationToken);
    }

    public Task<bool> CompleteFinalAsync(long taskId, ProverRef prover, FinalProofRecord proof, CancellationToken cancellationToken)
    {
        Check(nameof(CompleteFinalAsync));
        return inner.CompleteFinalAsync(taskId, prover, proof, cancellationToken);
    }

    public Task<ProofTask?> ReleaseAsync(long taskId, ProverRef prover, ReleaseReason reason, string error, int maxAttempts, CancellationToken cancellationToken)
    {
        Check(nameof(ReleaseAsync));
        return inner.ReleaseAsync(taskId, prover, reason, error, maxAttempts, cancellationToken);
    }

    public Task ParkAsync(long taskId, string reason, CancellationToken cancellationToken)
    {
        Check(nameof(ParkAsync));
        return inner.ParkAsync(taskId, reason, cancellationToken);
    }

    public Task<IReadOnlyList<ProofTask>> ReproveRangeAsync(long taskId, CancellationToken cancellationToken)
    {
        Check(nameof(ReproveRangeAsync));
        return inner.ReproveRangeAsync(taskId, cancellationToken);
    }

    public Task<FinalProofRecord?> GetFinalProofAsync(ulong finalBatch, CancellationToken cancellationToken)
    {
        Check(nameof(GetFinalProofAsync));
        return inner.GetFinalProofAsync(finalBatch, cancellationToken);
    }

    public Task<IReadOnlyList<ProofTask>> ReproveSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        Check(nameof(ReproveSequenceAsync));
        return inner.ReproveSequenceAsync(finalBatch, reason, cancellationToken);
    }

    public Task<IReadOnlyList<ProofTask>> ListParkedAsync(CancellationToken cancellationToken)
    {
        Check(nameof(ListParkedAsync));
        return inner.ListParkedAsync(cancellationToken);
    }

    public Task<ProofTask?> RequeueAsync(long taskId, CancellationToken cancellationToken)
    {
        Check(nameof(RequeueAsync));
        return inner.RequeueAsync(taskId, cancellationToken);
    }

    public Task<int> DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        Check(nameof(DiscardSequenceAsync));
        return inner.DiscardSequenceAsync(finalBatch, reason, cancellationToken);
    }

    public Task<int> AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken)
    {
        Check(nameof(AbandonSequenceAsync));
        return inner.AbandonSequenceAsync(finalBatch, reason, cancellationToken);
    }
}
