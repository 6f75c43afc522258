using System.Collections.Concurrent;
using System.Diagnostics;
using ZkPow.Aggregator.Generator;
using ZkPow.Devnet.Prover;

namespace ZkPow.Devnet.Bench;

/// <summary>What a run is measured against, computed from the job durations the mock provers actually drew.</summary>
public sealed partial class GeneratorBenchmark
{
    /// <summary>
    /// Joins what the aggregator did (dispatch records) with what the provers did (job timings) by request id:
    /// <list type="bullet">
    /// <item>end-to-end dispatch latency: from the later of "the prover's previous job ended" and "the task became ready"
    /// to "its next request written" (poll lag, status round trips, scheduling and the claim included);</item>
    /// <item>the critical path of each sequence: its final job plus the longest chain of jobs below it, each job taking
    /// the work drawn for it on the fleet's fastest prover (the time it took on the prover that ran it would make
    /// the ideal depend on the schedule: a critical job put on a slow prover would lengthen its own ideal);</item>
    /// <item>the ideal makespan: the larger of the latest (sync offset + critical path) and all the work drawn (at speed
    /// 1) spread over the fleet's total speed;</item>
    /// <item>each sequence's ideal latency: the larger of its critical path and the time the fleet needs for its work
    /// and that of the sequences synced before it (sequences are verified in order on chain, so lower sequences go
    /// first), less the time since the first sync.</item>
    /// <item>where the fleet's capacity went (each prover's time weighted by its speed, from the run's start to the last job's
    /// end): computing; between a job's end and the prover's next request received while a task was ready for it (the
    /// execution's cost per job: fetching the proof, the next request, the wire); waiting with no task ready.</item>
    /// </list>
    /// </summary>
    private static RunAnalysis Analyse(RunRecord run)
    {
        DateTimeOffset Wall(long timestamp) => run.StartedUtc + Stopwatch.GetElapsedTime(run.Started, timestamp);

        var endToEnd = new List<double>();
        var pollLag = new List<double>();
        var answerToRequest = new List<double>();
        var previous = new Dictionary<string, DispatchRecord>(StringComparer.Ordinal);
        var byTask = new Dictionary<long, (ProofTask Task, MockJobTiming Timing)>();
        var workBySequence = new Dictionary<ulong, TimeSpan>();
        var totalWork = TimeSpan.Zero;
        var answered = new Dictionary<long, long>();
        var readyAt = new Dictionary<long, long>();
        var jobEnded = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        double busy = 0, between = 0;
        var lastEnd = run.StartedUtc;
        foreach (var (record, timing) in run.Jobs())
        {
            var speedOf = run.SpeedOf(record.Prover);
            var end = timing.ReceivedAt + timing.Duration;
            busy += speedOf * timing.Duration.TotalMilliseconds;
            lastEnd = end > lastEnd ? end : lastEnd;
            if (jobEnded.TryGetValue(record.Prover, out var ended))
            {
                // From the later of its previous job's end and this task ready to this request received at the prover.
                var ready = Wall(record.ReadyAt);
                var from = ready > ended ? ready : ended;
                between += speedOf * Math.Max(0, (timing.ReceivedAt - from).TotalMilliseconds);
            }

            jobEnded[record.Prover] = end;

            byTask[record.Task.Id] = (record.Task, timing);
            answered[record.Task.Id] = record.AnsweredAt;
            readyAt[record.Task.Id] = record.ReadyAt;
            totalWork += timing.Work;
            workBySequence[record.Task.Sequence] = workBySequence.GetValueOrDefault(record.Task.Sequence) + timing.Work;
            if (timing.IdleSince is { } idle)
            {
                var ready = Wall(record.ReadyAt);
                var from = ready > idle ? ready : idle;
                endToEnd.Add((Wall(record.WrittenAt) - from).TotalMilliseconds);
                if (ready <= idle && previous.TryGetValue(record.Prover, out var before) && before.AnsweredAt != 0)
                {
                    // Where the time went for a prover that had work waiting: fetching its proof, then the next request.
                    pollLag.Add((Wall(before.AnsweredAt) - idle).TotalMilliseconds);
                    answerToRequest.Add(Stopwatch.GetElapsedTime(before.AnsweredAt, record.WrittenAt).TotalMilliseconds);
                }
            }

            previous[record.Prover] = record;
        }

        var memo = new Dictionary<long, TimeSpan>();
        var fastest = run.FastestSpeed > 0 ? run.FastestSpeed : 1;
        TimeSpan PathOf(long? taskId)
        {
            if (taskId is not { } id || !byTask.TryGetValue(id, out var entry))
            {
                return TimeSpan.Zero;
            }

            if (memo.TryGetValue(id, out var known))
            {
                return known;
            }

            var below = PathOf(entry.Task.Input1);
            var other = PathOf(entry.Task.Input2);
            var path = TimeSpan.FromTicks((long)(entry.Timing.Work.Ticks / fastest)) + (below > other ? below : other);
            memo[id] = path;
            return path;
        }

        // From the later of a parent's input proofs received to the parent ready: storing that proof (and creating the
        // parent with it) is on the sequence's chain.
        var unlock = new List<double>();
        foreach (var (task, _) in byTask.Values)
        {
            if (task.Kind == TaskKind.Batch || task.Input1 is not { } first || !answered.TryGetValue(first, out var last) || last == 0)
            {
                continue;
            }

            if (task.Input2 is { } second)
            {
                if (!answered.TryGetValue(second, out var other) || other == 0)
                {
                    continue;
                }

                last = Math.Max(last, other);
            }

            unlock.Add(Stopwatch.GetElapsedTime(last, readyAt[task.Id]).TotalMilliseconds);
        }

        var finals = byTask.Values.Where(e => e.Task.Kind == TaskKind.Final).ToDictionary(e => e.Task.Sequence, e => e.Task.Id);
        var syncOffsets = new Dictionary<ulong, TimeSpan>();
        for (var i = 0; i < run.Sequences.Count; i++)
        {
            if (run.SyncedAt[i] != 0)
            {
                syncOffsets[run.Sequences[i].FinalBatch] = Stopwatch.GetElapsedTime(run.Started, run.SyncedAt[i]);
            }
        }

        var policy = PolicySimulation.Run([.. byTask.Values.Select(e => new PolicySimulation.Job(e.Task, e.Timing.Work))], syncOffsets, run.Speeds);
        var policyRatios = new List<double>();
        var speed = run.TotalSpeed > 0 ? run.TotalSpeed : 1;
        var ideal = TimeSpan.FromTicks((long)(totalWork.Ticks / speed));
        var critical = TimeSpan.Zero;
        var ratios = new List<double>();
        var latencies = new List<double>();
        var cumulative = TimeSpan.Zero;
        for (var i = 0; i < run.Sequences.Count; i++)
        {
            var sequence = run.Sequences[i].FinalBatch;
            cumulative += workBySequence.GetValueOrDefault(sequence);
            if (!finals.TryGetValue(sequence, out var finalTask) || !run.StoredAt.TryGetValue(sequence, out var stored) || run.SyncedAt[i] == 0)
            {
                continue;
            }

            var path = PathOf(finalTask);
            var offset = Stopwatch.GetElapsedTime(run.Started, run.SyncedAt[i]);
            critical = path > critical ? path : critical;
            ideal = offset + path > ideal ? offset + path : ideal;
            var latency = Stopwatch.GetElapsedTime(run.SyncedAt[i], stored);
            latencies.Add(latency.TotalMilliseconds);
            var fleet = TimeSpan.FromTicks((long)(cumulative.Ticks / speed)) - offset;
            var best = path > fleet ? path : fleet;
            if (best > TimeSpan.Zero)
            {
                ratios.Add(latency / best);
                if (policy.FinalAt.TryGetValue(sequence, out var policyFinal))
                {
                    policyRatios.Add((policyFinal - offset) / best);
                }
            }
        }

        if (totalWork <= TimeSpan.Zero)
        {
            ideal = TimeSpan.Zero; // Zero-latency provers: there is no ideal to compare with.
        }

        var capacity = run.TotalSpeed * (lastEnd - run.StartedUtc).TotalMilliseconds;
        var shares = capacity > 0 && busy > 0 ? new FleetShares(busy / capacity, between / capacity, Math.Max(0, 1 - ((busy + between) / capacity))) : null;
        var e2e = endToEnd.ToArray();
        Array.Sort(e2e);
        var ratioArray = ratios.ToArray();
        Array.Sort(ratioArray);
        var latencyArray = latencies.ToArray();
        Array.Sort(latencyArray);
        var lag = pollLag.ToArray();
        Array.Sort(lag);
        var next = answerToRequest.ToArray();
        Array.Sort(next);
        var unlocked = unlock.ToArray();
        Array.Sort(unlocked);
        return new RunAnalysis(e2e, lag, next, ideal, critical, ratioArray, latencyArray, policy.Makespan, [.. policyRatios], unlocked, shares);
    }

