using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;
using ZkPow.Devnet.Bench;

namespace ZkPow.Devnet.Tests.Bench;

public sealed class TxBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task the_tx_benchmark_confirms_every_transaction_and_reports_a_rate()
    {
        var result = await new TxBenchmark(new TxBenchmarkOptions { Transactions = 120, Concurrency = 32, Confirmations = 2 }, NullLoggerFactory.Instance)
            .RunAsync(default);
        output.WriteLine($"{result.ConfirmedTxPerSecond} confirmed tx/s, submit p50 {result.SubmitP50Ms} ms, confirm p50 {result.ConfirmP50Ms} ms");

        Assert.Equal((120, 0), (result.Transactions, result.Failed));
        Assert.True(result.ConfirmedTxPerSecond > 0);
        Assert.Equal("FULL", result.SqliteSynchronous);
        Assert.True(result.StoreCommits < result.StoreWrites, "writes are grouped into commits");
    }
}
