using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The caller's loggers for the host's services, except the Generic Host's own category: it logs a part that fails to
/// start with its stack trace, where the aggregator reports the failure itself on one line (a configuration error
/// naming the key). The caller keeps ownership of the factory.
/// </summary>
internal sealed class HostLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostCategory = "Microsoft.Extensions.Hosting";

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(HostCategory, StringComparison.Ordinal) ? NullLogger.Instance : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // Owned by the caller.
    }
}
