namespace ZkPow.Devnet.Network;

/// <summary>Nothing left can make progress: every remaining sequence is parked (by the generator or the sender) or lost,
/// and no task is ready or running.</summary>
/// <param name="Reason">What is parked, for the operator.</param>
/// <param name="Fingerprint">The state the stall was seen in; a stall counts only while it stays the same.</param>
public sealed record DevnetStall(string Reason, string Fingerprint);
