namespace ZkPow.Aggregator.Chain;

/// <summary>Where the base chain and the rollup contract are.</summary>
public sealed class ChainOptions
{
    /// <summary>The base-chain node's HTTP JSON-RPC URL. Example: <c>http://127.0.0.1:8545</c>.</summary>
    public string RpcUrl { get; set; } = "http://127.0.0.1:8545";

    /// <summary>More base-chain JSON-RPC URLs beside <see cref="RpcUrl"/> (other providers). Example:
    /// <c>["http://127.0.0.1:8545", "http://127.0.0.1:8546"]</c>; empty = <see cref="RpcUrl"/> only.</summary>
    public string[] RpcUrls { get; set; } = [];

    /// <summary>The rollup contract's address. Example: <c>0x5FC8d32690cc91D4c39d9d3abcBD16989F875707</c>.</summary>
    public string RollupAddress { get; set; } = string.Empty;

    /// <summary>How long one JSON-RPC request may take. Example: <c>10s</c>.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public void Validate()
    {
        if (!Uri.TryCreate(RpcUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new OptionsException("Chain:RpcUrl", $"'{RpcUrl}' is not an http(s) URL");
        }

        for (var i = 0; i < RpcUrls.Length; i++)
        {
            if (!Uri.TryCreate(RpcUrls[i], UriKind.Absolute, out var more) || (more.Scheme != Uri.UriSchemeHttp && more.Scheme != Uri.UriSchemeHttps))
            {
                throw new OptionsException($"Chain:RpcUrls:{i}", $"'{RpcUrls[i]}' is not an http(s) URL");
            }
        }

        if (!HexData.IsAddress(RollupAddress))
        {
            throw new OptionsException("Chain:RollupAddress", $"'{RollupAddress}' is not a 0x-hex address");
        }

        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromMinutes(5))
        {
            throw new OptionsException("Chain:RequestTimeout", "must be between 100ms and 5m");
        }
    }
}
