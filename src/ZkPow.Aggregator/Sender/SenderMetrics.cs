using System.Diagnostics.Metrics;
using System.Numerics;

namespace ZkPow.Aggregator.Sender;

/// <summary>The sender's instruments (meter <c>ZkPow.Aggregator.Sender</c>), plus in-process totals and samples that
/// tests, benchmarks and the status page read directly.</summary>
public sealed class SenderMetrics : IDisposable
{
    public const string MeterName = "ZkPow.Aggregator.Sender";

    private readonly Meter _meter;
    private readonly Counter<long> _hashTxs;
    private readonly Counter<long> _proofTxs;
    private readonly Counter<double> _rewards;
    private readonly long[] _slashesByReason = new long[3];
    private readonly Counter<long> _sequences;
    private readonly Counter<long> _rejectedProofs;
    private readonly Histogram<double> _hashLatency;
    private readonly Histogram<long> _revealDelay;
    private readonly Counter<long> _commitmentsSlashed;
    private readonly Counter<long> _cancels;
    private readonly Lock _gate = new();
    private readonly List<double> _hashLatencySamples = [];
    private readonly List<long> _revealDelaySamples = [];
    private readonly Dictionary<string, long> _outcomes = new(StringComparer.Ordinal);
    private BigInteger _rewardsWei;
    private BigInteger _slashedWei;
    private long _slashCount;
    private long _commitmentsSlashedCount;
    private long _cancelCount;
    private long _unrevealableCount;
    private int _commitmentsOpen;
    private long _blocksLeft = -1;

