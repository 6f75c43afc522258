using ZkPow.Devnet.Prover;
using ZkPow.Devnet.Tests.Proof;

namespace ZkPow.Devnet.Tests.Prover;

public sealed class MockProverJournalTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"zkpow-journal-{Guid.NewGuid():N}.jsonl");

    private static DevnetVectors V => DevnetVectors.Current;

    [Fact]
    public async Task every_gen_request_appends_one_line()
    {
        await using var h = await ProverHarness.StartAsync(o =>
        {
            o.JournalPath = _path;
            o.Name = "journaled";
        });
        var sequence = V.BuildSequence();
        var b1 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[0].ToInputProver(V.ChainId, V.ForkId)));
        var b2 = await h.ProveRecursiveAsync(Requests.GenBatch(sequence.Batches[1].ToInputProver(V.ChainId, V.ForkId)));
        var a12 = await h.ProveRecursiveAsync(Requests.GenAggregated(b1, b2));
        var final1 = await h.StartJobAsync(Requests.GenFinal(a12, V.Aggregator));
        var final2 = await h.StartJobAsync(Requests.GenFinal(a12, V.Aggregator));
        await h.Stream.SendAsync(Requests.GetStatus());

        var lines = File.ReadAllLines(_path);
        Assert.Equal(5, lines.Length);
        var entries = MockProverJournal.ReadAll(_path);
        Assert.Equal(["batch", "batch", "aggregated", "final", "final"], entries.Select(e => e.Kind));
        Assert.Equal([(0UL, 1UL), (1UL, 2UL), (0UL, 2UL), (0UL, 2UL), (0UL, 2UL)],
            entries.Select(e => (e.OldBatch!.Value, e.NewBatch!.Value)));
        Assert.Equal([final1, final2], entries.Skip(3).Select(e => e.JobId));
        Assert.All(entries, e => Assert.Equal("journaled", e.Prover));
        Assert.All(entries, e => Assert.Equal(h.Prover.InstanceId, e.InstanceId));
        Assert.All(entries, e => Assert.InRange(e.Utc, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Equal(2, entries.Count(e => e is { Kind: "final", OldBatch: 0, NewBatch: 2 }));
    }

    [Fact]
    public async Task concurrent_writers_do_not_lose_lines()
    {
        var journals = Enumerable.Range(0, 4).Select(_ => new MockProverJournal(_path, TimeProvider.System)).ToArray();
        await Task.WhenAll(journals.Select((journal, w) => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await journal.AppendAsync(new MockJournalEntry("final", (ulong)w, (ulong)i, $"{w}-{i}", "x", "p",
                    DateTimeOffset.UnixEpoch), CancellationToken.None);
            }
        })));

        var entries = MockProverJournal.ReadAll(_path);
        Assert.Equal(200, entries.Count);
        Assert.Equal(200, entries.Select(e => e.JobId).Distinct().Count());
    }

    public void Dispose() => File.Delete(_path);
}
