using Microsoft.Data.Sqlite;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The writer's connection: it keeps one prepared command per SQL text, so the hot writes (claims, job ids, proofs)
/// are parsed and planned once instead of once per write.
/// </summary>
internal sealed class CachingSqliteConnection(string connectionString) : SqliteConnection(connectionString)
{
    private readonly Dictionary<string, ReusableCommand> _commands = new(StringComparer.Ordinal);

    public SqliteCommand Prepared(string sql, SqliteTransaction? transaction)
    {
        if (!_commands.TryGetValue(sql, out var command))
        {
            command = new ReusableCommand(this, sql);
            _commands[sql] = command;
        }

        command.Transaction = transaction;
        command.Parameters.Clear();
        return command;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var command in _commands.Values)
            {
                command.Release();
            }

            _commands.Clear();
        }

        base.Dispose(disposing);
    }

    /// <summary>A command that outlives the <c>using</c> blocks of its callers; only the connection disposes it.</summary>
    private sealed class ReusableCommand : SqliteCommand
    {
        private bool _released;

        public ReusableCommand(SqliteConnection connection, string sql)
        {
            Connection = connection;
            CommandText = sql;
        }

        public void Release()
        {
            _released = true;
            Dispose();
        }

        protected override void Dispose(bool disposing)
        {
            if (_released)
            {
                base.Dispose(disposing);
            }
        }
    }
}
