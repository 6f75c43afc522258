using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow status</c> and <c>zkpow tasks</c>: what a running aggregator is doing, through its HTTP endpoint.</summary>
internal static class StatusCommand
{
    internal static Option<Uri> Url() => new("--url")
    {
        Description = "The aggregator's HTTP endpoint",
        DefaultValueFactory = _ => new Uri("http://127.0.0.1:9091"),
        CustomParser = r =>
        {
            var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri))
            {
                return uri;
            }

            r.AddError($"--url: '{text}' is not an address such as http://127.0.0.1:9091");
            return null!;
        },
    };

    public static Command Status()
    {
        var url = Url();
        var json = CliOptions.Json();
        var command = new Command("status", "Show what a running aggregator is doing: provers, tasks by state, parked tasks, pending txs") { url, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var body = await GetAsync(parse.GetValue(url)!, "api/status", cancellationToken).ConfigureAwait(false);
            if (body is null)
            {
                return 1;
            }

            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(body.RootElement.GetRawText());
                return 0;
            }

            var root = body.RootElement;
            Console.Out.WriteLine($"miner {root.GetProperty("minerAddress").GetString()} on chain {root.GetProperty("baseChainId").GetUInt64()}, provers dial port {root.GetProperty("proverPort").GetInt32()}");
            var provers = root.GetProperty("provers");
            Console.Out.WriteLine($"provers: {provers.GetArrayLength()} connected");
            foreach (var p in provers.EnumerateArray())
            {
                Console.Out.WriteLine($"  {p.GetProperty("name").GetString(),-20} {(p.GetProperty("idle").GetBoolean() ? "idle" : "working"),-8} {p.GetProperty("instanceId").GetString()}");
            }

            Console.Out.WriteLine("tasks:");
            foreach (var kind in root.GetProperty("tasks").EnumerateObject())
            {
                Console.Out.WriteLine($"  {kind.Name,-10} {string.Join(", ", kind.Value.EnumerateObject().Select(s => $"{s.Name} {s.Value.GetInt32()}"))}");
            }

            if (root.TryGetProperty("drain", out var drain) && drain.ValueKind == JsonValueKind.Object && drain.GetProperty("state").GetString() is { } state &&
                state != "none")
            {
                Console.Out.WriteLine($"drain: {state}, {drain.GetProperty("openCommitments").GetInt32()} open commitments, {drain.GetProperty("pendingTxs").GetInt32()} txs in flight");
            }

            if (root.TryGetProperty("replicas", out var replicas) && replicas.ValueKind == JsonValueKind.Array)
            {
                var self = root.TryGetProperty("replicaId", out var rid) ? rid.GetString() : null;
                Console.Out.WriteLine($"replicas: {replicas.GetArrayLength()} (this one: {self}, {root.GetProperty("role").GetString()})");
                foreach (var r in replicas.EnumerateArray())
                {
                    var role = r.GetProperty("leader").GetBoolean() ? "leader" : r.GetProperty("role").GetString() == "leader" ? "standby (lease expired)" : r.GetProperty("role").GetString();
                    var token = r.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.Number ? $", token {t.GetInt64()}" : "";
                    var names = r.TryGetProperty("provers", out var pr) && pr.ValueKind == JsonValueKind.Array
                        ? string.Join(", ", pr.EnumerateArray().Select(x => x.GetString()))
                        : "";
                    Console.Out.WriteLine($"  {r.GetProperty("id").GetString(),-40} {role,-10} last seen {r.GetProperty("secondsSinceSeen").GetDouble():0.0} s ago{token}; " +
                                          $"provers: {(names.Length == 0 ? "none" : names)}");
                }
            }

            var parkedSequences = root.TryGetProperty("parkedSequences", out var ps) ? ps.GetInt32() : 0;
            Console.Out.WriteLine($"parked tasks: {root.GetProperty("parkedTasks").GetInt32()}; parked sequences: {parkedSequences}; final proofs: {root.GetProperty("finalProofs").GetInt32()}; pending txs: {root.GetProperty("pendingTxs").GetInt32()}");
            if (root.TryGetProperty("health", out var health))
            {
                Console.Out.WriteLine($"health: {health.GetString()}{(health.GetString() == "healthy" ? "" : " (see 'zkpow tasks list --parked')")}");
            }

            return 0;
        });
        return command;
    }

    public static Command Tasks()
    {
        var url = Url();
        var parked = new Option<bool>("--parked") { Description = "List the parked tasks and the sequences the sender parked (the only list there is)", DefaultValueFactory = _ => true };
        var json = CliOptions.Json();
        var list = new Command("list", "List parked tasks and sender-parked sequences with the reason and the prover") { url, parked, json };
        list.SetAction(async (parse, cancellationToken) =>
        {
            var body = await GetAsync(parse.GetValue(url)!, "api/tasks?state=parked", cancellationToken).ConfigureAwait(false);
            if (body is null)
            {
                return 1;
            }

            if (parse.GetValue(json))
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(new { tasks = body.RootElement }));
                return 0;
            }

            foreach (var t in body.RootElement.EnumerateArray())
            {
                var range = $"({t.GetProperty("fromBatch").GetUInt64()},{t.GetProperty("toBatch").GetUInt64()}]";
                var reason = Text(t, "reason") ?? Text(t, "lastError");
                var prover = Text(t, "prover") is { } p ? $" by {p}" : "";
                Console.Out.WriteLine(t.TryGetProperty("id", out var taskId) && taskId.ValueKind == JsonValueKind.Number
                    ? $"task #{taskId.GetInt64()} {t.GetProperty("kind").GetString()} {range} attempts {t.GetProperty("attempts").GetInt32()}{prover}: {reason}"
                    : $"sequence {t.GetProperty("sequence").GetUInt64()} {range} parked by the sender{prover}: {reason} (requeue with --sequence {t.GetProperty("sequence").GetUInt64()})");
            }

            return 0;
        });

        var id = new Argument<long?>("id") { Description = "Task id (from 'zkpow tasks list')", Arity = ArgumentArity.ZeroOrOne };
        var sequence = new Option<ulong?>("--sequence")
        {
            Description = "Requeue the sequence the sender parked with this final batch instead: proved again if its final proofs were rejected, else offered to the sender again",
        };
        var requeueUrl = Url();
        var tokenFile = OperatorRequests.TokenFile();
        var requeue = new Command("requeue", "Give a parked task back to the provers (its attempts reset), or a sender-parked sequence (--sequence) another go")
        {
            id, sequence, requeueUrl, tokenFile,
        };
        requeue.Validators.Add(r =>
        {
            if ((r.GetValue(id) is null) == (r.GetValue(sequence) is null))
            {
                r.AddError("give either a task id or --sequence FINAL_BATCH");
            }
        });
        requeue.SetAction(async (parse, cancellationToken) =>
        {
            string? token;
            try
            {
                token = OperatorRequests.ReadToken(parse.GetValue(tokenFile));
            }
            catch (IOException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow tasks requeue: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            using var http = new HttpClient { BaseAddress = parse.GetValue(requeueUrl), Timeout = TimeSpan.FromSeconds(10) };
            var path = parse.GetValue(sequence) is { } final ? $"api/sequences/{final}/requeue" : $"api/tasks/{parse.GetValue(id)}/requeue";
            try
            {
                using var request = OperatorRequests.Post(path, token);
                using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"zkpow tasks requeue: {(int)response.StatusCode} {text}").ConfigureAwait(false);
                    return 1;
                }

                Console.Out.WriteLine(text);
                return 0;
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
            {
                await Console.Error.WriteLineAsync($"zkpow tasks requeue: cannot reach {http.BaseAddress}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return new Command("tasks", "Operate on proof tasks of a running aggregator") { list, requeue };
    }

    private static string? Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static async Task<JsonDocument?> GetAsync(Uri baseUrl, string path, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            var document = await http.GetFromJsonAsync<JsonDocument>(path, cancellationToken).ConfigureAwait(false);
            return document;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            await Console.Error.WriteLineAsync($"zkpow: cannot read {new Uri(baseUrl, path)}: {ex.Message}").ConfigureAwait(false);
            return null;
        }
    }
}
