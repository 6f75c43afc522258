using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Protocol;

namespace ZkPow.Aggregator.Generator;

/// <summary>Prover health: every job's outcome counts for or against its prover (principal and name); a prover that
/// fails <see cref="GeneratorOptions.QuarantineAfter"/> jobs in a row gets no work for a while, twice as long at every
/// further quarantine until it succeeds again.</summary>
public sealed partial class ProofGenerator
{
    /// <summary>Most provers whose record is kept (a flood of made-up names must not grow the table without bound);
    /// beyond it, records of provers that are neither connected nor quarantined are dropped.</summary>
    private const int MaxHealthRecords = 4096;

    private readonly Dictionary<string, ProverHealth> _health = [];

    /// <summary>Names of the provers ever connected, up to two: a task is parked only after failing on two different
    /// provers, unless no second prover was ever seen.</summary>
    private readonly HashSet<string> _seenProvers = new(StringComparer.Ordinal);

    /// <summary>Per open task, the names of the provers on which it failed or was lost in this process.</summary>
    private readonly Dictionary<long, (ulong Sequence, HashSet<string> Provers)> _triedOn = [];

    /// <summary>Range re-proofs per sequence in this process.</summary>
    private readonly Dictionary<ulong, int> _reproves = [];

    /// <summary>Provers that get no work for now.</summary>
    public IReadOnlyList<QuarantinedProver> Quarantined
    {
        get
        {
            var now = _time.GetUtcNow();
            lock (_gate)
            {
                return [.. _health.Values.Where(h => h.QuarantinedUntil > now).OrderBy(h => h.Name, StringComparer.Ordinal)
                    .Select(h => new QuarantinedProver(h.Name, h.Principal, h.FailuresInRow, h.QuarantinedUntil!.Value, h.LastError))];
            }
        }
    }

