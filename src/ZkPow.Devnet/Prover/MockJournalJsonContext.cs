using System.Text.Json.Serialization;

namespace ZkPow.Devnet.Prover;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(MockJournalEntry))]
internal sealed partial class MockJournalJsonContext : JsonSerializerContext;
