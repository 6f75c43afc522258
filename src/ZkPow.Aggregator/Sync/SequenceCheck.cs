using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Sync;

/// <summary>The result of reading and cross-checking one sequence: accepted with its prover inputs, refused with
/// a reason, or not ready (something is not available yet; retry later).</summary>
internal sealed record SequenceCheck(SyncSequenceStatus? Status, SyncedSequence? Record, SequenceInput? Input, string? Reason)
{
    public static SequenceCheck NotReady(string reason) => new(null, null, null, reason);
}
