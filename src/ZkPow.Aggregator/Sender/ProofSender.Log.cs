using Microsoft.Extensions.Logging;

namespace ZkPow.Aggregator.Sender;

public sealed partial class ProofSender
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Sender: chain unavailable: {Reason}")]
    private partial void LogChainDown(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sender {Worker} worker, sequence {Final}: {Reason}; trying again")]
    private partial void LogWorkerError(string worker, ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: an overdue commitment of ours is revealed before this hash")]
    private partial void LogOverdueFirst(ulong final);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: verified by another miner before we committed (lost to competition)")]
    private partial void LogLost(ulong final);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: our commitment of the round from block {RoundStart}, found on chain and " +
        "not in the store, can no longer be revealed (its round ended with no proof); the contract slashes it at our next transaction")]
    private partial void LogUnrevealable(ulong final, ulong roundStart);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: our commitment of the round from block {RoundStart} was not " +
        "revealed before the round ended with no proof, and can no longer be; the contract slashes it at our next transaction")]
    private partial void LogRoundEndedUnrevealed(ulong final, ulong roundStart);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: proof hash committed (attempt {Attempt}, tx {Key})")]
    private partial void LogCommitted(ulong final, int attempt, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: proof check reverted ({Reason}); checking again later")]
    private partial void LogCheckReverted(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: final proof by prover {Prover} rejected before commit: {Problem}; proving again")]
    private partial void LogProofRejected(ulong final, string prover, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: submitProofHash failed: {Reason}")]
    private partial void LogHashFailed(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: needs another go: {Reason}")]
    private partial void LogResend(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sequence {Final} parked: {Reason}")]
    private partial void LogParked(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final} requeued by an operator ({State}); it was parked: {Reason}")]
    private partial void LogRequeued(ulong final, string state, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slashed for sequence {Final}: {Amount} wei (reason {Reason})")]
    private partial void LogSlashed(ulong final, string amount, byte reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: proof revealed and accepted")]
    private partial void LogRevealed(ulong final);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Sequence {Final}: revealed right behind our own reveal of its predecessor {Predecessor} (tx {PredecessorKey}, in flight), gas limit {GasLimit}")]
    private partial void LogRevealBehindOwn(ulong final, ulong predecessor, string predecessorKey, ulong gasLimit);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sequence {Final}: verifyBatches sent (tx {Key})")]
    private partial void LogRevealSent(ulong final, string key);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: verifyBatches failed: {Reason}")]
    private partial void LogRevealFailed(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: held hash tx {Key} approved after a re-decision: {Why}")]
    private partial void LogHeldApproved(ulong final, string key, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: held hash tx {Key} cancelled: {Why}")]
    private partial void LogHeldCancelled(ulong final, string key, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: cancelled hash tx {Key} was mined as the original ({TxHash}): its commitment is adopted")]
    private partial void LogCancelLost(ulong final, string key, string txHash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: our live commitment in round {Round} is revealed instead: {Why}")]
    private partial void LogAdopted(ulong final, ulong round, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: reveal refused {Refused} times for our commitment in round {Round} (Sender:MaxRevealAttempts {Max}), but the commitment is live and its proof window ends at block {WindowEnd}: retrying the reveal past the bound (not parked): {Reason}")]
    private partial void LogRevealRetriedPastBound(ulong final, int refused, ulong round, int max, ulong windowEnd, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: reveal attempt {Attempt} is past Sender:MaxRevealAttempts ({Max}) over the sequence's life, but our commitment in round {Round} is live (proof window ends at block {WindowEnd}, a late reveal is allowed once a proof landed): revealing it, not abandoning it: {Reason}")]
    private partial void LogAdoptedPastBound(ulong final, int attempt, int max, ulong round, ulong windowEnd, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sequence {Final}: our commitment was slashed: {Why}")]
    private partial void LogCommitmentSlashed(ulong final, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence {Final}: our commitment is gone from the chain since block {Since}; sending it round again")]
    private partial void LogCommitmentGone(ulong final, ulong since);

    [LoggerMessage(Level = LogLevel.Error, Message = "Sequence {Final}: no proof of ours matches our commitment; not revealed (a wrong reveal is slashed harder)")]
    private partial void LogNoMatchingProof(ulong final);
    [LoggerMessage(Level = LogLevel.Warning, Message = "Our reveal of the sequence ending at {FinalBatch} is gone from the chain at block {Head} (a reorg): it is sent again")]
    private partial void LogRevealGone(ulong finalBatch, ulong head);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain: no new proof hash is committed; every open commitment of ours is revealed in its proof window")]
    private partial void LogDrainBegun();

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence {Final}: not committed (draining)")]
    private partial void LogDrainHeld(ulong final);
}
