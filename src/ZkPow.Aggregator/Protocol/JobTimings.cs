using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Protocol;

/// <summary>
/// How long jobs take, learned per prover name and task kind (with the fleet's figure for a prover not seen yet),
/// so that polling asks for a proof about when it should be ready instead of hammering the prover or waiting too long.
/// Job times vary (real GPUs never take the same time twice), so the spread is learned too and the first poll comes
/// early enough for the faster jobs. Shared by all sessions; survives reconnects.
/// </summary>
public sealed class JobTimings
{
    /// <summary>Most provers remembered one by one (a flood of made-up names must not grow the table without bound);
    /// beyond it, new provers use the fleet's figure.</summary>
    public const int MaxProvers = 4096;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Prover, TaskKind Kind), Estimate> _byProver = [];
    private readonly Dictionary<TaskKind, Estimate> _fleet = [];

    /// <summary>The expected duration of a job of this kind on this prover, if anything is known.</summary>
    public TimeSpan? Expected(string prover, TaskKind kind) => Find(prover, kind) is { } e ? TimeSpan.FromMilliseconds(e.Mean) : null;

    /// <summary>The larger of this prover's expected duration and the fleet's for this kind, if anything is known.</summary>
    public TimeSpan? Longest(string prover, TaskKind kind)
    {
        lock (_gate)
        {
            double? own = _byProver.TryGetValue((prover, kind), out var e) ? e.Mean : null;
            double? fleet = _fleet.TryGetValue(kind, out var f) ? f.Mean : null;
            return own is null && fleet is null ? null : TimeSpan.FromMilliseconds(Math.Max(own ?? 0, fleet ?? 0));
        }
    }

    /// <summary>When to ask first: the expected duration less twice the typical deviation from it (so that a job
    /// faster than usual is not left waiting), if anything is known.</summary>
    public TimeSpan? FirstPoll(string prover, TaskKind kind) =>
        Find(prover, kind) is { } e ? TimeSpan.FromMilliseconds(Math.Max(0, e.Mean - (2 * e.Deviation))) : null;

    /// <summary>
    /// Learns from one finished job: it was still pending at <paramref name="lastPending"/> (null if the first poll
    /// found it done) and done at <paramref name="done"/>, both measured from the job request.
    /// </summary>
    public void Observe(string prover, TaskKind kind, TimeSpan? lastPending, TimeSpan done)
    {
        // With a pending answer the job ended between the two polls; without one it ended before the first poll,
        // so probe a little earlier next time.
        var sample = lastPending is { } pending ? (pending + done).TotalMilliseconds / 2 : done.TotalMilliseconds * 0.8;
        lock (_gate)
        {
            if (_byProver.TryGetValue((prover, kind), out var old))
            {
                _byProver[(prover, kind)] = old.With(sample, 0.5);
            }
            else if (_byProver.Count < MaxProvers * 3)
            {
                _byProver[(prover, kind)] = new Estimate(sample, 0);
            }

            _fleet[kind] = _fleet.TryGetValue(kind, out var fleet) ? fleet.With(sample, 0.1) : new Estimate(sample, 0);
        }
    }

    private Estimate? Find(string prover, TaskKind kind)
    {
        lock (_gate)
        {
            return _byProver.TryGetValue((prover, kind), out var e) || _fleet.TryGetValue(kind, out e) ? e : null;
        }
    }

    /// <summary>A moving mean and mean absolute deviation, in milliseconds.</summary>
    private readonly record struct Estimate(double Mean, double Deviation)
    {
        public Estimate With(double sample, double weight) =>
            new((Mean * (1 - weight)) + (sample * weight), (Deviation * (1 - weight)) + (Math.Abs(sample - Mean) * weight));
    }
}
