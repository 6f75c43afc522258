using System.Numerics;
using System.Text.Json;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Chain;

namespace ZkPow.Devnet.Tests.Chain;

/// <summary>Node queries the tx tests make directly (not through the code under test).</summary>
internal static class ChainRpc
{
    public static async Task<ulong> NonceAsync(DevChain chain, string address, string block = "latest") =>
        (ulong)HexData.ParseQuantity(await chain.Rpc.CallAsync("eth_getTransactionCount", [address, block], default));

    public static async Task<JsonElement?> TransactionAsync(DevChain chain, string hash)
    {
        var tx = await chain.Rpc.CallAsync("eth_getTransactionByHash", [hash], default);
        return tx.ValueKind == JsonValueKind.Object ? tx : null;
    }

    public static async Task<JsonElement?> ReceiptAsync(DevChain chain, string hash)
    {
        var receipt = await chain.Rpc.CallAsync("eth_getTransactionReceipt", [hash], default);
        return receipt.ValueKind == JsonValueKind.Object ? receipt : null;
    }

    /// <summary>Every transaction sent by <paramref name="from"/> in blocks [<paramref name="fromBlock"/>, head]: (nonce, value, hash).</summary>
    public static async Task<IReadOnlyList<(ulong Nonce, BigInteger Value, string Hash)>> SentByAsync(DevChain chain, string from, ulong fromBlock)
    {
        var head = await chain.GetBlockNumberAsync();
        var found = new List<(ulong, BigInteger, string)>();
        for (var n = fromBlock; n <= head; n++)
        {
            var block = await chain.Rpc.CallAsync("eth_getBlockByNumber", [HexData.Quantity(n), true], default);
            foreach (var tx in block.GetProperty("transactions").EnumerateArray())
            {
                if (string.Equals(tx.GetProperty("from").GetString(), from, StringComparison.OrdinalIgnoreCase))
                {
                    found.Add(((ulong)HexData.ParseQuantity(tx.GetProperty("nonce")), HexData.ParseQuantity(tx.GetProperty("value")),
                        tx.GetProperty("hash").GetString()!));
                }
            }
        }

        return found;
    }
}
