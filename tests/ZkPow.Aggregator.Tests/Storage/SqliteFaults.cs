using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Storage;

namespace ZkPow.Aggregator.Tests.Storage;

/// <summary>Writes that make a SQLite store's writer fail in the ways a disk or the database can.</summary>
internal static class SqliteFaults
{
    /// <summary>A write that applies cleanly and makes its group's COMMIT fail: a deferred foreign-key violation is found
    /// only at COMMIT, so every write of the group fails with it.</summary>
    public static int FailTheCommit(SqliteConnection connection, SqliteTransaction transaction)
    {
        SqliteStore.Execute(connection, transaction, """
            PRAGMA defer_foreign_keys = ON;
            INSERT INTO tasks (final_batch, seq_init, kind, from_batch, to_batch, state, attempts, created_ms, updated_ms)
            VALUES (424242, 0, 0, 0, 1, 0, 0, 0, 0);
            """);
        return 0;
    }
}
