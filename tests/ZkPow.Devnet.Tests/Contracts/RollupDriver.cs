using System.Numerics;
using System.Text;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

/// <summary>Drives the deployed rollup in tests: sequences batches, builds proofs and sends the two proof steps.</summary>
internal sealed class RollupDriver(DevChain chain)
{
    public const byte T1 = 5;
    public const byte T2 = 10;

    private static readonly string SlashedTopic = Topic("Slashed(address,uint64,uint256,uint8)");
    private static readonly string RewardPaidTopic = Topic("RewardPaid(address,uint64,uint256)");
    private static readonly string VerifiedTopic = Topic("VerifyBatchesTrustedAggregator(uint64,bytes32,address)");

    private byte[] _stateRoot = ContractTestProofs.GenesisStateRoot;
    private byte[] _accInputHash = new byte[32];
    private ulong _lastBatch;
    private int _nonce;

    public DevChain Chain { get; } = chain;

    public string Rollup => Chain.Contracts.Rollup;

    public DevAccount Admin => Chain.Admin;

    public DevAccount Miner(int i) => Chain.Miners[i];

    public DevAccount Extra(int i) => Chain.ExtraAccounts[i];

    // ---- sequencing

    public IReadOnlyList<DevBatch> NewBatches(int count)
    {
        var batches = new List<DevBatch>();
        for (var i = 0; i < count; i++)
        {
            var n = ++_nonce;
            batches.Add(new DevBatch(
                Encoding.UTF8.GetBytes($"batch-{n}-{new string('x', n % 7)}"),
                n % 2 == 0 ? ContractTestProofs.Keccak(Encoding.UTF8.GetBytes($"ger-{n}")) : new byte[32],
                1_700_000_000UL + (ulong)n * 12));
        }

        return batches;
    }

    public Task<TestSequence> SequenceAsync(int batches = 1) => SequenceAsync(NewBatches(batches), Extra(1).Address);

    public async Task<TestSequence> SequenceAsync(IReadOnlyList<DevBatch> batches, string l2Coinbase)
    {
        var sequence = TestSequence.After(_lastBatch, _stateRoot, _accInputHash, batches, l2Coinbase);
        var receipt = await Chain.SendAsync(Admin, Rollup, ContractCalls.SequenceBatches(batches, l2Coinbase));
        Assert.True(receipt.Succeeded);
        _lastBatch = sequence.FinalNewBatch;
        _stateRoot = sequence.NewStateRoot;
        _accInputHash = sequence.NewAccInputHash;
        return sequence;
    }

    // ---- proofs

    public static byte[] FinalProofFor(DevAccount miner, TestSequence s) => ContractTestProofs.FinalProof(miner.Address, s);

    public Task<TxReceipt> CommitAsync(DevAccount miner, TestSequence s, byte[]? proof = null, ulong? initNumBatch = null, ulong? finalNewBatch = null) =>
        Chain.SendAsync(miner, Rollup, RollupCalls.SubmitProofHash(
            initNumBatch ?? s.InitNumBatch,
            finalNewBatch ?? s.FinalNewBatch,
            ContractTestProofs.ProofHash(proof ?? FinalProofFor(miner, s), miner.Address)));

    public Task<TxReceipt> CommitHashAsync(DevAccount miner, TestSequence s, byte[] proofHash) =>
        Chain.SendAsync(miner, Rollup, RollupCalls.SubmitProofHash(s.InitNumBatch, s.FinalNewBatch, proofHash));

    public Task<TxReceipt> RevealAsync(DevAccount miner, TestSequence s, byte[]? proof = null, byte[]? newStateRoot = null, ulong? initNumBatch = null) =>
        Chain.SendAsync(miner, Rollup, RollupCalls.VerifyBatches(
            initNumBatch ?? s.InitNumBatch,
            s.FinalNewBatch,
            s.NewLocalExitRoot,
            newStateRoot ?? s.NewStateRoot,
            proof ?? FinalProofFor(miner, s)));

    /// <summary>Commits, waits for the proof window, and reveals.</summary>
    public async Task<TxReceipt> ProveAsync(DevAccount miner, TestSequence s)
    {
        var commit = await CommitAsync(miner, s);
        await NextTxInBlockAsync(await RoundStartAsync(s) + T1);
        return await RevealAsync(miner, s);
    }