    private int CountQuarantined()
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return _health.Values.Count(h => h.QuarantinedUntil > now);
        }
    }

    private void NoteConnected(ProverSession session)
    {
        // Called under _gate.
        if (_seenProvers.Count < 2)
        {
            _seenProvers.Add(session.Name);
        }
    }

    /// <summary>Whether this prover's last job failed (it has failures in a row and no success since).</summary>
    private bool OnProbationLocked(ProverSession session) =>
        _health.TryGetValue(ProverHealth.KeyOf(session.Principal, session.Name), out var h) && h.FailuresInRow > 0;

    /// <summary>Until when this prover gets no work, or null (called under _gate).</summary>
    private DateTimeOffset? QuarantinedUntilLocked(string principal, string name, DateTimeOffset now) =>
        _health.TryGetValue(ProverHealth.KeyOf(principal, name), out var h) && h.QuarantinedUntil > now ? h.QuarantinedUntil : null;

    /// <summary>Blames the makers of inputs that two provers could not use. A sole maker is the culprit; of two, the one
    /// blamed more often (at least twice) is, as a repeat offender: the culprit is quarantined at once, the others only
    /// count a failure.</summary>
    private void BlameMakers(IReadOnlyList<string> makers, string why)
    {
        var blamed = makers.SelectMany(HealthByName).ToList();
        ProverRef? culprit = null;
        lock (_gate)
        {
            var scores = blamed.Select(p =>
            {
                var health = HealthLocked(p);
                health.Blames++;
                return (Prover: p, health.Blames);
            }).OrderByDescending(x => x.Blames).ToList();
            if (scores.Count == 1)
            {
                culprit = scores[0].Prover;
            }
            else if (scores.Count > 1 && scores[0].Blames >= 2 && scores[0].Blames > scores[1].Blames)
            {
                culprit = scores[0].Prover;
            }
        }

        foreach (var prover in blamed)
        {
            RecordFailure(prover, why, quarantineNow: prover == culprit);
        }
    }

    /// <summary>Whether a connected prover other than <paramref name="prover"/> is out of quarantine.</summary>
    private bool AnotherUsableProverLocked(ProverRef prover, DateTimeOffset now) =>
        _workers.Keys.Any(s => !s.IsClosed && !(s.Principal == prover.Principal && s.Name == prover.Name) &&
                               QuarantinedUntilLocked(s.Principal, s.Name, now) is null);

    private DateTimeOffset? QuarantinedUntil(ProverSession session)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            return QuarantinedUntilLocked(session.Principal, session.Name, now);
        }
    }

    private ProverHealth HealthLocked(ProverRef prover)
    {
        var key = ProverHealth.KeyOf(prover.Principal, prover.Name);
        if (!_health.TryGetValue(key, out var health))
        {
            if (_health.Count >= MaxHealthRecords)
            {
                var now = _time.GetUtcNow();
                var connected = _workers.Keys.Select(s => ProverHealth.KeyOf(s.Principal, s.Name)).ToHashSet(StringComparer.Ordinal);
                foreach (var stale in _health.Where(h => !connected.Contains(h.Key) && !(h.Value.QuarantinedUntil > now)).Select(h => h.Key).ToList())
                {
                    _health.Remove(stale);
                }
            }

            health = new ProverHealth(prover.Name, prover.Principal);
            _health[key] = health;
        }

        return health;
    }

    private void RecordSuccess(ProverRef prover)
    {
        lock (_gate)
        {
            var health = HealthLocked(prover);
            health.JobsDone++;
            health.FailuresInRow = 0;
            if (health.Blames == 0)
            {
                health.Quarantines = 0;
                health.QuarantinedUntil = null;
            }
        }
    }

    /// <summary>Counts a failed, unusable, expired or lost job against its prover, and quarantines the prover once it
    /// has failed <see cref="GeneratorOptions.QuarantineAfter"/> jobs in a row.</summary>
    private void RecordFailure(ProverRef prover, string error, bool quarantineNow = false)
    {
        DateTimeOffset? until = null;
        int failures;
        List<CancellationTokenSource> nudges = [];
        lock (_gate)
        {
            var health = HealthLocked(prover);
            health.JobsFailed++;
            health.FailuresInRow++;
            health.LastError = error;
            if (quarantineNow)
            {
                health.FailuresInRow = Math.Max(health.FailuresInRow, _options.QuarantineAfter);
            }

            failures = health.FailuresInRow;
            // Quarantine sends work elsewhere: the last prover that could take work is not quarantined (it would only
            // delay the work; its tasks are parked after their attempts instead).
            if (failures >= _options.QuarantineAfter && AnotherUsableProverLocked(prover, _time.GetUtcNow()))
            {
                var backoff = TimeSpan.FromTicks((long)Math.Min(_options.QuarantineMax.Ticks,
                    _options.QuarantineBase.Ticks * Math.Pow(2, Math.Min(health.Quarantines, 40))));
                health.Quarantines++;
                until = _time.GetUtcNow() + backoff;
                health.QuarantinedUntil = until;
                // Its workers waiting for a task look again (and wait out the quarantine).
                nudges = [.. _nudges.Where(n => n.Key.Principal == prover.Principal && n.Key.Name == prover.Name).Select(n => n.Value)];
            }
        }

        if (until is { } end)
        {
            LogQuarantined(prover.Name, prover.Principal, failures, end, error);
            ReofferAvoided();
            foreach (var nudge in nudges)
            {
                try
                {
                    nudge.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }
    }

    /// <summary>Notes that <paramref name="task"/> failed (or was lost) on <paramref name="prover"/>; returns the number
    /// of different provers it failed on, counting those the store remembers.</summary>
    private int NoteTried(ProofTask task, string prover)
    {
        lock (_gate)
        {
            if (!_triedOn.TryGetValue(task.Id, out var tried))
            {
                tried = (task.Sequence, new HashSet<string>(task.FailedOn, StringComparer.Ordinal));
                _triedOn[task.Id] = tried;
            }

            tried.Provers.Add(prover);
            return tried.Provers.Count;
        }
    }

    /// <summary>The provers <paramref name="task"/> failed on in this process, to be avoided by its retry.</summary>
    private ProofTask AvoidingFailed(ProofTask task)
    {
        lock (_gate)
        {
            if (!_triedOn.TryGetValue(task.Id, out var tried))
            {
                return task;
            }

            return task with { AvoidProvers = [.. task.AvoidProvers.Union(tried.Provers, StringComparer.Ordinal)] };
        }
    }

    private void ForgetTried(long taskId)
    {
        lock (_gate)
        {
            _triedOn.Remove(taskId);
        }
    }

    /// <summary>Whether a task may be parked now: it failed on two different provers, or no second prover was ever seen.</summary>
    private bool MayPark(int triedProvers)
    {
        lock (_gate)
        {
            return triedProvers >= 2 || _seenProvers.Count < 2;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Prover {Prover} ({Principal}) failed {Failures} jobs in a row (last: {Error}): no work for it until {Until}")]
    private partial void LogQuarantined(string prover, string principal, int failures, DateTimeOffset until, string error);
}
