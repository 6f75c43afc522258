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

    /// <summary>Every transaction from the miner's address on the chain, with its gas and fees.</summary>
    public required DevnetGasReport Gas { get; init; }
}
