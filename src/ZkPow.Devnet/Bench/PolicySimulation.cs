using ZkPow.Aggregator.Generator;

namespace ZkPow.Devnet.Bench;

/// <summary>
/// The generator's scheduling policy played out on a run's drawn work with no overhead: every job takes its drawn work
/// divided by its prover's speed, and a proof, a status reply or a request takes no time. It uses the generator's own
/// order (<see cref="SlackPriority"/> over <see cref="TaskPriority"/>, for a fleet of as many provers) and its own rules:
/// a task that becomes ready goes to the fastest idle prover (the one idle longest among those within 10 % of it), and
/// a prover that is free picks with <see cref="ProofGenerator.Pick"/>, counting as slow when another prover is at least
/// twice as fast. Unlike the run, every prover's speed is known from the start. The gap between the run and this
/// schedule is what the execution costs (gRPC round trips, the store, the cores shared with the mock provers); the gap
/// between this schedule and the ideal is what the policy costs.
/// </summary>
internal static class PolicySimulation
{
    /// <summary>A job of the run: its task (ids, inputs, sequence) and the work drawn for it at speed 1.</summary>
    public sealed record Job(ProofTask Task, TimeSpan Work);

    /// <summary>When the simulated schedule ends, and when each sequence's final job ends (from the run's start).</summary>
    public sealed record Outcome(TimeSpan Makespan, IReadOnlyDictionary<ulong, TimeSpan> FinalAt);

    /// <param name="jobs">The run's jobs, one per task.</param>
    /// <param name="syncedAt">When each sequence (by final batch) was synced, from the run's start; its batch jobs are
    /// ready then.</param>
    /// <param name="speeds">The provers' speeds.</param>
    public static Outcome Run(IReadOnlyList<Job> jobs, IReadOnlyDictionary<ulong, TimeSpan> syncedAt, IReadOnlyList<double> speeds)
    {
        if (speeds.Count == 0 || jobs.Count == 0)
        {
            return new Outcome(TimeSpan.Zero, new Dictionary<ulong, TimeSpan>());
        }

        var order = new SlackPriority(TaskPriority.Default) { Fleet = speeds.Count };
        var byId = jobs.ToDictionary(j => j.Task.Id);
        var waitingInputs = new Dictionary<long, int>();
        var parents = new Dictionary<long, List<long>>();
        foreach (var job in jobs)
        {
            var inputs = 0;
            foreach (var input in new[] { job.Task.Input1, job.Task.Input2 })
            {
                if (input is { } id && byId.ContainsKey(id))
                {
                    inputs++;
                    (parents.TryGetValue(id, out var list) ? list : parents[id] = []).Add(job.Task.Id);
                }
            }

            waitingInputs[job.Task.Id] = inputs;
        }

        var fastest = speeds.Max();
        var names = Enumerable.Range(0, speeds.Count).Select(i => $"sim-{i:000}").ToArray();
        var slow = speeds.Select(s => s * 2 <= fastest).ToArray();
        var ready = new SortedSet<ProofTask>(order);
        var idle = new List<int>(Enumerable.Range(0, speeds.Count));
        var finalAt = new Dictionary<ulong, TimeSpan>();
        var makespan = TimeSpan.Zero;

        // Events in time order (ties in the order they were queued): a sequence synced (null prover) or a job ended.
        var events = new PriorityQueue<(ulong Sequence, int? Prover, long TaskId), (TimeSpan, long)>();
        long queued = 0;
        foreach (var (sequence, at) in syncedAt.OrderBy(s => s.Value).ThenBy(s => s.Key))
        {
            events.Enqueue((sequence, null, 0), (at, queued++));
        }

        // The jobs without inputs among the jobs (the batches) are ready when their sequence is synced.
        var leavesOf = jobs.Where(j => waitingInputs[j.Task.Id] == 0)
            .GroupBy(j => j.Task.Sequence)
            .ToDictionary(g => g.Key, g => g.OrderBy(j => j.Task.FromBatch).Select(j => j.Task).ToList());

        void Start(int prover, ProofTask task, TimeSpan now) =>
            events.Enqueue((task.Sequence, prover, task.Id), (now + (byId[task.Id].Work / speeds[prover]), queued++));

        void MakeReady(ProofTask task, TimeSpan now)
        {
            if (idle.Count == 0)
            {
                ready.Add(task);
                return;
            }

            var best = 0;
            for (var i = 1; i < idle.Count; i++)
            {
                // As the generator: a waiter replaces the best so far only if it is more than 10 % faster.
                if (1 / speeds[idle[i]] < 0.9 / speeds[idle[best]])
                {
                    best = i;
                }
            }

            var prover = idle[best];
            idle.RemoveAt(best);
            Start(prover, task, now);
        }

        while (events.TryDequeue(out var next, out var key))
        {
            var now = key.Item1;
            if (next.Prover is not { } prover)
            {
                foreach (var leaf in leavesOf.GetValueOrDefault(next.Sequence) ?? [])
                {
                    MakeReady(leaf, now);
                }

                continue;
            }

            var done = byId[next.TaskId].Task;
            makespan = now > makespan ? now : makespan;
            if (done.Kind == TaskKind.Final)
            {
                finalAt[done.Sequence] = now;
            }

            // The prover is free at once and takes the best ready task it may (or waits); its proof is stored after that,
            // which makes the parent ready: to the fastest idle prover (this one among them), or queued.
            if (ProofGenerator.Pick(ready, names[prover], slow[prover], _ => true) is { } pick)
            {
                ready.Remove(pick);
                Start(prover, pick, now);
            }
            else
            {
                idle.Add(prover);
            }

            foreach (var parent in parents.GetValueOrDefault(done.Id) ?? [])
            {
                if (--waitingInputs[parent] == 0)
                {
                    MakeReady(byId[parent].Task, now);
                }
            }
        }

        return new Outcome(makespan, finalAt);
    }
}
