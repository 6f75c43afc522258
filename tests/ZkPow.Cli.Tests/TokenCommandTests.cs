using System.Text.Json;

namespace ZkPow.Cli.Tests;

public sealed class TokenCommandTests
{
    [Fact]
    public async Task token_new_prints_a_token_whose_hash_token_hash_reproduces()
    {
        using var made = ChildProcess.Zkpow("token", "new", "--name", "rig-1", "--json");
        Assert.Equal(0, await made.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        using var json = JsonDocument.Parse(made.Stdout);
        var token = json.RootElement.GetProperty("token").GetString()!;
        var sha256 = json.RootElement.GetProperty("sha256").GetString()!;
        Assert.Equal("rig-1", json.RootElement.GetProperty("name").GetString());
        Assert.Equal(64, sha256.Length);
        Assert.DoesNotContain(token, sha256, StringComparison.Ordinal);

        using var hashed = ChildProcess.Zkpow("token", "hash", token, "--json");
        Assert.Equal(0, await hashed.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        using var again = JsonDocument.Parse(hashed.Stdout);
        Assert.Equal(sha256, again.RootElement.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task token_new_refuses_a_name_that_cannot_be_a_principal()
    {
        using var made = ChildProcess.Zkpow("token", "new", "--name", "has space");
        Assert.Equal(2, await made.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("--name", made.Stderr);
        Assert.Equal("", made.Stdout.Trim());
    }
}
