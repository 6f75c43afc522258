using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Hosting;

/// <summary>The sender's way back to the generator: a rejected final proof sends its sequence to be proved again.</summary>
internal sealed class GeneratorReprover(ProofGenerator generator) : ISequenceReprover
{
    public Task ReproveAsync(ulong finalBatch, string reason, string? culprit, CancellationToken cancellationToken) =>
        generator.ReproveSequenceAsync(finalBatch, reason, culprit, cancellationToken);

    public void Expedite(ulong finalBatch, ulong deadlineBlock) => generator.SetDeadline(finalBatch, deadlineBlock);
}
