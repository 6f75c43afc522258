using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>A real store whose calls can be made to fail (a fake for injecting store errors only): while
/// <see cref="Fail"/> answers true for a call's name, the call returns a faulted task without reaching the store.</summary>
internal sealed class FaultyGeneratorStore(IGeneratorStore inner) : IGeneratorStore
{
    private int _failures;

    /// <summary>Decides, per call (by method name, e.g. <c>nameof(IGeneratorStore.CompleteAsync)</c>), whether it fails.</summary>
    public Func<string, bool> Fail { get; set; } = _ => false;

    /// <summary>Calls made to fail so far.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Awaited (per call, by method name) before a call that does not fail reaches the store: a slow store.</summary>
    public Func<string, Task> Before { get; set; } = _ => Task.CompletedTask;

    private Task<T> Run<T>(string call, Func<Task<T>> inner)
    {
        if (!Fail(call))
        {
            var before = Before(call);
            return before.IsCompletedSuccessfully ? inner() : After(before, inner);
        }

        Interlocked.Increment(ref _failures);
        return Task.FromException<T>(new InvalidOperationException($"injected store error in {call}"));
    }

    private static async Task<T> After<T>(Task before, Func<Task<T>> inner)
    {
        await before;
        return await inner();
    }

    public Task<IReadOnlyList<ProofTask>> AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken) =>
        Run(nameof(AddSequenceAsync), () => inner.AddSequenceAsync(sequence, cancellationToken));

    public Task<IReadOnlyList<ProofTask>> LoadOpenTasksAsync(CancellationToken cancellationToken) =>
        Run(nameof(LoadOpenTasksAsync), () => inner.LoadOpenTasksAsync(cancellationToken));

    public Task<IReadOnlyList<ProofTask>> ListExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken) =>
        Run(nameof(ListExpiredLeasesAsync), () => inner.ListExpiredLeasesAsync(now, limit, cancellationToken));

    public Task<byte[]> GetBatchInputAsync(ulong batch, CancellationToken cancellationToken) =>
        Run(nameof(GetBatchInputAsync), () => inner.GetBatchInputAsync(batch, cancellationToken));

    public Task<string?> GetProofAsync(long taskId, CancellationToken cancellationToken) =>
        Run(nameof(GetProofAsync), () => inner.GetProofAsync(taskId, cancellationToken));

    public Task<bool> TryClaimAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Run(nameof(TryClaimAsync), () => inner.TryClaimAsync(taskId, prover, now, leaseUntil, cancellationToken));

    public Task<bool> RecordJobAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Run(nameof(RecordJobAsync), () => inner.RecordJobAsync(taskId, prover, jobId, leaseUntil, cancellationToken));

    // The calls committed ahead fail under the names of the plain ones.
    public Task<bool> TryClaimAheadAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Run(nameof(TryClaimAsync), () => inner.TryClaimAheadAsync(taskId, prover, now, leaseUntil, cancellationToken));

    public Task<bool> RecordJobAheadAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        Run(nameof(RecordJobAsync), () => inner.RecordJobAheadAsync(taskId, prover, jobId, leaseUntil, cancellationToken));

    public Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, CancellationToken cancellationToken) =>
        Run(nameof(CompleteAsync), () => inner.CompleteAsync(taskId, prover, proof, parent, cancellationToken));

    /// <summary>Called after the generator's own callback once the store has applied a completion (on SQLite: on the writer's
    /// thread, before the commit; blocking in it holds the commit).</summary>
    public Action<CompletionResult> AfterApplied { get; set; } = _ => { };

    public Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, Action<CompletionResult> applied,
        CancellationToken cancellationToken) =>
        Run(nameof(CompleteAsync), () => inner.CompleteAsync(taskId, prover, proof, parent, r =>
        {
            applied(r);
            AfterApplied(r);
        }, cancellationToken));

    public Task<bool> CompleteFinalAsync(long taskId, ProverRef prover, FinalProofRecord proof, CancellationToken cancellationToken) =>
        Run(nameof(CompleteFinalAsync), () => inner.CompleteFinalAsync(taskId, prover, proof, cancellationToken));

    public Task<ProofTask?> ReleaseAsync(long taskId, ProverRef prover, ReleaseReason reason, string error, int maxAttempts, CancellationToken cancellationToken) =>
        Run(nameof(ReleaseAsync), () => inner.ReleaseAsync(taskId, prover, reason, error, maxAttempts, cancellationToken));

    public Task ParkAsync(long taskId, string reason, CancellationToken cancellationToken) =>
        Run(nameof(ParkAsync), async () =>
        {
            await inner.ParkAsync(taskId, reason, cancellationToken);
            return true;
        });

    public Task<IReadOnlyList<ProofTask>> ReproveRangeAsync(long taskId, CancellationToken cancellationToken) =>
        Run(nameof(ReproveRangeAsync), () => inner.ReproveRangeAsync(taskId, cancellationToken));

    public Task<FinalProofRecord?> GetFinalProofAsync(ulong finalBatch, CancellationToken cancellationToken) =>
        Run(nameof(GetFinalProofAsync), () => inner.GetFinalProofAsync(finalBatch, cancellationToken));

    public Task<IReadOnlyList<ProofTask>> ReproveSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken) =>
        Run(nameof(ReproveSequenceAsync), () => inner.ReproveSequenceAsync(finalBatch, reason, cancellationToken));

    public Task<IReadOnlyList<ProofTask>> ListParkedAsync(CancellationToken cancellationToken) =>
        Run(nameof(ListParkedAsync), () => inner.ListParkedAsync(cancellationToken));

    public Task<ProofTask?> RequeueAsync(long taskId, CancellationToken cancellationToken) =>
        Run(nameof(RequeueAsync), () => inner.RequeueAsync(taskId, cancellationToken));

    public Task<int> DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken) =>
        Run(nameof(DiscardSequenceAsync), () => inner.DiscardSequenceAsync(finalBatch, reason, cancellationToken));

    public Task<int> AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken) =>
        Run(nameof(AbandonSequenceAsync), () => inner.AbandonSequenceAsync(finalBatch, reason, cancellationToken));
}
