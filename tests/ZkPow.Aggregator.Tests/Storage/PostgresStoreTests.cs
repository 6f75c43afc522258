using System.Collections.Concurrent;
using System.Numerics;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Generator;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>The store's contract on PostgreSQL, and what several processes sharing one database rely on: two stores
/// (two connection pools) on one database stand for two aggregator processes.</summary>
public sealed class PostgresStoreTests() : StoreTests(new PostgresTarget())
{
    private const string Sender = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
    private const string To = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";

    protected override async Task AssertDurableAsync(IAggregatorStore store)
    {
        var postgres = (PostgresStore)store;
        Assert.Equal("on", await postgres.ShowAsync("synchronous_commit", None));
        var cluster = await PostgresCluster.SharedAsync();
        Assert.Equal(cluster.Durable ? "on" : "off", await postgres.ShowAsync("fsync", None));
    }

    [Fact]
    public async Task both_schemas_have_the_same_numbered_migrations()
    {
        Assert.Equal(Migrations.All.Select(m => (m.Version, m.Name)), PostgresMigrations.All.Select(m => (m.Version, m.Name)));
        await using var store = await Target.OpenAsync();
        Assert.Equal("bigint", (string)(await Target.QueryAsync(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'tasks' AND column_name = 'id';"))[0][0]!);
        Assert.Equal("bytea", (string)(await Target.QueryAsync(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'batches' AND column_name = 'prover_input';"))[0][0]!);
    }

    [Fact]
    public async Task two_processes_allocating_nonces_for_one_sender_hand_out_each_nonce_once_and_contiguously()
    {
        await using var first = await Target.OpenAsync();
        await using var second = await Target.OpenAsync();
        Assert.Equal(7UL, await first.ReconcileNonceAsync(Sender, 7, None));
        const int count = 60;
        var txs = new List<TxRecord>();
        for (var i = 0; i < count; i++)
        {
            txs.Add((await first.CreateTxAsync(new TxRequest($"k/{i}", "test", To, [(byte)i]), Sender, None)).Record);
        }

        var signedWith = new ConcurrentBag<ulong>();
        var results = await Task.WhenAll(txs.Select((tx, i) => Task.Run(() => (i % 2 == 0 ? first : second).StoreSignedAsync(tx.Id, Sender, nonce =>
        {
            signedWith.Add(nonce);
            return Signed(nonce, i);
        }, None))));

        var nonces = results.Select(r => r!.Nonce!.Value).Order().ToList();
        Assert.Equal(Enumerable.Range(7, count).Select(n => (ulong)n), nonces);
        Assert.Equal(8UL + count - 1, await second.ReconcileNonceAsync(Sender, 0, None));
        Assert.Equal(count, (await first.LoadOpenTxsAsync(Sender, None)).Count);
    }

    [Fact]
    public async Task two_processes_completing_the_two_siblings_at_once_create_their_parent_exactly_once()
    {
        await using var first = await Target.OpenAsync();
        await using var second = await Target.OpenAsync();
        const int sequences = 24;
        var p = StoreBuilder.Prover();
        var now = DateTimeOffset.UtcNow;
        var pairs = new List<(ProofTask Left, ProofTask Right)>();
        for (var s = 0; s < sequences; s++)
        {
            var tasks = await first.AddSequenceAsync(StoreBuilder.Sequence((ulong)s * 2, 2), None);
            foreach (var t in tasks)
            {
                Assert.True(await first.TryClaimAsync(t.Id, p, now, now.AddMinutes(10), None));
            }

            pairs.Add((tasks[0], tasks[1]));
        }

        // Each pair's two completions start together, one in each process: under READ COMMITTED neither would see the
        // other's uncommitted proof without the sequence's row lock, and the parent would never be created.
        var outcomes = await Task.WhenAll(pairs.Select(async pair =>
        {
            using var start = new SemaphoreSlim(0);
            var init = pair.Left.SequenceInit;
            var left = Task.Run(async () =>
            {
                await start.WaitAsync();
                return await first.CompleteAsync(pair.Left.Id, p, "l", AggregationTree.ParentOf(init, init + 2, init, init + 1), None);
            });
            var right = Task.Run(async () =>
            {
                await start.WaitAsync();
                return await second.CompleteAsync(pair.Right.Id, p, "r", AggregationTree.ParentOf(init, init + 2, init + 1, init + 2), None);
            });
            start.Release(2);
            return (await left, await right);
        }));

        foreach (var (left, right) in outcomes)
        {
            Assert.True(left.Accepted && right.Accepted);
            Assert.Single(new[] { left.Unlocked, right.Unlocked }, u => u is not null);
        }

        Assert.Equal(sequences, await Target.ScalarAsync("SELECT COUNT(*) FROM tasks WHERE kind = 1 AND state <> 4;"));
        var open = await second.LoadOpenTasksAsync(None);
        Assert.Equal(sequences, open.Count(t => t.Kind == TaskKind.Aggregate && t.State == TaskState.Ready));
    }

    [Fact]
    public async Task a_task_is_claimed_by_exactly_one_of_two_processes()
    {
        await using var first = await Target.OpenAsync();
        await using var second = await Target.OpenAsync();
        var tasks = await first.AddSequenceAsync(StoreBuilder.Sequence(0, 8), None);
        var now = DateTimeOffset.UtcNow;
        var claims = await Task.WhenAll(tasks.SelectMany(t => Enumerable.Range(0, 6).Select(i => Task.Run(async () =>
            (t.Id, Won: await (i % 2 == 0 ? first : second).TryClaimAsync(t.Id, StoreBuilder.Prover($"p{i}"), now, now.AddMinutes(1), None))))));
        Assert.All(claims.GroupBy(c => c.Id), g => Assert.Single(g, c => c.Won));
    }

    [Fact]
    public async Task a_claim_of_a_task_another_process_is_claiming_loses_at_once_instead_of_waiting()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        // Another process's claim in flight: its transaction holds the task's row lock.
        await using var other = new Npgsql.NpgsqlConnection(await ((PostgresTarget)Target).ConnectionStringAsync());
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var locking = new Npgsql.NpgsqlCommand($"SELECT id FROM tasks WHERE id = {task.Id} FOR UPDATE;", other, transaction))
        {
            await locking.ExecuteScalarAsync();
        }

        var now = DateTimeOffset.UtcNow;
        // Without SKIP LOCKED this claim would block until the other transaction ends (never, here): the bound fails it.
        Assert.False(await store.TryClaimAsync(task.Id, StoreBuilder.Prover("p1"), now, now.AddMinutes(1), None).WaitAsync(TimeSpan.FromSeconds(30)));
        await transaction.RollbackAsync();
        Assert.True(await store.TryClaimAsync(task.Id, StoreBuilder.Prover("p1"), now, now.AddMinutes(1), None));
    }

    [Fact]
    public async Task a_task_another_replica_adopted_is_given_back_only_by_that_replica_or_after_its_lease()
    {
        await using var first = (PostgresStore)await Target.OpenAsync();
        await using var second = (PostgresStore)await Target.OpenAsync();
        Assert.NotEqual(first.Owner, second.Owner);
        var task = (await first.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var prover = StoreBuilder.Prover("p1");
        var now = DateTimeOffset.UtcNow;
        Assert.True(await first.TryClaimAsync(task.Id, prover, now, now.AddMinutes(1), None));
        Assert.Equal(first.Owner, await Target.ScalarTextAsync($"SELECT owner FROM tasks WHERE id = {task.Id};"));

        // The prover dialled the second replica, which adopted the job: the first may no longer give the task back.
        Assert.True(await second.RecordJobAsync(task.Id, prover, "job-1", now.AddMinutes(1), None));
        Assert.Equal(second.Owner, await Target.ScalarTextAsync($"SELECT owner FROM tasks WHERE id = {task.Id};"));
        Assert.Null(await first.ReleaseAsync(task.Id, prover, ReleaseReason.Lost, "did not come back", 5, None));
        Assert.Single(await second.ListAssignedToAsync("p1", prover.Principal, None));
        Assert.Empty(await second.ListAssignedToAsync("p2", prover.Principal, None));

        // Nor may it while the lease lives, unless the prover instance that ran it has restarted (its jobs are gone).
        var restarted = await first.ReleaseAsync(task.Id, prover, ReleaseReason.Restarted, "prover restarted", 5, None);
        Assert.NotNull(restarted);
        Assert.True(await first.TryClaimAsync(task.Id, prover, now, now.AddMinutes(1), None));
        Assert.True(await second.RecordJobAsync(task.Id, prover, "job-2", now.AddMinutes(1), None));

        // Once the lease has expired, anyone may.
        await Target.QueryAsync($"UPDATE tasks SET lease_until_ms = 0 WHERE id = {task.Id} RETURNING id;");
        var released = await first.ReleaseAsync(task.Id, prover, ReleaseReason.Lost, "lease expired", 5, None);
        Assert.NotNull(released);
        Assert.Equal(TaskState.Ready, released.State);
        Assert.Null(await Target.ScalarTextAsync($"SELECT owner FROM tasks WHERE id = {task.Id};"));
    }

    [Fact]
    public async Task every_task_that_becomes_ready_or_is_taken_in_any_process_is_announced_to_the_others()
    {
        await using var first = await Target.OpenAsync();
        await using var second = (PostgresStore)await Target.OpenAsync();
        var announced = System.Threading.Channels.Channel.CreateUnbounded<long?>();
        using var stop = new CancellationTokenSource();
        var taken = System.Threading.Channels.Channel.CreateUnbounded<long>();
        var watch = second.WatchReadyTasksAsync(id => announced.Writer.TryWrite(id), id => taken.Writer.TryWrite(id),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, stop.Token);
        Assert.Null(await announced.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))); // the sweep after listening

        var tasks = await first.AddSequenceAsync(StoreBuilder.Sequence(0, 2), None);
        var ids = new HashSet<long>();
        while (ids.Count < 2)
        {
            if (await announced.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)) is { } id)
            {
                ids.Add(id);
            }
        }

        Assert.Equal(tasks.Select(t => t.Id).Order(), ids.Order());
        Assert.Equal(ids.Order(), (await second.LoadReadyTasksAsync(ids, None)).Select(t => t.Id).Order());

        // A claimed task is no longer ready; given back, it is announced again.
        var now = DateTimeOffset.UtcNow;
        var prover = StoreBuilder.Prover("p1");
        Assert.True(await first.TryClaimAsync(tasks[0].Id, prover, now, now.AddMinutes(1), None));
        // The claim is announced too, so that the other replicas drop the task from their queues.
        Assert.Equal(tasks[0].Id, await taken.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal([tasks[1].Id], (await second.LoadReadyTasksAsync(null, None)).Select(t => t.Id));
        Assert.NotNull(await first.ReleaseAsync(tasks[0].Id, prover, ReleaseReason.Failed, "failed", 5, None));
        long? again;
        do
        {
            again = await announced.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
        while (again is null);

        Assert.Equal(tasks[0].Id, again);
        await stop.CancelAsync();
        await watch.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task a_session_left_inside_a_transaction_is_ended_by_the_server_so_its_locks_cannot_stall_other_replicas()
    {
        await using var store = (PostgresStore)await Target.OpenAsync();
        Assert.Equal("10s", await store.ShowAsync("idle_in_transaction_session_timeout", None));
        // An operator's own setting in the connection string is kept.
        var own = PostgresStore.WithSessionTimeouts("Host=db;Database=zkpow;Options=-c idle_in_transaction_session_timeout=30000");
        Assert.Contains("idle_in_transaction_session_timeout=30000", own, StringComparison.Ordinal);
        Assert.DoesNotContain("=10000", own, StringComparison.Ordinal);
        Assert.Contains("-c statement_timeout=0 -c idle_in_transaction_session_timeout=10000",
            PostgresStore.WithSessionTimeouts("Host=db;Options=-c statement_timeout=0"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task leases_are_kept_in_the_database_clock()
    {
        await using var store = await Target.OpenAsync();
        var task = (await store.AddSequenceAsync(StoreBuilder.Sequence(0, 1), None))[0];
        var now = DateTimeOffset.UtcNow;
        Assert.True(await store.TryClaimAsync(task.Id, StoreBuilder.Prover(), now, now.AddMinutes(5), None));
        var (lease, dbNow) = ((long)(await Target.QueryAsync("SELECT lease_until_ms FROM tasks;"))[0][0]!,
            await Target.ScalarAsync($"SELECT {PostgresStore.DbNowMs};"));
        Assert.InRange(lease - dbNow, TimeSpan.FromMinutes(4).TotalMilliseconds, TimeSpan.FromMinutes(5).TotalMilliseconds);
        Assert.Empty(await store.ListExpiredLeasesAsync(DateTimeOffset.UtcNow, 10, None));
        Assert.Single(await store.ListExpiredLeasesAsync(DateTimeOffset.UtcNow.AddMinutes(6), 10, None));
    }

    [Fact]
    public async Task a_missing_connection_string_or_unknown_provider_is_refused_naming_the_key()
    {
        Assert.Equal("Store:ConnectionString",
            Assert.Throws<OptionsException>(new StoreOptions { Provider = "postgres" }.Validate).Key);
        Assert.Equal("Store:Provider", Assert.Throws<OptionsException>(new StoreOptions { Provider = "mysql" }.Validate).Key);
        var bad = Assert.Throws<OptionsException>(new StoreOptions { Provider = "postgres", ConnectionString = "Hots=x;Password=s3cret" }.Validate);
        Assert.Equal("Store:ConnectionString", bad.Key);
        Assert.DoesNotContain("s3cret", bad.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task an_unreachable_server_is_a_transient_failure_and_a_missing_database_a_definite_one()
    {
        var cluster = await PostgresCluster.SharedAsync();
        var missing = new StoreOptions { Provider = "postgres", ConnectionString = cluster.ConnectionString("no_such_database") };
        var definite = await Assert.ThrowsAnyAsync<Exception>(() => PostgresStore.OpenAsync(missing, TimeProvider.System, None));
        Assert.False(PostgresStore.IsTransient(definite), definite.ToString());
        Assert.Contains("no_such_database", definite.Message, StringComparison.Ordinal);

        int closedPort;
        using (var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            probe.Start();
            closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        }

        var down = new StoreOptions { Provider = "postgres", ConnectionString = $"Host=127.0.0.1;Port={closedPort};Username=postgres;Database=x;Timeout=5" };
        var transient = await Assert.ThrowsAnyAsync<Exception>(() => PostgresStore.OpenAsync(down, TimeProvider.System, None));
        Assert.True(PostgresStore.IsTransient(transient), transient.ToString());
        Assert.Equal($"x at 127.0.0.1:{closedPort}", PostgresStore.Describe(down.ConnectionString));
    }

    private static SignedTx Signed(ulong nonce, int i) =>
        new(nonce, 21_000, new TxFees(new BigInteger(2_000_000_000), new BigInteger(1_000_000_000), false), [(byte)i, (byte)nonce], $"0x{i:x4}{nonce:x60}");
}
