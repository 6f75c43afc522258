using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using ZkPow.Devnet.Prover;

namespace ZkPow.Cli.Tests;

/// <summary>
/// The aggregator as a real child process (<c>zkpow bench --provers 0</c> serving sequences to external provers),
/// mock provers in other processes, and SIGKILLs by PID at random moments.
/// </summary>
public sealed partial class GeneratorCrashTests
{
    private const int Sequences = 14;

    [Fact]
    public async Task an_aggregator_killed_at_random_moments_loses_no_proof_asks_no_final_proof_twice_and_adopts_running_jobs()
    {
        using var dir = new TempDir();
        var port = ChildProcess.FreePort();
        var db = dir.File("aggregator.db");
        var journal = dir.File("journal.jsonl");
        var provers = Enumerable.Range(0, 3).Select(i => ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{port}",
            "--name", $"crash-{i}", "--latency", "150ms", "--journal", journal, "--reconnect-delay", "100ms")).ToList();
        try
        {
            string[] aggregatorArgs = ["bench", "--provers", "0", "--prover-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--db", db, "--sequences", Sequences.ToString(System.Globalization.CultureInfo.InvariantCulture), "--max-batches", "6",
                "--seed", "5", "--json", "--log-level", "Information"];
            var random = new Random(11);
            var acknowledged = new HashSet<string>();
            var (lastFinals, lastDone) = (0L, 0L);
            var kills = 0;
            var logs = new List<string>();
            string? result = null;
            while (result is null)
            {
                Assert.All(provers, p => Assert.False(p.HasExited, $"a mock prover exited: {p.Stderr}"));
                using var aggregator = ChildProcess.Zkpow(aggregatorArgs);
                if (kills < 10)
                {
                    // The random moment is counted from when the aggregator serves its provers (a log line), not from its
                    // start, which takes seconds on a loaded machine.
                    var serving = Stopwatch.StartNew();
                    while (!aggregator.HasExited && !aggregator.Stderr.Contains(" connected from ", StringComparison.Ordinal) &&
                           serving.Elapsed < TimeSpan.FromSeconds(60))
                    {
                        await Task.Delay(20);
                    }

                    await Task.Delay(random.Next(50, 800));
                }

                if (kills < 10 && !aggregator.HasExited)
                {
                    aggregator.Kill();
                    kills++;
                }
                else
                {
                    var code = await aggregator.WaitForExitAsync(TimeSpan.FromMinutes(2));
                    Assert.True(code == 0, $"the aggregator exited with {code}: {aggregator.Stderr}");
                    result = aggregator.Stdout;
                }

                logs.Add(aggregator.Stderr);
                foreach (Match m in StoredFinal().Matches(aggregator.Stderr))
                {
                    acknowledged.Add(m.Groups[1].Value);
                }

                var (finals, done, integrity, stored) = Inspect(db);
                Assert.Equal("ok", integrity);
                Assert.True(finals >= lastFinals, $"final proofs went from {lastFinals} to {finals}");
                Assert.True(done >= lastDone, $"completed tasks went from {lastDone} to {done}");
                Assert.Subset(stored, acknowledged);
                (lastFinals, lastDone) = (finals, done);
            }

            Assert.True(kills >= 10, $"only {kills} kills before the run finished");
            using var json = JsonDocument.Parse(result);
            Assert.Equal(Sequences, json.RootElement.GetProperty("finalProofs").GetInt64());
            Assert.Equal(Sequences, Inspect(db).Finals);

            var entries = MockProverJournal.ReadAll(journal);
            var finalRequests = entries.Where(e => e.Kind == "final").GroupBy(e => (e.OldBatch, e.NewBatch)).ToList();
            Assert.Equal(Sequences, finalRequests.Count);
            Assert.All(finalRequests, g => Assert.True(g.Count() == 1, $"final proof of ({g.Key.OldBatch},{g.Key.NewBatch}] requested {g.Count()} times"));
            var adoptions = logs.Sum(l => Adopted().Matches(l).Count);
            Assert.True(adoptions > 0, "no job running at a kill was adopted by the restarted aggregator");
        }
        finally
        {
            foreach (var prover in provers)
            {
                prover.Dispose();
            }
        }
    }

    private static (long Finals, long Done, string Integrity, HashSet<string> Stored) Inspect(string db)
    {
        if (!File.Exists(db))
        {
            return (0, 0, "ok", []); // Killed before it created its store (a slow start on a loaded machine).
        }

        using var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=false");
        connection.Open();
        long Scalar(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            return (long)command.ExecuteScalar()!;
        }

        using var check = connection.CreateCommand();
        check.CommandText = "PRAGMA integrity_check;";
        var integrity = (string)check.ExecuteScalar()!;
        using var list = connection.CreateCommand();
        list.CommandText = "SELECT init_batch, final_batch FROM final_proofs;";
        var stored = new HashSet<string>();
        using (var reader = list.ExecuteReader())
        {
            while (reader.Read())
            {
                stored.Add($"({reader.GetInt64(0)},{reader.GetInt64(1)}]");
            }
        }

        return (Scalar("SELECT COUNT(*) FROM final_proofs;"), Scalar("SELECT COUNT(*) FROM tasks WHERE state = 2;"), integrity, stored);
    }

    [GeneratedRegex(@"Final proof of sequence (\(\d+,\d+\]) stored")]
    private static partial Regex StoredFinal();

    [GeneratedRegex(@"still has job")]
    private static partial Regex Adopted();
}
