using System.Data;
using Npgsql;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The leader lease of several replicas sharing one database: one <c>leader_leases</c> row per miner, taken or renewed
/// by one statement in the database's clock, and the fence every nonce allocation, replacement, cancel and broadcast
/// checks in its own transaction (<see cref="IFence"/>).
/// </summary>
public sealed partial class PostgresStore
{
    private volatile IFence? _fence;

    /// <summary>From now on, the fenced writes require the lease <paramref name="fence"/> describes (null: no fence).</summary>
    public void UseFence(IFence? fence) => _fence = fence;

    /// <summary>
    /// In one transaction, checks that this replica's lease is still the current one (same holder and token, not expired
    /// in the database's clock); throws <see cref="FencedException"/> otherwise. Called right before a broadcast.
    /// </summary>
    public Task CheckFenceAsync(CancellationToken cancellationToken) =>
        _fence is null ? Task.CompletedTask : WriteAsync(async (connection, transaction) =>
        {
            await FenceAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            return 0;
        }, cancellationToken);

    /// <summary>
    /// Inside a write: share-locks the miner's lease row if it still names our holder and token and has not expired,
    /// so that no other replica can take the lease before this transaction ends; throws <see cref="FencedException"/>
    /// (the caller's transaction is rolled back) otherwise. No fence set: nothing to check (one process).
    /// </summary>
    private async Task FenceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (_fence is not { } fence)
        {
            return;
        }

        if (fence.Token is not { } token)
        {
            throw new FencedException($"replica '{fence.Holder}' does not hold the leader lease of {fence.Miner}");
        }

