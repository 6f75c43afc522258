using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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

    /// <summary>Sends the sequence and records it once mined; returns the transaction hash.</summary>
    public async Task<string> SendAsync(DevnetSequence sequence, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var receipt = await _chain.SendAsync(_chain.Admin, _chain.Contracts.Rollup, CallData(sequence), ct: cancellationToken).ConfigureAwait(false);
            if (!receipt.Succeeded)
            {
                throw new InvalidOperationException($"sequenceBatches of ({sequence.InitNumBatch},{sequence.FinalNewBatch}] failed");
            }

            Ledger.Record(sequence, receipt.TransactionHash);
            LogSequenced(sequence.InitNumBatch, sequence.FinalNewBatch, receipt.BlockNumber);
            return receipt.TransactionHash;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Reads <c>lastVerifiedBatch()</c> of the devnet contract (for the rollup node's <c>zkevm_verifiedBatchNumber</c>).</summary>
    public async Task<ulong> GetVerifiedBatchAsync(CancellationToken cancellationToken) =>
        (await _chain.ReadAsync(_chain.Contracts.Rollup, ContractCalls.LastVerifiedBatch(), ct: cancellationToken).ConfigureAwait(false)).UInt64(0);

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
                catch (Exception ex) when (ex is ContractRevertException or JsonRpcException or InvalidOperationException or HttpRequestException)
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "sequenceBatches failed: {Error}; retrying at the next tick")]
    private partial void LogSequenceFailed(string error);
}
