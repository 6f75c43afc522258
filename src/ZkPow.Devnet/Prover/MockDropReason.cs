namespace ZkPow.Devnet.Prover;

/// <summary>Why the mock prover dropped a stream itself.</summary>
internal enum MockDropReason
{
    None = 0,
    Watchdog = 1,
    Misbehaviour = 2,
    Restart = 3,
}
