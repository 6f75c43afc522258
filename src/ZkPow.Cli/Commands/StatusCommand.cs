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

            Console.Out.WriteLine($"parked tasks: {root.GetProperty("parkedTasks").GetInt32()}; final proofs: {root.GetProperty("finalProofs").GetInt32()}; pending txs: {root.GetProperty("pendingTxs").GetInt32()}");
            return 0;
        });
        return command;
    }

    public static Command Tasks()
    {
        var url = Url();
        var parked = new Option<bool>("--parked") { Description = "List the parked tasks (the only list there is)", DefaultValueFactory = _ => true };
        var json = CliOptions.Json();
        var list = new Command("list", "List parked tasks with their last error") { url, parked, json };
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
                Console.Out.WriteLine($"#{t.GetProperty("id").GetInt64()} {t.GetProperty("kind").GetString()} ({t.GetProperty("fromBatch").GetUInt64()},{t.GetProperty("toBatch").GetUInt64()}] attempts {t.GetProperty("attempts").GetInt32()}: {t.GetProperty("lastError").GetString()}");
            }

            return 0;
        });

        var id = new Argument<long>("id") { Description = "Task id (from 'zkpow tasks list')" };
        var requeueUrl = Url();
        var requeue = new Command("requeue", "Give a parked task back to the provers, its attempts reset") { id, requeueUrl };
        requeue.SetAction(async (parse, cancellationToken) =>
        {
            using var http = new HttpClient { BaseAddress = parse.GetValue(requeueUrl), Timeout = TimeSpan.FromSeconds(10) };
            try
            {
                using var response = await http.PostAsync($"api/tasks/{parse.GetValue(id)}/requeue", null, cancellationToken).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"zkpow tasks requeue: {text}").ConfigureAwait(false);
                    return 1;
                }

                Console.Out.WriteLine(text);
                return 0;
            }
            catch (HttpRequestException ex)
            {
                await Console.Error.WriteLineAsync($"zkpow tasks requeue: cannot reach {http.BaseAddress}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return new Command("tasks", "Operate on proof tasks of a running aggregator") { list, requeue };
    }

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
