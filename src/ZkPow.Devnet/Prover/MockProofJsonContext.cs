using System.Text.Json.Serialization;

namespace ZkPow.Devnet.Prover;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(MockRecursiveProof))]
internal sealed partial class MockProofJsonContext : JsonSerializerContext;
