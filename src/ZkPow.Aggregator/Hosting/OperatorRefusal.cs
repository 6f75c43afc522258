namespace ZkPow.Aggregator.Hosting;

/// <summary>Why the operator API refused a request: the HTTP status (401 or 403) and the error text of its JSON body.</summary>
internal sealed record OperatorRefusal(int Status, string Error);
