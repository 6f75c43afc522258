using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;
using ZkPow.Devnet.Faults;
using ZkPow.Devnet.Tests.Contracts;

namespace ZkPow.Devnet.Tests.Faults;

/// <summary>The JSON-RPC fault proxy on loopback in front of a real anvil, seen from a plain HTTP client.</summary>
public sealed class RpcFaultProxyTests(ChainFixture fixture) : IClassFixture<ChainFixture>
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static async Task<HttpResponseMessage> PostAsync(string url, string body) =>
        await s_http.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));

    private static string Call(string method, string parameters = "[]", int id = 1) =>
        $$"""{"jsonrpc":"2.0","id":{{id}},"method":"{{method}}","params":{{parameters}}}""";

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private static Task<RpcFaultProxy> ProxyAsync(DevChain chain, double rate, params RpcFaultKind[] kinds) =>
        RpcFaultProxy.StartAsync(new RpcFaultProxyOptions
        {
            Upstream = new Uri(chain.RpcUrl),
            Rate = rate,
            Seed = 7,
            Kinds = kinds.Length == 0 ? new RpcFaultProxyOptions { Upstream = new Uri(chain.RpcUrl) }.Kinds : kinds,
        });

    /// <summary>An <c>eth_sendTransaction</c> of 1 wei from the admin (unlocked on anvil).</summary>
    private static string AdminTransfer(DevChain chain) =>
        Call("eth_sendTransaction", $$"""[{"from":"{{chain.Admin.Address}}","to":"{{chain.ExtraAccounts[0].Address}}","value":"0x1"}]""");

    private static ulong Quantity(JsonElement value) => (ulong)HexData.ParseQuantity(value);

    [Fact]
    public async Task without_faults_single_and_batch_requests_are_forwarded_unchanged()
    {
        var chain = await fixture.ResetAsync();
        await using var proxy = await ProxyAsync(chain, 0);
        var head = await chain.GetBlockNumberAsync();
        var single = await JsonAsync(await PostAsync(proxy.Url, Call("eth_blockNumber")));
        Assert.Equal(head, Quantity(single.GetProperty("result")));

        var batch = await JsonAsync(await PostAsync(proxy.Url, $"[{Call("eth_chainId", id: 1)},{Call("eth_blockNumber", id: 2)}]"));
        Assert.Equal(2, batch.GetArrayLength());
        Assert.Equal(chain.ChainId, Quantity(batch.EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == 1).GetProperty("result")));
        Assert.Equal(0, proxy.Snapshot().Values.Sum());
        Assert.Equal(2, proxy.Requests);
    }

    [Fact]
    public async Task http_errors_and_json_rpc_errors_reach_the_client_without_touching_the_node()
    {
        var chain = await fixture.ResetAsync();
        var admin = chain.Admin.Address;
        var nonce = await NonceAsync(chain, admin);
        var send = AdminTransfer(chain);

        await using (var proxy = await ProxyAsync(chain, 1, RpcFaultKind.Http503))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await PostAsync(proxy.Url, send)).StatusCode);
            Assert.Equal(1, proxy.Count(RpcFaultKind.Http503));
        }

        await using (var proxy = await ProxyAsync(chain, 1, RpcFaultKind.Http429))
        {
            using var response = await PostAsync(proxy.Url, send);
            Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            Assert.Equal(1, proxy.Count(RpcFaultKind.Http429));
        }

        foreach (var (kind, code) in new[] { (RpcFaultKind.RpcInternalError, -32603), (RpcFaultKind.RpcRateLimit, -32005) })
        {
            await using var proxy = await ProxyAsync(chain, 1, kind);
            var single = await JsonAsync(await PostAsync(proxy.Url, send));
            Assert.Equal(code, single.GetProperty("error").GetProperty("code").GetInt32());
            Assert.Equal(1, single.GetProperty("id").GetInt32());

            var batch = await JsonAsync(await PostAsync(proxy.Url, $"[{Call("eth_chainId", id: 4)},{Call("eth_blockNumber", id: 5)}]"));
            Assert.Equal([4, 5], batch.EnumerateArray().Select(r => r.GetProperty("id").GetInt32()).Order());
            Assert.All(batch.EnumerateArray(), r => Assert.Equal(code, r.GetProperty("error").GetProperty("code").GetInt32()));
            Assert.Equal(2, proxy.Count(kind));
        }

        // None of the refused transactions reached the node.
        Assert.Equal(nonce, await NonceAsync(chain, admin));
    }

    [Fact]
    public async Task a_lost_or_truncated_reply_runs_upstream_and_the_client_gets_no_valid_answer()
    {
        var chain = await fixture.ResetAsync();
        var admin = chain.Admin.Address;
        var nonce = await NonceAsync(chain, admin);
        await using (var proxy = await ProxyAsync(chain, 1, RpcFaultKind.LostReply))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(proxy.Url, AdminTransfer(chain)));
            Assert.Equal(1, proxy.Count(RpcFaultKind.LostReply));
        }

        await using (var proxy = await ProxyAsync(chain, 1, RpcFaultKind.Truncated))
        {
            using var response = await PostAsync(proxy.Url, AdminTransfer(chain));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(text.Length > 0, "half an answer arrives");
            Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(text));
            Assert.Equal(1, proxy.Count(RpcFaultKind.Truncated));
            Assert.Contains("truncated 1", proxy.Describe(), StringComparison.Ordinal);
        }

        // Both transactions were sent (and, on this automining chain, mined) although their answers were lost or cut.
        Assert.Equal(nonce + 2, await NonceAsync(chain, admin));
    }

    [Fact]
    public async Task a_stall_delays_the_answer_then_forwards_it()
    {
        var chain = await fixture.ResetAsync();
        await using var proxy = await RpcFaultProxy.StartAsync(new RpcFaultProxyOptions
        {
            Upstream = new Uri(chain.RpcUrl),
            Rate = 1,
            Kinds = [RpcFaultKind.Stall],
            StallMin = TimeSpan.FromSeconds(1),
            StallMax = TimeSpan.FromSeconds(1),
        });
        var watch = Stopwatch.StartNew();
        var answer = await JsonAsync(await PostAsync(proxy.Url, Call("eth_chainId")));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"answered after {watch.Elapsed}, before the stall");
        Assert.Equal(chain.ChainId, Quantity(answer.GetProperty("result")));
        Assert.Equal(1, proxy.Count(RpcFaultKind.Stall));
    }

    [Fact]
    public async Task a_lagging_backend_answers_head_and_latest_reads_three_blocks_behind()
    {
        var chain = await fixture.ResetAsync();
        var to = chain.ExtraAccounts[1].Address;
        await chain.MineAsync(5);
        var before = await chain.GetBalanceAsync(to);
        var transfer = await chain.SendAsync(chain.Admin, to, [], value: 12345);
        var head = await chain.GetBlockNumberAsync();
        Assert.Equal(head, transfer.BlockNumber);

        await using var proxy = await ProxyAsync(chain, 0);
        proxy.Lagging = true;
        Assert.Equal(head - 3, Quantity((await JsonAsync(await PostAsync(proxy.Url, Call("eth_blockNumber")))).GetProperty("result")));
        var latest = await JsonAsync(await PostAsync(proxy.Url, Call("eth_getBlockByNumber", """["latest", false]""")));
        Assert.Equal(head - 3, Quantity(latest.GetProperty("result").GetProperty("number")));
        var balance = await JsonAsync(await PostAsync(proxy.Url, Call("eth_getBalance", $"""["{to}", "latest"]""")));
        Assert.Equal(before, HexData.ParseQuantity(balance.GetProperty("result")));
        var receipt = await JsonAsync(await PostAsync(proxy.Url, Call("eth_getTransactionReceipt", $"""["{transfer.TransactionHash}"]""")));
        Assert.Equal(JsonValueKind.Null, receipt.GetProperty("result").ValueKind);
        var batch = await JsonAsync(await PostAsync(proxy.Url, $"[{Call("eth_blockNumber", id: 1)},{Call("eth_chainId", id: 2)}]"));
        Assert.Equal(head - 3, Quantity(batch.EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == 1).GetProperty("result")));
        Assert.Equal(5, proxy.Count(RpcFaultKind.Lag));

        // As a random fault, the lag only hits requests it can change.
        await using var random = await ProxyAsync(chain, 1, RpcFaultKind.Lag);
        Assert.Equal(head - 3, Quantity((await JsonAsync(await PostAsync(random.Url, Call("eth_blockNumber")))).GetProperty("result")));
        Assert.Equal(chain.ChainId, Quantity((await JsonAsync(await PostAsync(random.Url, Call("eth_chainId")))).GetProperty("result")));
        Assert.Equal(1, random.Count(RpcFaultKind.Lag));
    }

    [Fact]
    public async Task a_backend_without_recent_receipts_answers_them_as_null_and_keeps_its_blocks()
    {
        var chain = await fixture.ResetAsync();
        var to = chain.ExtraAccounts[1].Address;
        var older = await chain.SendAsync(chain.Admin, to, [], value: 1);
        await chain.MineAsync(3);
        var recent = await chain.SendAsync(chain.Admin, to, [], value: 2);
        var head = await chain.GetBlockNumberAsync();

        await using var proxy = await ProxyAsync(chain, 0);
        proxy.ReceiptsMissing = true;
        var batch = await JsonAsync(await PostAsync(proxy.Url,
            $"[{Call("eth_getTransactionReceipt", $"""["{recent.TransactionHash}"]""", id: 1)},{Call("eth_getTransactionReceipt", $"""["{older.TransactionHash}"]""", id: 2)}," +
            $"{Call("eth_blockNumber", id: 3)},{Call("eth_getBlockByNumber", $"""["{HexData.Quantity(recent.BlockNumber)}", false]""", id: 4)}]"));
        JsonElement Reply(int id) => batch.EnumerateArray().Single(r => r.GetProperty("id").GetInt32() == id).GetProperty("result");
        // The receipt of the last 3 blocks is missing; an older one, the head and the block itself are there.
        Assert.Equal(JsonValueKind.Null, Reply(1).ValueKind);
        Assert.Equal(older.TransactionHash, Reply(2).GetProperty("transactionHash").GetString());
        Assert.Equal(head, Quantity(Reply(3)));
        Assert.Equal(recent.BlockNumber, Quantity(Reply(4).GetProperty("number")));
        Assert.Equal(1, proxy.Count(RpcFaultKind.ReceiptMissing));

        // As a random fault, it only hits requests that ask for a receipt.
        await using var random = await ProxyAsync(chain, 1, RpcFaultKind.ReceiptMissing);
        Assert.Equal(head, Quantity((await JsonAsync(await PostAsync(random.Url, Call("eth_blockNumber")))).GetProperty("result")));
        Assert.Equal(0, random.Count(RpcFaultKind.ReceiptMissing));
        var single = await JsonAsync(await PostAsync(random.Url, Call("eth_getTransactionReceipt", $"""["{recent.TransactionHash}"]""")));
        Assert.Equal(JsonValueKind.Null, single.GetProperty("result").ValueKind);
        Assert.Equal(1, random.Count(RpcFaultKind.ReceiptMissing));
    }

    [Fact]
    public async Task an_outage_refuses_every_request_until_it_ends()
    {
        var chain = await fixture.ResetAsync();
        var admin = chain.Admin.Address;
        var nonce = await NonceAsync(chain, admin);
        await using var proxy = await ProxyAsync(chain, 0);
        proxy.Outage = true;
        var send = AdminTransfer(chain);
        for (var i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => PostAsync(proxy.Url, send));
        }

        Assert.Equal(3, proxy.Count(RpcFaultKind.Outage));
        Assert.Equal(nonce, await NonceAsync(chain, admin));

        proxy.Outage = false;
        Assert.Equal(chain.ChainId, Quantity((await JsonAsync(await PostAsync(proxy.Url, Call("eth_chainId")))).GetProperty("result")));
    }

    [Fact]
    public async Task the_fault_rate_is_roughly_honoured_and_the_kinds_are_all_drawn()
    {
        var chain = await fixture.ResetAsync();
        RpcFaultKind[] kinds = [RpcFaultKind.Http503, RpcFaultKind.Http429, RpcFaultKind.RpcInternalError, RpcFaultKind.RpcRateLimit, RpcFaultKind.Lag];
        await using var proxy = await ProxyAsync(chain, 0.2, kinds);
        const int Calls = 600;
        var failed = 0;
        for (var i = 0; i < Calls; i++)
        {
            using var response = await PostAsync(proxy.Url, Call("eth_blockNumber", id: i));
            if (response.StatusCode != HttpStatusCode.OK ||
                JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _))
            {
                failed++;
            }
        }

        var injected = kinds.Sum(proxy.Count);
        Assert.InRange(injected, Calls * 0.13, Calls * 0.27);
        Assert.All(kinds, k => Assert.True(proxy.Count(k) > 0, $"{k} never drawn"));
        Assert.Equal(injected - proxy.Count(RpcFaultKind.Lag), failed);
        Assert.Equal(Calls, proxy.Requests);
    }

    private static async Task<ulong> NonceAsync(DevChain chain, string address) =>
        (ulong)HexData.ParseQuantity(await chain.Rpc.CallAsync("eth_getTransactionCount", [address, "latest"], default));
}
