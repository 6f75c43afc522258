using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Sync;

/// <summary>
/// Rollup sync: follows the rollup contract's events up to latest − confirmations in bounded ranges, decodes each
/// sequence's batches from its <c>sequenceBatches</c> call data, reads the roots from the rollup node, recomputes the
/// acc input hash chain and checks it against both, and hands cross-checked sequences to the generator. A range is
/// recorded (with the new cursor) in one transaction after its sequences were handed over; a failure leaves nothing
/// half-written, and the next try of the range reuses what the failed one read (<see cref="SyncStepMemo"/>). Every
/// call is retried on its own by the RPC clients. The head used for the safe depth is the highest ever seen, so one
/// answer from a lagging backend never moves a decision backwards; contract reads for a range are pinned to its last
/// block.
/// </summary>
public sealed partial class RollupSync
{
    private const int ReorgSearchDepth = 1000;

    private readonly IRollupChain _chain;
    private readonly EthRpcClient _baseRpc;
    private readonly IRollupNode _node;
    private readonly ISyncStore _store;
    private readonly ISequenceSink _sink;
    private readonly SyncOptions _options;
    private readonly ILogger<RollupSync> _logger;
    private readonly TimeProvider _time;
    private RollupIdentity? _identity;
    private byte? _t1;
    private bool _restored;
    private ulong _highestHead;
    private SyncStepMemo? _memo;

    public RollupSync(IRollupChain chain, EthRpcClient baseRpc, IRollupNode node, ISyncStore store, ISequenceSink sink, SyncOptions options,
        string minerAddress, SyncMetrics metrics, ILogger<RollupSync> logger, TimeProvider time)
    {
        options.Validate();
        _chain = chain;
        _baseRpc = baseRpc;
        _node = node;
        _store = store;
        _sink = sink;
        _options = options;
        MinerAddress = HexData.NormalizeAddress(minerAddress);
        Metrics = metrics;
        _logger = logger;
        _time = time;
    }

    /// <summary>Our miner's address (lower-case): final proofs are bound to it and its commits are ours.</summary>
    public string MinerAddress { get; }

    public SyncMetrics Metrics { get; }

