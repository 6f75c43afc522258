using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Chain;

public sealed partial class TxManager
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Tx manager for {Address}: {Count} unfinished transactions loaded")]
    private partial void LogLoaded(string address, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tx manager for {Address} on chain {ChainId}: node pending nonce {Pending}, next nonce {Next}")]
    private partial void LogReconciled(string address, ulong chainId, ulong pending, ulong next);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tx {Key} refused by the pre-flight: {Reason}")]
    private partial void LogRejected(string key, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tx {Key} signed with nonce {Nonce}: {Hash} ({Fees})")]
    private partial void LogSigned(string key, ulong nonce, string hash, string fees);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) refused by the node: {Reason}")]
    private partial void LogBroadcastRefused(string key, ulong nonce, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tx {Key} (nonce {Nonce}) replaced: {OldHash} -> {NewHash} ({Fees})")]
    private partial void LogReplaced(string key, ulong nonce, string oldHash, string newHash, string fees);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) is stuck at the fee cap ({Fees}); broadcasting it again instead of replacing it")]
    private partial void LogAtFeeCap(string key, ulong nonce, string fees);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) {Hash} is unknown to the node; broadcasting it again")]
    private partial void LogDropped(string key, ulong nonce, string hash);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tx {Key} (nonce {Nonce}) {Hash} mined in block {Block}")]
    private partial void LogMined(string key, ulong nonce, string hash, ulong block);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) mined in block {Block} was lost to a reorg; back to sent")]
    private partial void LogReorged(string key, ulong nonce, ulong block);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tx {Key} (nonce {Nonce}) {Hash} confirmed (block {Block})")]
    private partial void LogConfirmed(string key, ulong nonce, string hash, ulong block);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) {Hash} reverted on chain: {Reason}")]
    private partial void LogFailedOnChain(string key, ulong nonce, string hash, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tx {Key}: nonce {Nonce} was used by a transaction this manager did not sign")]
    private partial void LogNonceTaken(string key, ulong nonce);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Base-chain node unreachable: {Reason}; retrying")]
    private partial void LogNodeDown(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Base-chain node reachable again")]
    private partial void LogNodeUp();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} was handed to the node but could not be marked sent; the loop follows it as signed")]
    private partial void LogSentMarkFailed(string key, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Tx manager pass failed; retrying")]
    private partial void LogTickFailed(Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) held after a {Why}: not broadcast until its owner re-decides")]
    private partial void LogHeld(string key, ulong nonce, string why);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tx {Key} approved after a hold: broadcast again")]
    private partial void LogApproved(string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) cancelled by a 0-value transfer to ourselves ({Fees})")]
    private partial void LogCancelled(string key, ulong nonce, string fees);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) is urgent: bumped sooner, up to the emergency fee cap")]
    private partial void LogUrgent(string key, ulong nonce);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Tx {Key} (nonce {Nonce}) is urgent: it holds back urgent tx {UrgentKey} (a higher nonce)")]
    private partial void LogUrgentBefore(string key, ulong nonce, string urgentKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tx {Key} was tracked as {Tracked} but is stored as {Stored}: tracking the stored state")]
    private partial void LogResynced(string key, string tracked, string stored);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tx {Key} (nonce {Nonce}) mined in block {Block}: the node that answered is at block {Head}, behind it (it lags); not a reorg")]
    private partial void LogReceiptBehind(string key, ulong nonce, ulong block, ulong head);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Tx {Key} (nonce {Nonce}) mined in block {Block} has no receipt at the node that answered, but {Why}; not a reorg")]
    private partial void LogReceiptMissing(string key, ulong nonce, ulong block, string why);
}
