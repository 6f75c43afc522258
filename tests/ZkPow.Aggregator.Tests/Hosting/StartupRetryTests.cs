using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Hosting;
using ZkPow.Aggregator.Tests.Chain;

namespace ZkPow.Aggregator.Tests.Hosting;

public sealed class StartupRetryTests
{
    private sealed class RetryLog : ILogger<StartupRetry>
    {
        public ListLogger Inner { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Inner.Log(logLevel, eventId, state, exception, formatter);

        public string[] Texts => [.. Inner.Lines.Select(l => l.Text)];
    }

    [Fact]
    public async Task a_first_attempt_that_gets_no_answer_is_logged_and_shown_before_it_fails_or_answers()
    {
        var readiness = new AggregatorReadiness();
        var log = new RetryLog();
        var retry = new StartupRetry(readiness, TimeProvider.System, log);
        var answer = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        var run = retry.RunAsync("the base chain's eth_chainId at https://node.example/v3/KEY", _ =>
        {
            calls++;
            return answer.Task;
        }, CancellationToken.None);

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!readiness.Reason.Contains("no answer yet", StringComparison.Ordinal))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"readiness still says '{readiness.Reason}'");
            await Task.Delay(20);
        }

        Assert.DoesNotContain("KEY", readiness.Reason, StringComparison.Ordinal);
        var line = Assert.Single(log.Texts);
        Assert.Contains("Start-up waits for the base chain's eth_chainId", line, StringComparison.Ordinal);
        Assert.Contains("no answer after 2 s", line, StringComparison.Ordinal);
        Assert.DoesNotContain("KEY", line, StringComparison.Ordinal);
        Assert.False(run.IsCompleted);

        answer.SetResult(31337);
        Assert.Equal(31337, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task a_prompt_answer_logs_nothing_and_a_failed_attempt_is_logged_and_retried()
    {
        var log = new RetryLog();
        var retry = new StartupRetry(new AggregatorReadiness(), TimeProvider.System, log);
        Assert.Equal(7, await retry.RunAsync("the rollup node", _ => Task.FromResult(7), CancellationToken.None));
        Assert.Empty(log.Texts);

        var attempts = 0;
        var value = await retry.RunAsync("the rollup node", _ => ++attempts == 1
            ? Task.FromException<int>(new ChainUnavailableException("the node is unreachable"))
            : Task.FromResult(8), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(8, value);
        var line = Assert.Single(log.Texts);
        Assert.Contains("(attempt 1 failed: the node is unreachable)", line, StringComparison.Ordinal);
    }
    [Fact]
    public async Task an_attempt_that_fails_as_the_stop_comes_ends_the_wait_as_a_stop_not_as_its_error()
    {
        var retry = new StartupRetry(new AggregatorReadiness(), TimeProvider.System, new RetryLog());
        using var stop = new CancellationTokenSource();
        var wait = retry.RunAsync("the base chain's chain id", _ =>
        {
            stop.Cancel(); // the signal arrives while the attempt's connection is being refused
            return Task.FromException<int>(new HttpRequestException("Connection refused"));
        }, stop.Token);
        var stopped = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(stop.Token, stopped.CancellationToken);
        Assert.IsType<HttpRequestException>(stopped.InnerException);
    }
}
