using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Sender;

namespace ZkPow.Aggregator.Tests.Sender;

/// <summary>A reveal sent behind our own reveal of its predecessor: no estimate is possible, so it carries a fixed limit.</summary>
public sealed class RevealBehindGasLimitTests
{
    [Fact]
    public void a_reveal_behind_ours_takes_the_predecessors_limit_scaled_up_by_its_larger_call_data_never_down()
    {
        Assert.Equal(400_000UL, ProofSender.GasLimitBehind(400_000, 1_000, 1_000));
        Assert.Equal(400_000UL, ProofSender.GasLimitBehind(400_000, 600, 1_000));
        Assert.Equal(600_000UL, ProofSender.GasLimitBehind(400_000, 1_500, 1_000));
        Assert.Equal(400_400UL, ProofSender.GasLimitBehind(400_000, 1_001, 1_000)); // rounded up
    }

    [Fact]
    public void a_transaction_without_its_preflight_call_needs_a_fixed_gas_limit()
    {
        var request = new TxRequest("verifyBatches/2/0", "verifyBatches", "0x" + new string('1', 40), [1, 2]) { SkipPreflightCall = true };
        var error = Assert.Throws<ArgumentException>(request.Validate);
        Assert.Equal(nameof(TxRequest.SkipPreflightCall), error.ParamName);
        (request with { GasLimit = 300_000 }).Validate();
    }
}
