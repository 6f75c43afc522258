using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Cli.Tests;

public sealed partial class RunCommandTests
{
    private static string WriteConfig(TempDir dir, object config)
    {
        var path = dir.File("aggregator.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config));
        return path;
    }

    [Theory]
    [InlineData("{\"Provers\":{\"Prot\":50081}}", "Provers:Prot", "unknown key")]
    [InlineData("{\"Provers\":{\"HeartbeatInterval\":\"soon\"}}", "Provers:HeartbeatInterval", "not a duration")]
    [InlineData("{\"Provers\":{\"HeartbeatInterval\":\"30s\"}}", "Provers:HeartbeatInterval", "at most 15s")]
    [InlineData("{\"Store\":{\"SqliteSynchronous\":\"OFF\"}}", "Store:SqliteSynchronous", "FULL")]
    [InlineData("{\"Store\":{\"Provider\":\"mysql\"}}", "Store:Provider", "sqlite or postgres")]
    [InlineData("{\"Store\":{\"Provider\":\"postgres\"}}", "Store:ConnectionString", "must name the PostgreSQL database")]
    [InlineData("{\"Metrix\":{}}", "Metrix", "unknown section")]
    [InlineData("{\"Chain\":{\"RollupAddress\":\"0x1234\"}}", "Chain:RollupAddress", "")]
    [InlineData("{\"Chain\":{\"RollupAddress\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"},\"Key\":{\"KeystorePath\":\"/nonexistent/key.json\",\"PasswordEnvironmentVariable\":\"ZKPOW_TEST_NO_SUCH_VARIABLE\"}}", "Key:", "")]
    [InlineData("{\"Sync\":{\"Confirmations\":\"-3\"}}", "Sync:Confirmations", "whole number")]
    [InlineData("{\"Chain\":{\"RpcUrls\":[\"http://127.0.0.1:8545\",\"ftp://node\"]}}", "Chain:RpcUrls", "not an http(s) URL")]
    [InlineData("{\"Chain\":{\"RpcUrls\":{\"a\":{\"b\":1}}}}", "Chain:RpcUrls", "must be a list")]
    [InlineData("{\"Chain\":{\"RollupAddress\":\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"},\"Key\":{\"DevPrivateKey\":\"0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d\"},\"Sync\":{\"RollupNodeUrls\":[\"http://127.0.0.1:8123\",\"nope\"]}}", "Sync:RollupNodeUrls", "not an http(s) URL")]
    public async Task a_bad_configuration_is_refused_with_a_message_that_names_the_key(string json, string key, string words)
    {
        using var dir = new TempDir();
        var path = dir.File("bad.json");
        await File.WriteAllTextAsync(path, json);
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Http:Port=0");
        Assert.Equal(2, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains($"'{key}", run.Stderr);
        Assert.Contains(words, run.Stderr);
    }

    [Fact]
    public async Task run_refuses_a_rollup_whose_fork_id_is_not_the_configured_one()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 7));
        using var run = ChildProcess.Zkpow("run", "--config", path);
        Assert.Equal(2, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("'Provers:ForkId'", run.Stderr);
        Assert.Contains("forkID() is 6", run.Stderr);
    }

    [Fact]
    public async Task a_running_aggregator_serves_health_metrics_and_a_status_that_zkpow_status_agrees_with()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Generator:MaxAttempts=4");
        var watch = Stopwatch.StartNew();
        Match? started = null;
        while (started is null || !started.Success)
        {
            Assert.False(run.HasExited, run.Stderr);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the aggregator did not start: " + run.Stderr);
            await Task.Delay(100);
            started = AggregatorStartLine.Pattern().Match(run.Stderr);
        }

        var proverPort = started.Groups[1].Value;
        var url = new Uri(started.Groups[2].Value);
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{proverPort}", "--name", "status-probe");
        using var http = new HttpClient { BaseAddress = url };
        JsonElement status = default;
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            status = await http.GetFromJsonAsync<JsonElement>("api/status");
            if (status.GetProperty("provers").GetArrayLength() == 1)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal("status-probe", status.GetProperty("provers")[0].GetProperty("name").GetString());
        Assert.Equal(chain.Miners[0].Address, status.GetProperty("minerAddress").GetString(), ignoreCase: true);
        Assert.Equal("live\n", await http.GetStringAsync("health/live"));
        using (var ready = await http.GetAsync("health/ready"))
        {
            Assert.True(ready.IsSuccessStatusCode, await ready.Content.ReadAsStringAsync());
        }

        // Observable instruments appear once the exporter has read them.
        var metrics = "";
        var connected = ConnectedMetric();
        while (!connected.IsMatch(metrics) && watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(200);
            metrics = await http.GetStringAsync("metrics");
        }

        Assert.Matches(connected, metrics);

        using var cli = ChildProcess.Zkpow("status", "--url", url.ToString(), "--json");
        Assert.Equal(0, await cli.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        using var printed = JsonDocument.Parse(cli.Stdout);
        Assert.Equal(status.GetProperty("minerAddress").GetString(), printed.RootElement.GetProperty("minerAddress").GetString());
        Assert.Equal(1, printed.RootElement.GetProperty("provers").GetArrayLength());

        using var parked = ChildProcess.Zkpow("tasks", "list", "--parked", "--url", url.ToString(), "--json");
        Assert.Equal(0, await parked.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(0, JsonDocument.Parse(parked.Stdout).RootElement.GetProperty("tasks").GetArrayLength());
    }

    [Fact]
    public Task a_running_aggregator_proves_and_gets_verified_what_the_rollup_sequences() => ProveAndVerifyAsync();

    [Fact]
    public async Task a_running_aggregator_on_postgres_proves_and_gets_verified_what_the_rollup_sequences()
    {
        // Trust authentication ignores the password: it is there to show that it never reaches the output.
        const string password = "pg-s3cret-never-logged";
        var database = await PostgresCluster.NewDatabaseAsync();
        var stderr = await ProveAndVerifyAsync("--Store:Provider=postgres", $"--Store:ConnectionString={database};Password={password}");
        Assert.DoesNotContain(password, stderr, StringComparison.Ordinal);
        await using var raw = new Npgsql.NpgsqlConnection(database);
        await raw.OpenAsync();
        await using var count = new Npgsql.NpgsqlCommand("SELECT COUNT(*) FROM final_proofs;", raw);
        Assert.Equal(3L, (long)(await count.ExecuteScalarAsync())!);
    }

    /// <summary>Runs an aggregator on a devnet rollup with three sequences until all are verified; returns its stderr.</summary>
    private static async Task<string> ProveAndVerifyAsync(params string[] extraArgs)
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 4, BatchDataSize = 512 }, ledger, TimeProvider.System);
        for (var i = 0; i < 3; i++)
        {
            await sequencer.SequenceNextAsync();
        }

        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        using var run = ChildProcess.Zkpow(["run", "--config", path, "--Sync:PollInterval=200ms", .. extraArgs]);
        var started = await AggregatorStartLine.WaitAsync(run);
        // The start line names the dashboard too (served at the operator endpoint's root).
        Assert.Contains($"dashboard at {started.Groups[2].Value}", run.Stderr, StringComparison.Ordinal);
        using var http = new HttpClient { BaseAddress = new Uri(started.Groups[2].Value) };
        var before = await http.GetStringAsync("metrics");
        using var prover = ChildProcess.Zkpow("prover", "--aggregator", $"http://127.0.0.1:{started.Groups[1].Value}", "--name", "e2e", "--latency", "20ms");
        var watch = Stopwatch.StartNew();
        var last = ledger.LastBatch;
        var verified = 0UL;
        while (verified < last && watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(500);
            verified = (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0);
        }

        Assert.True(verified == last, $"verified up to batch {verified} of {last}; aggregator said: {run.Stderr}");
        var status = await http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.Equal(3, status.GetProperty("finalProofs").GetInt32());
        var after = await http.GetStringAsync("metrics");
        Assert.Equal(0, MetricSum(before, "zkpow_aggregator_sender_proof_txs"));
        Assert.True(MetricSum(after, "zkpow_aggregator_sender_proof_txs") >= 3, after);
        Assert.True(MetricSum(after, "zkpow_aggregator_sender_hash_txs") >= 3, after);
        Assert.Equal(3, MetricSum(after, "zkpow_aggregator_sync_sequences_synced"));
        return run.Stderr;
    }

    /// <summary>The sum of a metric's samples (all label sets) in Prometheus text.</summary>
    private static double MetricSum(string text, string name) => text.Split('\n')
        .Where(l => l.StartsWith(name, StringComparison.Ordinal) && (l.Length > name.Length && (l[name.Length] == ' ' || l[name.Length] == '{')))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public async Task a_parked_task_is_listed_and_requeued_by_an_operator()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 1, BatchDataSize = 256 }, ledger, TimeProvider.System);
        await sequencer.SequenceNextAsync();
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        var token = ZkPow.Aggregator.Hosting.ProverTokens.New();
        var tokenFile = dir.File("operator.token");
        await File.WriteAllTextAsync(tokenFile, token + "\n");
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Sync:PollInterval=200ms", "--Generator:MaxAttempts=1",
            $"--Http:OperatorTokenHash={ZkPow.Aggregator.Hosting.ProverTokens.Hash(token)}");
        var started = await AggregatorStartLine.WaitAsync(run);
        var url = started.Groups[2].Value;
        var prover = $"http://127.0.0.1:{started.Groups[1].Value}";
        JsonElement parked = default;
        using (ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "broken", "--failure-rate", "1"))
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(300);
                using var list = ChildProcess.Zkpow("tasks", "list", "--parked", "--url", url, "--json");
                Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromMinutes(1)));
                parked = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("tasks").Clone();
                if (parked.GetArrayLength() == 1)
                {
                    break;
                }
            }
        }

        var task = Assert.Single(parked.EnumerateArray());
        Assert.Contains("RESULT_COMPLETED_ERROR", task.GetProperty("lastError").GetString());

        // Parked work leaves the aggregator ready, and degraded.
        using (var health = new HttpClient { BaseAddress = new Uri(url) })
        using (var ready = await health.GetAsync("health/ready"))
        {
            var body = await ready.Content.ReadAsStringAsync();
            Assert.True(ready.IsSuccessStatusCode, body);
            using var document = JsonDocument.Parse(body);
            Assert.Equal("degraded", document.RootElement.GetProperty("status").GetString());
            Assert.Contains("1 parked task", document.RootElement.GetProperty("checks").GetProperty("parked").GetString());
        }
        using var good = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "healthy");
        var taskId = task.GetProperty("id").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var refused = ChildProcess.Zkpow("tasks", "requeue", taskId, "--url", url))
        {
            // Http:OperatorTokenHash is set: without --token-file the request is refused and the task stays parked.
            Assert.Equal(1, await refused.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("401", refused.Stderr, StringComparison.Ordinal);
        }

        using var requeue = ChildProcess.Zkpow("tasks", "requeue", taskId, "--url", url, "--token-file", tokenFile);
        Assert.True(await requeue.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, requeue.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var finals = 0;
        var wait = Stopwatch.StartNew();
        while (finals < 1 && wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(200);
            finals = (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("finalProofs").GetInt32();
        }

        Assert.Equal(1, finals);
        using var afterRequeue = await http.GetAsync("health/ready");
        using var healthy = JsonDocument.Parse(await afterRequeue.Content.ReadAsStringAsync());
        Assert.Equal("healthy", healthy.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task a_sequence_the_sender_parked_shows_in_status_and_the_parked_list_and_is_requeued_by_an_operator()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 1, T1 = 2, T2 = 5 });
        var ledger = new DevnetRollupLedger();
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions());
        var sequencer = new DevnetSequencer(chain, new DevnetSequencerOptions { MaxBatchesPerSequence = 1, BatchDataSize = 256 }, ledger, TimeProvider.System);
        await sequencer.SequenceNextAsync();
        var path = WriteConfig(dir, Config(dir, chain, node, forkId: 6));
        using var run = ChildProcess.Zkpow("run", "--config", path, "--Sync:PollInterval=200ms", "--Sender:MaxRetries=1");
        var started = await AggregatorStartLine.WaitAsync(run);
        var url = started.Groups[2].Value;
        var prover = $"http://127.0.0.1:{started.Groups[1].Value}";
        JsonElement sequence = default;
        using (ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "liar", "--misbehaviour", "WrongFinalProof", "--latency", "20ms"))
        {
            var watch = Stopwatch.StartNew();
            while (sequence.ValueKind != JsonValueKind.Object && watch.Elapsed < TimeSpan.FromSeconds(90))
            {
                await Task.Delay(300);
                using var list = ChildProcess.Zkpow("tasks", "list", "--parked", "--url", url, "--json");
                Assert.Equal(0, await list.WaitForExitAsync(TimeSpan.FromMinutes(1)));
                foreach (var item in JsonDocument.Parse(list.Stdout).RootElement.GetProperty("tasks").EnumerateArray())
                {
                    if (item.GetProperty("parkedBy").GetString() == "sender")
                    {
                        sequence = item.Clone();
                    }
                }
            }
        }

        Assert.True(sequence.ValueKind == JsonValueKind.Object, "no sequence was parked by the sender: " + run.Stderr);
        Assert.Equal("Sequence", sequence.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Null, sequence.GetProperty("id").ValueKind);
        Assert.Equal(ledger.LastBatch, sequence.GetProperty("sequence").GetUInt64());
        Assert.Equal("liar", sequence.GetProperty("prover").GetString());
        Assert.StartsWith("final proof rejected", sequence.GetProperty("reason").GetString(), StringComparison.Ordinal);

        using (var status = ChildProcess.Zkpow("status", "--url", url, "--json"))
        {
            Assert.Equal(0, await status.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            var root = JsonDocument.Parse(status.Stdout).RootElement;
            Assert.Equal(1, root.GetProperty("parkedSequences").GetInt32());
            Assert.Equal(0, root.GetProperty("finalProofs").GetInt32()); // the wrong proof is not counted as a final proof
            Assert.Equal("degraded", root.GetProperty("health").GetString());
        }

        using (var text = ChildProcess.Zkpow("tasks", "list", "--parked", "--url", url))
        {
            Assert.Equal(0, await text.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains($"sequence {ledger.LastBatch} ", text.Stdout, StringComparison.Ordinal);
            Assert.Contains("by liar: final proof rejected", text.Stdout, StringComparison.Ordinal);
        }

        using var good = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "honest", "--latency", "20ms");
        using (var wrong = ChildProcess.Zkpow("tasks", "requeue", "--sequence", (ledger.LastBatch + 50).ToString(System.Globalization.CultureInfo.InvariantCulture), "--url", url))
        {
            Assert.Equal(1, await wrong.WaitForExitAsync(TimeSpan.FromMinutes(1)));
            Assert.Contains("is not parked", wrong.Stderr, StringComparison.Ordinal);
        }

        using (var requeue = ChildProcess.Zkpow("tasks", "requeue", "--sequence", ledger.LastBatch.ToString(System.Globalization.CultureInfo.InvariantCulture), "--url", url))
        {
            Assert.True(await requeue.WaitForExitAsync(TimeSpan.FromMinutes(1)) == 0, requeue.Stderr);
            Assert.Contains("Reproving", requeue.Stdout, StringComparison.Ordinal);
        }

        var verified = 0UL;
        var wait = Stopwatch.StartNew();
        while (verified < ledger.LastBatch && wait.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(500);
            verified = (await chain.ReadAsync(chain.Contracts.Rollup, RollupCalls.LastVerifiedBatch())).UInt64(0);
        }

        Assert.True(verified == ledger.LastBatch, $"verified up to batch {verified} of {ledger.LastBatch}; aggregator said: {run.Stderr}");
        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var after = await http.GetFromJsonAsync<JsonElement>("api/status");
        Assert.Equal(0, after.GetProperty("parkedSequences").GetInt32());
        Assert.Equal(1, after.GetProperty("finalProofs").GetInt32());
        Assert.Equal("healthy", after.GetProperty("health").GetString());
    }

    [Fact]
    public async Task zkpow_prover_sends_its_token_from_a_file_and_a_wrong_token_is_refused()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        var token = ZkPow.Aggregator.Hosting.ProverTokens.New();
        var config = JsonSerializer.SerializeToNode(Config(dir, chain, node, forkId: 6))!;
        config["Provers"]!["Tokens"] = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["Name"] = "rig-9", ["Sha256"] = ZkPow.Aggregator.Hosting.ProverTokens.Hash(token) });
        var path = dir.File("aggregator.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        using var run = ChildProcess.Zkpow("run", "--config", path);
        var started = await AggregatorStartLine.WaitAsync(run);
        var prover = $"http://127.0.0.1:{started.Groups[1].Value}";
        using var http = new HttpClient { BaseAddress = new Uri(started.Groups[2].Value) };
        var wrongFile = dir.File("wrong.token");
        await File.WriteAllTextAsync(wrongFile, ZkPow.Aggregator.Hosting.ProverTokens.New() + "\n");
        var goodFile = dir.File("good.token");
        await File.WriteAllTextAsync(goodFile, token + "\n");

        using (var wrong = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "impostor", "--token-file", wrongFile, "--reconnect-delay", "100ms"))
        {
            var watch = Stopwatch.StartNew();
            while (!run.Stderr.Contains("bearer token is not one of", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
            }

            Assert.Contains("bearer token is not one of", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("provers").GetArrayLength());
        }

        using var good = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "rig-9-gpu", "--token-file", goodFile);
        JsonElement provers = default;
        var wait = Stopwatch.StartNew();
        while (wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            provers = (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("provers").Clone();
            if (provers.GetArrayLength() == 1)
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Equal("rig-9-gpu", Assert.Single(provers.EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task zkpow_prover_presents_a_pem_client_certificate_over_tls_and_without_one_it_is_refused()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());

        // The aggregator's own certificate (self-signed, trusted by the prover with --ca-cert), a CA for provers, and a
        // prover certificate from that CA as PEM files.
        var pfx = dir.File("aggregator.pfx");
        var serverPem = dir.File("aggregator.pem");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(System.Net.IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "secret"));
            await File.WriteAllTextAsync(serverPem, certificate.ExportCertificatePem());
        }

        var caPem = dir.File("provers-ca.pem");
        var rigPem = dir.File("rig.crt");
        var rigKey = dir.File("rig.key");
        string thumbprint;
        using (var caKey = RSA.Create(2048))
        {
            var caRequest = new CertificateRequest("CN=provers CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
            using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllTextAsync(caPem, ca.ExportCertificatePem());
            using var rigRsa = RSA.Create(2048);
            var rigRequest = new CertificateRequest("CN=rig-4", rigRsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            rigRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
            rigRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
            using var rig = rigRequest.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), RandomNumberGenerator.GetBytes(8));
            await File.WriteAllTextAsync(rigPem, rig.ExportCertificatePem());
            await File.WriteAllTextAsync(rigKey, rigRsa.ExportPkcs8PrivateKeyPem());
            thumbprint = rig.GetCertHashString(HashAlgorithmName.SHA256);
        }

        var config = JsonSerializer.SerializeToNode(Config(dir, chain, node, forkId: 6))!;
        config["Provers"]!["TlsCertificatePath"] = pfx;
        config["Provers"]!["TlsCertificatePassword"] = "secret";
        config["Provers"]!["ClientCaFile"] = caPem;
        var path = dir.File("aggregator.json");
        await File.WriteAllTextAsync(path, config.ToJsonString());
        using var run = ChildProcess.Zkpow("run", "--config", path);
        var started = await AggregatorStartLine.WaitAsync(run);
        var prover = $"https://localhost:{started.Groups[1].Value}";
        using var http = new HttpClient { BaseAddress = new Uri(started.Groups[2].Value) };

        using (var anonymous = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "anonymous", "--ca-cert", serverPem, "--reconnect-delay", "100ms"))
        {
            var watch = Stopwatch.StartNew();
            while (!run.Stderr.Contains("neither a valid client certificate nor a bearer token", StringComparison.Ordinal) && watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                await Task.Delay(200);
            }

            Assert.Contains("neither a valid client certificate nor a bearer token", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("provers").GetArrayLength());
        }

        using var rigProver = ChildProcess.Zkpow("prover", "--aggregator", prover, "--name", "rig-4-gpu", "--client-cert", rigPem, "--client-key", rigKey,
            "--ca-cert", serverPem);
        JsonElement provers = default;
        var wait = Stopwatch.StartNew();
        while (wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            provers = (await http.GetFromJsonAsync<JsonElement>("api/status")).GetProperty("provers").Clone();
            if (provers.GetArrayLength() == 1)
            {
                break;
            }

            await Task.Delay(200);
        }

        var connected = Assert.Single(provers.EnumerateArray());
        Assert.Equal("rig-4-gpu", connected.GetProperty("name").GetString());
        Assert.Equal($"cert:{thumbprint}", connected.GetProperty("principal").GetString());
    }


    private static object Config(TempDir dir, DevChain chain, DevnetRollupNode node, ulong forkId) => new
    {
        Sync = new { RollupNodeUrl = node.Url, Confirmations = 0 },
        Store = new { SqlitePath = dir.File("aggregator.db") },
        Provers = new { Port = 0, ForkId = forkId },
        Http = new { Port = 0 },
        Chain = new { RpcUrl = chain.RpcUrl, RollupAddress = chain.Contracts.Rollup },
        ExpectedChainId = 31337,
        Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
        TxManager = new { Confirmations = 1 },
    };

    [GeneratedRegex(@"(?m)^zkpow_aggregator_generator_provers_connected 1$")]
    private static partial Regex ConnectedMetric();
}
