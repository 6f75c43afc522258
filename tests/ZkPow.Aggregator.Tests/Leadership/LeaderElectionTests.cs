using System.Numerics;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Leadership;
using ZkPow.Aggregator.Storage;
using ZkPow.Aggregator.Tests.Storage;

namespace ZkPow.Aggregator.Tests.Leadership;

/// <summary>
/// The leader lease and the fence on a real PostgreSQL database (<see cref="PostgresCluster"/>): two stores (two
/// connection pools) with an election each stand for two replicas of one miner.
/// </summary>
public sealed class LeaderElectionTests : IDisposable
{
    private const string Miner = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    private const string To = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    /// <summary>Short enough for a test, long enough for a loaded machine: renew every 150 ms, lease 1 s.</summary>
    private static readonly LeaderOptions Fast = new() { RenewInterval = TimeSpan.FromMilliseconds(150), LeaseTime = TimeSpan.FromSeconds(1) };

    private readonly PostgresTarget _target = new();

    public void Dispose() => _target.Dispose();

    private static LeaderElection Election(PostgresStore store, string id) =>
        new(store, Miner, id, Fast, NullLogger<LeaderElection>.Instance, TimeProvider.System);

    [Fact]
    public async Task two_replicas_elect_exactly_one_leader_and_the_other_takes_over_with_a_higher_token_when_it_stops_renewing()
    {
        await using var storeA = (PostgresStore)await _target.OpenAsync();
        await using var storeB = (PostgresStore)await _target.OpenAsync();
        var a = Election(storeA, "replica-a");
        await using var b = Election(storeB, "replica-b");
        a.Start();
        b.Start();

        var first = await Task.WhenAny(a.WaitForTermAsync(None), b.WaitForTermAsync(None)).WaitAsync(Bound);
        var term1 = await first;
        var (leader, standby) = a.IsLeader ? (a, b) : (b, a);
        // The standby has looked at the row at least twice since the leader took it, and found it held.
        var seen = standby.Attempts;
        await WaitUntilAsync(() => standby.Attempts >= seen + 2);
        Assert.True(leader.IsLeader);
        Assert.False(standby.IsLeader);
        Assert.Equal(leader.Holder, standby.LastSeenHolder);
        Assert.Equal(term1.Token, leader.Token);
        Assert.Equal(leader.Holder, (string)(await _target.QueryAsync("SELECT holder FROM leader_leases;"))[0][0]!);

        // The leader stops renewing as if its process had died: it steps down by its own clock, the standby takes over.
        var steppedDown = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        leader.SteppedDown += reason => steppedDown.TrySetResult(reason);
        await leader.AbandonAsync();
        var term2 = await standby.WaitForTermAsync(None).WaitAsync(Bound);
        // (Its own clock says 0.9 of the lease, the standby's database says 1.0: on a loaded machine the timer can fire
        // after the takeover, which the fencing token covers; the step-down is waited for, not raced.)
        Assert.Contains("not renewed in time", await steppedDown.Task.WaitAsync(Bound), StringComparison.Ordinal);
        Assert.True(term1.Ended.IsCancellationRequested);
        Assert.False(leader.IsLeader);
        Assert.True(term2.Token > term1.Token, $"token {term2.Token} after {term1.Token}");

        // The first replica comes back (a new process, a new election): it waits while the other leads, then takes the
        // lease released by a planned stop, with a higher token again.
        var againStore = leader == a ? storeA : storeB;
        await using var again = Election(againStore, leader.Holder);
        again.Start();
        await WaitUntilAsync(() => again.Attempts >= 2);
        Assert.False(again.IsLeader);
        await standby.DisposeAsync();
        Assert.True(term2.Ended.IsCancellationRequested);
        var term3 = await again.WaitForTermAsync(None).WaitAsync(Bound);
        Assert.True(term3.Token > term2.Token, $"token {term3.Token} after {term2.Token}");
        await a.DisposeAsync();
    }

