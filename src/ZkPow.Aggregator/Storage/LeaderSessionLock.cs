using Npgsql;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// A miner's leader session lock: a PostgreSQL session-level advisory lock (key: <c>hashtext('zkpow_leader')</c>,
/// <c>hashtext(miner)</c>) taken on a dedicated connection outside the pool, which stays open for as long as the lock is
/// held. The server releases the lock the moment that connection's session ends (the process died, the connection was cut
/// or terminated), so a replica that gets the lock while the lease row says its holder held it knows that holder's session
/// is gone (<see cref="PostgresStore.AcquireLeaseAsync"/>). Used by one loop at a time (one connection, no concurrent
/// commands).
/// </summary>
public sealed class LeaderSessionLock : IAsyncDisposable
{
    private const string Key = "hashtext('zkpow_leader'), hashtext(@m)";
    private readonly NpgsqlDataSource _unpooled;
    private NpgsqlConnection? _connection;

    internal LeaderSessionLock(NpgsqlDataSource unpooled, string miner)
    {
        _unpooled = unpooled;
        Miner = miner.ToLowerInvariant();
    }

    public string Miner { get; }

    /// <summary>True while this session holds the lock (as far as this process knows: a cut connection is noticed at its next use).</summary>
    public bool Held { get; private set; }

    /// <summary>The server process id of the dedicated connection, or null while none is open (for tests).</summary>
    public int? BackendPid => _connection?.ProcessID;

    /// <summary>The connection that holds the lock, or null while it is not held.</summary>
    internal NpgsqlConnection? Connection => Held ? _connection : null;

    /// <summary>Takes the lock unless another session holds it (opens the connection if needed); true if held afterwards.</summary>
    public async Task<bool> TryLockAsync(CancellationToken cancellationToken)
    {
        if (Held)
        {
            return true;
        }

        try
        {
            if (_connection is null)
            {
                _connection = await _unpooled.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var command = PostgresStore.Command(_connection, null, $"SELECT pg_try_advisory_lock({Key});");
            command.Parameters.AddWithValue("@m", Miner);
            Held = (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            return Held;
        }
        catch
        {
            // The lock's state is unknown: closing the session releases it if the server still has it.
            await CloseAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Releases the lock (keeps the connection for the next attempt); on a failure closes the connection, which
    /// releases it too.</summary>
    public async Task UnlockAsync(CancellationToken cancellationToken)
    {
        if (!Held || _connection is null)
        {
            return;
        }

        Held = false;
        try
        {
            await using var command = PostgresStore.Command(_connection, null, "SELECT pg_advisory_unlock_all();");
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or OperationCanceledException or TimeoutException or IOException)
        {
            await CloseAsync().ConfigureAwait(false);
        }
    }

    /// <summary>True if the lock's connection is no longer open (after a command on it failed): the session, and the lock, is gone.</summary>
    internal bool IsBroken => _connection is not { State: System.Data.ConnectionState.Open };

    /// <summary>Closes the connection: the server releases the lock.</summary>
    public async Task CloseAsync()
    {
        Held = false;
        var connection = Interlocked.Exchange(ref _connection, null);
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => new(CloseAsync());
}
