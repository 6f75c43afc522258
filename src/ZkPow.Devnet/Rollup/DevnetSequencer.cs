using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Proof;

namespace ZkPow.Devnet.Rollup;

/// <summary>
/// A simulated rollup sequencer: makes sequences of 1..K batches of random L2 data (seeded) and sends them with
/// <c>sequenceBatches</c> from the devnet's admin account, recording them in the ledger that the devnet rollup node
/// answers from.
/// </summary>
internal sealed partial class DevnetSequencer
{
    private readonly DevChain _chain;
    private readonly DevnetSequencerOptions _options;
    private readonly DevnetSequenceBuilder _builder;
    private readonly Random _random;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<DevnetSequence> _sent = [];
    private int _resent;

    public DevnetSequencer(DevChain chain, DevnetSequencerOptions options, DevnetRollupLedger ledger, TimeProvider time, ILogger<DevnetSequencer>? logger = null)
    {
        options.Validate();
        _chain = chain;
        _options = options;
        Ledger = ledger;
        _time = time;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _random = new Random(options.Seed);
        _builder = new DevnetSequenceBuilder(new Random(options.Seed ^ 0x5eed), options.Coinbase, chain.Options.RollupChainId, chain.Options.ForkId)
        {
            TransactionSize = options.BatchDataSize,
        };
    }

    public DevnetRollupLedger Ledger { get; }

    /// <summary>Builds (does not send) the sequence that follows batch <paramref name="afterBatch"/> of the ledger
    /// (default: its last batch), with <paramref name="batches"/> batches (default: random 1..K).</summary>
    public DevnetSequence Build(int? batches = null, ulong? afterBatch = null)
    {
        var count = batches ?? _random.Next(1, _options.MaxBatchesPerSequence + 1);
        var after = afterBatch ?? Ledger.LastBatch;
        var previous = Ledger.GetBatch(after) ?? throw new InvalidOperationException($"the ledger has no batch {after}");
        return _builder.Next(after, previous.StateRoot, previous.AccInputHash, count);
    }

    /// <summary>The call data of <c>sequenceBatches</c> for a sequence.</summary>
    public byte[] CallData(DevnetSequence sequence) =>
        ContractCalls.SequenceBatches([.. sequence.Batches.Select(b => new DevBatch(b.Transactions, b.GlobalExitRoot, b.Timestamp))], sequence.Coinbase);

    /// <summary>Sequences re-sent because a reorg dropped them from the chain.</summary>
    public int Resent => Volatile.Read(ref _resent);

