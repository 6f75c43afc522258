using System.Numerics;
using Spectre.Console;
using ZkPow.Aggregator.Chain;
using ZkPow.Devnet.Network;

namespace ZkPow.Cli.Commands;

/// <summary>One look at a running devnet, for the live display.</summary>
internal sealed record DevnetProgress(
    ulong Block,
    int Sent,
    long Discovered,
    int Committed,
    int Revealed,
    int Verified,
    long FinalProofs,
    long ProversConnected,
    long ProversBusy,
    int TxsInFlight,
    BigInteger RewardsWei,
    int Slashes,
    int Overdue,
    DevnetFaultReport Faults,
    bool OutageOn,
    string? Replicas)
{
    public static async Task<DevnetProgress> ReadAsync(DevnetNetwork network, CancellationToken cancellationToken)
    {
        var head = await network.RollupChain.GetBlockNumberAsync(cancellationToken).ConfigureAwait(false);
        var events = await network.RollupChain.GetEventsAsync(0, head, cancellationToken).ConfigureAwait(false);
        var nodes = network.Miners.Where(m => m.Node is not null).Select(m => m.Node!).ToList();
        var open = await network.ReadOpenCommitmentsAsync(cancellationToken).ConfigureAwait(false);
        long finals = 0;
        foreach (var node in nodes)
        {
            finals += await node.CountFinalProofsAsync(cancellationToken).ConfigureAwait(false);
        }

        // Replicas run as child processes: their /api/status and the miners' databases.
        var replicas = await network.ReadReplicaFiguresAsync(cancellationToken).ConfigureAwait(false);

        return new DevnetProgress(
            head,
            network.SequencesSent,
            replicas?.Discovered ?? (nodes.Count == 0 ? 0 : nodes.Max(n => n.SyncMetrics.SequencesSynced)),
            events.OfType<SubmitProofHashEvent>().Select(e => e.FinalNewBatch).Distinct().Count(),
            events.OfType<RewardPaidEvent>().Select(e => e.FinalNewBatch).Distinct().Count(),
            events.OfType<VerifyBatchesEvent>().Select(e => e.NumBatch).Distinct().Count(),
            replicas?.FinalProofs ?? finals,
            replicas?.ProversConnected ?? nodes.Sum(n => n.Metrics.ConnectedProvers),
            replicas?.ProversBusy ?? nodes.Sum(n => n.Metrics.BusyProvers),
            replicas?.TxsInFlight ?? nodes.Sum(n => n.TxsInFlight),
            events.OfType<RewardPaidEvent>().Aggregate(BigInteger.Zero, (a, e) => a + e.Amount),
            events.OfType<SlashedEvent>().Count(),
            open.Count(c => c.Overdue),
            network.Faults.Report(),
            network.Faults.OutageOn,
            network.ReplicaReport is { } r ? $"replicas {r.Count}/miner, leaders {string.Join(",", replicas!.Leaders.Select(l => l ?? "none"))}, kills {r.Kills} ({r.LeaderKills} leaders), restarts {r.Restarts}, unexpected exits {r.UnexpectedExits}" : null);
    }

    private string Rewards => ((decimal)RewardsWei / 1_000_000_000_000_000_000m).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);

    public Table ToTable()
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"zkpow devnet — block {Block}");
        table.AddColumn("sequences");
        table.AddColumn(new TableColumn("").RightAligned());
        table.AddColumn("provers, txs, economics");
        table.AddColumn(new TableColumn("").RightAligned());
        table.AddRow("sent by the rollup", Sent.ToString(System.Globalization.CultureInfo.InvariantCulture), "provers connected", ProversConnected.ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("discovered", Discovered.ToString(System.Globalization.CultureInfo.InvariantCulture), "provers busy / idle", $"{ProversBusy} / {ProversConnected - ProversBusy}");
        table.AddRow("final proofs", FinalProofs.ToString(System.Globalization.CultureInfo.InvariantCulture), "txs in flight", TxsInFlight.ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("committed", Committed.ToString(System.Globalization.CultureInfo.InvariantCulture), "rewards (ETH)", Rewards);
        table.AddRow("revealed", Revealed.ToString(System.Globalization.CultureInfo.InvariantCulture), "slashes", Slashes == 0 ? "[green]0[/]" : $"[red]{Slashes}[/]");
        table.AddRow("[green]verified[/]", $"[green]{Verified}[/]", "overdue (slash pending)", Overdue == 0 ? "[green]0[/]" : $"[red]{Overdue}[/]");
        if (Replicas is not null)
        {
            table.AddRow("[grey]" + Markup.Escape(Replicas) + "[/]", "", "", "");
        }

        if (Faults.Proxies > 0 || Faults.Reorgs > 0)
        {
            table.AddRow("faults injected", Faults.InjectedTotal.ToString(System.Globalization.CultureInfo.InvariantCulture), "reorgs", Faults.Reorgs.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("[grey]" + Markup.Escape(FaultKinds) + "[/]", "", "outage", OutageOn ? $"[red]on[/] ({Faults.OutageSeconds} s)" : $"{Faults.OutageSeconds} s");
        }

        return table;
    }

    private string FaultKinds => string.Join(", ", Faults.Injected.Where(f => f.Value > 0).Select(f => $"{f.Key} {f.Value}"));

    public string ToLine() =>
        $"devnet: block {Block}; sequences sent {Sent}, discovered {Discovered}, proved {FinalProofs}, committed {Committed}, revealed {Revealed}, verified {Verified}; " +
        $"provers {ProversBusy}/{ProversConnected} busy; txs in flight {TxsInFlight}; rewards {Rewards} ETH; slashes {Slashes}; overdue {Overdue}" +
        (Faults.Proxies > 0 || Faults.Reorgs > 0
            ? $"; faults {Faults.InjectedTotal} ({FaultKinds}); reorgs {Faults.Reorgs}; outage {(OutageOn ? "ON " : "")}{Faults.OutageSeconds} s"
            : "") +
        (Replicas is not null ? $"; {Replicas}" : "");
}
