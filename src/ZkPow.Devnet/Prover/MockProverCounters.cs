using System.Collections.Concurrent;

namespace ZkPow.Devnet.Prover;

/// <summary>In-process counters of one mock prover. Thread-safe; values only grow (they survive restarts).</summary>
public sealed class MockProverCounters
{
    private readonly ConcurrentDictionary<(ulong InitBatch, ulong FinalBatch), int> _finalRequests = new();
    private readonly ConcurrentDictionary<(ulong InitBatch, ulong FinalBatch), int> _finalCancels = new();
    private long _batchJobs;
    private long _aggregatedJobs;
    private long _finalJobs;
    private long _watchdogDrops;
    private long _connectionAttempts;
    private long _connections;
    private long _restarts;
    private long _protocolViolations;
    private long _getProofs;

    /// <summary>Batch proof jobs accepted (started) by the prover.</summary>
    public long BatchJobsStarted => Interlocked.Read(ref _batchJobs);

    /// <summary>Aggregated proof jobs accepted (started) by the prover.</summary>
    public long AggregatedJobsStarted => Interlocked.Read(ref _aggregatedJobs);

    /// <summary>Final proof jobs accepted (started) by the prover.</summary>
    public long FinalJobsStarted => Interlocked.Read(ref _finalJobs);

    /// <summary>GetProof requests answered.</summary>
    public long GetProofRequests => Interlocked.Read(ref _getProofs);

    /// <summary>Streams the prover dropped because it heard nothing from the aggregator for the watchdog time.</summary>
    public long WatchdogDrops => Interlocked.Read(ref _watchdogDrops);

    /// <summary>Times the prover opened a Channel call (successful or not).</summary>
    public long ConnectionAttempts => Interlocked.Read(ref _connectionAttempts);

    /// <summary>Channel streams on which the aggregator sent at least one message.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Restarts (on demand or by the ForgetJobs misbehaviour).</summary>
    public long Restarts => Interlocked.Read(ref _restarts);

    /// <summary>Requests with an empty request id or an empty job id (things that crash some real provers).</summary>
    public long ProtocolViolations => Interlocked.Read(ref _protocolViolations);

    /// <summary>Jobs accepted of one kind.</summary>
    public long JobsStarted(MockProofKind kind) => kind switch
    {
        MockProofKind.Batch => BatchJobsStarted,
        MockProofKind.Aggregated => AggregatedJobsStarted,
        MockProofKind.Final => FinalJobsStarted,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>How many final proofs were requested for the sequence initBatch → finalBatch.</summary>
    public int FinalProofRequests(ulong initBatch, ulong finalBatch) =>
        _finalRequests.TryGetValue((initBatch, finalBatch), out var count) ? count : 0;

    /// <summary>A snapshot of final proof requests per (initBatch, finalBatch).</summary>
    public IReadOnlyDictionary<(ulong InitBatch, ulong FinalBatch), int> FinalProofRequestsByRange() =>
        new Dictionary<(ulong InitBatch, ulong FinalBatch), int>(_finalRequests);

    internal void JobStarted(MockProofKind kind)
    {
        switch (kind)
        {
            case MockProofKind.Batch:
                Interlocked.Increment(ref _batchJobs);
                break;
            case MockProofKind.Aggregated:
                Interlocked.Increment(ref _aggregatedJobs);
                break;
            case MockProofKind.Final:
                Interlocked.Increment(ref _finalJobs);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    internal void FinalProofRequested(ulong initBatch, ulong finalBatch) =>
        _finalRequests.AddOrUpdate((initBatch, finalBatch), 1, static (_, count) => count + 1);

    /// <summary>A snapshot of the final proof jobs the aggregator cancelled (Cancel requests, for example for exceeding
    /// its maximum job time) per (initBatch, finalBatch).</summary>
    public IReadOnlyDictionary<(ulong InitBatch, ulong FinalBatch), int> FinalProofCancelsByRange() =>
        new Dictionary<(ulong InitBatch, ulong FinalBatch), int>(_finalCancels);

    internal void FinalProofCancelled(ulong initBatch, ulong finalBatch) =>
        _finalCancels.AddOrUpdate((initBatch, finalBatch), 1, static (_, count) => count + 1);

    internal void GetProofAnswered() => Interlocked.Increment(ref _getProofs);

    internal void WatchdogDropped() => Interlocked.Increment(ref _watchdogDrops);

    internal void ConnectionAttempted() => Interlocked.Increment(ref _connectionAttempts);

    internal void Connected() => Interlocked.Increment(ref _connections);

    internal void Restarted() => Interlocked.Increment(ref _restarts);

    internal void ProtocolViolated() => Interlocked.Increment(ref _protocolViolations);
}
