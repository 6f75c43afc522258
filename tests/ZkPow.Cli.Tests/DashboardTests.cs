using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using PuppeteerSharp;
using Xunit.Abstractions;
using ZkPow.Devnet.Network;
using ZkPow.Devnet.Prover;

namespace ZkPow.Cli.Tests;

/// <summary>
/// The operator's dashboard in a real headless Chromium (Debian's <c>chromium</c>, driven by PuppeteerSharp) during an
/// in-process devnet: a prover that fails every job gets a task parked, healthy provers take over, the page shows them
/// and the parked task, a requeue through the page is refused without the operator token and works with it, the three
/// sequences reach verified on the page, and its figures agree with <c>/api/status</c>. The page is saved as
/// <c>artifacts/dashboard.png</c> (and, while the task is parked, <c>artifacts/dashboard-parked.png</c>) in the test output folder.
/// </summary>
[Collection(DevnetCollection.Name)]
public sealed class DashboardTests(ITestOutputHelper output)
{
    private const int Sequences = 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task the_dashboard_shows_provers_and_verified_sequences_agrees_with_status_and_requeues_only_with_the_token()
    {
        var chromium = await DebianPackages.RequireAsync("chromium", "chromium");
        using var dir = new TempDir();
        using var logs = new RecentLogs();
        await using var network = await DevnetNetwork.StartAsync(new DevnetOptions
        {
            Provers = 0,
            Sequences = Sequences,
            MaxBatches = 2,
            T1 = 2,
            T2 = 5,
            ProverLatency = TimeSpan.FromMilliseconds(20),
            DataDir = dir.File("devnet"),
            // Two failed attempts park a task (the default, 5, only makes the failing prover's part longer).
            AggregatorOverrides = ["--Generator:MaxAttempts=2"],
        }, logs.Factory, CancellationToken.None);
        var miner = Assert.Single(network.Miners);
        var node = miner.Node!;
        var url = miner.Host!.StatusAddress;
        var proverAddress = new Uri($"http://127.0.0.1:{node.ProverPort}");
        MockProver Prover(string name, double failureRate) => new(new MockProverOptions
        {
            Aggregator = proverAddress,
            Name = name,
            BatchLatency = TimeSpan.FromMilliseconds(20),
            AggregateLatency = TimeSpan.FromMilliseconds(20),
            FinalLatency = TimeSpan.FromMilliseconds(20),
            FailureRate = failureRate,
            Seed = 7,
        }, TimeProvider.System, NullLogger<MockProver>.Instance);

        // A prover that fails every job: the first batch task fails until it is parked.
        await using (var broken = Prover("broken", failureRate: 1))
        {
            var running = broken.RunAsync();
            await WaitForAsync(async () => (await node.Store.ListParkedAsync(CancellationToken.None)).Count > 0, "a task parked by the failing prover");
            await broken.StopAsync();
            await running;
        }

        await using var gpu1 = Prover("gpu-01", failureRate: 0);
        await using var gpu2 = Prover("gpu-02", failureRate: 0);
        var provers = new[] { gpu1.RunAsync(), gpu2.RunAsync() };

        await using var browser = await Puppeteer.LaunchAsync(new LaunchOptions
        {
            Headless = true,
            ExecutablePath = chromium,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server"],
        });
        await using var page = await browser.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, e) => scriptErrors.Add(e.Message);
        await page.SetViewportAsync(new ViewPortOptions { Width = 1400, Height = 1000 });
        await page.GoToAsync(url.ToString());
        var wait = new WaitForFunctionOptions { Timeout = (int)Bound.TotalMilliseconds, PollingInterval = 200 };
        using var http = new HttpClient { BaseAddress = url };

