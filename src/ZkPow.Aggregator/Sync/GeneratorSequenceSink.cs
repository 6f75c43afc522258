using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sync;

/// <summary>Hands synced sequences to a <see cref="ProofGenerator"/>.</summary>
public sealed class GeneratorSequenceSink(ProofGenerator generator) : ISequenceSink
{
    public Task AddSequenceAsync(SequenceInput sequence, CancellationToken cancellationToken) => generator.AddSequenceAsync(sequence, cancellationToken);

    public Task DiscardSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken) =>
        generator.DiscardSequenceAsync(finalBatch, reason, cancellationToken);

    public Task AbandonSequenceAsync(ulong finalBatch, string reason, CancellationToken cancellationToken) =>
        generator.AbandonSequenceAsync(finalBatch, reason, cancellationToken);

    public void SetDeadline(ulong finalBatch, ulong? deadlineBlock) => generator.SetDeadline(finalBatch, deadlineBlock);
}
