using System.Text.Json;
using System.Text.Json.Nodes;

namespace ZkPow.Aggregator.Chain;

/// <summary>Reads the rollup contract over plain JSON-RPC (<c>eth_call</c>, <c>eth_getLogs</c>). The head is the highest
/// seen from any endpoint; reads can be pinned to a block number, and a backend that does not have that block yet is
/// retried elsewhere.</summary>
public sealed class RollupChainClient : IRollupChain
{
    private static readonly string SequenceBatchesTopic = Abi.Topic("SequenceBatches(uint64)");
    private static readonly string SubmitProofHashTopic = Abi.Topic("SubmitProofHash(address,uint64,uint64,bytes32)");
    private static readonly string VerifyBatchesTopic = Abi.Topic("VerifyBatchesTrustedAggregator(uint64,bytes32,address)");
    private static readonly string RewardPaidTopic = Abi.Topic("RewardPaid(address,uint64,uint256)");
    private static readonly string SlashedTopic = Abi.Topic("Slashed(address,uint64,uint256,uint8)");
    private static readonly string SetProofHashCommitEpochTopic = Abi.Topic("SetProofHashCommitEpoch(uint8)");
    private static readonly string SetProofCommitEpochTopic = Abi.Topic("SetProofCommitEpoch(uint8)");

    private readonly EthRpcClient _rpc;

    public RollupChainClient(EthRpcClient rpc, string rollupAddress)
    {
        _rpc = rpc;
        RollupAddress = HexData.NormalizeAddress(rollupAddress);
    }

    public string RollupAddress { get; }

    public Task<ulong> GetBlockNumberAsync(CancellationToken cancellationToken) => _rpc.GetBlockNumberAsync(cancellationToken);

    public Task<SequencedBatch> GetSequenceAsync(ulong finalNewBatch, CancellationToken cancellationToken) =>
        GetSequenceAsync(finalNewBatch, null, cancellationToken);

    public async Task<SequencedBatch> GetSequenceAsync(ulong finalNewBatch, ulong? atBlock, CancellationToken cancellationToken)
    {
        var words = await ViewAsync(RollupCalls.SequencedBatches(finalNewBatch), cancellationToken, atBlock).ConfigureAwait(false);
        return new SequencedBatch(finalNewBatch, words.Bytes32(0), words.UInt64(1), words.UInt64(2), words.UInt64(3), words.Bool(4));
    }

    public async Task<ProofWindows> GetProofWindowsAsync(CancellationToken cancellationToken)
    {
        var t1 = ViewAsync(RollupCalls.ProofHashCommitEpoch(), cancellationToken);
        var t2 = ViewAsync(RollupCalls.ProofCommitEpoch(), cancellationToken);
        return new ProofWindows((byte)(await t1.ConfigureAwait(false)).UInt64(0), (byte)(await t2.ConfigureAwait(false)).UInt64(0));
    }

    public async Task<ulong> GetLastVerifiedBatchAsync(CancellationToken cancellationToken) =>
        (await ViewAsync(RollupCalls.LastVerifiedBatch(), cancellationToken).ConfigureAwait(false)).UInt64(0);

    public async Task<ulong> GetLastBatchSequencedAsync(CancellationToken cancellationToken) =>
        (await ViewAsync(RollupCalls.LastBatchSequenced(), cancellationToken).ConfigureAwait(false)).UInt64(0);

    public async Task<byte[]> GetStateRootAsync(ulong batch, CancellationToken cancellationToken) =>
        (await ViewAsync(RollupCalls.BatchNumToStateRoot(batch), cancellationToken).ConfigureAwait(false)).Bytes32(0);

    public async Task<RollupIdentity> GetRollupIdentityAsync(CancellationToken cancellationToken)
    {
        var chainId = ViewAsync(RollupCalls.ChainId(), cancellationToken);
        var forkId = ViewAsync(RollupCalls.ForkId(), cancellationToken);
        return new RollupIdentity((await chainId.ConfigureAwait(false)).UInt64(0), (await forkId.ConfigureAwait(false)).UInt64(0));
    }

    public Task<ProofCommitment> GetCommitmentAsync(ulong finalNewBatch, string prover, CancellationToken cancellationToken) =>
        GetCommitmentAsync(finalNewBatch, prover, null, cancellationToken);

    public async Task<ProofCommitment> GetCommitmentAsync(ulong finalNewBatch, string prover, ulong? atBlock, CancellationToken cancellationToken)
    {
        var words = await ViewAsync(RollupCalls.ProverCommitProofHash(finalNewBatch, prover), cancellationToken, atBlock).ConfigureAwait(false);
        return new ProofCommitment(words.Bytes32(0), words.UInt64(1), words.Bool(2));
    }

    public async Task<ChainCallResult<byte[]>> GetInputSnarkBytesAsync(string miner, ProofClaim claim, CancellationToken cancellationToken)
    {
        claim.Validate();
        var result = await _rpc.EthCallAsync(HexData.NormalizeAddress(miner), RollupAddress, RollupCalls.GetInputSnarkBytes(claim), 0, "latest",
            cancellationToken).ConfigureAwait(false);
        return result.Succeeded ? ChainCallResult<byte[]>.Ok(new AbiWords(result.Value!).Bytes(0)) : result;
    }

