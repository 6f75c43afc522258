using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using ZkPow.Aggregator.Chain;
using ZkPow.Aggregator.Storage;

// Usage: ZkPow.TxCrashChild <rpcUrl> <dbPath> <devKey> <to> <count> <store-only|send>
// Sends `count` transfers of 1..count wei to <to>, keyed crash/1..crash/count, printing one line per transaction
// ("STORED i nonce hash" or "SENT i nonce hash"), then "HOLD", and waits to be killed.
//   store-only: pre-flight, sign and store each transaction, never broadcast (and no background loop);
//   send:       submit each one normally (stored, then broadcast).
if (args.Length != 6)
{
    await Console.Error.WriteLineAsync("usage: ZkPow.TxCrashChild <rpcUrl> <dbPath> <devKey> <to> <count> <store-only|send>");
    return 2;
}

var (rpcUrl, dbPath, devKey, to) = (args[0], args[1], args[2], args[3]);
var count = int.Parse(args[4], CultureInfo.InvariantCulture);
var storeOnly = args[5] switch
{
    "store-only" => true,
    "send" => false,
    _ => throw new ArgumentException($"unknown mode {args[5]}"),
};

var time = TimeProvider.System;
var store = await SqliteStore.OpenAsync(new StoreOptions { SqlitePath = dbPath }, time, CancellationToken.None);
using var rpc = new EthRpcClient(rpcUrl, TimeSpan.FromSeconds(10));
var manager = new TxManager(store, rpc, TxKey.FromDevKey(devKey), new TxManagerOptions { Confirmations = 1, PollInterval = TimeSpan.FromMilliseconds(50) },
    NullLogger<TxManager>.Instance, time);
await manager.StartAsync(runLoop: !storeOnly, CancellationToken.None);
Console.Out.Flush();
for (var i = 1; i <= count; i++)
{
    var request = new TxRequest($"crash/{i}", "transfer", to, []) { Value = i };
    var submission = storeOnly
        ? await manager.SubmitWithoutBroadcastAsync(request, CancellationToken.None)
        : await manager.SubmitAsync(request, CancellationToken.None);
    var record = await store.GetTxAsync(submission.Handle.Id, CancellationToken.None);
    Console.WriteLine($"{(storeOnly ? "STORED" : "SENT")} {i} {record!.Nonce} {record.TxHash}");
    Console.Out.Flush();
}

Console.WriteLine("HOLD");
Console.Out.Flush();
await Task.Delay(Timeout.Infinite);
return 0;