    /// <summary>The CSV header of <see cref="WriteTimelineAsync"/>.</summary>
    internal const string TimelineHeader =
        "prover,kind,sequence,from_batch,to_batch,work_ms,duration_ms,ready_ms,written_ms,received_ms,ended_ms,answered_ms,stored_ms";

    /// <summary>Creates the timeline file (and its folder) before the run, so that a path that cannot be written is refused
    /// before anything is measured.</summary>
    private static void PrepareTimeline(string path)
    {
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }

            File.WriteAllText(path, "");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new ArgumentException($"--timeline: cannot write '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Writes the run's schedule, one line per job that a prover accepted, in the order the requests were written: the
    /// prover, the task, the work drawn (at speed 1) and the time the job took on its prover, then in milliseconds since
    /// the run's start: the task ready, its request written, received by the prover, the job's end there, its proof
    /// received by the aggregator (empty if it was not) and its sequence's final proof stored (empty if it was not).
    /// </summary>
    private static async Task WriteTimelineAsync(string path, RunRecord run, CancellationToken cancellationToken)
    {
        string Ms(double value) => value.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        string Since(long timestamp) => Ms(Stopwatch.GetElapsedTime(run.Started, timestamp).TotalMilliseconds);
        await using var writer = new StreamWriter(path, append: false);
        await writer.WriteLineAsync(TimelineHeader.AsMemory(), cancellationToken).ConfigureAwait(false);
        foreach (var (record, timing) in run.Jobs())
        {
            var received = (timing.ReceivedAt - run.StartedUtc).TotalMilliseconds;
            var task = record.Task;
            var line = string.Join(',', record.Prover, task.Kind, task.Sequence, task.FromBatch, task.ToBatch, Ms(timing.Work.TotalMilliseconds),
                Ms(timing.Duration.TotalMilliseconds), Since(record.ReadyAt), Since(record.WrittenAt), Ms(received), Ms(received + timing.Duration.TotalMilliseconds),
                record.AnsweredAt == 0 ? "" : Since(record.AnsweredAt), run.StoredAt.TryGetValue(task.Sequence, out var stored) ? Since(stored) : "");
            await writer.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>What a run recorded, for <see cref="Analyse"/>.</summary>
    private sealed record RunRecord(IReadOnlyList<SequenceInput> Sequences, long[] SyncedAt, ConcurrentDictionary<ulong, long> StoredAt,
        long Started, DateTimeOffset StartedUtc, DispatchRecord[] Dispatches, MockJobTiming[] Timings, IReadOnlyList<double> Speeds)
    {
        public double TotalSpeed => Speeds.Sum();

        public double FastestSpeed => Speeds.Count > 0 ? Speeds.Max() : 1;

        /// <summary>The speed of the prover named <paramref name="prover"/> (<see cref="ProverName"/>), 1 if not one of them.</summary>
        public double SpeedOf(string prover) =>
            prover.StartsWith(ProverNamePrefix, StringComparison.Ordinal) &&
            int.TryParse(prover.AsSpan(ProverNamePrefix.Length), System.Globalization.CultureInfo.InvariantCulture, out var i) && i >= 0 && i < Speeds.Count
                ? Speeds[i]
                : 1;

        /// <summary>The jobs a prover accepted, in the order their requests were written: what the aggregator recorded and
        /// what the prover did, joined by request id.</summary>
        public IEnumerable<(DispatchRecord Record, MockJobTiming Timing)> Jobs()
        {
            var timings = new Dictionary<string, MockJobTiming>(StringComparer.Ordinal);
            foreach (var timing in Timings)
            {
                timings[timing.RequestId] = timing;
            }

            foreach (var record in Dispatches.OrderBy(r => r.WrittenAt))
            {
                if (timings.TryGetValue(record.RequestId, out var timing))
                {
                    yield return (record, timing);
                }
            }
        }
    }

    /// <summary>Sorted samples and ideals of one run.</summary>
    private sealed record RunAnalysis(double[] EndToEnd, double[] PollLag, double[] AnswerToRequest, TimeSpan IdealMakespan, TimeSpan CriticalPath, double[] SequenceRatios,
        double[] SequenceLatencies, TimeSpan PolicyMakespan, double[] PolicySequenceRatios, double[] Unlock, FleetShares? Fleet);

    /// <summary>Shares of the fleet's capacity (speed × time, from the run's start to the last job's end): computing,
    /// between jobs while a task was ready (the execution's cost per job), and waiting with no task ready.</summary>
    private sealed record FleetShares(double Busy, double BetweenJobs, double Starved);
}
