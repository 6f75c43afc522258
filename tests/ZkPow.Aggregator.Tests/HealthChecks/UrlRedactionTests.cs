using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Tests.HealthChecks;

public sealed class UrlRedactionTests
{
    [Theory]
    [InlineData("eth_call: https://mainnet.example.io/v3/abc123key failed", "eth_call: https://mainnet.example.io/… failed")]
    [InlineData("at http://127.0.0.1:8545/?apikey=s3cret.", "at http://127.0.0.1:8545/…")]
    [InlineData("https://user:pa55@node.example:8443/rpc", "https://node.example:8443/…")]
    [InlineData("'https://node.example/key' and (http://other:1/x?y=z)", "'https://node.example/…' and (http://other:1/…)")]
    [InlineData("http://127.0.0.1:8545 is down", "http://127.0.0.1:8545 is down")]
    [InlineData("http://127.0.0.1:8545/ is down", "http://127.0.0.1:8545/ is down")]
    [InlineData("no url here", "no url here")]
    [InlineData("", "")]
    public void urls_keep_scheme_and_host_only(string text, string expected) => Assert.Equal(expected, UrlRedaction.Redact(text));

    [Theory]
    [InlineData("Host=db;Username=zkpow;Password=s3cret;Database=zkpow", "Host=db;Username=zkpow;Password=***;Database=zkpow")]
    [InlineData("host=db; pwd = 's3;cret' ;Database=x", "host=db; pwd=*** ;Database=x")]
    [InlineData("PASSWORD=\"s3cret\"", "PASSWORD=***")]
    [InlineData("Password=s3cret", "Password=***")]
    public void connection_string_passwords_are_hidden(string text, string expected)
    {
        Assert.Equal(expected, UrlRedaction.Redact(text));
        Assert.DoesNotContain("s3", UrlRedaction.Redact(text), StringComparison.Ordinal);
    }

    [Fact]
    public void a_redacted_text_stays_the_same_when_redacted_again()
    {
        var once = UrlRedaction.Redact("waiting for https://rpc.example.com/v2/KEY?x=1");
        Assert.Equal(once, UrlRedaction.Redact(once));
        Assert.DoesNotContain("KEY", once, StringComparison.Ordinal);
    }
}
