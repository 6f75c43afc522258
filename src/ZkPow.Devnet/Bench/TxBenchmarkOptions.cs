namespace ZkPow.Devnet.Bench;

/// <summary>Settings of the transaction benchmark (<c>zkpow bench txs</c>).</summary>
public sealed class TxBenchmarkOptions
{
    /// <summary>Transactions to send (each a <c>settle(self)</c> call on the rollup).</summary>
    public int Transactions { get; set; } = 500;

    /// <summary>Submissions in progress at once.</summary>
    public int Concurrency { get; set; } = 64;

    /// <summary>Confirmation depth the manager waits for (anvil mines one block per transaction; the benchmark mines the
    /// blocks the last transactions still need).</summary>
    public int Confirmations { get; set; } = 1;

    /// <summary>The manager's receipt polling interval.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>SQLite synchronous setting (FULL is the durable default).</summary>
    public string SqliteSynchronous { get; set; } = "FULL";

    public void Validate()
    {
        if (Transactions is < 1 or > 1_000_000)
        {
            throw new ArgumentException("--transactions must be between 1 and 1000000");
        }

        if (Concurrency is < 1 or > 10_000)
        {
            throw new ArgumentException("--concurrency must be between 1 and 10000");
        }

        if (Confirmations is < 1 or > 100)
        {
            throw new ArgumentException("--confirmations must be between 1 and 100");
        }
    }
}