    [Fact]
    public async Task a_standby_takes_over_with_the_next_token_as_soon_as_the_leaders_session_ends_long_before_its_lease_expires()
    {
        // A lease of 30 s: the takeover below must come from the session lock, not the expiry.
        var options = new LeaderOptions
        {
            RenewInterval = TimeSpan.FromMilliseconds(150),
            LeaseTime = TimeSpan.FromSeconds(30),
            SessionPollInterval = TimeSpan.FromMilliseconds(50),
        };
        await using var storeA = (PostgresStore)await _target.OpenAsync();
        await using var storeB = (PostgresStore)await _target.OpenAsync();
        var a = new LeaderElection(storeA, Miner, "replica-a", options, NullLogger<LeaderElection>.Instance, TimeProvider.System);
        var b = new LeaderElection(storeB, Miner, "replica-b", options, NullLogger<LeaderElection>.Instance, TimeProvider.System);
        a.Start();
        b.Start();
        var term1 = await (await Task.WhenAny(a.WaitForTermAsync(None), b.WaitForTermAsync(None)).WaitAsync(Bound));
        var (leader, standby, leaderStore, standbyStore) = a.IsLeader ? (a, b, storeA, storeB) : (b, a, storeB, storeA);
        Assert.Contains("expired or was free", leader.ElectedReason, StringComparison.Ordinal);

        // While the leader is alive it keeps its session lock and its term: the standby polls the lock in vain.
        await WaitUntilAsync(() => leader.HoldsSessionLock);
        var polls = standby.SessionPolls;
        var attempts = standby.Attempts;
        await WaitUntilAsync(() => standby.SessionPolls >= polls + 5 && standby.Attempts >= attempts + 2);
        Assert.True(leader.IsLeader);
        Assert.False(standby.IsLeader);
        Assert.False(standby.HoldsSessionLock);
        Assert.Equal(term1.Token, leader.Token);
        Assert.False(term1.Ended.IsCancellationRequested);
        var lease = await _target.QueryAsync("SELECT holder, token, expires_at, session_locked FROM leader_leases;");
        Assert.Equal([leader.Holder, term1.Token, true], new[] { lease[0][0], lease[0][1], lease[0][3] });
        var expiresAt = (DateTime)lease[0][2]!;

        // The leader's process dies: no more renewals, and the server ends its session (its connection is cut).
        await leader.AbandonAsync();
        var pid = leader.SessionBackendPid ?? throw new InvalidOperationException("the leader has no session lock connection");
        await _target.QueryAsync($"SELECT pg_terminate_backend({pid});");

        var term2 = await standby.WaitForTermAsync(None).WaitAsync(Bound);
        Assert.Equal(term1.Token + 1, term2.Token);
        Assert.Contains("the leader's session ended", standby.ElectedReason, StringComparison.Ordinal);
        // Taken in the database before the old lease's expiry (the old leader's own clock has not ended its term yet).
        var taken = await _target.QueryAsync("SELECT holder, token, renewed_at < @expires, session_locked FROM leader_leases;".Replace("@expires",
            $"'{expiresAt:yyyy-MM-dd HH:mm:ss.ffffff}+00'::timestamptz", StringComparison.Ordinal));
        Assert.Equal([standby.Holder, term2.Token, true, true], taken[0]);

        // Fencing is unchanged: the old leader's token is refused, the new one's accepted.
        leaderStore.UseFence(leader);
        await Assert.ThrowsAsync<FencedException>(() => leaderStore.CheckFenceAsync(None));
        standbyStore.UseFence(standby);
        await standbyStore.CheckFenceAsync(None);
        await standby.DisposeAsync();
        await leader.DisposeAsync();
    }

