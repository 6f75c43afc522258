namespace ZkPow.Devnet.Storage;

/// <summary>Settings of a throwaway <see cref="PostgresCluster"/>.</summary>
internal sealed class PostgresClusterOptions
{
    /// <summary>The folder holding the cluster's data directory (<c>data</c>), its log (<c>server.log</c>), its socket and
    /// the file <c>owner</c>; created if missing, and must be empty of a cluster. Example: <c>.devnet/run-1/postgres</c>.</summary>
    public required string Folder { get; init; }

    /// <summary><c>fsync</c>, <c>synchronous_commit</c> and <c>full_page_writes</c> on (the settings an aggregator runs
    /// with). Default true.</summary>
    public bool Durable { get; init; } = true;

    /// <summary>Whether <see cref="PostgresCluster.Stop"/> deletes <see cref="Folder"/> (a test's cluster) or keeps it (the
    /// devnet's, next to the rest of its data). Default false.</summary>
    public bool RemoveOnStop { get; init; }

    /// <summary>The server's <c>max_connections</c>. Default 300.</summary>
    public int MaxConnections { get; init; } = 300;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Folder))
        {
            throw new ArgumentException("the PostgreSQL cluster needs a folder");
        }

        if (MaxConnections is < 10 or > 10_000)
        {
            throw new ArgumentException("max_connections must be between 10 and 10000");
        }
    }
}
