using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Protocol;
using ZkPow.Aggregator.Storage;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Bench;

/// <summary>The two limits a run lives under, measured in the same run with the same number of provers.</summary>
public sealed partial class GeneratorBenchmark
{
    /// <summary>
    /// R: request→response pairs per second over loopback gRPC between the aggregator's prover sessions and the same
    /// number of mock provers (zero latency), every prover kept busy at once as in the real run, with no scheduler or
    /// store behind them: each session runs batch jobs (a Gen request and a GetProof) back to back.
    /// </summary>
    private async Task<double> MeasureRoundTripsAsync(IReadOnlyList<SequenceInput> sequences, int provers, CancellationToken cancellationToken)
    {
        var requests = sequences.SelectMany(s => s.Batches).Take(4096)
            .Select(b => new AggregatorMessage { GenBatchProofRequest = new GenBatchProofRequest { Input = InputProver.Parser.ParseFrom(b.ProverInput) } })
            .ToArray();
        var observer = new RoundTripObserver(requests);
        await using var server = await ProverServer.StartAsync(ServerOptions(provers, 0), new ProverSessionOptions(), observer,
            loggers, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        var mocks = new List<MockProver>();
        try
        {
            for (var i = 0; i < provers; i++)
            {
                var prover = new MockProver(new MockProverOptions
                {
                    Aggregator = server.Address,
                    Name = $"limit-{i:D3}",
                    ReconnectDelay = TimeSpan.FromMilliseconds(200),
                }, TimeProvider.System);
                mocks.Add(prover);
                _ = prover.RunAsync(cancellationToken);
            }

            await WaitAsync(() => observer.Connected >= provers, $"{provers} provers to connect for the round-trip limit", cancellationToken)
                .ConfigureAwait(false);
            await Task.Delay(options.LimitWindow / 4, cancellationToken).ConfigureAwait(false); // warm-up
            var (pairs, elapsed) = await observer.MeasureAsync(options.LimitWindow, cancellationToken).ConfigureAwait(false);
            return pairs / elapsed.TotalSeconds;
        }
        finally
        {
            await observer.StopAsync().ConfigureAwait(false);
            foreach (var prover in mocks)
            {
                await prover.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>W on SQLite: a store of its own on <paramref name="dbPath"/>, same synchronous setting and group commit.</summary>
    private async Task<double> MeasureSqliteStoreAsync(IReadOnlyList<SequenceInput> sequences, string dbPath, int workers, string recursiveProof,
        CancellationToken cancellationToken)
    {
        await using var store = await SqliteStore.OpenAsync(
            new StoreOptions { SqlitePath = dbPath, SqliteSynchronous = options.SqliteSynchronous }, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        return await MeasureStoreAsync(sequences, [store], workers, recursiveProof, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// W: durable task completions per second of the same rows through the same store kind (same synchronous setting,
    /// same group commit; with PostgreSQL as many stores, each with its own pool, as the run has replicas), with no gRPC:
    /// as many workers as provers (worker i on store i mod N) claim each ready task, read its input, record a job id and
    /// store a proof of the mock provers' size, exactly the writes the generator makes per task. The sequences are added
    /// through the first store.
    /// </summary>
    private static async Task<double> MeasureStoreAsync(IReadOnlyList<SequenceInput> sequences, IReadOnlyList<IAggregatorStore> stores, int workers,
        string recursiveProof, CancellationToken cancellationToken)
    {
        var ready = Channel.CreateUnbounded<ProofTask>();
        var total = 0;
        foreach (var sequence in sequences)
        {
            foreach (var task in await stores[0].AddSequenceAsync(sequence, cancellationToken).ConfigureAwait(false))
            {
                ready.Writer.TryWrite(task);
            }

            total += 2 * sequence.Batches.Count;
        }

        var finalProof = "0x" + new string('a', 2 * 768);
        var done = 0;
        var started = Stopwatch.GetTimestamp();
        async Task WorkAsync(int worker)
        {
            var prover = new ProverRef($"store-{worker:D3}", "limit");
            var store = stores[worker % stores.Count];
            await foreach (var task in ready.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = DateTimeOffset.UtcNow;
                var claim = store.TryClaimAsync(task.Id, prover, now, now.AddSeconds(30), CancellationToken.None);
                // A shared store (PostgreSQL) runs the writes on pooled connections side by side, not in one writer's order:
                // as the generator does there, the claim is durable before anything else, and the job id before the proof
                // (which in a run comes after at least one more round trip).
                if (task.Kind == TaskKind.Final || store.Shared)
                {
                    await claim.ConfigureAwait(false);
                }

                if (task.Kind == TaskKind.Batch)
                {
                    await store.GetBatchInputAsync(task.ToBatch, cancellationToken).ConfigureAwait(false);
                }

                var job = store.RecordJobAsync(task.Id, prover, Guid.NewGuid().ToString(), now.AddSeconds(30), CancellationToken.None);
                if (task.Kind == TaskKind.Final || store.Shared)
                {
                    await job.ConfigureAwait(false);
                }

                if (task.Kind == TaskKind.Final)
                {
                    await store.CompleteFinalAsync(task.Id, prover, new FinalProofRecord
                    {
                        InitBatch = task.FromBatch,
                        FinalBatch = task.ToBatch,
                        Proof = finalProof,
                        AggregatorAddress = MinerAddress,
                        NewStateRoot = new byte[32],
                        NewAccInputHash = new byte[32],
                        NewLocalExitRoot = new byte[32],
                        ProverName = prover.Name,
                        CreatedAt = now,
                    }, CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    var parent = AggregationTree.ParentOf(task.SequenceInit, task.Sequence, task.FromBatch, task.ToBatch);
                    var result = await store.CompleteAsync(task.Id, prover, recursiveProof, parent, CancellationToken.None).ConfigureAwait(false);
                    if (result.Unlocked is { } next)
                    {
                        ready.Writer.TryWrite(next);
                    }
                }

                if (Interlocked.Increment(ref done) >= total)
                {
                    ready.Writer.TryComplete();
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkAsync(w), cancellationToken))).ConfigureAwait(false);
        return done / Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    private static async Task WaitAsync(Func<bool> condition, string what, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.StartNew();
        while (!condition())
        {
            if (wait.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"timed out after 60 s waiting for {what}");
            }

            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs batch jobs back to back on every connected session and counts the request→response pairs.</summary>
    private sealed class RoundTripObserver(AggregatorMessage[] requests) : IProverSessionObserver
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _gate = new();
        private readonly List<ProverSession> _sessions = [];
        private readonly List<Task> _loops = [];

        public int Connected
        {
            get
            {
                lock (_gate)
                {
                    return _sessions.Count;
                }
            }
        }

        public void OnConnected(ProverSession session)
        {
            lock (_gate)
            {
                _sessions.Add(session);
                _loops.Add(Task.Run(() => LoopAsync(session)));
            }
        }

        public void OnDisconnected(ProverSession session, string reason)
        {
        }

        public async Task<(long Pairs, TimeSpan Elapsed)> MeasureAsync(TimeSpan window, CancellationToken cancellationToken)
        {
            ProverSession[] sessions;
            lock (_gate)
            {
                sessions = [.. _sessions];
            }

            var before = sessions.Sum(s => s.RequestCount);
            var started = Stopwatch.GetTimestamp();
            await Task.Delay(window, cancellationToken).ConfigureAwait(false);
            var after = sessions.Sum(s => s.RequestCount);
            return (after - before, Stopwatch.GetElapsedTime(started));
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            Task[] loops;
            lock (_gate)
            {
                loops = [.. _loops];
            }

            await Task.WhenAll(loops).ConfigureAwait(false);
            _stop.Dispose();
        }

        private async Task LoopAsync(ProverSession session)
        {
            var i = 0;
            try
            {
                while (!_stop.IsCancellationRequested && !session.IsClosed)
                {
                    var request = requests[i++ % requests.Length].Clone();
                    await session.RunJobAsync(TaskKind.Batch, request, null, null, _stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
