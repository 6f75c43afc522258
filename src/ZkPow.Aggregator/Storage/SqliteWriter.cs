using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The one writing connection of a SQLite store. Writes queue up and are applied by a dedicated thread, many to a
/// transaction (group commit): each write runs inside its own savepoint, so one failing write does not undo the
/// others, and its caller is answered only after the transaction holding it has been committed (and, with
/// synchronous=FULL, synced to disk).
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Channel<IWrite> _queue = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly int _maxPerCommit;
    private readonly Thread _thread;
    private long _commits;
    private long _writes;

    public SqliteWriter(SqliteConnection connection, int maxPerCommit)
    {
        _connection = connection;
        _maxPerCommit = maxPerCommit;
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-writer" };
        _thread.Start();
    }

    public long Commits => Interlocked.Read(ref _commits);

    public long Writes => Interlocked.Read(ref _writes);

    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var write = new Write<T>(work);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "the store is closed");
        }

        return write.Completion.Task;
    }

    private void Run()
    {
        var batch = new List<IWrite>(_maxPerCommit);
        var reader = _queue.Reader;
        while (true)
        {
            try
            {
                if (!reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                {
                    return;
                }
            }
            catch (ChannelClosedException)
            {
                return;
            }

            batch.Clear();
            while (batch.Count < _maxPerCommit && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            ApplyBatch(batch);
        }
    }

    private void ApplyBatch(List<IWrite> batch)
    {
        SqliteTransaction? transaction = null;
        try
        {
            transaction = _connection.BeginTransaction(deferred: false);
            for (var i = 0; i < batch.Count; i++)
            {
                var write = batch[i];
                if (batch.Count == 1)
                {
                    write.Apply(_connection, transaction);
                    continue;
                }

                transaction.Save("w");
                try
                {
                    write.Apply(_connection, transaction);
                    transaction.Release("w");
                }
                catch (Exception ex) when (ex is SqliteException or InvalidOperationException or ArgumentException or FormatException)
                {
                    transaction.Rollback("w");
                    transaction.Release("w");
                    write.Fail(ex);
                }
            }

            transaction.Commit();
            Interlocked.Increment(ref _commits);
            Interlocked.Add(ref _writes, batch.Count);
            foreach (var write in batch)
            {
                write.Succeed();
            }
        }
        catch (Exception ex)
        {
            try
            {
                transaction?.Rollback();
            }
            catch (SqliteException)
            {
                // The transaction is gone already; every write of the batch fails below.
            }

            foreach (var write in batch)
            {
                write.Fail(ex);
            }
        }
        finally
        {
            transaction?.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.Run(() => _thread.Join()).ConfigureAwait(false);
        _connection.Dispose();
    }

    private interface IWrite
    {
        void Apply(SqliteConnection connection, SqliteTransaction transaction);

        void Succeed();

        void Fail(Exception error);
    }

    private sealed class Write<T>(Func<SqliteConnection, SqliteTransaction, T> work) : IWrite
    {
        private T _result = default!;
        private Exception? _error;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Apply(SqliteConnection connection, SqliteTransaction transaction) => _result = work(connection, transaction);

        public void Succeed()
        {
            if (_error is null)
            {
                Completion.TrySetResult(_result);
            }
            else
            {
                Completion.TrySetException(_error);
            }
        }

        public void Fail(Exception error)
        {
            _error ??= error;
            Completion.TrySetException(error);
        }
    }
}
