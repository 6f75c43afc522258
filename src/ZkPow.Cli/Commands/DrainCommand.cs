using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace ZkPow.Cli.Commands;

/// <summary>
/// <c>zkpow drain --url URL [--token-file FILE]</c>: a planned stop. Asks the aggregator to stop committing new hashes
/// (<c>POST /api/drain</c>, with the operator header and the token), then follows its progress until every open
/// commitment is revealed and mined and the aggregator stops: exit 0 once it has drained, 1 if it stopped before (or
/// cannot be reached), 2 for a bad token file, 130 / 143 if this command is stopped (the drain goes on).
/// </summary>
internal static class DrainCommand
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var url = StatusCommand.Url();
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding the operator token (sent as Authorization: Bearer)" };
        var json = CliOptions.Json();
        var command = new Command("drain", "Planned stop: commit no new hashes, reveal every open commitment, wait for the reveals to be mined, then stop the aggregator")
        {
            url, tokenFile, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var baseUrl = parse.GetValue(url)!;
            var asJson = parse.GetValue(json);
            string? token = null;
            if (parse.GetValue(tokenFile) is { } path)
            {
                try
                {
                    token = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    await Console.Error.WriteLineAsync($"zkpow drain: cannot read the token file {path}: {ex.Message}").ConfigureAwait(false);
                    return 2;
                }

                if (token.Length == 0)
                {
                    await Console.Error.WriteLineAsync($"zkpow drain: the token file {path} is empty").ConfigureAwait(false);
                    return 2;
                }
            }

            using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(40) };
            http.DefaultRequestHeaders.Add("X-ZkPow-Operator", "1");
            if (token is not null)
            {
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }

            JsonElement last;
            try
            {
                using var response = await http.PostAsync("api/drain", null, cancellationToken).ConfigureAwait(false);
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    await Console.Error.WriteLineAsync($"zkpow drain: the aggregator refused the drain ({(int)response.StatusCode}): {text}").ConfigureAwait(false);
                    return 1;
                }

                last = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException && !cancellationToken.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync($"zkpow drain: cannot reach {baseUrl}: {ex.Message}").ConfigureAwait(false);
                return 1;
            }

            var progress = asJson ? Console.Error : Console.Out;
            var shown = "";
            while (true)
            {
                var line = Describe(last);
                if (line != shown)
                {
                    shown = line;
                    await progress.WriteLineAsync($"drain: {line}").ConfigureAwait(false);
                }

                if (State(last) == "drained")
                {
                    if (asJson)
                    {
                        Console.Out.WriteLine(JsonSerializer.Serialize(new { drained = true, drain = last }, s_json));
                    }

                    return 0;
                }

                try
                {
                    using var response = await http.GetAsync("api/drain?wait=10s", cancellationToken).ConfigureAwait(false);
                    var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        throw new HttpRequestException($"{(int)response.StatusCode}: {text}");
                    }

                    last = JsonDocument.Parse(text).RootElement.Clone();
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    await Console.Error.WriteLineAsync("zkpow drain: stopped following; the aggregator goes on draining ('zkpow status' shows it)").ConfigureAwait(false);
                    return CliApp.ExitCode(1);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
                {
                    await Console.Error.WriteLineAsync($"zkpow drain: the aggregator stopped answering before it had drained (last seen: {shown}): {ex.Message}")
                        .ConfigureAwait(false);
                    if (asJson)
                    {
                        Console.Out.WriteLine(JsonSerializer.Serialize(new { drained = false, drain = last }, s_json));
                    }

                    return 1;
                }
            }
        });
        return command;
    }

    private static string State(JsonElement drain) => drain.TryGetProperty("state", out var s) ? s.GetString() ?? "" : "";

    private static string Describe(JsonElement drain) => State(drain) switch
    {
        "drained" => "drained: every commitment revealed and mined; the aggregator stops",
        var state => $"{state}, {drain.GetProperty("openCommitments").GetInt32()} open commitments, {drain.GetProperty("pendingTxs").GetInt32()} txs in flight",
    };
}
