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
