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
}
