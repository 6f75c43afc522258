namespace ZkPow.Devnet.Prover;

internal enum MockJobState
{
    Queued = 0,
    Running = 1,
    Done = 2,
    Cancelled = 3,
}
