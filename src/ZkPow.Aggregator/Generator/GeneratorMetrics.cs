using System.Diagnostics.Metrics;

namespace ZkPow.Aggregator.Generator;

/// <summary>The generator's instruments (meter <c>ZkPow.Aggregator.Generator</c>), plus in-process counters that the
/// benchmark and the status page read directly.</summary>
public sealed class GeneratorMetrics : IDisposable
{
    public const string MeterName = "ZkPow.Aggregator.Generator";

    private readonly Meter _meter;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _parked;
    private readonly Counter<long> _reproved;
    private readonly Counter<long> _backpressure;
    private readonly Counter<long> _claimsLost;
    private readonly Histogram<double> _dispatch;
    private readonly Histogram<double> _duration;
    private readonly Lock _gate = new();
    private readonly List<double> _dispatchSamples = [];
    private readonly List<DispatchRecord> _dispatchRecords = [];
    private readonly long[] _completedByKind = new long[3];
    private long _retries;
    private long _parks;
    private long _connectedProvers;
    private long _busyProvers;

    public GeneratorMetrics(IMeterFactory? meters = null)
    {
        _meter = meters?.Create(MeterName) ?? new Meter(MeterName);
        _completed = _meter.CreateCounter<long>("tasks_completed", description: "Proof tasks completed, by kind");
        _retried = _meter.CreateCounter<long>("tasks_retried", description: "Tasks given back after a failure or a lost job");
        _parked = _meter.CreateCounter<long>("tasks_parked", description: "Tasks parked for an operator");
        _reproved = _meter.CreateCounter<long>("ranges_reproved", description: "Ranges proved again because their inputs were suspect");
        _backpressure = _meter.CreateCounter<long>("outcome_backpressure",
            description: "Times a prover waited for the store to catch up before its next job (proofs not yet stored past Generator:MaxPendingOutcomeBytes)");
        _claimsLost = _meter.CreateCounter<long>("claims_lost",
            description: "Ready tasks this process picked whose claim another replica won first (no request was sent for them)");
        _dispatch = _meter.CreateHistogram<double>("dispatch_latency", "ms", "Ready task and idle prover to request written");
        _duration = _meter.CreateHistogram<double>("task_duration", "ms", "Request written to proof stored, by kind");
        _meter.CreateObservableGauge("provers_connected", () => Interlocked.Read(ref _connectedProvers), description: "Connected provers");
        _meter.CreateObservableGauge("provers_working", () => Interlocked.Read(ref _busyProvers), description: "Provers running a task of ours");
        _meter.CreateObservableGauge("provers_quarantined", () => QuarantinedProvers?.Invoke() ?? 0,
            description: "Provers that get no work for now: they failed too many jobs in a row");
    }

    /// <summary>Keeps a <see cref="DispatchRecord"/> per job request (benchmarks only: it grows with every job).</summary>
    public bool KeepDispatchRecords { get; set; }

    public long ConnectedProvers => Interlocked.Read(ref _connectedProvers);

    /// <summary>Reads the number of quarantined provers (set by the generator).</summary>
    internal Func<int>? QuarantinedProvers { get; set; }

    public long BusyProvers => Interlocked.Read(ref _busyProvers);

    public long Retries => Interlocked.Read(ref _retries);

    public long Parks => Interlocked.Read(ref _parks);

    public long Completed(TaskKind kind) => Interlocked.Read(ref _completedByKind[(int)kind]);

    public long CompletedTotal => Completed(TaskKind.Batch) + Completed(TaskKind.Aggregate) + Completed(TaskKind.Final);

    internal void ProverConnected(int delta) => Interlocked.Add(ref _connectedProvers, delta);

    internal void ProverBusy(int delta) => Interlocked.Add(ref _busyProvers, delta);

    internal void TaskCompleted(TaskKind kind, TimeSpan duration)
    {
        Interlocked.Increment(ref _completedByKind[(int)kind]);
        var tag = new KeyValuePair<string, object?>("kind", kind.ToString());
        _completed.Add(1, tag);
        _duration.Record(duration.TotalMilliseconds, tag);
    }

    internal void TaskRetried(TaskKind kind)
    {
        Interlocked.Increment(ref _retries);
        _retried.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString()));
    }

    internal void TaskParked(TaskKind kind)
    {
        Interlocked.Increment(ref _parks);
        _parked.Add(1, new KeyValuePair<string, object?>("kind", kind.ToString()));
    }

    internal void RangeReproved() => _reproved.Add(1);

    internal void OutcomeBackpressure()
    {
        Interlocked.Increment(ref _backpressureWaits);
        _backpressure.Add(1);
    }

    /// <summary>Times a prover waited for the store to catch up before its next job.</summary>
    public long BackpressureWaits => Interlocked.Read(ref _backpressureWaits);

    /// <summary>Claims lost to another replica (shared stores only).</summary>
    public long ClaimsLost => Interlocked.Read(ref _claimsLostCount);

    private long _claimsLostCount;

    internal void ClaimLost()
    {
        Interlocked.Increment(ref _claimsLostCount);
        _claimsLost.Add(1);
    }

    private long _backpressureWaits;

    internal void Dispatched(TimeSpan latency, ProofTask task, string prover, string requestId, long readyAt, long writtenAt, long answeredAt)
    {
        var ms = latency.TotalMilliseconds;
        _dispatch.Record(ms);
        lock (_gate)
        {
            if (_dispatchSamples.Count < 4_000_000)
            {
                _dispatchSamples.Add(ms);
            }

            if (KeepDispatchRecords)
            {
                _dispatchRecords.Add(new DispatchRecord(task, prover, requestId, readyAt, writtenAt, answeredAt));
            }
        }
    }

    /// <summary>A copy of the dispatch records kept so far.</summary>
    public DispatchRecord[] DispatchRecords()
    {
        lock (_gate)
        {
            return [.. _dispatchRecords];
        }
    }

    /// <summary>A copy of the dispatch latencies recorded so far, in milliseconds.</summary>
    public double[] DispatchSamples()
    {
        lock (_gate)
        {
            return [.. _dispatchSamples];
        }
    }

    public void Dispose() => _meter.Dispose();
}
