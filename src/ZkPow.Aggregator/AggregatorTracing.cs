using System.Diagnostics;

namespace ZkPow.Aggregator;

/// <summary>
/// The aggregator's trace sources (<see cref="System.Diagnostics.Activity"/>, exportable with OpenTelemetry by adding
/// the source names). <c>ZkPow.Aggregator.Sender</c> covers a final proof's way to its hash broadcast: the pre-flight
/// reads, the verifier call, the tx manager's store writes, pre-flight, signing and broadcast, and the sender's store write.
/// </summary>
public static class AggregatorTracing
{
    public const string SenderSourceName = "ZkPow.Aggregator.Sender";

    public static ActivitySource Sender { get; } = new(SenderSourceName);
}