        // Clicks a button through the page's DOM. A mouse click at the button's place (page.ClickAsync) can miss it: the
        // tables above the parked work grow while the devnet runs, and the page moves between the moment Puppeteer
        // measures the button and the moment it clicks.
        async Task ClickAsync(string selector)
        {
            var clicked = await page.EvaluateFunctionAsync<bool>(
                "s => { const b = document.querySelector(s); if (!b) return false; b.click(); return true; }", selector);
            Assert.True(clicked, $"no {selector} on the page");
        }

        // Waits until the page's script returns true; on a timeout the failure says what the page, the store and the
        // aggregator's log showed (a test's output is only printed once it ends).
        async Task UntilAsync(string script)
        {
            try
            {
                await page.WaitForFunctionAsync(script, wait);
            }
            catch (WaitTaskTimeoutException ex)
            {
                var shown = await page.EvaluateExpressionAsync<string>(
                    "JSON.stringify({ result: document.querySelector('#requeue-result').textContent, parked: [...document.querySelectorAll('#parked tbody tr')].map(r => r.dataset.id), verified: document.querySelector('#stat-verified').textContent, live: document.querySelector('#live').textContent })");
                var parked = string.Join(", ", (await node.Store.ListParkedAsync(CancellationToken.None)).Select(t => $"#{t.Id} {t.Kind} seq {t.Sequence}"));
                var status = await http.GetStringAsync("api/status");
                status = status.Length > 2000 ? status[..2000] + "…" : status;
                throw new TimeoutException(
                    $"waited {Bound.TotalSeconds} s for {script}\npage: {shown}\nparked in the store: [{parked}]\n/api/status: {status}\nlast log lines:\n{logs.Tail(80)}", ex);
            }
        }

        // Live: the two healthy provers appear (the failing one has left), and the parked work is listed.
        await UntilAsync("() => [...document.querySelectorAll('#provers tbody tr')].map(r => r.dataset.name).sort().join() === 'gpu-01,gpu-02'");
        await UntilAsync("() => document.querySelectorAll('#parked tbody tr').length > 0");
        Assert.Equal("true", await page.EvaluateExpressionAsync<string>("String(document.querySelector('#live').textContent === 'live')"));
        var artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(artifacts);
        await page.ScreenshotAsync(Path.Combine(artifacts, "dashboard-parked.png"), new ScreenshotOptions { FullPage = true });

        // Without the token the requeue is refused, and the task stays parked.
        var first = await page.EvaluateExpressionAsync<long>("Number(document.querySelector('#parked tbody tr').dataset.id)");
        await page.EvaluateExpressionAsync("document.querySelector('#operator-token').value = ''");
        await ClickAsync($"#parked button[data-id='{first}']");
        await UntilAsync("() => document.querySelector('#requeue-result').textContent.includes('refused (401)')");
        Assert.Contains(first, (await node.Store.ListParkedAsync(CancellationToken.None)).Select(t => t.Id));

        // With the token (the devnet wrote it to its 0600 file) every parked task is requeued through the page.
        var token = (await File.ReadAllTextAsync(miner.OperatorTokenPath!)).Trim();
        Assert.False(ZkPow.Aggregator.Chain.SecretFiles.IsExposed(miner.OperatorTokenPath!), "the operator token file is readable by others");
        await page.TypeAsync("#operator-token", token);
        var requeued = new List<long>();
        while (await page.EvaluateExpressionAsync<int>("document.querySelectorAll('#parked tbody tr').length") > 0)
        {
            var id = await page.EvaluateExpressionAsync<long>("Number(document.querySelector('#parked tbody tr').dataset.id)");
            Assert.True(requeued.Count < 20, $"requeued {string.Join(", ", requeued)} and tasks are still parked");
            await ClickAsync($"#parked button[data-id='{id}']");
            await UntilAsync($"() => document.querySelector('#requeue-result').textContent === 'Task #{id} requeued.'");
            await UntilAsync($"() => !document.querySelector(\"#parked tr[data-id='{id}']\")");
            requeued.Add(id);
        }