    public SenderMetrics(IMeterFactory? meters = null)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _hashTxs = _meter.CreateCounter<long>("hash_txs", description: "submitProofHash txs, by outcome");
        _proofTxs = _meter.CreateCounter<long>("proof_txs", description: "verifyBatches txs, by outcome");
        _rewards = _meter.CreateCounter<double>("rewards", "wei", "Rewards paid to us");
        // Observed, so that every reason is exported at 0 from the start and an alert's increase() sees the first slash.
        _meter.CreateObservableCounter("slashes", () => new[] { (byte)1, (byte)2 }.Select(reason => new Measurement<long>(
            Interlocked.Read(ref _slashesByReason[reason]), new KeyValuePair<string, object?>("reason", reason))),
            description: "Slashes of our stake, by reason (1 wrong reveal, 2 unrevealed)");
        _sequences = _meter.CreateCounter<long>("sequences", description: "Sequences by end state (revealed, lost, parked, resent)");
        // Observed, so that it is exported at 0 from the start and an alert's increase() sees the first one.
        _meter.CreateObservableCounter("commitments_unrevealable", () => Interlocked.Read(ref _unrevealableCount),
            description: "Commitments of ours whose round ended with no proof before our reveal (slashed at our next transaction)");
        _rejectedProofs = _meter.CreateCounter<long>("final_proofs_rejected", description: "Final proofs that failed the check before commit, by prover");
        _hashLatency = _meter.CreateHistogram<double>("hash_broadcast_latency", "ms", "Final proof stored to submitProofHash broadcast");
        _revealDelay = _meter.CreateHistogram<long>("reveal_delay", "blocks", "Proof window open (and predecessor verified) to reveal included");
        _commitmentsSlashed = _meter.CreateCounter<long>("commitments_slashed", description: "Commitments of ours recorded as slashed");
        _cancels = _meter.CreateCounter<long>("hash_tx_cancels", description: "Hash txs cancelled by a no-op replacement after a re-decision");
        _meter.CreateObservableGauge("commitments_open", () => Volatile.Read(ref _commitmentsOpen),
            description: "Commitments of ours on chain and not revealed yet");
        _meter.CreateObservableGauge("commitment_blocks_left", ObserveBlocksLeft, "blocks",
            "The fewest blocks left before the round end among our unrevealed commitments");
    }

    public BigInteger RewardsWei
    {
        get
        {
            lock (_gate)
            {
                return _rewardsWei;
            }
        }
    }

    public BigInteger SlashedWei
    {
        get
        {
            lock (_gate)
            {
                return _slashedWei;
            }
        }
    }

    public long Slashes => Interlocked.Read(ref _slashCount);

    /// <summary>Commitments of ours recorded as <see cref="SubmissionState.Slashed"/>.</summary>
    public long CommitmentsSlashed => Interlocked.Read(ref _commitmentsSlashedCount);

    /// <summary>Hash txs freed by a no-op replacement (a cancel).</summary>
    public long HashTxCancels => Interlocked.Read(ref _cancelCount);

    /// <summary>Commitments of ours on chain and not revealed yet (as last reported).</summary>
    public int CommitmentsOpen => Volatile.Read(ref _commitmentsOpen);

    /// <summary>The fewest blocks left before the round end among our unrevealed commitments; null when there is none.</summary>
    public long? CommitmentBlocksLeft => Interlocked.Read(ref _blocksLeft) is var left and >= 0 ? left : null;

    public IReadOnlyList<double> HashLatencySamples
    {
        get
        {
            lock (_gate)
            {
                return [.. _hashLatencySamples];
            }
        }
    }

    public IReadOnlyList<long> RevealDelaySamples
    {
        get
        {
            lock (_gate)
            {
                return [.. _revealDelaySamples];
            }
        }
    }

    /// <summary>Blocks a reveal takes these days: the largest of the last <paramref name="recent"/> reveal delays (window
    /// open and predecessor verified → reveal included), at least 1 (the delay when every call answers at once).</summary>
    public int RecentRevealBlocks(int recent = 8)
    {
        lock (_gate)
        {
            var from = Math.Max(0, _revealDelaySamples.Count - recent);
            long largest = 1;
            for (var i = from; i < _revealDelaySamples.Count; i++)
            {
                largest = Math.Max(largest, _revealDelaySamples[i]);
            }

            return (int)Math.Min(largest, 255);
        }
    }

    /// <summary>How many times <paramref name="counter"/>/<paramref name="outcome"/> was counted (for example <c>hash/sent</c>).</summary>
    public long Count(string counter, string outcome)
    {
        lock (_gate)
        {
            return _outcomes.GetValueOrDefault($"{counter}/{outcome}");
        }
    }

    internal void HashTx(string outcome)
    {
        _hashTxs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        Tally("hash", outcome);
    }

    internal void ProofTx(string outcome)
    {
        _proofTxs.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        Tally("proof", outcome);
    }

    internal void Sequence(string outcome)
    {
        _sequences.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == "unrevealable")
        {
            Interlocked.Increment(ref _unrevealableCount);
        }

        Tally("sequence", outcome);
    }

    internal void RejectedProof(string prover)
    {
        _rejectedProofs.Add(1, new KeyValuePair<string, object?>("prover", prover));
        Tally("rejected", prover);
    }

    internal void Reward(BigInteger wei)
    {
        _rewards.Add((double)wei);
        lock (_gate)
        {
            _rewardsWei += wei;
        }
    }

    internal void Slash(BigInteger wei, byte reason)
    {
        if (reason < _slashesByReason.Length)
        {
            Interlocked.Increment(ref _slashesByReason[reason]);
        }
        Interlocked.Increment(ref _slashCount);
        lock (_gate)
        {
            _slashedWei += wei;
        }
    }

    internal void HashBroadcast(double milliseconds)
    {
        _hashLatency.Record(milliseconds);
        lock (_gate)
        {
            _hashLatencySamples.Add(milliseconds);
        }
    }

    internal void RevealDelay(long blocks)
    {
        _revealDelay.Record(blocks);
        lock (_gate)
        {
            _revealDelaySamples.Add(blocks);
        }
    }

    internal void CommitmentSlashed()
    {
        _commitmentsSlashed.Add(1);
        Interlocked.Increment(ref _commitmentsSlashedCount);
        Tally("sequence", "slashed");
    }

    internal void HashTxCancelled()
    {
        _cancels.Add(1);
        Interlocked.Increment(ref _cancelCount);
    }

    /// <summary>Reports the open commitments and the fewest blocks left (null = none open).</summary>
    internal void OpenCommitments(int open, long? blocksLeft)
    {
        Volatile.Write(ref _commitmentsOpen, open);
        Interlocked.Exchange(ref _blocksLeft, blocksLeft is { } left ? Math.Max(0, left) : -1);
    }

    private IEnumerable<Measurement<long>> ObserveBlocksLeft()
    {
        var left = Interlocked.Read(ref _blocksLeft);
        return left >= 0 ? [new Measurement<long>(left)] : [];
    }

    private void Tally(string counter, string outcome)
    {
        lock (_gate)
        {
            var key = $"{counter}/{outcome}";
            _outcomes[key] = _outcomes.GetValueOrDefault(key) + 1;
        }
    }

    public void Dispose() => _meter.Dispose();
}
