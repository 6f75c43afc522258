using System.Diagnostics.Metrics;

namespace ZkPow.Aggregator.Sync;

/// <summary>Counters of the rollup sync (meter <c>ZkPow.Aggregator.Sync</c>).</summary>
public sealed class SyncMetrics : IDisposable
{
    public const string MeterName = "ZkPow.Aggregator.Sync";

    private readonly Meter _meter;
    private readonly Counter<long> _synced;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _lost;
    private readonly Counter<long> _reorgs;
    private readonly Counter<long> _failures;
    private long _lag;
    private long _syncedTotal;
    private long _refusedTotal;
    private long _lostTotal;
    private long _reorgsTotal;
    private long _failuresTotal;

    public SyncMetrics(IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _synced = _meter.CreateCounter<long>("sequences_synced", description: "Sequences cross-checked and handed to the generator");
        _refused = _meter.CreateCounter<long>("sequences_refused", description: "Sequences refused: the rollup node, call data and contract disagree");
        _lost = _meter.CreateCounter<long>("sequences_lost", description: "Sequences verified by another miner before we committed");
        _reorgs = _meter.CreateCounter<long>("reorgs", description: "Reorgs of processed blocks detected and rolled back");
        _failures = _meter.CreateCounter<long>("rpc_failures", description: "Sync steps that failed on an RPC error");
        _meter.CreateObservableGauge("lag_blocks", () => Interlocked.Read(ref _lag), unit: "{block}",
            description: "Blocks between the chain's head and the last block processed");
    }

    public long SequencesSynced => Interlocked.Read(ref _syncedTotal);

    public long SequencesRefused => Interlocked.Read(ref _refusedTotal);

    public long SequencesLost => Interlocked.Read(ref _lostTotal);

    public long Reorgs => Interlocked.Read(ref _reorgsTotal);

    public long RpcFailures => Interlocked.Read(ref _failuresTotal);

    public long LagBlocks => Interlocked.Read(ref _lag);

    internal void Synced() => Add(_synced, ref _syncedTotal);

    internal void Refused() => Add(_refused, ref _refusedTotal);

    internal void Lost() => Add(_lost, ref _lostTotal);

    internal void Reorg() => Add(_reorgs, ref _reorgsTotal);

    internal void Failure() => Add(_failures, ref _failuresTotal);

    internal void Lag(ulong blocks) => Interlocked.Exchange(ref _lag, (long)Math.Min(blocks, long.MaxValue));

    public void Dispose() => _meter.Dispose();

    private static void Add(Counter<long> counter, ref long total)
    {
        counter.Add(1);
        Interlocked.Increment(ref total);
    }
}
