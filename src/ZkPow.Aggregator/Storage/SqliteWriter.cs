using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;

namespace ZkPow.Aggregator.Storage;

/// <summary>
/// The one writing connection of a SQLite store. Writes queue up and are applied by a dedicated thread, many to a
/// transaction (group commit): each write runs inside its own savepoint, so one failing write does not undo the
/// others, and its caller is answered only after the transaction holding it has been committed (and, with
/// synchronous=FULL, synced to disk).
/// A write queued with <c>ahead</c> (a small write that a request waits on, such as a final proof's claim) does not wait
/// behind the writes queued before it: it joins the transaction being applied, which is then committed once at most
/// <see cref="AheadWaitsFor"/> more of its writes are applied; the writes of that group not applied yet follow in the
/// next transaction, in their order.
/// </summary>
internal sealed class SqliteWriter : IAsyncDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Channel<IWrite> _queue = Channel.CreateUnbounded<IWrite>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Writes queued ahead; each is also in <see cref="_queue"/> (which wakes the thread), and applied once.</summary>
    private readonly ConcurrentQueue<IWrite> _ahead = new();
    private readonly List<IWrite> _applied = [];
    private readonly List<IWrite> _reordered = [];
    private readonly List<IWrite> _bulk = [];

    /// <summary>A write queued ahead cuts the group being applied short only if more than this many of its writes are
    /// left; fewer are applied first (each cut costs one more commit, and this bounds what the write waits for).</summary>
    internal const int AheadWaitsFor = 32;

    /// <summary>A group stops taking writes once it has been applying them this long: what it holds commits, and the rest
    /// of the batch goes into the next group. Groups of small writes rarely take this long; a burst of large ones (many
    /// sequences synced at once) is committed in parts, so that provers start on the first ones early.</summary>
    internal static readonly TimeSpan DefaultMaxGroupTime = TimeSpan.FromMilliseconds(5);
    private readonly TimeSpan _maxGroupTime;
    private readonly int _maxPerCommit;
    private readonly Thread _thread;
    private long _commits;
    private long _writes;

    public SqliteWriter(SqliteConnection connection, int maxPerCommit, TimeSpan? maxGroupTime = null)
    {
        _connection = connection;
        _maxPerCommit = maxPerCommit;
        _maxGroupTime = maxGroupTime ?? DefaultMaxGroupTime;
        _thread = new Thread(Run) { IsBackground = true, Name = "sqlite-writer" };
        _thread.Start();
    }

    public long Commits => Interlocked.Read(ref _commits);

    public long Writes => Interlocked.Read(ref _writes);

    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken) =>
        WriteAsync(work, ahead: false, cancellationToken);

    /// <summary>Queues a bulk write (a sequence handed over by the sync, with all its tasks): the writes queued after it
    /// that are not bulk may be committed before it (see <see cref="Run"/>). Only for a write that no other write queued
    /// meanwhile depends on: the tasks it creates are unknown to the rest of the process until it has committed.</summary>
    public Task<T> WriteBulkAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken) =>
        WriteAsync(work, ahead: false, cancellationToken, bulk: true);

    /// <summary>Queues a write; with <paramref name="ahead"/> it is committed ahead of the writes queued before it.</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, bool ahead, CancellationToken cancellationToken) =>
        WriteAsync(work, ahead, cancellationToken, bulk: false);

    /// <summary>Queues a write and calls <paramref name="applied"/> (if any) with its result on the writer's thread as soon
    /// as it has been applied, before its transaction commits. If the commit then fails, the returned task faults: what the
    /// caller did with the result must be undone by it. <paramref name="applied"/> must be quick and must not throw (an
    /// exception from it is dropped).</summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, Action<T>? applied, CancellationToken cancellationToken) =>
        WriteAsync(work, ahead: false, cancellationToken, bulk: false, applied);

    private Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, bool ahead, CancellationToken cancellationToken, bool bulk,
        Action<T>? applied = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var write = new Write<T>(work, bulk, applied);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "the store is closed");
        }

        if (ahead)
        {
            _ahead.Enqueue(write);
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

            var next = 0;
            while (next < batch.Count)
            {
                next = ApplyGroup(batch, next);
                if (next < batch.Count && batch[next].Bulk)
                {
                    next = PutBulkLast(batch, next, reader);
                }
            }
        }
    }

    /// <summary>Between two groups of a batch whose next write is bulk: the writes queued since the batch was read join
    /// it, and every write that is not bulk goes before the bulk ones (each kind in its own queue order). A burst of
    /// sequences synced at once (200 take about 90 ms to apply) then does not hold up the claims and proofs of the
    /// provers' first jobs, queued after it. Returns where the batch now starts.</summary>
    private int PutBulkLast(List<IWrite> batch, int next, ChannelReader<IWrite> reader)
    {
        _reordered.Clear();
        _bulk.Clear();
        for (var i = next; i < batch.Count; i++)
        {
            (batch[i].Bulk ? _bulk : _reordered).Add(batch[i]);
        }

        for (var read = 0; read < _maxPerCommit && reader.TryRead(out var write); read++)
        {
            (write.Bulk ? _bulk : _reordered).Add(write);
        }

        batch.Clear();
        batch.AddRange(_reordered);
        batch.AddRange(_bulk);
        _reordered.Clear();
        _bulk.Clear();
        return 0;
    }

    /// <summary>Applies the writes queued ahead, then those of <paramref name="batch"/> from <paramref name="start"/>, in one
    /// transaction, until the batch ends or a write is queued ahead with more than <see cref="AheadWaitsFor"/> writes of the
    /// batch left (it joins, and the transaction commits). Returns the index of the first write of the batch not looked at.</summary>
    private int ApplyGroup(List<IWrite> batch, int start)
    {
        var next = start;
        SqliteTransaction? transaction = null;
        _applied.Clear();
        try
        {
            transaction = _connection.BeginTransaction(deferred: false);
            var opened = Stopwatch.GetTimestamp();
            var single = batch.Count - start == 1 && _ahead.IsEmpty;
            ApplyAhead(transaction);
            while (next < batch.Count && (_ahead.IsEmpty || batch.Count - next <= AheadWaitsFor))
            {
                Apply(batch[next++], transaction, single);
                if (Stopwatch.GetElapsedTime(opened) > _maxGroupTime)
                {
                    break; // Large writes (a sync of many sequences) commit in parts: the first are not held up by the last.
                }
            }

            ApplyAhead(transaction);
            transaction.Commit();
            if (_applied.Count > 0)
            {
                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _writes, _applied.Count);
            }

            foreach (var write in _applied)
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
                // The transaction is gone already; every write of the group fails below.
            }

            foreach (var write in _applied)
            {
                write.Fail(ex);
            }

            if (transaction is null)
            {
                // Not even a transaction: the rest of the batch fails too rather than spinning on a broken connection.
                for (; next < batch.Count; next++)
                {
                    if (batch[next].TryTake())
                    {
                        batch[next].Fail(ex);
                    }
                }

                while (_ahead.TryDequeue(out var ahead))
                {
                    if (ahead.TryTake())
                    {
                        ahead.Fail(ex);
                    }
                }
            }
        }
        finally
        {
            transaction?.Dispose();
            _applied.Clear();
        }

        return next;
    }

    private void ApplyAhead(SqliteTransaction transaction)
    {
        while (_ahead.TryDequeue(out var write))
        {
            Apply(write, transaction, single: false);
        }
    }

    /// <summary>Applies one write (unless it was applied already through the other queue) in its own savepoint, so that
    /// its failure does not undo the others (<paramref name="single"/>: it is the transaction's only write).</summary>
    private void Apply(IWrite write, SqliteTransaction transaction, bool single)
    {
        if (!write.TryTake())
        {
            return;
        }

        _applied.Add(write);
        if (single)
        {
            write.Apply(_connection, transaction);
            write.Applied();
            return;
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
            return;
        }

        write.Applied();
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.Run(() => _thread.Join()).ConfigureAwait(false);
        _connection.Dispose();
    }

    private interface IWrite
    {
        /// <summary>A bulk write: writes queued after it that are not bulk may go first.</summary>
        bool Bulk { get; }

        /// <summary>True the first time only: the write is in both queues when queued ahead.</summary>
        bool TryTake();

        void Apply(SqliteConnection connection, SqliteTransaction transaction);

        /// <summary>Tells the caller the write's result once it is applied (before the commit), if it asked.</summary>
        void Applied();

        void Succeed();

        void Fail(Exception error);
    }

    private sealed class Write<T>(Func<SqliteConnection, SqliteTransaction, T> work, bool bulk, Action<T>? applied) : IWrite
    {
        public bool Bulk => bulk;

        private T _result = default!;
        private Exception? _error;
        private int _taken;

        public bool TryTake() => Interlocked.Exchange(ref _taken, 1) == 0;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Apply(SqliteConnection connection, SqliteTransaction transaction) => _result = work(connection, transaction);

        public void Applied()
        {
            try
            {
                applied?.Invoke(_result);
            }
            catch (Exception)
            {
                // The caller's own business (it logs its failures): the write itself stands.
            }
        }

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
