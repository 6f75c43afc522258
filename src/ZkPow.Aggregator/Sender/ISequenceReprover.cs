namespace ZkPow.Aggregator.Sender;

/// <summary>Sends a sequence back to the generator for a new final proof.</summary>
public interface ISequenceReprover
{
    Task ReproveAsync(ulong finalBatch, string reason, CancellationToken cancellationToken);
}
