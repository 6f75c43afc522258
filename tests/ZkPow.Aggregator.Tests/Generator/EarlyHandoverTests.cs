using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Tests.Storage;
using ZkPow.Devnet.Proof;

namespace ZkPow.Aggregator.Tests.Generator;

/// <summary>A parent task (an aggregation or a final) is handed out once its input's proof has been applied by the SQLite
/// store, while that write commits; a write that then fails to commit takes the parent back.</summary>
public sealed class EarlyHandoverTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task an_aggregation_goes_to_a_prover_while_the_proof_that_unlocked_it_is_being_committed()
    {
        using var release = new ManualResetEventSlim();
        var unlocked = new TaskCompletionSource<ProofTask>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var h = await GeneratorHarness.StartAsync(wrapStore: store => new FaultyGeneratorStore(store)
        {
            // On the writer's thread, between applying the completion that unlocks the aggregation and committing it.
            AfterApplied = r =>
            {
                if (r.Unlocked is { Kind: TaskKind.Aggregate } parent && unlocked.TrySetResult(parent))
                {
                    release.Wait(Bound);
                }
            },
        });
        var provers = new[] { h.AddProver("p0"), h.AddProver("p1") };
        var sequence = await h.AddSequenceAsync(2);

        var aggregate = await unlocked.Task.WaitAsync(Bound);
        try
        {
            await GeneratorHarness.WaitUntilAsync(() => provers.Sum(p => p.Counters.AggregatedJobsStarted) >= 1, timeoutMs: 30_000,
                what: "the aggregation requested while the commit of its input is held");

            // Not durable yet: the store does not show the proof that unlocked the aggregation, nor the aggregation.
            var inputs = new[]
            {
                await h.Store.GetProofAsync(aggregate.Input1!.Value, CancellationToken.None),
                await h.Store.GetProofAsync(aggregate.Input2!.Value, CancellationToken.None),
            };
            Assert.True(inputs.Any(i => i is null), "both inputs of the aggregation were committed before it was requested");
            Assert.DoesNotContain(await h.Store.LoadOpenTasksAsync(CancellationToken.None), t => t.Id == aggregate.Id);
        }
        finally
        {
            release.Set();
        }

        await h.WaitForFinalsAsync(1);
        await AssertTheDevnetsFinalIsStoredAsync(h, sequence);
        Assert.Equal(1L, provers.Sum(p => p.Counters.AggregatedJobsStarted));
    }

    [Fact]
    public async Task a_parent_handed_out_before_its_input_failed_to_commit_is_taken_back_and_the_sequence_is_still_proved()
    {
        var (options, hook) = FailingFirstCommit(TaskKind.Aggregate);
        await using var h = await GeneratorHarness.StartAsync(options, wrapStore: hook.Wrap);
        var provers = new[] { h.AddProver("p0"), h.AddProver("p1") };
        var sequence = await h.AddSequenceAsync(2);

        var withdrawn = await hook.Unlocked.Task.WaitAsync(Bound);
        await h.WaitForFinalsAsync(1, timeoutMs: 60_000);

        Assert.NotNull(hook.Breaking);
        await Assert.ThrowsAnyAsync<Exception>(() => hook.Breaking!);
        await AssertTheDevnetsFinalIsStoredAsync(h, sequence);
        Assert.Single(h.Finals);

        // The batch whose proof was not committed (both, if they were in that group) was taken up again once its lease ran
        // out (its job polled again, or proved again), and the aggregation made then has an id of its own: no task ever
        // had the id of the one taken back.
        var sqlite = hook.Store!;
        Assert.Equal(2L, await ScalarAsync(sqlite, "SELECT COUNT(*) FROM tasks WHERE kind = 0 AND state = 2;"));
        Assert.Equal(0L, await ScalarAsync(sqlite, $"SELECT COUNT(*) FROM tasks WHERE id = {withdrawn.Id};"));
        Assert.Equal(1L, await ScalarAsync(sqlite, $"SELECT COUNT(*) FROM tasks WHERE kind = 1 AND state = 2 AND id > {withdrawn.Id};"));
    }

    [Fact]
    public async Task a_parent_queued_before_its_input_failed_to_commit_is_never_requested()
    {
        // One prover whose proofs (1.2 MB in memory) are past the bound of proofs not yet stored: after each job it waits
        // for the store, so the aggregation unlocked by its second batch is queued, not handed to it.
        var (options, hook) = FailingFirstCommit(TaskKind.Aggregate);
        options.MaxPendingOutcomeBytes = 1024 * 1024;
        await using var h = await GeneratorHarness.StartAsync(options, wrapStore: hook.Wrap);
        var prover = h.AddProver("p0", o => o.ProofBytes = 600_000);
        var sequence = await h.AddSequenceAsync(2);

        var withdrawn = await hook.Unlocked.Task.WaitAsync(Bound);
        await h.WaitForFinalsAsync(1, timeoutMs: 60_000);

        // Taken back before the prover was free: the only aggregation requested is the one made once the batch was stored.
        Assert.Equal(1L, prover.Counters.AggregatedJobsStarted);
        Assert.Equal(0L, await ScalarAsync(hook.Store!, $"SELECT COUNT(*) FROM tasks WHERE id = {withdrawn.Id};"));
        await AssertTheDevnetsFinalIsStoredAsync(h, sequence);
    }

    [Fact]
    public async Task a_final_unlocked_by_a_proof_that_failed_to_commit_is_requested_once_and_only_after_it_is_stored()
    {
        var (options, hook) = FailingFirstCommit(TaskKind.Final);
        await using var h = await GeneratorHarness.StartAsync(options, wrapStore: hook.Wrap);
        var provers = new[] { h.AddProver("p0"), h.AddProver("p1") };
        var sequence = await h.AddSequenceAsync(1);

        var withdrawn = await hook.Unlocked.Task.WaitAsync(Bound);
        await h.WaitForFinalsAsync(1, timeoutMs: 60_000);

        Assert.Equal(1, provers.Sum(p => p.Counters.FinalProofRequests(sequence.InitNumBatch, sequence.FinalNewBatch)));
        Assert.Single(h.Finals);
        Assert.Equal(0L, await ScalarAsync(hook.Store!, $"SELECT COUNT(*) FROM tasks WHERE id = {withdrawn.Id};"));
        await AssertTheDevnetsFinalIsStoredAsync(h, sequence);
    }

    /// <summary>Makes the commit of the first group that unlocks a task of <paramref name="kind"/> fail, with short leases so
    /// that the input whose proof was not stored is taken up again soon.</summary>
    private static (GeneratorOptions Options, BreakingHook Hook) FailingFirstCommit(TaskKind kind) =>
        (new GeneratorOptions { Lease = TimeSpan.FromSeconds(2), LeaseSweepInterval = TimeSpan.FromMilliseconds(200) }, new BreakingHook(kind));

    private sealed class BreakingHook(TaskKind kind)
    {
        public SqliteStore? Store { get; private set; }

        public TaskCompletionSource<ProofTask> Unlocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The write that made the commit fail (it fails with its group).</summary>
        public Task<int>? Breaking { get; private set; }

        public IGeneratorStore Wrap(IAggregatorStore store)
        {
            Store = (SqliteStore)store;
            return new FaultyGeneratorStore(store)
            {
                AfterApplied = r =>
                {
                    if (r.Unlocked is { } parent && parent.Kind == kind && Unlocked.TrySetResult(parent))
                    {
                        // Joins the group being applied (queued ahead) and makes its commit fail.
                        Breaking = Store.WriteAsync(SqliteFaults.FailTheCommit, ahead: true);
                    }
                },
            };
        }
    }

    /// <summary>The sequence's final proof is stored and is the devnet's proof of it for the miner.</summary>
    private static async Task AssertTheDevnetsFinalIsStoredAsync(GeneratorHarness h, DevnetSequence sequence)
    {
        var stored = await h.Store.GetFinalProofAsync(sequence.FinalNewBatch, CancellationToken.None);
        Assert.Equal(HexData.Encode(sequence.ToFinalProof(GeneratorHarness.Miner).Encode()), stored!.Proof, ignoreCase: true);
    }

    private static Task<long> ScalarAsync(SqliteStore store, string sql) =>
        store.WriteAsync((connection, transaction) => SqliteStore.Scalar<long>(connection, transaction, sql));
}
