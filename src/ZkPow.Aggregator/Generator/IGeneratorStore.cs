using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Generator;

/// <summary>
/// What the Proof Generator needs from durable storage. Every claim and every state change is one atomic
/// statement or transaction in the database, so that several aggregator processes could share one store.
/// </summary>
public interface IGeneratorStore
{
    /// <summary>Stores a sequence, its batch inputs and its batch tasks. Idempotent: returns the tasks it created
    /// (none if the sequence was already known).</summary>
    Task<IReadOnlyList<ProofTask>> AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken);

    /// <summary>Tasks of sequences without a final proof yet, in every state but discarded.</summary>
    Task<IReadOnlyList<ProofTask>> LoadOpenTasksAsync(CancellationToken cancellationToken);

    Task<byte[]> GetBatchInputAsync(ulong batch, CancellationToken cancellationToken);

    Task<string?> GetProofAsync(long taskId, CancellationToken cancellationToken);

    /// <summary>Ready → Assigned, only if the task is still ready (or assigned to a lease that has expired).</summary>
    Task<bool> TryClaimAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary><see cref="TryClaimAsync"/> for a claim that a request waits on (a final proof's): the store commits it
    /// ahead of the writes already queued instead of behind them.</summary>
    Task<bool> TryClaimAheadAsync(long taskId, ProverRef prover, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        TryClaimAsync(taskId, prover, now, leaseUntil, cancellationToken);

    /// <summary>Assigned tasks of open sequences whose lease ended before <paramref name="now"/> (at most
    /// <paramref name="limit"/>, oldest lease first), for the runtime lease sweeper.</summary>
    Task<IReadOnlyList<ProofTask>> ListExpiredLeasesAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Records the prover's job id and renews the lease, so that a restart can adopt the running job.
    /// Returns false if the task is no longer assigned to this prover.</summary>
    Task<bool> RecordJobAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken);

    /// <summary><see cref="RecordJobAsync"/> for a job id that polling waits on (a final proof's): the store commits it
    /// ahead of the writes already queued instead of behind them.</summary>
    Task<bool> RecordJobAheadAsync(long taskId, ProverRef prover, string jobId, DateTimeOffset leaseUntil, CancellationToken cancellationToken) =>
        RecordJobAsync(taskId, prover, jobId, leaseUntil, cancellationToken);

    /// <summary>Stores the proof of an assigned batch or aggregate task. When the parent's other input is done too,
    /// creates the parent task in the same transaction and returns it.</summary>
    Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, CancellationToken cancellationToken);

    /// <summary><see cref="CompleteAsync(long, ProverRef, string, ParentSpec, CancellationToken)"/> that calls
    /// <paramref name="applied"/> with the outcome as soon as the store has applied the write, which may be before it is
    /// durable (it must be quick and must not throw). If the write then fails to commit, the returned task faults and
    /// the caller undoes what it did with the outcome; the id of a parent task it announced is never given to another
    /// task. This default calls it once the write is durable.</summary>
    async Task<CompletionResult> CompleteAsync(long taskId, ProverRef prover, string proof, ParentSpec parent, Action<CompletionResult> applied,
        CancellationToken cancellationToken)
    {
        var result = await CompleteAsync(taskId, prover, proof, parent, cancellationToken).ConfigureAwait(false);
        applied(result);
        return result;
    }

    /// <summary>Stores the final proof of an assigned final task.</summary>
    Task<bool> CompleteFinalAsync(long taskId, ProverRef prover, FinalProofRecord proof, CancellationToken cancellationToken);

    /// <summary>Gives an assigned task back: Ready again, or Parked once the attempt limit is reached. Returns the
    /// task as stored afterwards, or null if it was no longer assigned to this prover.</summary>
    Task<ProofTask?> ReleaseAsync(long taskId, ProverRef prover, ReleaseReason reason, string error, int maxAttempts, CancellationToken cancellationToken);

    /// <summary>Parks a task with a reason an operator can read.</summary>
    Task ParkAsync(long taskId, string reason, CancellationToken cancellationToken);

    /// <summary>The inputs of <paramref name="taskId"/> are suspect: discard every proof of its range and the task
    /// itself, and create fresh batch tasks for the range that avoid the provers that made its inputs.</summary>
    Task<IReadOnlyList<ProofTask>> ReproveRangeAsync(long taskId, CancellationToken cancellationToken);

    Task<FinalProofRecord?> GetFinalProofAsync(ulong finalBatch, CancellationToken cancellationToken);

    /// <summary>The final proof of <paramref name="finalBatch"/> was rejected: deletes it, discards every task of the
    /// sequence and creates fresh batch tasks for the whole range (preferring other provers than the one that made the
    /// final proof). Returns the new tasks (none if the sequence is unknown).</summary>
    Task<IReadOnlyList<ProofTask>> ReproveSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);

    /// <summary>Parked tasks, for operators.</summary>
    Task<IReadOnlyList<ProofTask>> ListParkedAsync(CancellationToken cancellationToken);

    /// <summary>Parked → Ready with its attempts reset. Returns the task, or null if it was not parked.</summary>
    Task<ProofTask?> RequeueAsync(long taskId, CancellationToken cancellationToken);

    /// <summary>The sequence's inputs were replaced: every task becomes discarded, its final proof and batch inputs
    /// are deleted, and the sequence is marked so that <see cref="AddSequenceAsync"/> stores it afresh. Returns the
    /// number of tasks discarded.</summary>
    Task<int> DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);

    /// <summary>The sequence is lost to competition: its open tasks are discarded for good and a sequence still
    /// being proved is marked abandoned (never loaded again). Returns the number of tasks dropped.</summary>
    Task<int> AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);

    /// <summary>Whether other aggregator processes (replicas) share this store's tasks. Then a request goes out only
    /// once its claim has won, tasks made ready by any replica arrive through <see cref="WatchReadyTasksAsync"/>, and a
    /// prover that dials this process adopts the jobs it runs for another replica (<see cref="ListAssignedToAsync"/>).</summary>
    bool Shared => false;

    /// <summary>Ready tasks of open sequences: those among <paramref name="ids"/>, or all of them when null.</summary>
    Task<IReadOnlyList<ProofTask>> LoadReadyTasksAsync(IReadOnlyCollection<long>? ids, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ProofTask>>([]);

    /// <summary>Assigned tasks of open sequences whose prover has this name and principal (any instance).</summary>
    Task<IReadOnlyList<ProofTask>> ListAssignedToAsync(string proverName, string principal, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<ProofTask>>([]);

    /// <summary>Calls <paramref name="onReady"/> with the id of every task any process makes ready, and with null when
    /// some may have been missed (the caller then loads them all); calls <paramref name="onTaken"/> with the id of every
    /// ready task any process claims or drops; until <paramref name="cancellationToken"/>.</summary>
    Task WatchReadyTasksAsync(Action<long?> onReady, Action<long> onTaken, ILogger logger, CancellationToken cancellationToken) =>
        Task.CompletedTask;
}