    [Fact]
    public async Task the_session_lock_takes_a_lease_before_its_expiry_only_from_a_holder_that_held_the_lock_and_whose_session_ended()
    {
        await using var storeA = (PostgresStore)await _target.OpenAsync();
        await using var storeB = (PostgresStore)await _target.OpenAsync();
        var miner = Miner.ToLowerInvariant();
        var lease = TimeSpan.FromMinutes(5);
        await using var lockA = storeA.CreateSessionLock(miner);
        await using var lockB = storeB.CreateSessionLock(miner);

        // A takes the lease without the lock (as a replica does while a paused former leader still holds it): B, with the
        // lock, does not take it before its expiry, since A may well be alive.
        var a1 = await storeA.AcquireLeaseAsync(miner, "replica-a", null, lease, None);
        Assert.True(a1.Held);
        Assert.True(await lockB.TryLockAsync(None));
        var refused = await storeB.AcquireLeaseAsync(miner, "replica-b", null, lease, None, lockB);
        Assert.Equal((false, "replica-a", a1.Token), (refused.Held, refused.Holder, refused.Token));

        // B lets go; A gets the lock and renews under it; B cannot get the lock, and without it takes nothing.
        Assert.False(await lockA.TryLockAsync(None));
        await lockB.UnlockAsync(None);
        Assert.True(await lockA.TryLockAsync(None));
        var a2 = await storeA.AcquireLeaseAsync(miner, "replica-a", a1.Token, lease, None, lockA);
        Assert.Equal((true, a1.Token, false), (a2.Held, a2.Token, a2.Forced));
        Assert.False(await lockB.TryLockAsync(None));
        Assert.False((await storeB.AcquireLeaseAsync(miner, "replica-b", null, lease, None, lockB)).Held);

        // A's session ends: B gets the lock and takes the live lease at once with the next token.
        await _target.QueryAsync($"SELECT pg_terminate_backend({lockA.BackendPid});");
        await WaitUntilAsync(() => lockB.TryLockAsync(None).GetAwaiter().GetResult());
        var b1 = await storeB.AcquireLeaseAsync(miner, "replica-b", null, lease, None, lockB);
        Assert.Equal((true, "replica-b", a1.Token + 1, true), (b1.Held, b1.Holder, b1.Token, b1.Forced));

        // A, alive, renews: its lock's connection is gone, so it renews without it, and is refused; its writes are fenced.
        var a3 = await storeA.AcquireLeaseAsync(miner, "replica-a", a1.Token, lease, None, lockA);
        Assert.Equal((false, "replica-b", b1.Token), (a3.Held, a3.Holder, a3.Token));
        Assert.False(lockA.Held);
        storeA.UseFence(new Fence(miner, "replica-a", a1.Token));
        await Assert.ThrowsAsync<FencedException>(() => storeA.CheckFenceAsync(None));
        // Nor can A take it back: B's session is alive and holds the lock.
        Assert.False(await lockA.TryLockAsync(None));
        Assert.False((await storeA.AcquireLeaseAsync(miner, "replica-a", null, lease, None, lockA)).Held);
    }

    [Fact]
    public async Task a_store_whose_token_is_stale_gets_its_nonce_allocation_replacement_cancel_and_broadcast_refused_and_changes_nothing()
    {
        await using var storeA = (PostgresStore)await _target.OpenAsync();
        await using var storeB = (PostgresStore)await _target.OpenAsync();
        var sender = Miner.ToLowerInvariant();
        await storeA.ReconcileNonceAsync(sender, 5, None);
        var signedTx = (await storeA.CreateTxAsync(new TxRequest("k/signed", "test", To, [1]), sender, None)).Record;
        var freshTx = (await storeA.CreateTxAsync(new TxRequest("k/fresh", "test", To, [2]), sender, None)).Record;

        // A leads with token 1 and signs one transaction under its fence.
        var lease1 = await storeA.AcquireLeaseAsync(sender, "replica-a", null, TimeSpan.FromMinutes(5), None);
        Assert.True(lease1.Held);
        storeA.UseFence(new Fence(sender, "replica-a", lease1.Token));
        var signed = await storeA.StoreSignedAsync(signedTx.Id, sender, n => Signed(n, 1), None);
        Assert.Equal(5UL, signed!.Nonce);
        await storeA.CheckFenceAsync(None);

        // The lease expires in the database (A paused past it) and B takes it: a new token.
        await _target.QueryAsync("UPDATE leader_leases SET expires_at = clock_timestamp() - interval '1 second';");
        var lease2 = await storeB.AcquireLeaseAsync(sender, "replica-b", null, TimeSpan.FromMinutes(5), None);
        Assert.True(lease2.Held);
        Assert.True(lease2.Token > lease1.Token);
        storeB.UseFence(new Fence(sender, "replica-b", lease2.Token));
        var before = await SnapshotAsync();

        // A, resuming with its stale token, allocates no nonce, replaces nothing, cancels nothing and may not broadcast.
        var signCalled = false;
        await Assert.ThrowsAsync<FencedException>(() => storeA.StoreSignedAsync(freshTx.Id, sender, n =>
        {
            signCalled = true;
            return Signed(n, 2);
        }, None));
        Assert.False(signCalled);
        await Assert.ThrowsAsync<FencedException>(() => storeA.StoreReplacementAsync(signedTx.Id, Signed(5, 3, fee: 9), None));
        await Assert.ThrowsAsync<FencedException>(() => storeA.StoreCancelAsync(signedTx.Id, Signed(5, 4, fee: 9), sender, None));
        await Assert.ThrowsAsync<FencedException>(() => storeA.TransitionTxAsync(signedTx.Id, [TxState.Signed],
            new TxChange(TxState.Sent) { Broadcast = true }, None));
        await Assert.ThrowsAsync<FencedException>(() => storeA.CheckFenceAsync(None));
        // A replica that does not lead (no token) is refused too.
        storeA.UseFence(new Fence(sender, "replica-a", null));
        await Assert.ThrowsAsync<FencedException>(() => storeA.CheckFenceAsync(None));
        Assert.Equal(before, await SnapshotAsync());

        // B, the current leader, takes the next nonce (6: A used none) and replaces A's transaction.
        var next = await storeB.StoreSignedAsync(freshTx.Id, sender, n => Signed(n, 2), None);
        Assert.Equal(6UL, next!.Nonce);
        Assert.NotNull(await storeB.StoreReplacementAsync(signedTx.Id, Signed(5, 3, fee: 9), None));
        await storeB.CheckFenceAsync(None);
    }