    public Task<TxReceipt> SettleAsync(DevAccount caller, DevAccount prover) =>
        Chain.SendAsync(caller, Rollup, RollupCalls.Settle(prover.Address));

    public Task<TxReceipt> WithdrawAsync(DevAccount miner, BigInteger wei) =>
        Chain.SendAsync(miner, Chain.Contracts.MinerDeposit, ContractCalls.Withdraw(wei));

    public Task<TxReceipt> DepositAsync(DevAccount miner, BigInteger wei) =>
        Chain.SendAsync(miner, Chain.Contracts.MinerDeposit, ContractCalls.Deposit(), wei);

    // ---- views

    public async Task<ulong> RoundStartAsync(TestSequence s) =>
        (ulong)(await Chain.ReadAsync(Rollup, RollupCalls.SequencedBatches(s.FinalNewBatch))).Uint(3);

    public async Task<bool> ProofSubmittedAsync(TestSequence s) =>
        (await Chain.ReadAsync(Rollup, RollupCalls.SequencedBatches(s.FinalNewBatch))).Bool(4);

    public async Task<ulong> LastVerifiedBatchAsync() =>
        (await Chain.ReadAsync(Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0);

    public async Task<byte[]> StateRootAsync(ulong batch) =>
        (await Chain.ReadAsync(Rollup, RollupCalls.BatchNumToStateRoot(batch))).Bytes32(0);

    public async Task<BigInteger> RoundStakeTotalAsync(TestSequence s) =>
        (await Chain.ReadAsync(Rollup, ContractCalls.RoundStakeTotal(s.FinalNewBatch))).Uint(0);

    public async Task<IReadOnlyList<BigInteger>> OpenCommitmentsAsync(DevAccount miner) =>
        (await Chain.ReadAsync(Rollup, ContractCalls.OpenCommitmentsOf(miner.Address))).UintArray(0);

    public Task<BigInteger> StakeAsync(DevAccount miner) => Chain.GetStakeAsync(miner.Address);

    public Task<BigInteger> PoolAsync() => Chain.GetBalanceAsync(Rollup);

    // ---- blocks

    /// <summary>Mines so that the next transaction lands in block <paramref name="block"/>.</summary>
    public async Task NextTxInBlockAsync(ulong block)
    {
        var head = await Chain.GetBlockNumberAsync();
        Assert.True(head < block, $"block {block} is already past (head {head})");
        if (block - 1 > head)
        {
            await Chain.MineAsync(checked((int)(block - 1 - head)));
        }
    }

    // ---- outcomes

    /// <summary>Runs <paramref name="action"/>, expects a revert and returns the custom error's name.</summary>
    public static async Task<string?> RevertOfAsync(Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<ContractRevertException>(action);
        return e.ErrorName;
    }

    public static IReadOnlyList<(string Prover, ulong Final, BigInteger Amount, int Reason)> Slashes(TxReceipt receipt) =>
        [.. receipt.Logs.Where(l => l.Topics[0] == SlashedTopic).Select(l =>
        {
            var data = new AbiWords(l.Data);
            return (TopicAddress(l.Topics[1]), (ulong)HexData.ParseQuantity(l.Topics[2]), data.Uint(0), (int)data.Uint(1));
        })];

    public static IReadOnlyList<(string Prover, ulong Final, BigInteger Amount)> Rewards(TxReceipt receipt) =>
        [.. receipt.Logs.Where(l => l.Topics[0] == RewardPaidTopic).Select(l =>
            (TopicAddress(l.Topics[1]), (ulong)HexData.ParseQuantity(l.Topics[2]), new AbiWords(l.Data).Uint(0)))];

    public static bool Verified(TxReceipt receipt) => receipt.Logs.Any(l => l.Topics[0] == VerifiedTopic);

    public static string Topic(string signature) =>
        HexData.Encode(ContractTestProofs.Keccak(Encoding.UTF8.GetBytes(signature)));

    private static string TopicAddress(string topic) => "0x" + topic[^40..];
}