    public async Task<ProofCheck> CheckProofAsync(string miner, ProofClaim claim, byte[] proof, CancellationToken cancellationToken)
    {
        // The snark input and the verifier's address are independent reads: both at once (the address is read every time,
        // as the contract's admin may change the verifier).
        var snarkTask = GetInputSnarkBytesAsync(miner, claim, cancellationToken);
        var verifierTask = ViewAsync(RollupCalls.RollupVerifier(), cancellationToken);
        try
        {
            await Task.WhenAll(snarkTask, verifierTask).ConfigureAwait(false);
        }
        catch (Exception) when (snarkTask.IsCompleted && verifierTask.IsCompleted)
        {
            // Each read's own failure is raised below, the snark input's first.
        }

        var snarkBytes = await snarkTask.ConfigureAwait(false);
        if (!snarkBytes.Succeeded)
        {
            return new ProofCheck(false, 0, snarkBytes.Revert);
        }

        var input = ProofHash.SnarkInput(snarkBytes.Value!);
        var verifier = (await verifierTask.ConfigureAwait(false)).Address(0);
        var answer = await _rpc.EthCallAsync(HexData.NormalizeAddress(miner), verifier, RollupCalls.VerifyProof(proof, input), 0, "latest",
            cancellationToken).ConfigureAwait(false);
        if (!answer.Succeeded)
        {
            // A verifier that reverts on a malformed proof says no as well.
            return new ProofCheck(false, input, answer.Revert);
        }

        return new ProofCheck(answer.Value is { Length: >= 32 } && new AbiWords(answer.Value).Bool(0), input, null);
    }

    public async Task<IReadOnlyList<RollupEvent>> GetEventsAsync(ulong fromBlock, ulong toBlock, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fromBlock, toBlock);
        var filter = new JsonObject
        {
            ["address"] = RollupAddress,
            ["fromBlock"] = HexData.Quantity(fromBlock),
            ["toBlock"] = HexData.Quantity(toBlock),
            ["topics"] = new JsonArray(new JsonArray(
                SequenceBatchesTopic, SubmitProofHashTopic, VerifyBatchesTopic, RewardPaidTopic, SlashedTopic,
                SetProofHashCommitEpochTopic, SetProofCommitEpochTopic)),
        };
        // The range's last block and its logs in one batch, so one backend answers both: one that lags (it has no
        // block toBlock yet) could answer too few logs, and is retried elsewhere.
        var replies = await _rpc.BatchAsync([("eth_getBlockByNumber", [HexData.Quantity(toBlock), false]), ("eth_getLogs", [filter])], cancellationToken,
            r => r[0].Error is null && r[0].Result.ValueKind != JsonValueKind.Object ? $"does not have block {toBlock} yet (lags the head)" : null)
            .ConfigureAwait(false);
        var logs = replies[1].Error is { } error ? throw error : replies[1].Result;
        if (replies[0].Error is { } blockError)
        {
            throw blockError;
        }

        var events = new List<RollupEvent>();
        foreach (var log in logs.EnumerateArray())
        {
            if (log.TryGetProperty("removed", out var removed) && removed.ValueKind == JsonValueKind.True)
            {
                continue;
            }

            if (Decode(log) is { } decoded)
            {
                events.Add(decoded);
            }
        }

        return events;
    }

    /// <summary>Decodes one log of the rollup contract; null for an event this client does not follow.</summary>
    internal static RollupEvent? Decode(JsonElement log)
    {
        var topics = log.GetProperty("topics").EnumerateArray().Select(t => t.GetString() ?? string.Empty).ToArray();
        if (topics.Length == 0)
        {
            return null;
        }

        var data = new AbiWords(HexData.Decode(log.GetProperty("data").GetString() ?? "0x"));
        var block = HexData.ParseUInt64(log.GetProperty("blockNumber"));
        var blockHash = log.GetProperty("blockHash").GetString() ?? string.Empty;
        var tx = log.GetProperty("transactionHash").GetString() ?? string.Empty;
        var index = checked((int)HexData.ParseQuantity(log.GetProperty("logIndex")));
        var topic = topics[0].ToLowerInvariant();
        if (topic == SequenceBatchesTopic)
        {
            return new SequenceBatchesEvent(block, blockHash, tx, index, TopicUInt64(topics[1]));
        }

        if (topic == SubmitProofHashTopic)
        {
            return new SubmitProofHashEvent(block, blockHash, tx, index, data.Address(0), data.UInt64(1), data.UInt64(2), data.Bytes32(3));
        }

        if (topic == VerifyBatchesTopic)
        {
            return new VerifyBatchesEvent(block, blockHash, tx, index, TopicUInt64(topics[1]), data.Bytes32(0), TopicAddress(topics[2]));
        }

        if (topic == RewardPaidTopic)
        {
            return new RewardPaidEvent(block, blockHash, tx, index, TopicAddress(topics[1]), TopicUInt64(topics[2]), data.Uint(0));
        }

        if (topic == SlashedTopic)
        {
            return new SlashedEvent(block, blockHash, tx, index, TopicAddress(topics[1]), TopicUInt64(topics[2]), data.Uint(0), (byte)data.Uint(1));
        }

        if (topic == SetProofHashCommitEpochTopic)
        {
            return new SetProofHashCommitEpochEvent(block, blockHash, tx, index, (byte)data.Uint(0));
        }

        return topic == SetProofCommitEpochTopic ? new SetProofCommitEpochEvent(block, blockHash, tx, index, (byte)data.Uint(0)) : null;
    }

    private async Task<AbiWords> ViewAsync(byte[] data, CancellationToken cancellationToken, ulong? atBlock = null)
    {
        var block = atBlock is { } pinned ? HexData.Quantity(pinned) : "latest";
        var result = await _rpc.EthCallAsync(null, RollupAddress, data, 0, block, cancellationToken).ConfigureAwait(false);
        return result.Succeeded
            ? new AbiWords(result.Value!)
            : throw new InvalidOperationException($"a view of the rollup at {RollupAddress} reverted: {result.Revert}");
    }

    private static ulong TopicUInt64(string topic) => checked((ulong)HexData.ParseQuantity(topic));

    private static string TopicAddress(string topic) => "0x" + topic[^40..].ToLowerInvariant();
}
