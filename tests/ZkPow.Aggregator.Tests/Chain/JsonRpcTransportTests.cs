using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Tests.Chain;

/// <summary>The retrying JSON-RPC transport against scripted loopback servers: what is retried, what is not, failover,
/// a lagging backend, idempotent broadcasts, the budget, cancellation and redaction.</summary>
public sealed class JsonRpcTransportTests
{
    private static readonly RpcRetryOptions Fast = new()
    {
        RequestTimeout = TimeSpan.FromSeconds(5),
        CallBudget = TimeSpan.FromSeconds(20),
        RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        RetryMaxDelay = TimeSpan.FromMilliseconds(100),
        // The retry tests count requests per endpoint: no hedge may add one on a loaded machine (see Hedged).
        HedgeAfter = TimeSpan.Zero,
    };

    /// <summary>Hedging after 200 ms; a request on its own would wait a minute.</summary>
    private static readonly RpcRetryOptions Hedged = Fast with
    {
        RequestTimeout = TimeSpan.FromSeconds(60),
        CallBudget = TimeSpan.FromMinutes(2),
        HedgeAfter = TimeSpan.FromMilliseconds(200),
        HedgeMin = TimeSpan.FromMilliseconds(50),
    };

    private const string Contract = "0x0000000000000000000000000000000000000001";

    private static EthRpcClient Client(params ScriptedRpcServer[] servers) => Client(Fast, NullLogger.Instance, servers);

    private static EthRpcClient Client(RpcRetryOptions options, ILogger logger, params ScriptedRpcServer[] servers) =>
        new(servers.Select(s => s.Url), options, logger, TimeProvider.System);

    private static readonly Dictionary<string, RpcAnswer> TransientAnswers = new()
    {
        { "HTTP 503", RpcAnswer.Http(503) },
        { "HTTP 429", RpcAnswer.Http(429, "Too Many Requests") },
        { "HTTP 502 with a JSON-RPC busy error", RpcAnswer.Http(502, """{"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":"upstream busy"}}""") },
        { "-32603 internal error", RpcAnswer.Error(-32603, "internal error") },
        { "-32005 limit exceeded", RpcAnswer.Error(-32005, "daily request count exceeded, request rate limited") },
        { "header not found", RpcAnswer.Error(-32000, "header not found") },
        { "truncated JSON", RpcAnswer.Garbage },
        { "a dropped connection", RpcAnswer.Drop },
        { "a stall longer than the request timeout", RpcAnswer.Stall(TimeSpan.FromSeconds(30), RpcAnswer.Ok("0x1")) },
    };

    public static TheoryData<string> TransientFirstAnswers => [.. TransientAnswers.Keys];

    [Theory]
    [MemberData(nameof(TransientFirstAnswers))]
    public async Task a_transient_failure_is_retried_and_the_call_succeeds(string what)
    {
        var first = TransientAnswers[what];
        await using var server = ScriptedRpcServer.Start((_, _, n) => n == 1 ? first : RpcAnswer.Ok("0x2a"));
        // The stall is 30 s: a request timeout of 1 s ends the first attempt long before.
        using var client = Client(Fast with { RequestTimeout = TimeSpan.FromSeconds(1) }, NullLogger.Instance, server);

        var result = await client.CallAsync("eth_blockNumber", default);

        Assert.Equal("0x2a", result.GetString());
        Assert.True(server.Count("eth_blockNumber") >= 2, $"{what}: {server.Count("eth_blockNumber")} requests");
        Assert.True(client.Transport.Retries >= 1);
    }

    public static TheoryData<int, string, string?> DefiniteErrors => new()
    {
        { -32602, "invalid params", null },
        { -32601, "the method eth_foo does not exist", null },
        { -32000, "insufficient funds for gas * price + value", null },
        { -32000, "exceeds block gas limit", null },
        { -32000, "execution reverted", null },
        { 3, "execution reverted", "0x8f2a4a50" },
    };

