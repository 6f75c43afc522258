namespace ZkPow.Devnet.Network;

/// <summary>One miner's part of the devnet summary.</summary>
public sealed record DevnetMinerReport
{
    public required string Address { get; init; }
    public required int HashesCommitted { get; init; }
    public required int ProofsRevealed { get; init; }
    public required int LateReveals { get; init; }
    public required string RewardsWei { get; init; }
    public required int Slashes { get; init; }
    public required int SequencesLostToCompetition { get; init; }

    /// <summary>This miner's commitments whose round is over unrevealed and not yet settled (slash-pending).</summary>
    public required int CommitmentsOverdue { get; init; }

    /// <summary>This miner's commitments neither revealed nor slashed yet (overdue ones included).</summary>
    public required int CommitmentsOpen { get; init; }

    /// <summary>Nonces the account has used (its transaction count): 0..NonceCount-1.</summary>
    public required ulong NonceCount { get; init; }

    /// <summary>Every nonce from 0 to the account's last one is used by exactly one mined transaction.</summary>
    public required bool NoncesContiguous { get; init; }

    /// <summary>What breaks contiguity (missing or reused nonces), at most 20 entries.</summary>
    public required IReadOnlyList<string> NonceProblems { get; init; }

    /// <summary>No-op cancels mined: empty transactions from the miner to itself.</summary>
    public required int NoopCancels { get; init; }

    /// <summary>Sequences on the chain with exactly one mined successful <c>submitProofHash</c> and one mined successful
    /// <c>verifyBatches</c> of this miner.</summary>
    public required int SequencesWithOneHashAndReveal { get; init; }

    /// <summary>Sequences on the chain whose count of this miner's mined successful <c>submitProofHash</c> or
    /// <c>verifyBatches</c> is not exactly one (with competing miners a sequence another miner won shows 0).</summary>
    public required IReadOnlyList<DevnetSequenceTxCount> SequencesWithOtherCounts { get; init; }

    /// <summary>Every transaction from the miner's address on the chain, with its gas and fees.</summary>
    public required DevnetGasReport Gas { get; init; }
}