    /// <summary>Sends the sequence and records it once mined; returns the transaction hash. A send that a reorg drops
    /// before it is mined is sent again; a sequence already on chain (an earlier attempt landed) is not sent twice.</summary>
    public async Task<string> SendAsync(DevnetSequence sequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var hash = await SendUntilMinedAsync(sequence, cancellationToken).ConfigureAwait(false);
            Ledger.Record(sequence, hash.Length == 0 ? null : hash);
            lock (_sent)
            {
                _sent.Add(sequence);
            }

            return hash;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Checks that every sequence sent is still on chain (<c>lastBatchSequenced()</c> against the ledger) and sends
    /// again, in order, those a reorg dropped. Returns how many were sent again.
    /// </summary>
    public Task<int> RepairAsync(CancellationToken cancellationToken = default) => ReorgAsync(static _ => Task.CompletedTask, cancellationToken);

    /// <summary>
    /// Runs <paramref name="reorg"/> (an <c>anvil_reorg</c>) while no sequence of ours is on its way, then repairs
    /// (<see cref="RepairAsync"/>). A sequence sent just before a reorg that drops its predecessor would otherwise be
    /// mined on top of the older sequence: the contract numbers batches itself, so it would get the dropped batches'
    /// numbers with other contents, and the chain and the rollup node's ledger would no longer agree. Returns how many
    /// sequences were sent again.
    /// </summary>
    public async Task<int> ReorgAsync(Func<CancellationToken, Task> reorg, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reorg);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await reorg(cancellationToken).ConfigureAwait(false);
            return await RepairHeldAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary><see cref="RepairAsync"/>'s work, with the send lock held.</summary>
    private async Task<int> RepairHeldAsync(CancellationToken cancellationToken)
    {
        var onChain = await GetLastSequencedAsync(cancellationToken).ConfigureAwait(false);
        if (onChain >= Ledger.LastBatch)
        {
            return 0;
        }

        List<DevnetSequence> dropped;
        lock (_sent)
        {
            dropped = [.. _sent.Where(s => s.InitNumBatch >= onChain).OrderBy(s => s.InitNumBatch)];
        }

        var count = 0;
        foreach (var sequence in dropped)
        {
            LogResending(sequence.InitNumBatch, sequence.FinalNewBatch);
            var hash = await SendUntilMinedAsync(sequence, cancellationToken).ConfigureAwait(false);
            Ledger.UpdateTransaction(sequence, hash);
            Interlocked.Increment(ref _resent);
            count++;
        }

        return count;
    }

    private async Task<ulong> GetLastSequencedAsync(CancellationToken cancellationToken) =>
        (await _chain.ReadAsync(_chain.Contracts.Rollup, RollupCalls.LastBatchSequenced(), ct: cancellationToken).ConfigureAwait(false)).UInt64(0);

    private async Task<string> SendUntilMinedAsync(DevnetSequence sequence, CancellationToken cancellationToken)
    {
        while (true)
        {
            var onChain = await GetLastSequencedAsync(cancellationToken).ConfigureAwait(false);
            if (onChain >= sequence.FinalNewBatch)
            {
                // An earlier attempt landed after all.
                return Ledger.GetSequenceTransaction(sequence.FinalNewBatch) ?? string.Empty;
            }

            if (onChain != sequence.InitNumBatch)
            {
                throw new InvalidOperationException($"the chain's last sequenced batch is {onChain}, not {sequence.InitNumBatch}: ({sequence.InitNumBatch},{sequence.FinalNewBatch}] cannot follow it");
            }

            var hash = await _chain.SendTransactionAsync(_chain.Admin, _chain.Contracts.Rollup, CallData(sequence), ct: cancellationToken).ConfigureAwait(false);
            var receipt = await WaitMinedOrDroppedAsync(hash, cancellationToken).ConfigureAwait(false);
            if (receipt is null)
            {
                LogDropped(sequence.InitNumBatch, sequence.FinalNewBatch, hash);
                continue;
            }

            if (!receipt.Succeeded)
            {
                throw new InvalidOperationException($"sequenceBatches of ({sequence.InitNumBatch},{sequence.FinalNewBatch}] failed");
            }

            LogSequenced(sequence.InitNumBatch, sequence.FinalNewBatch, receipt.BlockNumber);
            return receipt.TransactionHash;
        }
    }

    /// <summary>The receipt once mined, or null when the node no longer knows the transaction (a reorg dropped it).</summary>
    private async Task<TxReceipt?> WaitMinedOrDroppedAsync(string hash, CancellationToken cancellationToken)
    {
        for (var poll = 1; ; poll++)
        {
            var receipt = await _chain.Rpc.CallAsync("eth_getTransactionReceipt", [hash], cancellationToken).ConfigureAwait(false);
            if (receipt.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                return TxReceipt.Parse(receipt);
            }

            if (poll % 10 == 0 &&
                (await _chain.Rpc.CallAsync("eth_getTransactionByHash", [hash], cancellationToken).ConfigureAwait(false)).ValueKind != System.Text.Json.JsonValueKind.Object)
            {
                return null;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads <c>lastVerifiedBatch()</c> of the devnet contract (for the rollup node's <c>zkevm_verifiedBatchNumber</c>).</summary>
    public async Task<ulong> GetVerifiedBatchAsync(CancellationToken cancellationToken) =>
        (await _chain.ReadAsync(_chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch(), ct: cancellationToken).ConfigureAwait(false)).UInt64(0);

    /// <summary>Builds the next sequence and sends it.</summary>
    public async Task<DevnetSequence> SequenceNextAsync(int? batches = null, CancellationToken cancellationToken = default)
    {
        var sequence = Build(batches);
        await SendAsync(sequence, cancellationToken).ConfigureAwait(false);
        return sequence;
    }

    /// <summary>Sends a sequence every <see cref="DevnetSequencerOptions.Interval"/> until cancelled (failures are logged and retried).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_options.Interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await SequenceNextAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is ContractRevertException or EthRpcException or InvalidOperationException or ChainUnavailableException)
                {
                    LogSequenceFailed(ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequenced batches ({Init},{Final}] in block {Block}")]
    private partial void LogSequenced(ulong init, ulong final, ulong block);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The sequence ({Init},{Final}] is no longer on chain (a reorg dropped it): sending it again")]
    private partial void LogResending(ulong init, ulong final);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The node dropped sequenceBatches ({Init},{Final}] {Hash} before mining it: sending it again")]
    private partial void LogDropped(ulong init, ulong final, string hash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "sequenceBatches failed: {Error}; retrying at the next tick")]
    private partial void LogSequenceFailed(string error);
}
