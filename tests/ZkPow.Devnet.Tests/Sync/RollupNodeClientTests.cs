using System.Net;
using System.Text;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sync;
using ZkPow.Devnet.Proof;
using ZkPow.Devnet.Rollup;

namespace ZkPow.Devnet.Tests.Sync;

public sealed class RollupNodeClientTests
{
    [Fact]
    public async Task reads_the_devnet_node_batches_with_their_devnet_roots()
    {
        var ledger = new DevnetRollupLedger();
        var sequence = new DevnetSequenceBuilder(new Random(3), "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc", 1001, 6).FromGenesis(3);
        ledger.Record(sequence, "0x" + new string('a', 64));
        await using var node = await DevnetRollupNode.StartAsync(ledger, new DevnetRollupNodeOptions(), _ => Task.FromResult(1UL));
        using var client = new RollupNodeClient(node.Url, TimeSpan.FromSeconds(5));

        Assert.Equal(3UL, await client.GetBatchNumberAsync(default));
        Assert.Equal(3UL, await client.GetVirtualBatchNumberAsync(default));
        Assert.Equal(1UL, await client.GetVerifiedBatchNumberAsync(default));
        var genesis = await client.GetBatchAsync(0, default);
        Assert.Equal(DevnetRules.GenesisStateRoot(), genesis!.StateRoot);
        Assert.Equal(new byte[32], genesis.AccInputHash);
        var batch = await client.GetBatchAsync(2, default);
        Assert.Equal(sequence.Batches[1].StateRoot, batch!.StateRoot);
        Assert.Equal(sequence.Batches[1].AccInputHash, batch.AccInputHash);
        Assert.Equal(sequence.Batches[1].LocalExitRoot, batch.LocalExitRoot);
        Assert.Equal(sequence.Batches[1].Transactions, batch.BatchL2Data);
        Assert.Equal(sequence.Batches[1].Timestamp, batch.Timestamp);
        Assert.Equal("0x" + new string('a', 64), batch.SendSequencesTxHash);
        Assert.Null(batch.VerifyBatchTxHash);
        Assert.Null(await client.GetBatchAsync(4, default));

        node.Lie(2);
        var lie = await client.GetBatchAsync(2, default);
        Assert.NotEqual(sequence.Batches[1].StateRoot, lie!.StateRoot);
        Assert.NotEqual(sequence.Batches[1].AccInputHash, lie.AccInputHash);
    }

    [Theory]
    [InlineData("\"0x1a\"", 26UL)]
    [InlineData("\"0x001a\"", 26UL)]
    [InlineData("\"0X1A\"", 26UL)]
    [InlineData("26", 26UL)]
    [InlineData("\"0x0\"", 0UL)]
    public async Task quantities_are_read_tolerantly(string json, ulong expected)
    {
        await using var server = await FakeNode.StartAsync(_ => $$"""{"jsonrpc":"2.0","id":1,"result":{{json}}}""");
        using var client = new RollupNodeClient(server.Url, TimeSpan.FromSeconds(5));
        Assert.Equal(expected, await client.GetBatchNumberAsync(default));
    }

    [Theory]
    [InlineData("\"26\"", "not a hex quantity")]
    [InlineData("\"0x\"", "not a hex quantity")]
    [InlineData("\"0xzz\"", "not a hex quantity")]
    [InlineData("-1", "not a hex quantity")]
    [InlineData("{}", "not a hex quantity")]
    [InlineData("\"0x1ffffffffffffffff\"", "not a hex quantity")]
    public async Task garbage_quantities_are_clear_errors(string json, string message)
    {
        await using var server = await FakeNode.StartAsync(_ => $$"""{"jsonrpc":"2.0","id":1,"result":{{json}}}""");
        using var client = new RollupNodeClient(server.Url, TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<RollupNodeException>(() => client.GetBatchNumberAsync(default));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Contains("zkevm_batchNumber", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stateRoot", "\"0x1234\"", "stateRoot has 2 bytes")]
    [InlineData("accInputHash", "null", "accInputHash is missing")]
    [InlineData("number", "\"0x8\"", "answered batch 8")]
    [InlineData("coinbase", "\"0xabc\"", "coinbase")]
    [InlineData("batchL2Data", "\"12\"", "batchL2Data")]
    public async Task garbage_batches_are_clear_errors(string field, string value, string message)
    {
        await using var server = await FakeNode.StartAsync(_ => $$"""{"jsonrpc":"2.0","id":1,"result":{{BatchJson(field, value)}}}""");
        using var client = new RollupNodeClient(server.Url, TimeSpan.FromSeconds(5));
        var e = await Assert.ThrowsAsync<RollupNodeException>(() => client.GetBatchAsync(7, default));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task error_answers_and_non_json_are_reported()
    {
        await using (var server = await FakeNode.StartAsync(_ => """{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"no such method"}}"""))
        {
            using var client = new RollupNodeClient(server.Url, TimeSpan.FromSeconds(5));
            var e = await Assert.ThrowsAsync<RollupNodeException>(() => client.GetBatchAsync(1, default));
            Assert.Contains("no such method", e.Message, StringComparison.Ordinal);
        }

        await using (var server = await FakeNode.StartAsync(_ => "<html>bad gateway</html>"))
        {
            using var client = new RollupNodeClient(server.Url, TimeSpan.FromSeconds(5));
            await Assert.ThrowsAsync<ChainUnavailableException>(() => client.GetBatchAsync(1, default));
        }
    }

    private static string BatchJson(string field, string value)
    {
        var fields = new Dictionary<string, string>
        {
            ["number"] = "\"0x7\"",
            ["coinbase"] = "\"0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc\"",
            ["stateRoot"] = Word('1'),
            ["globalExitRoot"] = Word('2'),
            ["mainnetExitRoot"] = Word('3'),
            ["rollupExitRoot"] = Word('4'),
            ["localExitRoot"] = Word('5'),
            ["accInputHash"] = Word('6'),
            ["timestamp"] = "\"0x64\"",
            ["sendSequencesTxHash"] = Word('7'),
            ["verifyBatchTxHash"] = "null",
            ["closed"] = "true",
            ["blocks"] = "[]",
            ["transactions"] = "[]",
            ["batchL2Data"] = "\"0xabcd\"",
        };
        fields[field] = value;
        return "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";
    }

    private static string Word(char c) => "\"0x" + new string(c, 64) + "\"";

    /// <summary>A loopback HTTP server answering every POST with a fixed body.</summary>
    private sealed class FakeNode : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Task _loop;

        private FakeNode(HttpListener listener, Func<string, string> answer, string url)
        {
            _listener = listener;
            Url = url;
            _loop = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext context;
                    try
                    {
                        context = await _listener.GetContextAsync();
                    }
                    catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                    {
                        return;
                    }

                    using var reader = new StreamReader(context.Request.InputStream);
                    var body = Encoding.UTF8.GetBytes(answer(await reader.ReadToEndAsync()));
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
        }

        public string Url { get; }

        public static Task<FakeNode> StartAsync(Func<string, string> answer)
        {
            for (var attempt = 0; ; attempt++)
            {
                var port = Random.Shared.Next(20_000, 60_000);
                var listener = new HttpListener();
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                try
                {
                    listener.Start();
                    return Task.FromResult(new FakeNode(listener, answer, $"http://127.0.0.1:{port}/"));
                }
                catch (HttpListenerException) when (attempt < 10)
                {
                    listener.Close();
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                _listener.Close();
            }
            catch (HttpListenerException)
            {
                // Close looks the released endpoint up again, binding it anew: another test may hold that port by now.
            }

            await _loop;
        }
    }
}
