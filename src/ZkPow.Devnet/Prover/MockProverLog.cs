using Microsoft.Extensions.Logging;

namespace ZkPow.Devnet.Prover;

internal static partial class MockProverLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Prover {Prover} ({InstanceId}) connecting to {Aggregator}")]
    public static partial void Connecting(ILogger logger, string prover, string instanceId, Uri aggregator);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Prover {Prover}: stream ended: {Reason}")]
    public static partial void StreamEnded(ILogger logger, string prover, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prover {Prover}: stream failed unexpectedly")]
    public static partial void StreamFailed(ILogger logger, string prover, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover}: watchdog: nothing heard for {Watchdog}, dropping the stream")]
    public static partial void WatchdogFired(ILogger logger, string prover, TimeSpan watchdog);

    [LoggerMessage(Level = LogLevel.Information, Message = "Prover {Prover}: restarting as {InstanceId}, all jobs forgotten")]
    public static partial void Restarting(ILogger logger, string prover, string instanceId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Prover {Prover}: accepted {Kind} job {JobId} for batches {OldBatch}-{NewBatch}")]
    public static partial void JobAccepted(ILogger logger, string prover, MockProofKind kind, string jobId, ulong? oldBatch, ulong? newBatch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prover {Prover}: message {MessageId} carries no request, not answered")]
    public static partial void EmptyRequest(ILogger logger, string prover, string messageId);
}
