using System.Data;
using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The default store: one SQLite file in WAL mode. Writes go through one connection with group commit
/// (<see cref="SqliteWriter"/>); reads use their own pooled connections. With <c>synchronous=FULL</c> (the
/// default) a write that has been answered survives a power loss.
/// </summary>
public sealed partial class SqliteStore : IAggregatorStore
{
    private readonly string _connectionString;
    private readonly SqliteWriter _writer;
    private readonly TimeProvider _time;

    /// <summary>The lowest id the next task may have (see <see cref="InsertTask"/>); used on the writer's thread only.</summary>
    private long _taskIdFloor;

    private SqliteStore(string connectionString, SqliteWriter writer, string synchronous, TimeProvider time)
    {
        _connectionString = connectionString;
        _writer = writer;
        Synchronous = synchronous;
        _time = time;
    }

    /// <summary>The synchronous setting in force on the writing connection, as SQLite reports it.</summary>
    public string Synchronous { get; }

    /// <summary>Queues <paramref name="work"/> on the writer like any write of the store (tests: to hold the writer, or to
    /// make a group fail to commit).</summary>
    internal Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, bool ahead = false) =>
        _writer.WriteAsync(work, ahead, CancellationToken.None);

    /// <summary>Transactions committed so far (each one fsync with synchronous=FULL).</summary>
    public long Commits => _writer.Commits;

    /// <summary>Writes applied so far.</summary>
    public long Writes => _writer.Writes;

    /// <summary>Opens (creating if needed) the database and applies pending migrations.</summary>
    public static async Task<SqliteStore> OpenAsync(StoreOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        options.Validate();
        var full = Path.GetFullPath(options.SqlitePath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();

        var connection = new CachingSqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        Execute(connection, null, "PRAGMA journal_mode=WAL;");
        Execute(connection, null, $"PRAGMA synchronous={options.SqliteSynchronous};");
        Execute(connection, null, "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;");
        var synchronous = Scalar<long>(connection, null, "PRAGMA synchronous;") switch
        {
            0 => "OFF",
            1 => "NORMAL",
            2 => "FULL",
            3 => "EXTRA",
            var other => other.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        ApplyMigrations(connection);
        var writer = new SqliteWriter(connection, options.MaxWritesPerCommit);
        return new SqliteStore(connectionString, writer, synchronous, time);
    }

    /// <summary>The schema version of the database (the highest applied migration).</summary>
    public async Task<int> GetSchemaVersionAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        return (int)Scalar<long>(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;");
    }

    private static void ApplyMigrations(SqliteConnection connection)
    {
        Execute(connection, null, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_ms INTEGER NOT NULL
            );
            """);
        var current = Scalar<long>(connection, null, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations;");
        var latest = Migrations.All[^1].Version;
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"the database is at schema version {current}, newer than this build knows ({latest}); use a newer build");
        }

        foreach (var migration in Migrations.All.Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            Execute(connection, transaction, migration.Sql);
            using var record = Command(connection, transaction,
                "INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($v, $n, $t);");
            record.Parameters.AddWithValue("$v", migration.Version);
            record.Parameters.AddWithValue("$n", migration.Name);
            record.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            record.ExecuteNonQuery();
            transaction.Commit();
        }
    }

    private async Task<SqliteConnection> OpenReadAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    private long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    internal static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        if (transaction is not null && connection is CachingSqliteConnection caching)
        {
            return caching.Prepared(sql, transaction);
        }

        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    internal static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = Command(connection, transaction, sql);
        command.ExecuteNonQuery();
    }

    internal static T Scalar<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = Command(connection, transaction, sql);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs SQLite's own consistency check; "ok" when the file is sound.</summary>
    public async Task<string> IntegrityCheckAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenReadAsync(cancellationToken).ConfigureAwait(false);
        using var command = Command(connection, null, "PRAGMA integrity_check;");
        return (string)command.ExecuteScalar()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
    }

    private static void Bind(SqliteCommand command, string name, object? value) =>
        command.Parameters.AddWithValue(name, value ?? DBNull.Value);

    private static long L(ulong value) => checked((long)value);
}
