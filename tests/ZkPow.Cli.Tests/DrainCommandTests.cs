using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Cli.Tests;

/// <summary>
/// <c>zkpow drain</c> against <c>zkpow run</c> (real child processes, a real chain): with commitments of ours open, the
/// drain exits 0 only once each is revealed and mined, the aggregator then stops with exit code 0, no new hash is
/// committed after the drain began, and the contract holds no open commitment of ours and slashes nothing on settle.
/// </summary>
public sealed partial class DrainCommandTests
{
    [Fact]
    public async Task drain_reveals_every_open_commitment_commits_nothing_new_and_stops_the_aggregator_with_exit_code_0()
    {
        using var dir = new TempDir();
        // A long hash window (T1) keeps our commitments open for several blocks before their proof window opens.
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 6, T2 = 12 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 2, BatchDataSize = 256 }, ledger, TimeProvider.System);
        for (var i = 0; i < 4; i++)
        {
            await sequencer.SequenceNextAsync();
        }

        var db = dir.File("aggregator.db");
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Sync = new { RollupNodeUrl = node.Url, Confirmations = 0, PollInterval = "200ms" },
            Store = new { SqlitePath = db },
            Provers = new { Port = 0, ForkId = 6 },
            Http = new { Port = 0 },
            Chain = new { chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
            ExpectedChainId = 31337,
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            TxManager = new { Confirmations = 1 },
        }));
        var miner = chain.Miners[0].Address;
        using var run = ChildProcess.Zkpow("run", "--config", config);
        var started = await AggregatorStartLine.WaitAsync(run);
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "drain", "--latency", "20ms");

        // Drain once a commitment of ours is on chain and not yet revealable (hash mined, proof window not open).
        await WaitUntilAsync(() => States(db).ContainsValue(2), "a commitment of ours on chain", run);
        var openAtDrain = States(db).Where(s => s.Value is 1 or 2 or 3).Select(s => s.Key).ToList();
        using var drain = ChildProcess.Zkpow("drain", "--url", started.Groups[2].Value, "--json");

        // Sequences that arrive during the drain are not committed.
        await WaitUntilAsync(() => Task.FromResult(drain.Stderr.Contains("drain: draining", StringComparison.Ordinal)), "the drain to begin", run);
        using (var http = new HttpClient { BaseAddress = new Uri(started.Groups[2].Value) })
        {
            var status = await http.GetFromJsonAsync<JsonElement>("api/status");
            Assert.Equal("draining", status.GetProperty("drain").GetProperty("state").GetString());
        }

        var late = new List<ulong>();
        for (var i = 0; i < 2; i++)
        {
            late.Add((await sequencer.SequenceNextAsync()).FinalNewBatch);
        }

        Assert.True(await drain.WaitForExitAsync(TimeSpan.FromMinutes(3)) == 0, $"drain: {drain.Stderr}\naggregator: {run.Stderr}");
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, run.Stderr);
        Assert.Matches(OpenProgress(), drain.Stderr);
        using (var printed = JsonDocument.Parse(drain.Stdout))
        {
            Assert.True(printed.RootElement.GetProperty("drained").GetBoolean());
            Assert.Equal(0, printed.RootElement.GetProperty("drain").GetProperty("openCommitments").GetInt32());
        }

        // The store: nothing left between commit and reveal; every sequence we committed is revealed.
        var states = States(db);
        Assert.DoesNotContain(states, s => s.Value is 1 or 2 or 3);
        Assert.All(openAtDrain, final => Assert.Equal(4L, states[final]));
        Assert.All(late, final => Assert.Empty(HashTxs(db, final)));
        Assert.All(states.Keys.Where(f => HashTxs(db, f).Count > 0), final => Assert.Equal(4L, states[final]));

        // The chain: no open commitment of ours, and settling slashes nothing.
        var open = (await chain.ReadAsync(chain.Contracts.Rollup, ContractCalls.OpenCommitmentsOf(miner))).UintArray(0);
        Assert.Empty(open);
        var settle = await chain.SendAsync(chain.Admin, chain.Contracts.Rollup, RollupCalls.Settle(miner));
        Assert.True(settle.Succeeded);
        using var rpc = new EthRpcClient(chain.RpcUrl, TimeSpan.FromSeconds(30));
        var events = await new RollupChainClient(rpc, chain.Contracts.Rollup).GetEventsAsync(0, await chain.GetBlockNumberAsync(), CancellationToken.None);
        Assert.DoesNotContain(events.OfType<SlashedEvent>(), e => string.Equals(e.Prover, miner, StringComparison.OrdinalIgnoreCase));
        Assert.All(openAtDrain, final => Assert.Contains(events.OfType<RewardPaidEvent>(),
            e => e.FinalNewBatch == final && string.Equals(e.Prover, miner, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public async Task drain_refuses_an_unreadable_token_file_an_unreachable_aggregator_and_one_that_is_still_starting()
    {
        using var dir = new TempDir();
        using var badToken = ChildProcess.Zkpow("drain", "--url", "http://127.0.0.1:9", "--token-file", dir.File("missing-token"));
        Assert.Equal(2, await badToken.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("token file", badToken.Stderr);

        using var unreachable = ChildProcess.Zkpow("drain", "--url", $"http://127.0.0.1:{ChildProcess.FreePort()}");
        Assert.Equal(1, await unreachable.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("cannot reach", unreachable.Stderr);

        // An aggregator whose start-up waits for its base chain answers, and refuses the drain (nothing to drain yet).
        var httpPort = ChildProcess.FreePort();
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Sync = new { RollupNodeUrl = $"http://127.0.0.1:{ChildProcess.FreePort()}", Confirmations = 0 },
            Store = new { SqlitePath = dir.File("aggregator.db") },
            Provers = new { Port = 0, ForkId = 6 },
            Http = new { Port = httpPort },
            Chain = new { RpcUrl = $"http://127.0.0.1:{ChildProcess.FreePort()}", RollupAddress = "0x5FbDB2315678afecb367f032d93F642f64180aa3" },
            ExpectedChainId = 31337,
            Key = new { DevPrivateKey = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d" },
        }));
        using var run = ChildProcess.Zkpow("run", "--config", config);
        await WaitUntilAsync(() => run.Stderr.Contains("Start-up waits for", StringComparison.Ordinal), "start-up to wait for the chain", run);
        using var early = ChildProcess.Zkpow("drain", "--url", $"http://127.0.0.1:{httpPort}");
        Assert.True(await early.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 1, early.Stderr);
        Assert.Contains("refused the drain (503)", early.Stderr);
        Assert.Contains("starting", early.Stderr);
        Assert.False(run.HasExited, run.Stderr);
    }

    /// <summary>Submission states by final batch (read-only).</summary>
    private static Dictionary<ulong, long> States(string db)
    {
        var states = new Dictionary<ulong, long>();
        if (!File.Exists(db))
        {
            return states;
        }

        using var connection = Open(db);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT final_batch, state FROM submissions;";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            states[(ulong)reader.GetInt64(0)] = reader.GetInt64(1);
        }

        return states;
    }

    private static List<string> HashTxs(string db, ulong final)
    {
        using var connection = Open(db);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT idem_key FROM txs WHERE idem_key LIKE $key AND kind = 'submitProofHash';";
        command.Parameters.AddWithValue("$key", $"submitProofHash/{final.ToString(CultureInfo.InvariantCulture)}/%");
        using var reader = command.ExecuteReader();
        var keys = new List<string>();
        while (reader.Read())
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static SqliteConnection Open(string db)
    {
        var connection = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=false");
        connection.Open();
        return connection;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, ChildProcess aggregator)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.False(aggregator.HasExited, $"the aggregator exited while waiting for {what}: {aggregator.Stderr}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"timed out waiting for {what}: {aggregator.Stderr}");
            await Task.Delay(50);
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what, ChildProcess aggregator) =>
        WaitUntilAsync(() => Task.FromResult(condition()), what, aggregator);


    [GeneratedRegex(@"drain: draining, [1-9]\d* open commitments")]
    private static partial Regex OpenProgress();
}