        await using var check = Command(connection, transaction, """
            SELECT 1 FROM leader_leases WHERE miner = @m AND holder = @h AND token = @t AND expires_at > clock_timestamp() FOR SHARE;
            """);
        Bind(check, "@m", fence.Miner);
        Bind(check, "@h", fence.Holder);
        Bind(check, "@t", token);
        if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
        {
            throw new FencedException($"replica '{fence.Holder}' lost the leader lease of {fence.Miner} (token {token} is no longer current)");
        }
    }

    /// <summary>
    /// One statement: takes the lease of <paramref name="miner"/> for <paramref name="holder"/> if nobody holds it or it
    /// has expired (a new fencing token), or renews it if <paramref name="holder"/> holds it with <paramref name="token"/>
    /// and it has not expired; either way it then ends <paramref name="leaseTime"/> from the database's clock. Returns the
    /// row afterwards, with <see cref="LeaderLeaseRow.Held"/> false if another replica holds it.
    /// <para>With <paramref name="session"/> held, the statement runs on the lock's own connection (so it runs only while
    /// that session, and with it the lock, is alive) and records that the holder holds the lock; it then also takes the
    /// lease before its expiry (<see cref="LeaderLeaseRow.Forced"/>, a new fencing token) from a holder that held the lock
    /// when it last renewed: that holder's session has ended, since this one has the lock now. A lease taken or renewed
    /// without the lock is never taken that way (its holder may be alive while a paused former leader still held the
    /// lock), only at its expiry. If the lock's connection turns out to be gone, the statement runs on a pooled
    /// connection without the lock instead.</para>
    /// </summary>
    public async Task<LeaderLeaseRow> AcquireLeaseAsync(string miner, string holder, long? token, TimeSpan leaseTime, CancellationToken cancellationToken,
        LeaderSessionLock? session = null)
    {
        if (session?.Connection is { } locked)
        {
            try
            {
                await using var transaction = await locked.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
                var row = await AcquireLeaseAsync(locked, transaction, miner, holder, token, leaseTime, true, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return row;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException or IOException && session.IsBroken)
            {
                // The session (and the lock) is gone: renew or take without it, as a replica without the lock does.
                await session.CloseAsync().ConfigureAwait(false);
            }
        }

        return await WriteAsync((connection, transaction) => AcquireLeaseAsync(connection, transaction, miner, holder, token, leaseTime, false, cancellationToken),
            cancellationToken).ConfigureAwait(false);
    }

    private static async Task<LeaderLeaseRow> AcquireLeaseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string miner, string holder, long? token,
        TimeSpan leaseTime, bool locked, CancellationToken cancellationToken)
    {
        // "forced": the row is another holder's (or an earlier term's), live, and was renewed under the session lock we hold now.
        await using (var acquire = Command(connection, transaction, """
            WITH before AS (SELECT holder, token, expires_at > clock_timestamp() AS live FROM leader_leases WHERE miner = @m)
            INSERT INTO leader_leases AS l (miner, holder, token, expires_at, renewed_at, session_locked)
            VALUES (@m, @h, 1, clock_timestamp() + @ms * interval '1 millisecond', clock_timestamp(), @locked)
            ON CONFLICT (miner) DO UPDATE SET
                token = CASE WHEN l.holder = @h AND l.token = @t AND l.expires_at > clock_timestamp() THEN l.token ELSE l.token + 1 END,
                holder = @h,
                expires_at = clock_timestamp() + @ms * interval '1 millisecond',
                renewed_at = clock_timestamp(),
                session_locked = @locked
            WHERE (l.holder = @h AND l.token = @t AND l.expires_at > clock_timestamp()) OR l.expires_at <= clock_timestamp()
                OR (@locked AND l.session_locked)
            RETURNING l.holder, l.token, l.expires_at,
                COALESCE((SELECT b.live AND NOT (b.holder = @h AND b.token = @t) FROM before b), false);
            """))
        {
            Bind(acquire, "@m", miner);
            Bind(acquire, "@h", holder);
            Bind(acquire, "@t", token ?? -1L);
            Bind(acquire, "@ms", (double)leaseTime.TotalMilliseconds);
            Bind(acquire, "@locked", locked);
            await using var reader = await acquire.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return new LeaderLeaseRow(true, reader.GetString(0), reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetBoolean(3));
            }
        }

        await using var current = Command(connection, transaction, "SELECT holder, token, expires_at FROM leader_leases WHERE miner = @m;");
        Bind(current, "@m", miner);
        await using var row = await current.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await row.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new LeaderLeaseRow(false, row.GetString(0), row.GetInt64(1), row.GetFieldValue<DateTimeOffset>(2))
            : throw new InvalidOperationException($"the leader lease of {miner} was neither taken nor found");
    }

    /// <summary>A new (not yet taken) session lock of <paramref name="miner"/> on a connection of its own; the caller disposes it.</summary>
    public LeaderSessionLock CreateSessionLock(string miner) => new(_unpooled, miner);

    /// <summary>Ends the lease now if <paramref name="holder"/> still holds it with <paramref name="token"/> (a planned
    /// stop: a standby takes over at its next attempt instead of waiting for the expiry).</summary>
    public Task<bool> ReleaseLeaseAsync(string miner, string holder, long token, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var release = Command(connection, transaction, """
                UPDATE leader_leases SET expires_at = clock_timestamp() WHERE miner = @m AND holder = @h AND token = @t AND expires_at > clock_timestamp();
                """);
            Bind(release, "@m", miner);
            Bind(release, "@h", holder);
            Bind(release, "@t", token);
            return await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }, cancellationToken);

    /// <summary>Records that replica <paramref name="replicaId"/> of <paramref name="miner"/> is alive, in
    /// <paramref name="role"/> (with <paramref name="token"/> while it leads), with the names of the provers connected to it.</summary>
    public Task HeartbeatAsync(string miner, string replicaId, string role, long? token, DateTimeOffset startedAt, CancellationToken cancellationToken,
        IReadOnlyList<string>? provers = null) =>
        WriteAsync(async (connection, transaction) =>
        {
            await using var upsert = Command(connection, transaction, """
                INSERT INTO replicas (miner, replica_id, role, token, started_at, last_seen, provers)
                VALUES (@m, @r, @role, @t, @s, clock_timestamp(), @p)
                ON CONFLICT (miner, replica_id) DO UPDATE SET role = @role, token = COALESCE(@t, replicas.token), last_seen = clock_timestamp(),
                    provers = @p;
                """);
            Bind(upsert, "@p", string.Join(',', provers ?? []));
            Bind(upsert, "@m", miner);
            Bind(upsert, "@r", replicaId);
            Bind(upsert, "@role", role);
            Bind(upsert, "@t", token);
            Bind(upsert, "@s", startedAt);
            return await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>The replicas of <paramref name="miner"/> seen within <paramref name="within"/>, the leader first, then by id.</summary>
    public async Task<IReadOnlyList<ReplicaRecord>> ListReplicasAsync(string miner, TimeSpan within, CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT r.replica_id, r.role, (l.holder IS NOT NULL) AS leader, r.token, r.started_at, r.last_seen,
                   extract(epoch from clock_timestamp() - r.last_seen)::float8, r.provers
            FROM replicas r
            LEFT JOIN leader_leases l ON l.miner = r.miner AND l.holder = r.replica_id AND l.expires_at > clock_timestamp()
            WHERE r.miner = @m AND r.last_seen > clock_timestamp() - @ms * interval '1 millisecond'
            ORDER BY leader DESC, r.replica_id;
            """);
        Bind(command, "@m", miner);
        Bind(command, "@ms", within.TotalMilliseconds);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var replicas = new List<ReplicaRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            replicas.Add(new ReplicaRecord(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2), reader.IsDBNull(3) ? null : reader.GetInt64(3),
                reader.GetFieldValue<DateTimeOffset>(4), reader.GetFieldValue<DateTimeOffset>(5), Math.Round(reader.GetDouble(6), 1))
            {
                Provers = reader.GetString(7).Split(',', StringSplitOptions.RemoveEmptyEntries),
            });
        }

        return replicas;
    }

    /// <summary>A dedicated connection (outside the pool's transactions) for <c>LISTEN</c>; the caller disposes it.</summary>
    public Task<NpgsqlConnection> OpenListenerAsync(CancellationToken cancellationToken) =>
        _dataSource.OpenConnectionAsync(cancellationToken).AsTask();
}
