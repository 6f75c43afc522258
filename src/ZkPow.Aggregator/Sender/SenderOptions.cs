namespace ZkPow.Aggregator.Sender;

/// <summary>Options of the Proof Manager and Proof Sender.</summary>
public sealed class SenderOptions
{
    /// <summary>How often the chain head is polled to drive window decisions (duration, e.g. <c>100ms</c>). Window
    /// decisions are re-evaluated on every new block.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often processResend scans for sequences needing another go (duration, e.g. <c>500ms</c>).</summary>
    public TimeSpan ResendInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Failed goes per sequence (new rounds, failed txs, re-proofs) before it is parked and reported (count, e.g. <c>5</c>).</summary>
    public int MaxRetries { get; set; } = 5;

    /// <summary>Refused reveals per commitment before it is parked (count, e.g. <c>10</c>); a reveal is retried harder than a
    /// commit because an unrevealed commitment is slashed. A live commitment is never parked while a reveal can still land
    /// in its proof window: past this bound its reveal is retried (one per block at most, logged) until it is proved or
    /// the window ends; the bound parks it only after that (a late reveal, once another proof landed).</summary>
    public int MaxRevealAttempts { get; set; } = 10;

    /// <summary>Commit-ahead safety margin in blocks (count, e.g. <c>2</c>): a sequence whose predecessor is not verified
    /// is committed only if the predecessor's reveal is due at least this many blocks (plus one per unverified
    /// sequence in between) before the end of the round we would join. 0 disables committing ahead.</summary>
    public int CommitAheadMarginBlocks { get; set; } = 2;

    /// <summary>Whether to commit ahead of verification at all (pipelining hashes for future sequences).</summary>
    public bool CommitAhead { get; set; } = true;

    /// <summary>Whether a reveal whose predecessor sequence is not verified yet, but is being verified by our own reveal
    /// (signed and in flight), is sent right behind it rather than a block after that reveal is mined: the nonce order makes
    /// it land after the predecessor's, in the same block when both fit. If the predecessor's reveal fails, this one reverts
    /// (gas spent, no slash) and is sent again once the predecessor is verified.</summary>
    public bool RevealBehindOwn { get; set; } = true;

    /// <summary>Blocks a tx may land after the earliest block it can (<c>head + 1</c>), for deadline decisions (count,
    /// e.g. <c>1</c>): a commitment of ours is overdue for a new hash once <c>head + 1 + slack</c> is past its round's end.</summary>
    public int LandingSlackBlocks { get; set; } = 1;

    /// <summary>A reveal in flight is marked urgent (fee bumps sooner, up to <c>TxManager:EmergencyMaxFeePerGas</c>) once
    /// this few blocks are left before its round's end (count, e.g. <c>3</c>).</summary>
    public int UrgentRevealBlocks { get; set; } = 3;

    /// <summary>Blocks a Committed record's commitment may be missing from the chain (reorg, dropped or reverted re-mine)
    /// while no hash tx of it is in flight, before the sequence is sent round again (count, e.g. <c>8</c>).</summary>
    public int CommitmentMissingBlocks { get; set; } = 8;

    /// <summary>At start-up, our <c>SubmitProofHash</c> events of the last this many rounds (T1 + T2 blocks each) are read,
    /// and a live commitment of ours that the store does not know (a lost store) is rebuilt and revealed (count, e.g.
    /// <c>8</c>).</summary>
    public int RecoveryLookbackRounds { get; set; } = 8;
    /// <summary>The miner's ETH balance (which pays for gas) below which a warning is logged and the
    /// <c>miner_balance_warning</c> gauge is crossed (ETH, e.g. <c>0.5</c>).</summary>
    public decimal MinBalanceWarning { get; set; } = 0.5m;

    /// <summary>How often the miner's balance and stake are read (duration, e.g. <c>30s</c>).</summary>
    public TimeSpan FundsInterval { get; set; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        if (PollInterval <= TimeSpan.Zero || PollInterval > TimeSpan.FromMinutes(1))
        {
            throw new OptionsException("Sender:PollInterval", "must be between 1 ms and 1 minute");
        }

        if (ResendInterval <= TimeSpan.Zero || ResendInterval > TimeSpan.FromMinutes(10))
        {
            throw new OptionsException("Sender:ResendInterval", "must be between 1 ms and 10 minutes");
        }

        if (MaxRetries is < 1 or > 1000)
        {
            throw new OptionsException("Sender:MaxRetries", "must be between 1 and 1000");
        }

        if (MaxRevealAttempts is < 1 or > 1000)
        {
            throw new OptionsException("Sender:MaxRevealAttempts", "must be between 1 and 1000");
        }

        if (MinBalanceWarning is < 0 or > 1_000_000)
        {
            throw new OptionsException("Sender:MinBalanceWarning", "must be between 0 and 1000000 ETH");
        }

        if (FundsInterval < TimeSpan.FromMilliseconds(100) || FundsInterval > TimeSpan.FromHours(1))
        {
            throw new OptionsException("Sender:FundsInterval", "must be between 100ms and 1h");
        }

        if (CommitAheadMarginBlocks is < 0 or > 255)
        {
            throw new OptionsException("Sender:CommitAheadMarginBlocks", "must be between 0 and 255 blocks");
        }

        if (LandingSlackBlocks is < 0 or > 64)
        {
            throw new OptionsException("Sender:LandingSlackBlocks", "must be between 0 and 64 blocks");
        }

        if (UrgentRevealBlocks is < 0 or > 255)
        {
            throw new OptionsException("Sender:UrgentRevealBlocks", "must be between 0 and 255 blocks");
        }

        if (RecoveryLookbackRounds is < 1 or > 1000)
        {
            throw new OptionsException("Sender:RecoveryLookbackRounds", "must be between 1 and 1000 rounds");
        }

        if (CommitmentMissingBlocks is < 1 or > 10_000)
        {
            throw new OptionsException("Sender:CommitmentMissingBlocks", "must be between 1 and 10000 blocks");
        }
    }
}
