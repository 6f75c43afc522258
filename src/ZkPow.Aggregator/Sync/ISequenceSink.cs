using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sync;

/// <summary>Where the sync hands sequences to be proved (the Proof Generator), and what it tells it later.</summary>
public interface ISequenceSink
{
    /// <summary>Stores the sequence and queues its tasks at once (idempotent).</summary>
    Task AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken);

    /// <summary>The sequence's inputs are gone or replaced (reorg): drop its tasks and proofs.</summary>
    Task DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);

    /// <summary>Lost to competition: cancel its jobs, never prove it.</summary>
    Task AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);

    /// <summary>Sets or clears (null) the block by which we must commit for this sequence.</summary>
    void SetDeadline(ulong finalBatch, ulong? deadlineBlock);
}
