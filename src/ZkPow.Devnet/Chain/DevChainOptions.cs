using System.Numerics;
using System.Text;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Chain;

/// <summary>How to start the local chain and deploy the contracts. The defaults are the devnet's.</summary>
internal sealed class DevChainOptions
{
    /// <summary>Seconds between blocks once set up (interval mining, like anvil's <c>--block-time</c>); 0 = a block per transaction (automine).</summary>
    public int BlockTime { get; init; }

    /// <summary>No mining at all once set up: blocks come only from <see cref="DevChain.MineAsync"/>. Overrides <see cref="BlockTime"/>.</summary>
    public bool ManualMining { get; init; }

    /// <summary>The loopback port for anvil; 0 = any free port.</summary>
    public int Port { get; init; }

    /// <summary>The base chain's <c>eth_chainId</c>.</summary>
    public ulong ChainId { get; init; } = 31337;

    /// <summary>The rollup's <c>chainID()</c>.</summary>
    public ulong RollupChainId { get; init; } = 1001;

    /// <summary>The rollup's <c>forkID()</c>.</summary>
    public ulong ForkId { get; init; } = 6;

    /// <summary>T1, the hash window, in blocks.</summary>
    public byte T1 { get; init; } = 5;

    /// <summary>T2, the proof window, in blocks.</summary>
    public byte T2 { get; init; } = 10;

    /// <summary>How many miner accounts (1, 2, …) are funded and staked.</summary>
    public int Miners { get; init; } = 2;

    /// <summary>How many further funded accounts (not staked) follow the miners.</summary>
    public int ExtraAccounts { get; init; } = 2;

    /// <summary>Each dev account's starting balance, in ether.</summary>
    public long AccountBalanceEther { get; init; } = 10_000;

    /// <summary>Each miner's stake, in wei.</summary>
    public BigInteger MinerStake { get; init; } = Wei.FromEther(100);

    /// <summary>The minimum stake to commit a hash, in wei.</summary>
    public BigInteger MinDeposit { get; init; } = Wei.FromEther(10);

    /// <summary>The reward per sequence, in wei.</summary>
    public BigInteger RewardPerSequence { get; init; } = Wei.FromEther(1);

    /// <summary>What the admin puts into the reward pool, in wei.</summary>
    public BigInteger RewardPool { get; init; } = Wei.FromEther(1_000);

    /// <summary>The slash for a commitment left unrevealed, in wei.</summary>
    public BigInteger NoProofPunishAmount { get; init; } = Wei.FromEther(5);

    /// <summary>The slash for a wrong reveal, in wei.</summary>
    public BigInteger IncorrectProofHashPunishAmount { get; init; } = Wei.FromEther(10);

    /// <summary><c>batchNumToStateRoot(0)</c>; null = the devnet genesis root.</summary>
    public byte[]? GenesisStateRoot { get; init; }

    /// <summary>An anvil binary to use instead of the repository's npm-installed one (also: env ANVIL_BINARY).</summary>
    public string? AnvilPath { get; init; }

    /// <summary>How long anvil may take to answer after it starts.</summary>
    public TimeSpan StartupTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Receives every line that anvil prints (optional).</summary>
    public Action<string>? Output { get; init; }

    /// <summary>The devnet genesis state root: <c>mask(keccak256("zkpow-devnet/genesis"))</c> (see devnet-proof.md).</summary>
    public static byte[] DevnetGenesisStateRoot()
    {
        var root = Abi.Keccak(Encoding.UTF8.GetBytes("zkpow-devnet/genesis"));
        for (var limb = 0; limb < 4; limb++)
        {
            root[limb * 8] &= 0x7f;
        }

        return root;
    }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegative(BlockTime);
        ArgumentOutOfRangeException.ThrowIfNegative(Miners);
        ArgumentOutOfRangeException.ThrowIfNegative(ExtraAccounts);
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        if (GenesisStateRoot is { Length: not 32 })
        {
            throw new ArgumentException("GenesisStateRoot must be 32 bytes", nameof(GenesisStateRoot));
        }
    }
}
