namespace ZkPow.Aggregator.Hosting;

/// <summary>A drain's progress, as <c>/api/status</c> and <c>/api/drain</c> show it: <see cref="State"/> is
/// <c>none</c>, <c>draining</c> or <c>drained</c>; <see cref="OpenCommitments"/> counts our commitments not yet revealed
/// and confirmed (hash tx in flight, hash on chain, or reveal in flight); <see cref="PendingTxs"/> our txs not final yet.</summary>
public sealed record DrainStatus(string State, int OpenCommitments, int PendingTxs, DateTimeOffset? Since, DateTimeOffset? DrainedAt);
