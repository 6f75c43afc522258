using System.Data;
using System.Globalization;
using Npgsql;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The store on PostgreSQL, for operators who keep their state in a database server (and, later, for several aggregator
/// processes sharing one database). Same tables and semantics as <see cref="SqliteStore"/>: every write the SQLite store
/// applies in one writer transaction is one PostgreSQL transaction (READ COMMITTED) on a pooled connection. Where the
/// SQLite store relies on its single writer, this store takes row locks: the sender's row of <c>tx_senders</c> while a
/// nonce is allocated, the sequence's row of <c>sequences</c> while a task of the sequence is completed or its tasks are
/// replaced. Task leases are kept in the database's clock.
/// </summary>
public sealed partial class PostgresStore : IAggregatorStore
{
    /// <summary>The database's clock in Unix milliseconds (the wall clock, not the transaction start).</summary>
    internal const string DbNowMs = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

    private const int MaxWriteAttempts = 5;
    private readonly NpgsqlDataSource _dataSource;

    /// <summary>Connections outside the pool (closing one ends its session), for the leader session lock.</summary>
    private readonly NpgsqlDataSource _unpooled;

    private readonly TimeProvider _time;

    /// <summary>This process among the replicas sharing the database: written as the owner of the tasks it claims or adopts.</summary>
    private readonly string _owner;

    private PostgresStore(NpgsqlDataSource dataSource, NpgsqlDataSource unpooled, TimeProvider time, string owner)
    {
        _dataSource = dataSource;
        _unpooled = unpooled;
        _time = time;
        _owner = owner;
    }

    /// <summary>The replica id this store writes as the owner of the tasks this process claims (<c>Replica:Id</c>).</summary>
    public string Owner => _owner;

    /// <summary>Connects to the database named by <see cref="StoreOptions.ConnectionString"/> and applies pending migrations.
    /// <paramref name="owner"/>: this process's replica id (default: one made up for this store).</summary>
    public static async Task<PostgresStore> OpenAsync(StoreOptions options, TimeProvider time, CancellationToken cancellationToken, string? owner = null)
    {
        options.Validate();
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new OptionsException("Store:ConnectionString", "must name the PostgreSQL database when Store:Provider is postgres");
        }

        // Npgsql's own logs stay off (it logs every command at Information); its failures reach the store's callers as
        // exceptions, which they log.
        var connectionString = WithSessionTimeouts(options.ConnectionString);
        var dataSource = new NpgsqlDataSourceBuilder(connectionString).Build();
        try
        {
            await ApplyMigrationsAsync(dataSource, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var unpooled = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString).Build();
        return new PostgresStore(dataSource, unpooled, time, owner ?? $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
    }

    /// <summary>How long the server lets a session of this store sit inside a transaction without a statement before it
    /// ends the session (releasing its row locks). The store's transactions run statement after statement; only a
    /// process that is paused (SIGSTOP, a VM frozen) or cut off mid-transaction stays that long, and without the limit its
    /// locks would stall every other replica's work on the same rows until it resumes.</summary>
    public static readonly TimeSpan IdleInTransactionTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Adds <c>idle_in_transaction_session_timeout</c> (<see cref="IdleInTransactionTimeout"/>) to the session
    /// options of <paramref name="connectionString"/>, unless it sets its own.</summary>
    internal static string WithSessionTimeouts(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.Options?.Contains("idle_in_transaction_session_timeout", StringComparison.Ordinal) != true)
        {
            var timeout = $"-c idle_in_transaction_session_timeout={(long)IdleInTransactionTimeout.TotalMilliseconds}";
            builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? timeout : $"{builder.Options} {timeout}";
        }

        return builder.ConnectionString;
    }

    /// <summary>The database a connection string names, for messages: <c>zkpow at db:5432</c> (never its password).</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return $"{builder.Database ?? builder.Username ?? "?"} at {builder.Host}:{builder.Port}";
    }

    /// <summary>Failures another attempt may not see: the server cannot be reached, is starting or shutting down, or
    /// the connection broke. A wrong password or a missing database is definite.</summary>
    public static bool IsTransient(Exception error) => error switch
    {
        PostgresException e => e.IsTransient || e.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown
            or PostgresErrorCodes.TooManyConnections,
        NpgsqlException e => e.IsTransient,
        TimeoutException or System.Net.Sockets.SocketException or IOException => true,
        _ => false,
    };

    /// <summary>The schema version of the database (the highest applied migration).</summary>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return (int)await ScalarAsync<long>(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;", cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>A setting of the server as <c>SHOW</c> reports it (for example <c>synchronous_commit</c>).</summary>
    public async Task<string> ShowAsync(string setting, CancellationToken cancellationToken)
    {
        if (!setting.All(c => char.IsAsciiLetterLower(c) || c == '_'))
        {
            throw new ArgumentException($"not a setting name: '{setting}'", nameof(setting));
        }

        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, $"SHOW {setting};");
        return (string)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task ApplyMigrationsAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        // Several processes may start at once on one database: one applies the migrations, the others wait and find them applied.
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            await using (var lockCommand = Command(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock});"))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var create = Command(connection, transaction, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    INTEGER PRIMARY KEY,
                    name       TEXT NOT NULL,
                    applied_ms BIGINT NOT NULL
                );
                """))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var current = await ScalarAsync<long>(connection, transaction, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;", cancellationToken)
                .ConfigureAwait(false);
            var latest = PostgresMigrations.All[^1].Version;
            if (current > latest)
            {
                throw new InvalidOperationException(
                    $"the database is at schema version {current}, newer than this build knows ({latest}); use a newer build");
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }

        // Each migration and its record commit together (PostgreSQL's DDL is transactional), under the lock.
        foreach (var migration in PostgresMigrations.All)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var lockCommand = Command(connection, transaction, $"SELECT pg_advisory_xact_lock({MigrationLock});"))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var applied = Command(connection, transaction, "SELECT COUNT(*) FROM schema_migrations WHERE version = @v;"))
            {
                Bind(applied, "@v", migration.Version);
                if ((long)(await applied.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! != 0)
                {
                    continue;
                }
            }

            await using (var apply = Command(connection, transaction, migration.Sql))
            {
                await apply.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var record = Command(connection, transaction,
                "INSERT INTO schema_migrations (version, name, applied_ms) VALUES (@v, @n, @t);"))
            {
                Bind(record, "@v", migration.Version);
                Bind(record, "@n", migration.Name);
                Bind(record, "@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The key of the advisory lock held while migrations are checked or applied ("zkpowmig" in ASCII).</summary>
    private const long MigrationLock = 0x7A6B706F776D6967;

    private Task<NpgsqlConnection> OpenReadAsync(CancellationToken cancellationToken) =>
        _dataSource.OpenConnectionAsync(cancellationToken).AsTask();

    /// <summary>
    /// Runs <paramref name="work"/> in one READ COMMITTED transaction on a pooled connection and commits it. A
    /// transaction the server aborted as a deadlock or serialization failure is run again from the start (a few times).
    /// </summary>
    private async Task<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                // Not cancelled half-way: once the work is done the commit's outcome must be known to the caller.
                await transaction.CommitAsync(CancellationToken.None).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                && attempt < MaxWriteAttempts)
            {
                await transaction.RollbackAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary><paramref name="at"/> as an offset from the process's clock now, in ms: the database adds it to its own clock.</summary>
    private long OffsetMs(DateTimeOffset at) => (long)(at - _time.GetUtcNow()).TotalMilliseconds;

    internal static NpgsqlCommand Command(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql) =>
        new(sql, connection, transaction);

    internal static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        return (T)Convert.ChangeType((await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, typeof(T), CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await _unpooled.DisposeAsync().ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    private static void Bind(NpgsqlCommand command, string name, object? value) =>
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);

    private static long L(ulong value) => checked((long)value);

    private static long I64(NpgsqlDataReader reader, int column) => Convert.ToInt64(reader.GetValue(column), CultureInfo.InvariantCulture);

    private static int I32(NpgsqlDataReader reader, int column) => Convert.ToInt32(reader.GetValue(column), CultureInfo.InvariantCulture);
}
