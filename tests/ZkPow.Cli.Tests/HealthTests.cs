using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grpc.Health.V1;
using Grpc.Net.Client;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Rollup;
using ZkPow.Devnet.Tests.Chain;

namespace ZkPow.Cli.Tests;

/// <summary>
/// <c>/health/ready</c> and the prover port's gRPC health service of <c>zkpow run</c> (a real child process) answer from
/// the same checks: a rollup node unreachable past its grace makes both unready (503, NOT_SERVING) and its return ready
/// again; node URLs that carry API keys (in the path and the query) never appear in <c>/health/ready</c>,
/// <c>/api/status</c> or the logs, at start-up or while the endpoint fails.
/// </summary>
public sealed partial class HealthTests
{
    private const string Secret = "SECRETKEY";

    [Fact]
    public async Task an_unreachable_rollup_node_makes_http_and_grpc_health_unready_past_its_grace_and_no_url_key_is_ever_shown()
    {
        using var dir = new TempDir();
        await using var chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0 });
        await using var node = await DevnetRollupNode.StartAsync(new DevnetRollupLedger(), new DevnetRollupNodeOptions());
        await using var proxy = new TcpProxy(node.Port);
        var deadChainEndpoint = $"http://127.0.0.1:{ChildProcess.FreePort()}/v3/{Secret}-chain";
        var httpPort = ChildProcess.FreePort();
        var config = dir.File("aggregator.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Sync = new { RollupNodeUrl = $"{proxy.Url}/v2/{Secret}-path?apikey={Secret}-query", Confirmations = 0, PollInterval = "200ms" },
            Store = new { SqlitePath = dir.File("aggregator.db") },
            Provers = new { Port = 0, ForkId = 6 },
            Http = new { Port = httpPort },
            Chain = new { RpcUrls = new[] { chain.RpcUrl, deadChainEndpoint }, RollupAddress = chain.Contracts.Rollup, RequestTimeout = "2s" },
            ExpectedChainId = 31337,
            Key = new { DevPrivateKey = chain.Miners[0].PrivateKey },
            TxManager = new { Confirmations = 1 },
            Health = new { UnreachableGrace = "2s" },
        }));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/") };
        var shown = new List<string>();

        // Start-up waits for the rollup node: the reason names it without its key.
        using var run = ChildProcess.Zkpow("run", "--config", config, "--log-level", "Debug");
        var waiting = await WaitForReadyAsync(http, run, shown, HttpStatusCode.ServiceUnavailable, "zkevm_batchNumber");
        using (var body = JsonDocument.Parse(waiting))
        {
            Assert.Equal("starting", body.RootElement.GetProperty("phase").GetString());
            Assert.Contains($"127.0.0.1:{proxy.Port}/…", body.RootElement.GetProperty("checks").GetProperty("starting").GetString(), StringComparison.Ordinal);
        }

        shown.Add(await GetAsync(http, "api/status"));

        proxy.Start();
        var started = Started().Match(await WaitForAsync(() => Started().IsMatch(run.Stderr) ? run.Stderr : null, run, "the start line"));
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{started.Groups[1].Value}");
        var grpc = new Health.HealthClient(channel);
        var ready = await WaitForReadyAsync(http, run, shown, HttpStatusCode.OK, "\"status\":\"healthy\"");
        Assert.Contains("\"rollupNode\":\"ok\"", ready, StringComparison.Ordinal);
        await WaitForAsync(async () => await ServingAsync(grpc) == HealthCheckResponse.Types.ServingStatus.Serving ? "" : null, run, "gRPC SERVING");

        // The rollup node goes away: past the grace, unready on both; its error text shows no key.
        proxy.Stop();
        var down = await WaitForReadyAsync(http, run, shown, HttpStatusCode.ServiceUnavailable, "the rollup node unreachable");
        using (var body = JsonDocument.Parse(down))
        {
            Assert.False(body.RootElement.GetProperty("ready").GetBoolean());
            Assert.Equal("unhealthy", body.RootElement.GetProperty("status").GetString());
            Assert.Equal("running", body.RootElement.GetProperty("phase").GetString());
            Assert.Equal("ok", body.RootElement.GetProperty("checks").GetProperty("store").GetString());
        }

        await WaitForAsync(async () => await ServingAsync(grpc) == HealthCheckResponse.Types.ServingStatus.NotServing ? "" : null, run, "gRPC NOT_SERVING");
        shown.Add(await GetAsync(http, "api/status"));

        // Back: ready again.
        proxy.Start();
        await WaitForReadyAsync(http, run, shown, HttpStatusCode.OK, "\"rollupNode\":\"ok\"");
        await WaitForAsync(async () => await ServingAsync(grpc) == HealthCheckResponse.Types.ServingStatus.Serving ? "" : null, run, "gRPC SERVING again");

        run.Signal(15);
        Assert.Equal(143, await run.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains($"127.0.0.1:{proxy.Port}", run.Stderr, StringComparison.Ordinal);
        Assert.All(shown, text => Assert.DoesNotContain(Secret, text, StringComparison.Ordinal));
        Assert.DoesNotContain(Secret, run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, run.Stdout, StringComparison.Ordinal);
    }

    private static async Task<HealthCheckResponse.Types.ServingStatus?> ServingAsync(Health.HealthClient grpc)
    {
        try
        {
            return (await grpc.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(20))).Status;
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }

    private static async Task<string> GetAsync(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>Waits until <c>/health/ready</c> answers <paramref name="status"/> with <paramref name="words"/> in its
    /// body; every body seen is kept in <paramref name="shown"/>.</summary>
    private static Task<string> WaitForReadyAsync(HttpClient http, ChildProcess run, List<string> shown, HttpStatusCode status, string words) =>
        WaitForAsync(async () =>
        {
            try
            {
                using var response = await http.GetAsync("health/ready");
                var body = await response.Content.ReadAsStringAsync();
                shown.Add(body);
                return response.StatusCode == status && body.Contains(words, StringComparison.Ordinal) ? body : null;
            }
            catch (HttpRequestException)
            {
                return null; // not listening yet
            }
        }, run, $"/health/ready {(int)status} with {words}");

    private static Task<string> WaitForAsync(Func<string?> condition, ChildProcess run, string what) =>
        WaitForAsync(() => Task.FromResult(condition()), run, what);

    private static async Task<string> WaitForAsync(Func<Task<string?>> condition, ChildProcess run, string what)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await condition() is { } found)
            {
                return found;
            }

            Assert.False(run.HasExited, $"the aggregator exited while waiting for {what}: {run.Stderr}");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(90), $"timed out waiting for {what}: {run.Stderr}");
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"provers dial port (\d+); status at (http://[^ ]+/)api/status")]
    private static partial Regex Started();
}
