namespace ZkPow.Devnet.Prover;

/// <summary>
/// The prover's jobs, computed one at a time in FIFO order. Computing is simulated lazily: a job starts when the
/// previous one finishes (or when it is accepted, if the prover is idle) and finishes its latency later; the state is
/// brought up to the current time whenever the queue is looked at, so no timers or threads are involved.
/// Thread-safe.
/// </summary>
internal sealed class MockJobQueue(TimeSpan retention)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, MockJob> _jobs = new(StringComparer.Ordinal);
    private readonly Queue<MockJob> _waiting = new();
    private readonly Queue<MockJob> _finished = new();
    private MockJob? _running;
    private DateTimeOffset _idleSince = DateTimeOffset.MinValue;
    private string _lastComputedId = "";
    private DateTimeOffset _lastComputedEnd;

    /// <summary>Accepts a job (it runs after the ones already accepted). Returns when the previous job ended if the
    /// prover was idle until now, otherwise null.</summary>
    public DateTimeOffset? Add(MockJob job, DateTimeOffset now)
    {
        lock (_lock)
        {
            Advance(now);
            DateTimeOffset? idleSince = _running is null && _waiting.Count == 0 && _idleSince > DateTimeOffset.MinValue ? _idleSince : null;
            _jobs.Add(job.Id, job);
            _waiting.Enqueue(job);
            Advance(now);
            return idleSince;
        }
    }

    /// <summary>When the state of a queued or running job can next change (the end of the job running now), or null if
    /// the job is unknown or already over.</summary>
    public DateTimeOffset? NextChange(string id, DateTimeOffset now)
    {
        lock (_lock)
        {
            Advance(now);
            return _jobs.TryGetValue(id, out var job) && job.State is MockJobState.Queued or MockJobState.Running && _running is not null
                ? _running.FinishedAt
                : null;
        }
    }

    /// <summary>The job's current state, or null if it is unknown (never accepted, forgotten or expired).</summary>
    public MockJob? Find(string id, DateTimeOffset now, out MockJobState state)
    {
        lock (_lock)
        {
            Advance(now);
            if (_jobs.TryGetValue(id, out var job))
            {
                state = job.State;
                return job;
            }

            state = default;
            return null;
        }
    }

    /// <summary>Cancels a queued or running job; false if the job is unknown.</summary>
    public bool Cancel(string id, DateTimeOffset now)
    {
        lock (_lock)
        {
            Advance(now);
            if (!_jobs.TryGetValue(id, out var job))
            {
                return false;
            }

            if (job.State == MockJobState.Running)
            {
                Finish(job, now, MockJobState.Cancelled);
                _running = null;
                Advance(now);
            }
            else if (job.State == MockJobState.Queued)
            {
                var rest = _waiting.Where(j => j != job).ToArray();
                _waiting.Clear();
                foreach (var j in rest)
                {
                    _waiting.Enqueue(j);
                }

                job.State = MockJobState.Cancelled;
                job.StartedAt = now;
                job.FinishedAt = now;
                _finished.Enqueue(job);
            }

            return true;
        }
    }

    /// <summary>Forgets every job (a prover restart).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _jobs.Clear();
            _waiting.Clear();
            _finished.Clear();
            _running = null;
            _idleSince = DateTimeOffset.MinValue;
            _lastComputedId = "";
            _lastComputedEnd = default;
        }
    }

    /// <summary>A consistent view for GetStatus.</summary>
    public MockQueueSnapshot Snapshot(DateTimeOffset now)
    {
        lock (_lock)
        {
            Advance(now);
            return new MockQueueSnapshot(
                _running?.Id,
                _running?.StartedAt ?? default,
                _waiting.Count == 0 ? [] : _waiting.Select(j => j.Id).ToArray(),
                _lastComputedId,
                _lastComputedEnd);
        }
    }

    private void Advance(DateTimeOffset now)
    {
        while (true)
        {
            if (_running is not null)
            {
                if (now < _running.FinishedAt)
                {
                    break;
                }

                Finish(_running, _running.FinishedAt, MockJobState.Done);
                _running = null;
            }

            if (!_waiting.TryDequeue(out var next))
            {
                break;
            }

            next.StartedAt = next.AcceptedAt > _idleSince ? next.AcceptedAt : _idleSince;
            next.FinishedAt = next.StartedAt + next.Latency;
            next.State = MockJobState.Running;
            _running = next;
        }

        while (_finished.TryPeek(out var oldest) && oldest.FinishedAt + retention <= now)
        {
            _finished.Dequeue();
            _jobs.Remove(oldest.Id);
        }
    }

    private void Finish(MockJob job, DateTimeOffset at, MockJobState state)
    {
        job.State = state;
        job.FinishedAt = at;
        _finished.Enqueue(job);
        _idleSince = at > _idleSince ? at : _idleSince;
        _lastComputedId = job.Id;
        _lastComputedEnd = at;
    }
}
