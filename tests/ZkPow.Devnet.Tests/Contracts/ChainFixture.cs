using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Contracts;

/// <summary>One local chain per test class (devnet defaults, three staked miners); each test starts from the same snapshot.</summary>
public sealed class ChainFixture : IAsyncLifetime
{
    private DevChain? _chain;
    private string? _snapshot;

    internal DevChain Chain => _chain ?? throw new InvalidOperationException("the chain is not started");

    public async Task InitializeAsync()
    {
        _chain = await DevChain.StartAsync(new DevChainOptions { BlockTime = 0, T1 = 5, T2 = 10, Miners = 3, ExtraAccounts = 2 });
        _snapshot = await _chain.SnapshotAsync();
    }

    /// <summary>Returns the chain to its state right after set-up.</summary>
    internal async Task<DevChain> ResetAsync()
    {
        var chain = Chain;
        await chain.SetAutomineAsync(true);
        await chain.RevertAsync(_snapshot!);
        _snapshot = await chain.SnapshotAsync();
        return chain;
    }

    public async Task DisposeAsync()
    {
        if (_chain is not null)
        {
            await _chain.DisposeAsync();
        }
    }
}
