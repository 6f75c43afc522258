using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Network;

/// <summary>
/// The commitments the rollup contract holds open (neither revealed nor slashed) for the devnet's miners, and which
/// of them are overdue: their round (<c>roundStart + T1 + T2</c>) is over, so they can only be slashed.
/// </summary>
internal static class DevnetCommitments
{
    public static async Task<IReadOnlyList<DevnetOpenCommitment>> ReadAsync(
        EthRpcClient rpc, RollupChainClient chain, IEnumerable<string> miners, ulong head, ProofWindows windows, CancellationToken cancellationToken)
    {
        var open = new List<DevnetOpenCommitment>();
        foreach (var miner in miners)
        {
            var result = await rpc.EthCallAsync(null, chain.RollupAddress, ContractCalls.OpenCommitmentsOf(miner), 0, "latest", cancellationToken)
                .ConfigureAwait(false);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException($"openCommitmentsOf({miner}) reverted");
            }

            foreach (var final in new AbiWords(result.Value!).UintArray(0))
            {
                var commitment = await chain.GetCommitmentAsync((ulong)final, miner, cancellationToken).ConfigureAwait(false);
                var roundEnd = commitment.RoundStart + windows.T1 + windows.T2;
                open.Add(new DevnetOpenCommitment(miner, (ulong)final, commitment.RoundStart, head >= roundEnd));
            }
        }

        return open;
    }
}

/// <summary>A commitment the contract holds open; <paramref name="Overdue"/> = the last block of its round is mined
/// (a reveal can no longer land in it): the commitment is slash-pending.</summary>
internal sealed record DevnetOpenCommitment(string Miner, ulong FinalNewBatch, ulong RoundStart, bool Overdue);
