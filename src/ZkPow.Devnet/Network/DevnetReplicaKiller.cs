using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace ZkPow.Devnet.Network;

/// <summary>
/// <c>--kill-replicas MIN-MAX</c>: every random MIN..MAX one replica of a random miner is killed by PID (SIGKILL) and
/// started again with the same configuration about a second later; the next MIN..MAX counts from the moment it answers
/// its status again. At least every other kill takes the miner's current
/// leader (the replica whose <c>/api/status</c> says <c>role: leader</c>); when no leader answers, a random replica is
/// killed and the next kill tries the leader again.
/// </summary>
internal sealed partial class DevnetReplicaKiller(DevnetOptions options, IReadOnlyList<DevnetMiner> miners, TimeProvider time, ILogger logger) : IDisposable
{
    private static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(1);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(3) };
    private readonly Random _random = new(options.Seed);
    private int _kills;
    private int _leaderKills;
    private int _restarts;

    public int Kills => Volatile.Read(ref _kills);
    public int LeaderKills => Volatile.Read(ref _leaderKills);
    public int Restarts => Volatile.Read(ref _restarts);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var (min, max) = (options.KillReplicasMin!.Value, options.KillReplicasMax!.Value);
        var leaderDue = true;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = min + (max - min) * _random.NextDouble();
                await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                var miner = miners[_random.Next(miners.Count)];
                var running = miner.Replicas.Where(r => r.Pid is not null).ToList();
                if (running.Count == 0)
                {
                    continue;
                }

                DevnetReplica? leader = null;
                foreach (var replica in running)
                {
                    if (await ReadRoleAsync(replica, cancellationToken).ConfigureAwait(false) == "leader")
                    {
                        leader = replica;
                        break;
                    }
                }

                var victim = leaderDue && leader is not null ? leader : running[_random.Next(running.Count)];
                var wasLeader = ReferenceEquals(victim, leader);
                if (victim.Kill() is not { } pid)
                {
                    continue;
                }

                Interlocked.Increment(ref _kills);
                if (wasLeader)
                {
                    Interlocked.Increment(ref _leaderKills);
                }

                leaderDue = !wasLeader;
                LogKilled(miner.Index, victim.Id, pid, wasLeader ? "leader" : leader is null ? "role unknown" : "standby", Kills);
                await Task.Delay(RestartDelay, time, cancellationToken).ConfigureAwait(false);
                try
                {
                    victim.Start();
                    Interlocked.Increment(ref _restarts);
                }
                catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
                {
                    LogRestartFailed(miner.Index, victim.Id, ex.Message);
                    continue;
                }

                await WaitUntilAnsweringAsync(miner, victim, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The next interval counts from the moment the restarted replica answers its <c>/api/status</c> again (at
    /// most <see cref="StartBound"/>): kills that come faster than a replica starts on a loaded machine would leave no
    /// leader long enough to reveal anything, which measures the machine, not failover.</summary>
    private async Task WaitUntilAnsweringAsync(DevnetMiner miner, DevnetReplica replica, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (await ReadRoleAsync(replica, cancellationToken).ConfigureAwait(false) is null)
        {
            if (time.GetElapsedTime(started) > StartBound || replica.Pid is null)
            {
                LogNotAnswering(miner.Index, replica.Id, StartBound.TotalSeconds);
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(60);

    /// <summary>The replica's <c>role</c> from its <c>/api/status</c>, or null when it does not answer.</summary>
    private async Task<string?> ReadRoleAsync(DevnetReplica replica, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri(replica.StatusAddress, "api/status"), cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return json.RootElement.TryGetProperty("role", out var role) ? role.GetString() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Killed miner {Miner} replica {Id} (PID {Pid}, {Role}) with SIGKILL (kill {Kills}); restarting it in a second")]
    private partial void LogKilled(int miner, string id, int pid, string role, int kills);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Miner {Miner} replica {Id} did not answer its status within {Seconds} s of its restart; killing goes on")]
    private partial void LogNotAnswering(int miner, string id, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Miner {Miner} replica {Id} could not be restarted: {Error}")]
    private partial void LogRestartFailed(int miner, string id, string error);
}
