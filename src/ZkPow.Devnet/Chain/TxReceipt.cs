using System.Numerics;
using System.Text.Json;
using ZkPow.Aggregator.Chain;

namespace ZkPow.Devnet.Chain;

/// <summary>The parts of a transaction receipt that the devnet and its tests use.</summary>
internal sealed record TxReceipt(
    string TransactionHash,
    bool Succeeded,
    ulong BlockNumber,
    ulong GasUsed,
    BigInteger EffectiveGasPrice,
    string? ContractAddress,
    IReadOnlyList<TxLog> Logs)
{
    /// <summary>What the sender paid for gas, in wei.</summary>
    public BigInteger Fee => GasUsed * EffectiveGasPrice;

    public static TxReceipt Parse(JsonElement receipt)
    {
        var logs = receipt.GetProperty("logs").EnumerateArray()
            .Select(log => new TxLog(
                log.GetProperty("address").GetString() ?? string.Empty,
                [.. log.GetProperty("topics").EnumerateArray().Select(t => t.GetString() ?? string.Empty)],
                HexData.Decode(log.GetProperty("data").GetString() ?? "0x")))
            .ToList();
        var contract = receipt.TryGetProperty("contractAddress", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        return new TxReceipt(
            receipt.GetProperty("transactionHash").GetString() ?? string.Empty,
            HexData.ParseQuantity(receipt.GetProperty("status")) == 1,
            (ulong)HexData.ParseQuantity(receipt.GetProperty("blockNumber")),
            (ulong)HexData.ParseQuantity(receipt.GetProperty("gasUsed")),
            receipt.TryGetProperty("effectiveGasPrice", out var price) ? HexData.ParseQuantity(price) : BigInteger.Zero,
            contract,
            logs);
    }
}
