using Microsoft.Extensions.Logging;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Aggregator.Hosting;

public sealed partial class AggregatorNode
{
    /// <summary>Warns about each keystore or password file that group or others may read.</summary>
    private void WarnExposedSecrets()
    {
        foreach (var path in TxKey.ExposedFiles(Options.Key))
        {
            LogSecretExposed(path);
        }
    }

    /// <summary>Outside the devnet chain ids, the chain id must be stated: a wrong RPC URL must not reach a real chain.</summary>
    private void RequireExpectedChainId()
    {
        if (Options.ExpectedChainId is null && !TxKey.DevnetChainIds.Contains(BaseChainId))
        {
            throw new OptionsException("ExpectedChainId",
                $"is required on chain {BaseChainId} (only the devnet chains {string.Join(" and ", TxKey.DevnetChainIds)} may leave it out): set it to {BaseChainId} if that is the chain you mean");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The secret file {Path} can be read by group or others; restrict it to its owner (chmod 600)")]
    private partial void LogSecretExposed(string path);
}
