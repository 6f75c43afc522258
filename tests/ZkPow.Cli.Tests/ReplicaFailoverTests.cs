using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Xunit.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Cli.Tests;

/// <summary>
/// Two <c>zkpow run</c> replicas of one miner on one PostgreSQL database and a devnet chain: a split brain made with
/// SIGSTOP. The paused leader loses its lease, the other replica takes over and sends, and the first, resumed, steps
/// down and sends nothing: the chain shows the miner's nonces contiguous, every transaction one the store fenced, and at
/// most one successful submitProofHash per sequence.
/// </summary>
public sealed class ReplicaFailoverTests(ITestOutputHelper output)
{
    private const int SigStop = 19;
    private const int SigCont = 18;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task a_leader_paused_past_its_lease_is_replaced_and_sends_nothing_when_it_resumes()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 2, BatchDataSize = 256 }, ledger, TimeProvider.System);
        await sequencer.SequenceNextAsync();
        var database = await PostgresCluster.NewDatabaseAsync();
        var path = dir.File("aggregator.json");
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(new
        {
            Sync = new { RollupNodeUrl = node.Url, Confirmations = 0, PollInterval = "200ms" },
            Store = new { Provider = "postgres", ConnectionString = database },
            Provers = new { Port = 0, ForkId = 6 },
            Http = new { Port = 0 },
            Chain = new { RpcUrl = chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
            ExpectedChainId = 31337,
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            TxManager = new { Confirmations = 1 },
            Leader = new { RenewInterval = "500ms", LeaseTime = "4s" },
        }));
        var miner = chain.Miners[0].Address.ToLowerInvariant();
        // The devnet's own set-up transactions of the miner (staking) come before the aggregator's.
        var firstNonce = (ulong)(await MinerTxsAsync(chain, miner)).Count;

        using var a = ChildProcess.Zkpow("run", "--config", path, "--Replica:Id=replica-a");
        var startedA = await AggregatorStartLine.WaitAsync(a);
        await WaitUntilAsync(async () => await LeaseHolderAsync(database) == "replica-a", () => a.Stderr);
        using var b = ChildProcess.Zkpow("run", "--config", path, "--Replica:Id=replica-b");
        var startedB = await AggregatorStartLine.WaitAsync(b);
        using var proverA = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{startedA.Groups[1].Value}", "--name", "pa", "--latency", "20ms");
        using var proverB = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{startedB.Groups[1].Value}", "--name", "pb", "--latency", "20ms");

        // The first sequence is proved and verified under A.
        await WaitVerifiedAsync(chain, ledger.LastBatch, a, b);
        Assert.Equal("replica-a", await LeaseHolderAsync(database));
        var tokenA = await LeaseTokenAsync(database);

        // A freezes past its lease: B takes over, then proves and sends the next sequence.
        var paused = Stopwatch.StartNew();
        a.Signal(SigStop);
        try
        {
            await WaitUntilAsync(async () => await LeaseHolderAsync(database) == "replica-b", () => b.Stderr);
            output.WriteLine($"replica B took the lease {paused.Elapsed.TotalSeconds:0.0} s after replica A was paused (lease 4 s, renewal every 500 ms)");
            Assert.True(await LeaseTokenAsync(database) > tokenA);
            await sequencer.SequenceNextAsync();
            await WaitVerifiedAsync(chain, ledger.LastBatch, a, b);
        }
        finally
        {
            a.Signal(SigCont);
        }

        var resumedAt = a.Stderr.Length;

        // A resumes: it steps down by its own clock (and is fenced if it tries anything); B keeps leading and sending.
        await WaitUntilAsync(() => Task.FromResult(a.Stderr.Contains("stepping down as leader", StringComparison.Ordinal)), () => a.Stderr);
        await sequencer.SequenceNextAsync();
        await WaitVerifiedAsync(chain, ledger.LastBatch, a, b);
        Assert.Equal("replica-b", await LeaseHolderAsync(database));
        Assert.False(a.HasExited, a.Stderr);

        output.WriteLine($"replica A after resuming:\n{a.Stderr[resumedAt..]}");
        // zkpow status on either replica lists both, B leading.
        using (var status = ChildProcess.Zkpow("status", "--url", startedA.Groups[2].Value, "--json"))
        {
            Assert.Equal(0, await status.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            var root = JsonDocument.Parse(status.Stdout).RootElement;
            Assert.Equal("standby", root.GetProperty("role").GetString());
            Assert.Equal("replica-a", root.GetProperty("replicaId").GetString());
            var replicas = root.GetProperty("replicas").EnumerateArray().ToList();
            Assert.Equal(["replica-b", "replica-a"], replicas.Select(r => r.GetProperty("id").GetString()));
            Assert.Equal([true, false], replicas.Select(r => r.GetProperty("leader").GetBoolean()));
            Assert.Equal(["leader", "standby"], replicas.Select(r => r.GetProperty("role").GetString()));
            // Each replica lists the provers that dialled it: pb has stayed on B.
            Assert.Contains("pb", replicas[0].GetProperty("provers").EnumerateArray().Select(p => p.GetString()));
        }

        using (var status = ChildProcess.Zkpow("status", "--url", startedB.Groups[2].Value))
        {
            Assert.Equal(0, await status.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("replicas: 2 (this one: replica-b, leader)", status.Stdout, StringComparison.Ordinal);
        }

        // What the chain says: every transaction of the miner is one the store recorded under a fence, nonces contiguous,
        // and no sequence got two successful submitProofHash calls.
        var all = await MinerTxsAsync(chain, miner);
        Assert.Equal(Enumerable.Range(0, all.Count).Select(n => (ulong)n), all.Select(t => t.Nonce).Order());
        var txs = all.Where(t => t.Nonce >= firstNonce).ToList();
        var stored = await StoredHashesAsync(database);
        Assert.All(txs, t => Assert.Contains(t.Hash, stored));
        var selector = Convert.ToHexStringLower(Abi.Call("submitProofHash(uint64,uint64,bytes32)")[..4]);
        var hashCommits = txs.Where(t => t.Succeeded && t.To == chain.Contracts.Rollup.ToLowerInvariant() && t.Input.StartsWith(selector, StringComparison.Ordinal))
            .GroupBy(t => t.Input.Substring(8 + 64, 64)).ToList();
        Assert.NotEmpty(hashCommits);
        Assert.All(hashCommits, g => Assert.Single(g));
        Assert.True(txs.Count >= 6, $"only {txs.Count} transactions of the miner (a hash and a proof for each of three sequences expected)");
    }

    private static async Task WaitVerifiedAsync(DevChain chain, ulong last, ChildProcess a, ChildProcess b)
    {
        var watch = Stopwatch.StartNew();
        var verified = 0UL;
        while (verified < last && watch.Elapsed < Bound)
        {
            await Task.Delay(300);
            verified = (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0);
        }

        Assert.True(verified >= last, $"verified up to batch {verified} of {last}; A said: {a.Stderr}\nB said: {b.Stderr}");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> context)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Bound, context());
            await Task.Delay(200);
        }
    }

    private static async Task<string?> LeaseHolderAsync(string database) =>
        (string?)await ScalarAsync(database, "SELECT holder FROM leader_leases WHERE expires_at > clock_timestamp();");

    private static async Task<long> LeaseTokenAsync(string database) => (long)(await ScalarAsync(database, "SELECT token FROM leader_leases;"))!;

    private static async Task<object?> ScalarAsync(string database, string sql)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is DBNull ? null : value;
    }

    private static async Task<HashSet<string>> StoredHashesAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT tx_hash FROM tx_versions;", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var hashes = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (await reader.ReadAsync())
        {
            hashes.Add(reader.GetString(0).ToLowerInvariant());
        }

        return hashes;
    }

    private sealed record MinedTx(string Hash, ulong Nonce, string To, string Input, bool Succeeded);

    /// <summary>Every transaction of <paramref name="sender"/> in every block, with its receipt's status.</summary>
    private static async Task<List<MinedTx>> MinerTxsAsync(DevChain chain, string sender)
    {
        var head = await chain.GetBlockNumberAsync();
        var txs = new List<MinedTx>();
        for (var n = 0UL; n <= head; n++)
        {
            var block = await chain.Rpc.CallAsync("eth_getBlockByNumber", [$"0x{n:x}", true], CancellationToken.None);
            foreach (var tx in block.GetProperty("transactions").EnumerateArray())
            {
                if (!string.Equals(tx.GetProperty("from").GetString(), sender, StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var hash = tx.GetProperty("hash").GetString()!.ToLowerInvariant();
                var receipt = await chain.Rpc.CallAsync("eth_getTransactionReceipt", [hash], CancellationToken.None);
                txs.Add(new MinedTx(hash, ulong.Parse(tx.GetProperty("nonce").GetString()![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
                    tx.GetProperty("to").GetString()?.ToLowerInvariant() ?? "", tx.GetProperty("input").GetString()![2..].ToLowerInvariant(),
                    receipt.GetProperty("status").GetString() == "0x1"));
            }
        }

        return txs;
    }
}
