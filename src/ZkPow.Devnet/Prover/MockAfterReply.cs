namespace ZkPow.Devnet.Prover;

/// <summary>What the stream loop does after sending a reply.</summary>
internal enum MockAfterReply
{
    Continue = 0,
    Drop = 1,
    Restart = 2,
    GoSilent = 3,
}