    [Fact]
    public async Task a_final_proof_stored_by_any_replica_is_notified_to_the_listener_of_its_miner_only()
    {
        await using var store = (PostgresStore)await _target.OpenAsync();
        var woken = System.Threading.Channels.Channel.CreateUnbounded<ulong?>();
        var listener = new FinalProofListener(store, Miner, b => woken.Writer.TryWrite(b), NullLogger<FinalProofListener>.Instance, TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var run = listener.RunAsync(stop.Token);
        // The first wake-up is the sweep after connecting (null); after it the listener listens.
        Assert.Null(await woken.Reader.ReadAsync().AsTask().WaitAsync(Bound));

        // Another replica (another connection) stores final proofs: one of another miner, then one of ours.
        foreach (var (final, miner) in new[] { (7UL, To), (9UL, Miner) })
        {
            await _target.QueryAsync($"""
                INSERT INTO sequences (final_batch, init_batch, state, created_ms) VALUES ({final}, {final}, 0, 0);
                INSERT INTO final_proofs (final_batch, init_batch, proof, aggregator_addr, new_state_root, new_acc_input_hash, new_local_exit_root, prover_name, created_ms)
                VALUES ({final}, {final}, 'p', '{miner}', '\x00'::bytea, '\x00'::bytea, '\x00'::bytea, 'prover', 0) RETURNING final_batch;
                """);
        }

        Assert.Equal(9UL, await woken.Reader.ReadAsync().AsTask().WaitAsync(Bound));
        Assert.Equal(1, listener.Received);
        await stop.CancelAsync();
        await run.WaitAsync(Bound);
    }

    [Fact]
    public void a_renew_interval_of_half_the_lease_time_or_more_is_refused_naming_the_key()
    {
        new LeaderOptions().Validate();
        var e = Assert.Throws<OptionsException>(new LeaderOptions { RenewInterval = TimeSpan.FromSeconds(3), LeaseTime = TimeSpan.FromSeconds(6) }.Validate);
        Assert.Equal("Leader:RenewInterval", e.Key);
        Assert.Contains("less than half of Leader:LeaseTime", e.Message, StringComparison.Ordinal);
        Assert.Equal("Replica:Id", Assert.Throws<OptionsException>(new ReplicaOptions { Id = " " }.Validate).Key);
        Assert.NotEqual(new ReplicaOptions().EffectiveId, new ReplicaOptions().EffectiveId);
    }

    /// <summary>Every row of the tables the fenced writes change, as text.</summary>
    private async Task<string> SnapshotAsync()
    {
        var rows = new List<string>();
        foreach (var sql in new[]
        {
            "SELECT sender, next_nonce FROM tx_senders ORDER BY sender;",
            "SELECT id, state, nonce, tx_hash, kind, replacements, sent_ms, updated_ms FROM txs ORDER BY id;",
            "SELECT tx_id, version, tx_hash FROM tx_versions ORDER BY tx_id, version;",
        })
        {
            rows.AddRange((await _target.QueryAsync(sql)).Select(r => string.Join('|', r.Select(v => v?.ToString() ?? "null"))));
        }

        return string.Join('\n', rows);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    private static SignedTx Signed(ulong nonce, int i, int fee = 2) =>
        new(nonce, 21_000, new TxFees(new BigInteger(fee) * 1_000_000_000, new BigInteger(1_000_000_000), false), [(byte)i, (byte)nonce],
            $"0x{i:x4}{nonce:x60}");

    private sealed record Fence(string Miner, string Holder, long? Token) : IFence;
}
