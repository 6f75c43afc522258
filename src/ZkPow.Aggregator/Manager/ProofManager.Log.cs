using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Manager;

public sealed partial class ProofManager
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Proof manager: {Count} unfinished submissions resumed, {Rebuilt} live commitments of ours rebuilt from the chain")]
    private partial void LogResumed(int count, int rebuilt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proof manager {Worker}: {Reason}; trying again")]
    private partial void LogWorkerError(string worker, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: verified by another miner; not resent (lost to competition)")]
    private partial void LogLost(ulong final);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: committing again (hash attempt {Attempt}): {Why}")]
    private partial void LogResending(ulong final, int attempt, string why);
}