        Assert.Contains(first, requeued);
        Assert.Equal(token, await page.EvaluateExpressionAsync<string>("sessionStorage.getItem('zkpow-operator-token')"));

        // Every sequence reaches verified on the page, in the pipeline and in the table.
        await UntilAsync($"() => document.querySelector('#stat-verified').textContent === '{Sequences}'");
        await UntilAsync(
            $"() => document.querySelectorAll('#sequences tbody tr[data-stage=\"verified\"]').length === {Sequences} && document.querySelector('#stage-verified .count').textContent === '{Sequences}'");

        // Each verified sequence has its round's windows drawn; our commits and reveals are listed with their nonces.
        Assert.Equal(Sequences, await page.EvaluateExpressionAsync<int>(
            "[...document.querySelectorAll('#sequences tbody tr[data-stage=\"verified\"]')].filter(r => r.querySelectorAll('svg.window rect').length >= 3).length"));
        await UntilAsync(
            $"() => ['submitProofHash', 'verifyBatches'].every(k => [...document.querySelectorAll('#txs tbody tr')].filter(r => r.cells[1].textContent === k && r.cells[0].textContent !== '—').length >= {Sequences})");

        // The page's figures are /api/status's (read until both sides have settled on the same values).
        Dictionary<string, string> pageFigures = [], statusFigures = [];
        var watch = Stopwatch.StartNew();
        do
        {
            await Task.Delay(1500); // the page is at most one push (1 s) behind
            var status = await http.GetFromJsonAsync<JsonElement>("api/status");
            statusFigures = new()
            {
                ["provers"] = string.Join(",", status.GetProperty("provers").EnumerateArray().Select(p => p.GetProperty("name").GetString()).Order()),
                ["stat-provers"] = status.GetProperty("provers").GetArrayLength().ToString(CultureInfo.InvariantCulture),
                ["stat-final-proofs"] = status.GetProperty("finalProofs").GetInt32().ToString(CultureInfo.InvariantCulture),
                ["stat-tasks-completed"] = status.GetProperty("tasksCompleted").GetInt64().ToString(CultureInfo.InvariantCulture),
                ["stat-parked"] = status.GetProperty("parkedTasks").GetInt32().ToString(CultureInfo.InvariantCulture),
                ["stat-pending-txs"] = status.GetProperty("pendingTxs").GetInt32().ToString(CultureInfo.InvariantCulture),
            };
            pageFigures = new()
            {
                ["provers"] = await page.EvaluateExpressionAsync<string>("[...document.querySelectorAll('#provers tbody tr')].map(r => r.dataset.name).sort().join()"),
            };
            foreach (var id in statusFigures.Keys.Where(k => k.StartsWith("stat-", StringComparison.Ordinal)))
            {
                pageFigures[id] = await page.EvaluateExpressionAsync<string>($"document.getElementById('{id}').textContent");
            }
        }
        while (!pageFigures.SequenceEqual(statusFigures) && watch.Elapsed < Bound);

        Assert.Equal(statusFigures, pageFigures);
        Assert.Equal(Sequences.ToString(CultureInfo.InvariantCulture), statusFigures["stat-final-proofs"]);
        Assert.Equal("0", statusFigures["stat-parked"]);
        Assert.Equal(Sequences.ToString(CultureInfo.InvariantCulture), await page.EvaluateExpressionAsync<string>("document.getElementById('stat-rewards').textContent"));

        var screenshot = Path.Combine(artifacts, "dashboard.png");
        await page.ScreenshotAsync(screenshot, new ScreenshotOptions { FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000);
        output.WriteLine($"dashboard screenshots: {screenshot} (and dashboard-parked.png, with the parked task, next to it); requeued tasks {string.Join(", ", requeued)}");
        Assert.Empty(scriptErrors);

        await gpu1.StopAsync();
        await gpu2.StopAsync();
        await Task.WhenAll(provers);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(watch.Elapsed < Bound, $"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