    [Theory]
    [MemberData(nameof(DefiniteErrors))]
    public async Task a_definite_error_answer_is_not_retried(int code, string message, string? data)
    {
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Error(code, message, data));
        using var client = Client(server);

        var error = await Assert.ThrowsAsync<EthRpcException>(() => client.CallAsync("eth_estimateGas", [new JsonObject()], default));

        Assert.Equal(code, error.Code);
        Assert.Equal(1, server.Count("eth_estimateGas"));
    }

    [Fact]
    public async Task a_revert_is_a_decoded_result_asked_once()
    {
        // CommittedProof() = 0x8f2a4a50... whatever the selector, the revert comes back decoded and is not retried.
        var selector = HexData.Encode(Abi.Selector("CommittedProof()"));
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Error(3, "execution reverted", selector));
        using var client = Client(server);

        var result = await client.EthCallAsync(null, "0x0000000000000000000000000000000000000001", [1, 2], 0, "latest", default);

        Assert.False(result.Succeeded);
        Assert.Equal(ChainError.CommittedProof, result.Revert!.Error);
        Assert.Equal(1, server.Count("eth_call"));
    }

    [Theory]
    [InlineData(-32603, "internal error", null, true)]
    [InlineData(-32005, "limit exceeded", null, true)]
    [InlineData(-32000, "header not found", null, true)]
    [InlineData(-32000, "unknown block", null, true)]
    [InlineData(-32000, "Too Many Requests, rate limit reached", null, true)]
    [InlineData(429, "slow down", null, true)]
    [InlineData(-32000, "request timed out", null, true)]
    [InlineData(3, "execution reverted", "0x08c379a0", false)]
    [InlineData(-32000, "execution reverted", null, false)]
    [InlineData(-32603, "execution reverted: CommittedProof", null, false)]
    [InlineData(-32602, "invalid argument 0: hex string without 0x prefix", null, false)]
    [InlineData(-32601, "method not found", null, false)]
    [InlineData(-32000, "nonce too low", null, false)]
    [InlineData(-32000, "already known", null, false)]
    [InlineData(-32000, "replacement transaction underpriced", null, false)]
    [InlineData(-32000, "exceeds block gas limit", null, false)]
    public void error_answers_are_classified(int code, string message, string? data, bool transient) =>
        Assert.Equal(transient, RpcErrors.IsTransient(new EthRpcException("m", code, message, data)));

    [Fact]
    public async Task a_call_fails_over_to_the_endpoint_that_answers_and_then_prefers_it()
    {
        await using var down = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Http(503));
        await using var up = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x10"));
        using var client = Client(down, up);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("0x10", (await client.CallAsync("eth_chainId", default)).GetString());
        }

        Assert.Equal(10, up.Count("eth_chainId"));
        // The failing endpoint is tried first once (both look alike then), and afterwards avoided.
        Assert.Equal(1, down.Count("eth_chainId"));
    }

    [Fact]
    public async Task calls_backing_off_retry_at_once_when_the_node_answers_again_after_a_run_of_failures()
    {
        // Backoffs of 30 to 60 s: three calls fail once each (a run of three failures) and back off. The node comes
        // back; a fourth call gets an answer, and the three retry at once instead of sleeping on (after an outage that
        // crosses the end of a reveal window, a few seconds of sleep is a slash).
        var down = 1;
        await using var server = ScriptedRpcServer.Start((_, _, _) => Volatile.Read(ref down) == 1 ? RpcAnswer.Http(503) : RpcAnswer.Ok("0x2a"));
        using var client = Client(Fast with
        {
            RetryBaseDelay = TimeSpan.FromSeconds(60),
            RetryMaxDelay = TimeSpan.FromSeconds(60),
            CallBudget = TimeSpan.FromMinutes(5),
        }, NullLogger.Instance, server);
        var waiting = Enumerable.Range(0, 3).Select(_ => client.CallAsync("eth_blockNumber", default)).ToList();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (server.Count("eth_blockNumber") < 3)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{server.Count("eth_blockNumber")} of 3 first attempts");
            await Task.Delay(10);
        }

        Volatile.Write(ref down, 0);
        Assert.Equal("0x2a", (await client.CallAsync("eth_chainId", default)).GetString());

        // Each backoff is 30 s at least: 20 s is plenty for an immediate retry on a loaded machine, and too short for one
        // that slept its backoff out.
        var results = await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(results, r => Assert.Equal("0x2a", r.GetString()));
        Assert.Equal(3, client.Transport.BackoffsCutShort);
        Assert.Equal(6, server.Count("eth_blockNumber"));
    }

    [Fact]
    public async Task an_unreachable_endpoint_fails_over_at_once()
    {
        await using var up = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x10"));
        using var client = new EthRpcClient(["http://127.0.0.1:9/", up.Url], Fast, NullLogger.Instance, TimeProvider.System);

        Assert.Equal("0x10", (await client.CallAsync("eth_chainId", default)).GetString());
        Assert.Equal(2, client.Endpoints.Count);
    }

    [Fact]
    public async Task the_head_never_goes_back_when_a_backend_lags()
    {
        // A load balancer: the first answer from an up-to-date backend, then from one 3 blocks behind.
        await using var server = ScriptedRpcServer.Start((_, _, n) => RpcAnswer.Ok(n == 1 ? "0x64" : "0x61"));
        using var client = Client(server);

        Assert.Equal(100UL, await client.GetBlockNumberAsync(default));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(100UL, await client.GetBlockNumberAsync(default));
        }

        Assert.Equal(4, server.Count("eth_blockNumber"));
    }

    [Fact]
    public async Task a_block_below_the_highest_head_that_a_backend_lacks_is_read_again()
    {
        var block = new JsonObject { ["number"] = "0x64", ["hash"] = "0x" + new string('b', 64) };
        await using var server = ScriptedRpcServer.Start((method, p, n) => method switch
        {
            "eth_blockNumber" => RpcAnswer.Ok("0x64"),
            _ when p[0]!.GetValue<string>() != "0x64" => RpcAnswer.Ok((JsonNode?)null),
            _ => n <= 2 ? RpcAnswer.Ok((JsonNode?)null) : RpcAnswer.Ok(block),
        });
        using var client = Client(server);
        await client.GetBlockNumberAsync(default);

        var found = await client.GetBlockAsync(100, default);

        Assert.Equal("0x" + new string('b', 64), found!.Value.GetProperty("hash").GetString());
        Assert.Equal(3, server.Count("eth_getBlockByNumber"));
        // Above the highest head a missing block is an answer (null), asked once.
        Assert.Null(await client.GetBlockAsync(101, default));
        Assert.Equal(4, server.Count("eth_getBlockByNumber"));
    }

    [Fact]
    public async Task a_pinned_read_a_lagging_backend_cannot_answer_goes_to_another()
    {
        await using var lagging = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Error(-32000, "header not found"));
        await using var fresh = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x" + new string('0', 63) + "7"));
        using var client = Client(lagging, fresh);

        var result = await client.EthCallAsync(null, "0x0000000000000000000000000000000000000001", [], 0, HexData.Quantity(100), default);

        Assert.True(result.Succeeded);
        Assert.Equal(7, result.Value![^1]);
        Assert.Equal(1, fresh.Count("eth_call"));
    }

    [Fact]
    public async Task a_batch_with_a_transient_error_in_one_reply_is_sent_again_and_definite_errors_are_kept()
    {
        await using var server = ScriptedRpcServer.Start((method, _, n) => method switch
        {
            "eth_blockNumber" => n == 1 ? RpcAnswer.Error(-32603, "internal error") : RpcAnswer.Ok("0x5"),
            _ => RpcAnswer.Error(-32601, "method not found"),
        });
        using var client = Client(server);

        var replies = await client.BatchAsync([("eth_blockNumber", []), ("eth_foo", [])], default);

        Assert.Equal("0x5", replies[0].Result.GetString());
        Assert.Equal(-32601, replies[1].Error!.Code);
        Assert.Equal(2, server.Count("eth_blockNumber"));
        Assert.Equal(5UL, client.HighestHead);
    }

    [Theory]
    [InlineData("already known")]
    [InlineData("known transaction: 0xabc")]
    public async Task already_known_on_send_raw_transaction_is_success(string message)
    {
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Error(-32000, message));
        using var client = Client(server);

        Assert.Equal(RawTxBroadcast.AlreadyKnown, await client.SendRawTransactionAsync([1, 2, 3], default));
        Assert.Equal(1, server.Count("eth_sendRawTransaction"));
    }

    [Fact]
    public async Task nonce_too_low_is_success_only_when_a_node_has_this_very_transaction()
    {
        byte[] raw = [1, 2, 3];
        var hash = HexData.Encode(Abi.Keccak(raw));
        await using var hasIt = ScriptedRpcServer.Start((method, p, _) => method == "eth_sendRawTransaction"
            ? RpcAnswer.Error(-32000, "nonce too low")
            : p[0]!.GetValue<string>() == hash ? RpcAnswer.Ok(new JsonObject { ["hash"] = hash }) : RpcAnswer.Ok((JsonNode?)null));
        using (var client = Client(hasIt))
        {
            Assert.Equal(RawTxBroadcast.AlreadyKnown, await client.SendRawTransactionAsync(raw, default));
        }

        await using var other = ScriptedRpcServer.Start((method, _, _) => method == "eth_sendRawTransaction"
            ? RpcAnswer.Error(-32000, "nonce too low")
            : RpcAnswer.Ok((JsonNode?)null));
        using (var client = Client(other))
        {
            var error = await Assert.ThrowsAsync<EthRpcException>(() => client.SendRawTransactionAsync(raw, default));
            Assert.Contains("nonce too low", error.RpcMessage, StringComparison.Ordinal);
            Assert.Equal(1, other.Count("eth_sendRawTransaction"));
        }
    }

    [Fact]
    public async Task a_reply_lost_after_the_send_ran_is_resolved_by_looking_the_hash_up()
    {
        byte[] raw = [4, 5, 6];
        var hash = HexData.Encode(Abi.Keccak(raw));
        var ran = 0;
        await using var server = ScriptedRpcServer.Start((method, p, _) =>
        {
            if (method == "eth_sendRawTransaction")
            {
                Interlocked.Increment(ref ran);
                return RpcAnswer.Drop;
            }

            return Volatile.Read(ref ran) > 0 && p[0]!.GetValue<string>() == hash ? RpcAnswer.Ok(new JsonObject { ["hash"] = hash }) : RpcAnswer.Ok((JsonNode?)null);
        });
        using var client = Client(server);

        Assert.Equal(RawTxBroadcast.AlreadyKnown, await client.SendRawTransactionAsync(raw, default));
        // Found by its hash. (On a loaded machine the lookup can run before the node has handled the first send, find
        // nothing, and send the same bytes once more: harmless, the tx is the same; nothing is signed again.)
        Assert.True(server.Count("eth_getTransactionByHash") >= 1);
        Assert.True(server.Count("eth_sendRawTransaction") >= 1);
    }

    [Fact]
    public async Task a_send_goes_to_every_endpoint_and_one_taking_it_is_enough()
    {
        await using var a = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Http(503));
        await using var b = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x" + new string('c', 64)));
        using var client = Client(a, b);

        Assert.Equal(RawTxBroadcast.Accepted, await client.SendRawTransactionAsync([7], default));
        // The first endpoint that takes it is enough; the other got it too (maybe after the send returned).
        await WaitUntilAsync(() => a.Count("eth_sendRawTransaction") == 1);
        Assert.Equal(1, b.Count("eth_sendRawTransaction"));
    }

    [Fact]
    public async Task a_send_is_not_held_up_by_an_endpoint_that_does_not_answer()
    {
        await using var silent = new SilentRpcServer();
        await using var up = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x" + new string('c', 64)));
        using var client = new EthRpcClient([silent.Url, up.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        Assert.Equal(RawTxBroadcast.Accepted, await client.SendRawTransactionAsync([7], default));

        // Returned while the silent endpoint still holds its request (waiting for it would have ended it after the
        // request timeout, a minute): that request is left running, so the silent endpoint does get the transaction.
        Assert.Equal(0, silent.Abandoned);
        await WaitUntilAsync(() => silent.Received == 1);
        Assert.Equal(1, up.Count("eth_sendRawTransaction"));
    }

    [Fact]
    public async Task a_send_that_failed_at_once_is_sent_again_while_the_other_endpoint_stalls()
    {
        // The first send's reply is lost after it ran; sent again, the node knows the transaction.
        await using var lossy = ScriptedRpcServer.Start((_, _, n) => n == 1 ? RpcAnswer.Drop : RpcAnswer.Error(-32000, "already known"));
        await using var silent = new SilentRpcServer();
        using var client = new EthRpcClient([lossy.Url, silent.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        Assert.Equal(RawTxBroadcast.AlreadyKnown, await client.SendRawTransactionAsync([7], default));

        // Not by a lookup of the hash (that needs every endpoint's reply): the lossy endpoint was asked again.
        Assert.Equal(2, lossy.Count("eth_sendRawTransaction"));
        Assert.Equal(0, lossy.Count("eth_getTransactionByHash"));
        Assert.Equal(0, silent.Abandoned);
    }

    [Fact]
    public async Task a_request_without_an_answer_is_hedged_to_the_next_endpoint_which_answers()
    {
        await using var silent = new SilentRpcServer();
        await using var up = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x2a"));
        using var client = new EthRpcClient([silent.Url, up.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        var result = await client.CallAsync("eth_chainId", default);

        // The request timeout is a minute: the answer can only have come from the hedge.
        Assert.Equal("0x2a", result.GetString());
        // (The silent endpoint counts a request once it has read it all, on a task of its own: waited for.)
        await WaitUntilAsync(() => silent.Received == 1);
        Assert.Equal(1, up.Count("eth_chainId"));
        Assert.Equal((1L, 1L), (client.Transport.Hedges, client.Transport.HedgeWins));
        Assert.Equal(0, client.Transport.TransientFailures);
    }

    [Fact]
    public async Task the_request_that_lost_the_hedge_race_is_cancelled()
    {
        await using var silent = new SilentRpcServer();
        await using var up = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x2a"));
        using var client = new EthRpcClient([silent.Url, up.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        Assert.Equal("0x2a", (await client.CallAsync("eth_chainId", default)).GetString());

        // The connection of the request still waiting is closed (the request timeout, a minute, is far off).
        await WaitUntilAsync(() => silent.Abandoned == 1);
        Assert.Equal(1, silent.Received);
    }

    [Fact]
    public async Task a_batch_is_hedged_as_a_whole()
    {
        await using var silent = new SilentRpcServer();
        await using var up = ScriptedRpcServer.Start((method, _, _) => RpcAnswer.Ok(method == "eth_blockNumber" ? "0x5" : "0x7"));
        using var client = new EthRpcClient([silent.Url, up.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        var replies = await client.BatchAsync([("eth_blockNumber", []), ("eth_chainId", [])], default);

        Assert.Equal(["0x5", "0x7"], replies.Select(r => r.Result.GetString()));
        Assert.Equal((1, 1), (up.Count("eth_blockNumber"), up.Count("eth_chainId")));
        Assert.Equal(1L, client.Transport.HedgeWins);
    }

    [Fact]
    public async Task a_transient_failure_of_the_hedge_moves_on_at_once_while_the_first_request_still_waits()
    {
        await using var silent = new SilentRpcServer();
        await using var busy = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Http(503));
        await using var up = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x2a"));
        using var client = new EthRpcClient([silent.Url, busy.Url, up.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        Assert.Equal("0x2a", (await client.CallAsync("eth_chainId", default)).GetString());

        // One hedge (to the busy endpoint, first in order among equals); its 503 passed the call on to the third.
        // (The silent endpoint counts a request once it has read it all, on a task of its own: waited for.)
        await WaitUntilAsync(() => silent.Received == 1);
        Assert.Equal((1, 1), (busy.Count("eth_chainId"), up.Count("eth_chainId")));
        Assert.Equal(1L, client.Transport.Hedges);
        await WaitUntilAsync(() => silent.Abandoned == 1);
    }

    [Fact]
    public async Task while_a_request_waits_an_endpoint_that_failed_at_once_is_asked_again_after_a_hedge_delay()
    {
        await using var silent = new SilentRpcServer();
        await using var flaky = ScriptedRpcServer.Start((_, _, n) => n == 1 ? RpcAnswer.Http(503) : RpcAnswer.Ok("0x2a"));
        using var client = new EthRpcClient([silent.Url, flaky.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        Assert.Equal("0x2a", (await client.CallAsync("eth_chainId", default)).GetString());

        // Every endpoint was tried (the silent one still holds its request): the one that failed is hedged to again.
        // (The silent endpoint counts a request once it has read it all, on a task of its own: waited for.)
        await WaitUntilAsync(() => silent.Received == 1);
        Assert.Equal(2, flaky.Count("eth_chainId"));
        Assert.Equal(2L, client.Transport.Hedges);
        await WaitUntilAsync(() => silent.Abandoned == 1);
    }

    [Fact]
    public async Task while_a_request_waits_an_endpoint_that_asked_to_be_left_alone_is_asked_again_once_its_retry_after_is_over()
    {
        await using var silent = new SilentRpcServer();
        await using var limited = ScriptedRpcServer.Start((_, _, n) => n == 1 ? RpcAnswer.Http(429, "Too Many Requests", retryAfterSeconds: 1) : RpcAnswer.Ok("0x2a"));
        using var client = new EthRpcClient([silent.Url, limited.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        Assert.Equal("0x2a", (await client.CallAsync("eth_chainId", default)).GetString());

        // The second hedge went to the rate-limited endpoint after its Retry-After, not after the silent one's timeout.
        // (The silent endpoint counts a request once it has read it all, on a task of its own: waited for.)
        await WaitUntilAsync(() => silent.Received == 1);
        Assert.Equal(2, limited.Count("eth_chainId"));
        Assert.Equal(2L, client.Transport.Hedges);
        await WaitUntilAsync(() => silent.Abandoned == 1);
    }

    [Fact]
    public async Task a_revert_is_a_definite_answer_and_goes_to_no_other_endpoint()
    {
        await using var reverting = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Error(3, "execution reverted", "0x8f2a4a50"));
        await using var other = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x" + new string('0', 64)));
        // The hedge wait is long (30 s): the revert is the answer, neither retried nor raced elsewhere.
        using var client = new EthRpcClient([reverting.Url, other.Url],
            Hedged with { HedgeAfter = TimeSpan.FromSeconds(30), HedgeMin = TimeSpan.FromSeconds(30) }, NullLogger.Instance, TimeProvider.System);

        var result = await client.EthCallAsync(null, Contract, [], 0, HexData.Quantity(100), default);

        Assert.False(result.Succeeded);
        Assert.Equal(1, reverting.Count("eth_call"));
        Assert.Equal(0, other.Count("eth_call"));
        Assert.Equal(0L, client.Transport.Hedges);
    }

    [Fact]
    public async Task a_late_definite_answer_of_the_first_endpoint_wins_over_a_hedge_that_has_none()
    {
        await using var slow = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Stall(TimeSpan.FromSeconds(3), RpcAnswer.Error(3, "execution reverted", "0x8f2a4a50")));
        await using var silent = new SilentRpcServer();
        using var client = new EthRpcClient([slow.Url, silent.Url], Hedged, NullLogger.Instance, TimeProvider.System);

        var result = await client.EthCallAsync(null, Contract, [], 0, HexData.Quantity(100), default);

        // The hedge went out (after 200 ms) and got nothing; the revert of the first request is the call's answer.
        Assert.False(result.Succeeded);
        Assert.Equal((1L, 0L), (client.Transport.Hedges, client.Transport.HedgeWins));
        Assert.Equal(1, slow.Count("eth_call"));
        await WaitUntilAsync(() => silent.Abandoned == 1);
    }

    [Fact]
    public async Task a_retry_after_holds_back_that_endpoint_only_not_the_call()
    {
        await using var server = ScriptedRpcServer.Start((_, _, n) => n == 1 ? RpcAnswer.Http(429, "Too Many Requests", retryAfterSeconds: 60) : RpcAnswer.Ok("0x2a"));
        // A budget of 5 s: waiting the minute the endpoint asked for would make the call fail.
        using var client = Client(Fast with { CallBudget = TimeSpan.FromSeconds(5) }, NullLogger.Instance, server);

        Assert.Equal("0x2a", (await client.CallAsync("eth_chainId", default)).GetString());
        Assert.Equal(2, server.Count("eth_chainId"));
    }

    [Fact]
    public async Task an_endpoint_that_asked_to_be_left_alone_is_tried_last_while_it_asks()
    {
        // a: 429 with Retry-After 60 s, then it answers; b: answers, then a 503 without Retry-After, then answers.
        // Before the third call a has answered last (no failure in a row) and b has failed once: a, which asked to be
        // left alone for a minute, still comes after b.
        await using var a = ScriptedRpcServer.Start((_, _, n) => n == 1 ? RpcAnswer.Http(429, "Too Many Requests", retryAfterSeconds: 60) : RpcAnswer.Ok("0xa"));
        await using var b = ScriptedRpcServer.Start((_, _, n) => n <= 1 ? RpcAnswer.Ok("0xb") : n == 2 ? RpcAnswer.Http(503) : RpcAnswer.Ok("0xb"));
        using var client = Client(a, b);

        Assert.Equal("0xb", (await client.CallAsync("eth_chainId", default)).GetString());
        Assert.Equal("0xa", (await client.CallAsync("eth_chainId", default)).GetString());
        Assert.Equal("0xb", (await client.CallAsync("eth_chainId", default)).GetString());
        Assert.Equal((2, 3), (a.Count("eth_chainId"), b.Count("eth_chainId")));
    }

    [Fact]
    public async Task a_latest_call_answered_by_a_backend_below_the_head_seen_is_asked_elsewhere()
    {
        // The lagging backend is 3 blocks behind: at its state the call reverts (a window not open yet).
        await using var lagging = ScriptedRpcServer.Start((method, _, _) =>
            method == "eth_blockNumber" ? RpcAnswer.Ok("0x61") : RpcAnswer.Error(3, "execution reverted", "0x8f2a4a50"));
        await using var fresh = ScriptedRpcServer.Start((method, _, _) =>
            method == "eth_blockNumber" ? RpcAnswer.Ok("0x64") : RpcAnswer.Ok("0x" + new string('0', 63) + "7"));
        using var client = Client(lagging, fresh);
        client.ObserveHead(100);

        var result = await client.EthCallAsync(null, Contract, [], 0, "latest", default);

        Assert.True(result.Succeeded);
        Assert.Equal(7, result.Value![^1]);
        Assert.Equal((1, 1), (lagging.Count("eth_call"), fresh.Count("eth_call")));
    }

    [Fact]
    public async Task after_the_budget_the_call_is_unavailable_and_no_url_secret_is_logged_or_thrown()
    {
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Http(503), path: "v3/SECRET-API-KEY?token=SECRET2");
        var logger = new ListLogger();
        using var client = Client(Fast with { CallBudget = TimeSpan.FromSeconds(1) }, logger, server);

        var error = await Assert.ThrowsAsync<ChainUnavailableException>(() => client.CallAsync("eth_chainId", default));

        Assert.Contains("HTTP 503", error.Message, StringComparison.Ordinal);
        Assert.True(server.Count("eth_chainId") >= 2);
        Assert.DoesNotContain("SECRET", error.Message, StringComparison.Ordinal);
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Debug);
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Warning);
        Assert.DoesNotContain(logger.Lines, l => l.Text.Contains("SECRET", StringComparison.Ordinal));
        Assert.DoesNotContain("SECRET", string.Join(",", client.Endpoints), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_persistent_failure_warns_at_most_once_per_interval()
    {
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Http(503));
        var logger = new ListLogger();
        using var client = Client(Fast with { CallBudget = TimeSpan.FromSeconds(1) }, logger, server);

        await Assert.ThrowsAsync<ChainUnavailableException>(() => client.CallAsync("eth_chainId", default));
        await Assert.ThrowsAsync<ChainUnavailableException>(() => client.CallAsync("eth_chainId", default));

        Assert.True(server.Count("eth_chainId") > 6);
        Assert.Single(logger.Lines, l => l.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task cancellation_ends_a_call_at_once_even_while_it_waits_for_a_stalled_node()
    {
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Stall(TimeSpan.FromSeconds(30), RpcAnswer.Ok("0x1")));
        using var client = Client(Fast with { RequestTimeout = TimeSpan.FromSeconds(60), CallBudget = TimeSpan.FromMinutes(2) }, NullLogger.Instance, server);
        using var cts = new CancellationTokenSource();

        var call = client.CallAsync("eth_chainId", cts.Token);
        await WaitUntilAsync(() => server.Count("eth_chainId") == 1);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("a reset connection")]
    [InlineData("a refused request")]
    [InlineData("invalid JSON")]
    public async Task a_transport_failure_seen_as_the_caller_cancels_ends_the_call_as_cancelled(string what)
    {
        // A node's connection breaks (a fault proxy's lost reply) just as the aggregator stops: the stop wins, and the
        // caller (the sync loop, the sender) ends as cancelled instead of failing with the transport's exception.
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Ok("0x2a"));
        using var client = Client(server);
        using var cts = new CancellationTokenSource();
        Exception failure = what switch
        {
            "a reset connection" => new IOException("Unable to read data from the transport connection: Connection reset by peer."),
            "a refused request" => new HttpRequestException("An error occurred while sending the request."),
            _ => new JsonException("'0x' is an invalid end of a number."),
        };

        var call = client.Transport.CallAsync("eth_blockNumber", [], cts.Token, _ =>
        {
            cts.Cancel();
            throw failure;
        });

        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(cts.Token, error.CancellationToken);
    }

    [Fact]
    public async Task the_bare_client_makes_one_attempt()
    {
        await using var server = ScriptedRpcServer.Start((_, _, _) => RpcAnswer.Http(503));
        using var client = new EthRpcClient(server.Url, TimeSpan.FromSeconds(5));

        var error = await Assert.ThrowsAsync<ChainUnavailableException>(() => client.CallAsync("eth_chainId", default));

        Assert.Contains("HTTP 503", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, server.Count("eth_chainId"));
        Assert.Equal(server.Url, client.Url);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "condition not met in time");
            await Task.Delay(10);
        }
    }
}