    /// <summary>Syncs until cancelled: at once while there are ranges to process, every poll interval when up to date,
    /// and with a doubling backoff (up to <see cref="SyncOptions.MaxBackoff"/>) after failures.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = _options.PollInterval;
        while (!cancellationToken.IsCancellationRequested)
        {
            SyncStep step;
            try
            {
                step = await SyncOnceAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            TimeSpan wait;
            switch (step.Kind)
            {
                case SyncStepKind.Advanced:
                case SyncStepKind.Reorged:
                    wait = TimeSpan.Zero;
                    backoff = _options.PollInterval;
                    break;
                case SyncStepKind.UpToDate:
                case SyncStepKind.Waiting:
                    wait = _options.PollInterval;
                    backoff = _options.PollInterval;
                    break;
                case SyncStepKind.Failed:
                    wait = backoff;
                    LogRetrying(wait.TotalMilliseconds);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, Math.Max(_options.MaxBackoff.Ticks, _options.PollInterval.Ticks)));
                    break;
                default:
                    throw new InvalidOperationException($"unknown sync step {step.Kind}");
            }

            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One step: checks the last processed block is still canonical (rolling back if not), then processes
    /// the next confirmed block range. RPC failures and garbage answers are a <see cref="SyncStepKind.Failed"/> result.</summary>
    public async Task<SyncStep> SyncOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await StepAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChainUnavailableException or EthRpcException or RollupNodeException or InvalidOperationException
                                       or FormatException or KeyNotFoundException or OverflowException or JsonException
                                       or System.Data.Common.DbException
                                   && !cancellationToken.IsCancellationRequested)
        {
            Metrics.Failure();
            LogStepFailed(ex.GetType().Name, ex.Message);
            return new SyncStep(SyncStepKind.Failed, Detail: ex.Message);
        }
    }

    /// <summary>The synced sequences with what status and priority need, newest first.</summary>
    public Task<IReadOnlyList<SequenceSyncStatus>> GetStatusAsync(int limit, CancellationToken cancellationToken) =>
        _store.ListSequenceStatusAsync(MinerAddress, limit, cancellationToken);

    private async Task<SyncStep> StepAsync(CancellationToken cancellationToken)
    {
        _identity ??= await _chain.GetRollupIdentityAsync(cancellationToken).ConfigureAwait(false);
        _t1 ??= (await _chain.GetProofWindowsAsync(cancellationToken).ConfigureAwait(false)).T1;
        if (!_restored)
        {
            await RestoreAsync(_t1.Value, cancellationToken).ConfigureAwait(false);
            _restored = true;
        }

        // The highest head ever seen: an answer from a backend that lags never lowers the safe depth.
        var head = _highestHead = Math.Max(_highestHead, await _chain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false));
        var cursor = await _store.GetCursorAsync(cancellationToken).ConfigureAwait(false);
        if (cursor is not null)
        {
            var canonical = await BlockHashAsync(cursor.BlockNumber, cancellationToken).ConfigureAwait(false);
            if (!string.Equals(canonical, cursor.BlockHash, StringComparison.OrdinalIgnoreCase))
            {
                _memo = null;
                return await RollBackAsync(cursor, canonical, cancellationToken).ConfigureAwait(false);
            }
        }

        var from = cursor is null ? _options.StartBlock : cursor.BlockNumber + 1;
        Metrics.Lag(head + 1 > from ? head + 1 - from : 0);
        if (_memo is { } kept && kept.From == from)
        {
            // A try of this range failed or waited: the same range again, with what it read.
            LogResuming(from, kept.To, kept.Reused);
        }
        else
        {
            _memo = null;
            if (head < _options.Confirmations || from > head - _options.Confirmations)
            {
                return new SyncStep(SyncStepKind.UpToDate, from, from);
            }

            var end = Math.Min(head - _options.Confirmations, from + _options.MaxBlockRange - 1);
            _memo = new SyncStepMemo(from, end, await BlockHashAsync(end, cancellationToken).ConfigureAwait(false));
        }

        var memo = _memo;
        var to = memo.To;
        var toHash = memo.ToHash;
        var events = memo.Events ??= await _chain.GetEventsAsync(from, to, cancellationToken).ConfigureAwait(false);

        var sequences = new List<SyncedSequence>();
        var inputs = new List<SequenceInput>();
        var records = new List<SyncEventRecord>();
        var lost = new List<(ulong, string)>();
        var deadlines = new List<(ulong Final, ulong? Block)>();
        var committers = new Dictionary<ulong, HashSet<string>>();
        var t1 = _t1.Value;

        foreach (var e in events)
        {
            switch (e)
            {
                case SequenceBatchesEvent s:
                    records.Add(Record(e, SyncEventKind.SequenceBatches, s.NumBatch, null, null));
                    if (s.NumBatch < _options.StartBatch)
                    {
                        continue;
                    }

                    var check = await CheckSequenceAsync(s, memo, cancellationToken).ConfigureAwait(false);
                    if (check.Status is null)
                    {
                        LogWaiting(s.NumBatch, check.Reason!);
                        return new SyncStep(SyncStepKind.Waiting, from, to, check.Reason);
                    }

                    sequences.Add(check.Record!);
                    if (check.Input is { } input)
                    {
                        inputs.Add(input);
                    }

                    break;
                case SubmitProofHashEvent c:
                    var onchain = await SequenceAtAsync(c.FinalNewBatch, memo, cancellationToken).ConfigureAwait(false);
                    var prover = c.Prover.ToLowerInvariant();
                    records.Add(Record(e, SyncEventKind.SubmitProofHash, c.FinalNewBatch, prover,
                        onchain.RoundStart.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    var set = await CommittersAsync(committers, c.FinalNewBatch, cancellationToken).ConfigureAwait(false);
                    set.Add(prover);
                    if (set.Contains(MinerAddress))
                    {
                        deadlines.Add((c.FinalNewBatch, null));
                    }
                    else if (onchain.RoundStart > 0 && !onchain.ProofSubmitted)
                    {
                        deadlines.Add((c.FinalNewBatch, onchain.RoundStart + t1));
                    }

                    break;
                case VerifyBatchesEvent v:
                    var aggregator = v.Aggregator.ToLowerInvariant();
                    records.Add(Record(e, SyncEventKind.VerifyBatches, v.NumBatch, aggregator, null));
                    deadlines.Add((v.NumBatch, null));
                    var ours = await CommittersAsync(committers, v.NumBatch, cancellationToken).ConfigureAwait(false);
                    if (aggregator != MinerAddress && !ours.Contains(MinerAddress) &&
                        await IsTrackedAsync(v.NumBatch, sequences, cancellationToken).ConfigureAwait(false))
                    {
                        lost.Add((v.NumBatch, $"verified by {aggregator} in block {v.BlockNumber} before we committed"));
                    }

                    break;
                case RewardPaidEvent r:
                    records.Add(Record(e, SyncEventKind.RewardPaid, r.FinalNewBatch, r.Prover.ToLowerInvariant(), r.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                case SlashedEvent sl:
                    records.Add(Record(e, SyncEventKind.Slashed, sl.FinalNewBatch, sl.Prover.ToLowerInvariant(), sl.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    if (sl.Prover.Equals(MinerAddress, StringComparison.OrdinalIgnoreCase))
                    {
                        LogSlashed(sl.FinalNewBatch, sl.Reason, sl.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    break;
                case SetProofHashCommitEpochEvent w1:
                    records.Add(Record(e, SyncEventKind.SetProofHashCommitEpoch, null, null, w1.T1.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    t1 = w1.T1;
                    break;
                case SetProofCommitEpochEvent w2:
                    records.Add(Record(e, SyncEventKind.SetProofCommitEpoch, null, null, w2.T2.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                    break;
                default:
                    break;
            }
        }

        // The range is only recorded if its last block is still the one whose logs were read (a reorg in between
        // would otherwise hide behind a fresh cursor hash).
        if (!string.Equals(await BlockHashAsync(to, cancellationToken).ConfigureAwait(false), toHash, StringComparison.Ordinal))
        {
            _memo = null;
            return new SyncStep(SyncStepKind.Waiting, from, to, $"block {to} changed while its range was read");
        }

        // Hand-off first (idempotent), then record the range: a crash in between reads the range again.
        foreach (var input in inputs)
        {
            await _sink.AddSequenceAsync(input, cancellationToken).ConfigureAwait(false);
        }

        await _store.ApplyRangeAsync(new SyncRange(new SyncCursor(to, toHash), sequences, records, lost), cancellationToken).ConfigureAwait(false);
        _memo = null;
        _t1 = t1;
        foreach (var sequence in sequences)
        {
            if (sequence.Status == SyncSequenceStatus.Accepted)
            {
                Metrics.Synced();
                LogSequenceSynced(sequence.InitBatch, sequence.FinalBatch, sequence.BlockNumber);
            }
            else
            {
                Metrics.Refused();
                LogSequenceRefused(sequence.InitBatch, sequence.FinalBatch, sequence.Reason ?? string.Empty);
            }
        }

        foreach (var (final, block) in deadlines)
        {
            _sink.SetDeadline(final, block);
        }

        foreach (var (final, reason) in lost)
        {
            Metrics.Lost();
            LogLost(final, reason);
            await _sink.AbandonSequenceAsync(final, "lost to competition: " + reason, cancellationToken).ConfigureAwait(false);
        }

        return new SyncStep(SyncStepKind.Advanced, from, to);
    }

    /// <summary>After a restart, tells the generator again what it keeps only in memory: the deadlines of sequences in
    /// a round that another miner opened, and which sequences were lost to competition (both idempotent).</summary>
    private async Task RestoreAsync(byte t1, CancellationToken cancellationToken)
    {
        foreach (var sequence in await _store.ListSequenceStatusAsync(MinerAddress, 10_000, cancellationToken).ConfigureAwait(false))
        {
            if (sequence.LostToCompetition)
            {
                await _sink.AbandonSequenceAsync(sequence.FinalBatch, "lost to competition: " + sequence.Reason, cancellationToken).ConfigureAwait(false);
            }
            else if (sequence.Status == SyncSequenceStatus.Accepted && !sequence.Verified && sequence.RoundStart > 0 &&
                     !sequence.Committers.Any(c => c.Ours))
            {
                _sink.SetDeadline(sequence.FinalBatch, sequence.RoundStart + t1);
            }
        }
    }

    private async Task<SequenceCheck> CheckSequenceAsync(SequenceBatchesEvent e, SyncStepMemo memo, CancellationToken cancellationToken)
    {
        var final = e.NumBatch;
        var onchain = await SequenceAtAsync(final, memo, cancellationToken).ConfigureAwait(false);
        if (!onchain.Exists)
        {
            return SequenceCheck.NotReady($"the contract knows no sequence ending at {final}");
        }

        var init = onchain.PreviousLastBatchSequenced;
        SequenceCheck Refuse(string reason) => new(SyncSequenceStatus.Refused,
            new SyncedSequence(final, init, e.BlockNumber, e.BlockHash, e.TransactionHash, onchain.AccInputHash, SyncSequenceStatus.Refused, reason), null, reason);

        if (init >= final)
        {
            return Refuse($"the contract says the sequence starts after batch {init}");
        }

        if (!memo.TxInputs.TryGetValue(e.TransactionHash, out var callData))
        {
            var tx = await _baseRpc.CallAsync("eth_getTransactionByHash", [e.TransactionHash], cancellationToken).ConfigureAwait(false);
            if (tx.ValueKind != JsonValueKind.Object)
            {
                return SequenceCheck.NotReady($"the base chain does not return transaction {e.TransactionHash}");
            }

            callData = HexData.Decode(tx.GetProperty("input").GetString() ?? "0x");
            memo.TxInputs[e.TransactionHash] = callData;
        }
        else
        {
            memo.Reused++;
        }

        var call = SequenceBatchesCall.TryDecode(callData, out var error);
        if (call is null)
        {
            return Refuse($"transaction {e.TransactionHash}: {error}");
        }

        if ((ulong)call.Batches.Count != final - init)
        {
            return Refuse($"the call data carries {call.Batches.Count} batches, the contract's sequence ({init},{final}] has {final - init}");
        }

        var previous = await NodeBatchAsync(init, memo, cancellationToken).ConfigureAwait(false);
        if (previous is null)
        {
            return SequenceCheck.NotReady($"the rollup node does not know batch {init} yet");
        }

        var expectedPreviousAcc = init == 0
            ? new byte[32]
            : (await SequenceAtAsync(init, memo, cancellationToken).ConfigureAwait(false)).AccInputHash;
        if (!previous.AccInputHash.AsSpan().SequenceEqual(expectedPreviousAcc))
        {
            return Refuse($"batch {init}: the rollup node's acc input hash {Hex(previous.AccInputHash)} differs from the contract's {Hex(expectedPreviousAcc)}");
        }

        var verifiedRoot = await _chain.GetStateRootAsync(init, cancellationToken).ConfigureAwait(false);
        if (verifiedRoot.AsSpan().ContainsAnyExcept((byte)0) && !verifiedRoot.AsSpan().SequenceEqual(previous.StateRoot))
        {
            return Refuse($"batch {init}: the rollup node's state root {Hex(previous.StateRoot)} differs from the verified one {Hex(verifiedRoot)}");
        }

        var coinbase = HexData.Decode(call.L2Coinbase);
        var acc = previous.AccInputHash;
        var stateRoot = previous.StateRoot;
        var batches = new List<BatchInput>(call.Batches.Count);
        for (var i = 0; i < call.Batches.Count; i++)
        {
            var data = call.Batches[i];
            var number = init + 1 + (ulong)i;
            var nodeBatch = await NodeBatchAsync(number, memo, cancellationToken).ConfigureAwait(false);
            if (nodeBatch is null)
            {
                return SequenceCheck.NotReady($"the rollup node does not know batch {number} yet");
            }

            var nextAcc = NextAccInputHash(acc, data, coinbase);
            if (!nodeBatch.AccInputHash.AsSpan().SequenceEqual(nextAcc))
            {
                return Refuse($"batch {number}: the rollup node's acc input hash {Hex(nodeBatch.AccInputHash)} differs from {Hex(nextAcc)} recomputed from the call data");
            }

            if (!nodeBatch.BatchL2Data.AsSpan().SequenceEqual(data.Transactions) || !nodeBatch.GlobalExitRoot.AsSpan().SequenceEqual(data.GlobalExitRoot) ||
                nodeBatch.Timestamp != data.Timestamp || nodeBatch.Coinbase != call.L2Coinbase)
            {
                return Refuse($"batch {number}: the rollup node's batch data, global exit root, timestamp or coinbase differ from the call data");
            }

            var input = new InputProver
            {
                PublicInputs = new PublicInputs
                {
                    OldStateRoot = ByteString.CopyFrom(stateRoot),
                    OldAccInputHash = ByteString.CopyFrom(acc),
                    OldBatchNum = number - 1,
                    ChainId = _identity!.Value.ChainId,
                    ForkId = _identity.Value.ForkId,
                    BatchL2Data = ByteString.CopyFrom(data.Transactions),
                    GlobalExitRoot = ByteString.CopyFrom(data.GlobalExitRoot),
                    EthTimestamp = data.Timestamp,
                    SequencerAddr = call.L2Coinbase,
                    AggregatorAddr = MinerAddress,
                },
            };
            batches.Add(new BatchInput(number, input.ToByteArray()));
            acc = nextAcc;
            stateRoot = nodeBatch.StateRoot;
        }

        if (!acc.AsSpan().SequenceEqual(onchain.AccInputHash))
        {
            return Refuse($"the acc input hash {Hex(acc)} recomputed from the call data differs from the contract's {Hex(onchain.AccInputHash)}");
        }

        var record = new SyncedSequence(final, init, e.BlockNumber, e.BlockHash, e.TransactionHash, onchain.AccInputHash, SyncSequenceStatus.Accepted, null);
        return new SequenceCheck(SyncSequenceStatus.Accepted, record, new SequenceInput(init, final, batches), null);
    }

    private async Task<SyncStep> RollBackAsync(SyncCursor cursor, string canonical, CancellationToken cancellationToken)
    {
        SyncCursor? fork = null;
        foreach (var block in await _store.GetRecordedBlocksAsync(ReorgSearchDepth, cancellationToken).ConfigureAwait(false))
        {
            if (block.BlockNumber < cursor.BlockNumber &&
                string.Equals(await BlockHashAsync(block.BlockNumber, cancellationToken).ConfigureAwait(false), block.BlockHash, StringComparison.OrdinalIgnoreCase))
            {
                fork = block;
                break;
            }
        }

        if (fork is null)
        {
            var start = _options.StartBlock == 0 ? 0 : _options.StartBlock - 1;
            fork = new SyncCursor(start, await BlockHashAsync(start, cancellationToken).ConfigureAwait(false));
        }

        // The generator forgets orphaned inputs before the sync's record of them goes: a crash in between finds the
        // reorg again and repeats this (both steps are idempotent).
        var orphaned = await _store.GetSequencesAfterAsync(fork.BlockNumber, cancellationToken).ConfigureAwait(false);
        var discarded = 0;
        foreach (var sequence in orphaned.Where(s => s.Status != SyncSequenceStatus.Refused))
        {
            _sink.SetDeadline(sequence.FinalBatch, null);
            var now = await _chain.GetSequenceAsync(sequence.FinalBatch, cancellationToken).ConfigureAwait(false);
            if (now.Exists && now.AccInputHash.AsSpan().SequenceEqual(sequence.AccInputHash))
            {
                // Sequenced again with the same data: its inputs, tasks and proofs stay valid.
                continue;
            }

            await _sink.DiscardSequenceAsync(sequence.FinalBatch,
                $"reorg: the sequence from block {sequence.BlockNumber} ({sequence.BlockHash}) is no longer canonical", cancellationToken).ConfigureAwait(false);
            discarded++;
        }

        await _store.RollbackAsync(fork, cancellationToken).ConfigureAwait(false);
        Metrics.Reorg();
        LogReorg(cursor.BlockNumber, cursor.BlockHash, canonical, fork.BlockNumber, orphaned.Count, discarded);
        return new SyncStep(SyncStepKind.Reorged, fork.BlockNumber, fork.BlockNumber, $"rolled back to block {fork.BlockNumber}");
    }

    private async Task<HashSet<string>> CommittersAsync(Dictionary<ulong, HashSet<string>> cache, ulong final, CancellationToken cancellationToken)
    {
        if (!cache.TryGetValue(final, out var set))
        {
            set = [.. await _store.GetCommittersAsync(final, cancellationToken).ConfigureAwait(false)];
            cache[final] = set;
        }

        return set;
    }

    private async Task<bool> IsTrackedAsync(ulong final, List<SyncedSequence> inRange, CancellationToken cancellationToken)
    {
        var sequence = inRange.FirstOrDefault(s => s.FinalBatch == final) ?? await _store.GetSequenceAsync(final, cancellationToken).ConfigureAwait(false);
        return sequence is { Status: SyncSequenceStatus.Accepted };
    }

    /// <summary><c>sequencedBatches(final)</c> at the range's last block (every endpoint that has that block agrees),
    /// read once per range.</summary>
    private async Task<SequencedBatch> SequenceAtAsync(ulong final, SyncStepMemo memo, CancellationToken cancellationToken)
    {
        if (memo.Sequences.TryGetValue(final, out var known))
        {
            memo.Reused++;
            return known;
        }

        var sequence = await _chain.GetSequenceAsync(final, memo.To, cancellationToken).ConfigureAwait(false);
        memo.Sequences[final] = sequence;
        return sequence;
    }

    private async Task<RollupNodeBatch?> NodeBatchAsync(ulong number, SyncStepMemo memo, CancellationToken cancellationToken)
    {
        if (memo.NodeBatches.TryGetValue(number, out var known))
        {
            memo.Reused++;
            return known;
        }

        var batch = await _node.GetBatchAsync(number, cancellationToken).ConfigureAwait(false);
        if (batch is not null)
        {
            memo.NodeBatches[number] = batch;
        }

        return batch;
    }

    /// <summary>The hash of block <paramref name="number"/>; a backend that lags (no such block although a higher head
    /// was seen) is retried elsewhere by the client.</summary>
    private async Task<string> BlockHashAsync(ulong number, CancellationToken cancellationToken)
    {
        var block = await _baseRpc.GetBlockAsync(number, cancellationToken).ConfigureAwait(false);
        if (block is not { } found || found.GetProperty("hash").GetString() is not { Length: 66 } hash)
        {
            throw new InvalidOperationException($"the base chain returned no block {number}");
        }

        return hash.ToLowerInvariant();
    }

    private static SyncEventRecord Record(RollupEvent e, SyncEventKind kind, ulong? final, string? account, string? value) =>
        new(e.BlockNumber, e.BlockHash.ToLowerInvariant(), e.LogIndex, kind, final, account, value);

    /// <summary>keccak256(packed(accInputHash, keccak256(transactions), globalExitRoot, uint64 timestamp, address coinbase)).</summary>
    internal static byte[] NextAccInputHash(byte[] previous, SequencedBatchData batch, byte[] coinbase)
    {
        var packed = new byte[32 + 32 + 32 + 8 + 20];
        previous.CopyTo(packed, 0);
        Abi.Keccak(batch.Transactions).CopyTo(packed, 32);
        batch.GlobalExitRoot.CopyTo(packed, 64);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(packed.AsSpan(96, 8), batch.Timestamp);
        coinbase.CopyTo(packed, 104);
        return Abi.Keccak(packed);
    }

    private static string Hex(byte[] bytes) => HexData.Encode(bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sequence ({Init},{Final}] synced from block {Block} and handed to the generator")]
    private partial void LogSequenceSynced(ulong init, ulong final, ulong block);

    [LoggerMessage(Level = LogLevel.Error, Message = "REFUSING to prove sequence ({Init},{Final}]: {Reason}")]
    private partial void LogSequenceRefused(ulong init, ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sequence ending at {Final} lost to competition: {Reason}")]
    private partial void LogLost(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Waiting at the sequence ending at {Final}: {Reason}")]
    private partial void LogWaiting(ulong final, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "We were slashed for the sequence ending at {Final} (reason {Reason}, {Amount} wei)")]
    private partial void LogSlashed(ulong final, byte reason, string amount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sync step failed ({Error}): {Message}")]
    private partial void LogStepFailed(string error, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Sync resumes blocks {From}..{To} with what the last try read ({Reused} reads reused so far)")]
    private partial void LogResuming(ulong from, ulong to, int reused);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrying the sync in {DelayMs} ms")]
    private partial void LogRetrying(double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reorg: block {Block} is no longer {Hash} (now {Canonical}); rolled back to block {Fork}: {Sequences} sequences orphaned, {Discarded} discarded")]
    private partial void LogReorg(ulong block, string hash, string canonical, ulong fork, int sequences, int discarded);
}
