namespace ZkPow.Aggregator.Sync;

/// <summary>The outcome of one sync step: for <see cref="SyncStepKind.Advanced"/> the blocks processed
/// [<see cref="FromBlock"/>, <see cref="ToBlock"/>]; for <see cref="SyncStepKind.Reorged"/> the fork point in
/// <see cref="ToBlock"/>; <see cref="Detail"/> says why for waits and failures.</summary>
public sealed record SyncStep(SyncStepKind Kind, ulong FromBlock = 0, ulong ToBlock = 0, string? Detail = null);
