namespace ZkPow.Devnet.Network;

/// <summary>What the live replicas' <c>/api/status</c> (and the miners' databases) say, for the devnet's progress display
/// when the aggregators run outside this process.</summary>
/// <param name="FinalProofs">stored final proofs, summed over the miners.</param>
/// <param name="ProversConnected">provers connected to any replica.</param>
/// <param name="ProversBusy">of them, those on a job.</param>
/// <param name="TxsInFlight">pending transactions of the miners' leaders.</param>
/// <param name="Discovered">sequences the rollup syncs have stored, the most of any miner.</param>
/// <param name="Leaders">the replica each miner's leader is (null when none answers as leader).</param>
public sealed record DevnetReplicaFigures(long FinalProofs, long ProversConnected, long ProversBusy, int TxsInFlight, long Discovered,
    IReadOnlyList<string?> Leaders);
