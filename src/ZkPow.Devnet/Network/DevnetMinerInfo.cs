namespace ZkPow.Devnet.Network;

/// <summary>A devnet miner: its address and where its aggregator keeps its store.</summary>
public sealed record DevnetMinerInfo(string Address, string StorePath);
