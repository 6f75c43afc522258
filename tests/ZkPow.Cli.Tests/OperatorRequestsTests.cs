using ZkPow.Aggregator.Hosting;

namespace ZkPow.Cli.Tests;

/// <summary><c>--token-file</c> and the headers of the CLI's state-changing requests.</summary>
public sealed class OperatorRequestsTests
{
    [Fact]
    public void the_token_is_the_first_non_empty_line_of_the_file()
    {
        using var dir = new TempDir();
        var path = dir.File("operator.token");
        File.WriteAllText(path, "\n  zkpt_abc  \nsecond line\n");
        Assert.Equal("zkpt_abc", OperatorRequests.ReadToken(new FileInfo(path)));
        Assert.Null(OperatorRequests.ReadToken(null));
    }

    [Fact]
    public void a_missing_or_empty_token_file_is_a_clear_error()
    {
        using var dir = new TempDir();
        var missing = Assert.Throws<IOException>(() => OperatorRequests.ReadToken(new FileInfo(dir.File("none"))));
        Assert.Contains("--token-file", missing.Message, StringComparison.Ordinal);
        File.WriteAllText(dir.File("empty"), "\n \n");
        Assert.Contains("is empty", Assert.Throws<IOException>(() => OperatorRequests.ReadToken(new FileInfo(dir.File("empty")))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void a_post_carries_the_operator_header_and_the_bearer_token_when_given()
    {
        using var withToken = OperatorRequests.Post("api/drain", "zkpt_abc");
        Assert.Equal("1", Assert.Single(withToken.Headers.GetValues(OperatorApiGuard.HeaderName)));
        Assert.Equal(("Bearer", "zkpt_abc"), (withToken.Headers.Authorization!.Scheme, withToken.Headers.Authorization.Parameter));

        using var without = OperatorRequests.Post("api/drain", null);
        Assert.Equal("1", Assert.Single(without.Headers.GetValues(OperatorApiGuard.HeaderName)));
        Assert.Null(without.Headers.Authorization);
    }
}
