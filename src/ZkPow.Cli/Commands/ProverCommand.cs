using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using ZkPow.Devnet.Prover;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow prover</c>: a mock prover that dials an aggregator and speaks the real prover protocol.</summary>
internal static class ProverCommand
{
    public static Command Create()
    {
        var aggregator = new Option<Uri>("--aggregator")
        {
            Description = "Aggregator gRPC address",
            DefaultValueFactory = _ => new Uri("http://127.0.0.1:50081"),
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https")
                {
                    return uri;
                }

                r.AddError($"--aggregator: '{text}' is not an http(s) address such as http://127.0.0.1:50081");
                return null!;
            },
        };
        var name = new Option<string>("--name") { Description = "Stable prover name", DefaultValueFactory = _ => $"mock-{Environment.ProcessId}" };
        var instance = new Option<string?>("--instance-id") { Description = "Instance id (default: a new one per start)" };
        var forkId = new Option<ulong>("--fork-id") { Description = "Fork id the prover reports", DefaultValueFactory = _ => 6 };
        var latency = CliOptions.OptionalDuration("--latency", "Time every job takes (sets the three below)");
        var batch = CliOptions.Duration("--batch-latency", "Time a batch proof takes", TimeSpan.Zero);
        var aggregate = CliOptions.Duration("--aggregate-latency", "Time an aggregation takes", TimeSpan.Zero);
        var final = CliOptions.Duration("--final-latency", "Time a final proof takes", TimeSpan.Zero);
        var jitter = new Option<double>("--latency-jitter") { Description = "Coefficient of variation of each job's time (lognormal around the latency), e.g. 0.3", DefaultValueFactory = _ => 0 };
        var speed = new Option<double>("--speed") { Description = "Every job's time is divided by this", DefaultValueFactory = _ => 1 };
        var ignoreTimeout = new Option<bool>("--ignore-get-proof-timeout") { Description = "Answer GetProof at once even when it carries a timeout, as real provers do" };
        var failureRate = new Option<double>("--failure-rate") { Description = "Share of jobs that fail (0..1)", DefaultValueFactory = _ => 0 };
        var misbehaviour = new Option<MockProverMisbehaviour>("--misbehaviour") { Description = "How to misbehave", DefaultValueFactory = _ => MockProverMisbehaviour.None };
        var journal = new Option<string?>("--journal") { Description = "Append one JSON line per job request to this file" };
        var seed = new Option<int?>("--seed") { Description = "Seed of the failure draws" };
        var reconnect = CliOptions.Duration("--reconnect-delay", "Wait before reconnecting", TimeSpan.FromSeconds(1));
        var tokenFile = new Option<string?>("--token-file") { Description = "File holding a prover token (from 'zkpow token new'), sent as 'authorization: Bearer …'" };
        var clientCert = new Option<string?>("--client-cert") { Description = "PEM client certificate for mutual TLS (with --client-key; needs an https:// --aggregator)" };
        var clientKey = new Option<string?>("--client-key") { Description = "PEM private key of --client-cert" };
        var caCert = new Option<string?>("--ca-cert") { Description = "PEM certificate trusted for the aggregator's TLS certificate: its CA, or the certificate itself" };
        var command = new Command("prover", "Run a mock prover against an aggregator")
        {
            aggregator, name, instance, forkId, latency, batch, aggregate, final, jitter, speed, ignoreTimeout, failureRate, misbehaviour, journal, seed, reconnect,
            tokenFile, clientCert, clientKey, caCert,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var all = parse.GetValue(latency);
            var options = new MockProverOptions
            {
                Aggregator = parse.GetValue(aggregator)!,
                Name = parse.GetValue(name)!,
                InstanceId = parse.GetValue(instance),
                ForkId = parse.GetValue(forkId),
                BatchLatency = all ?? parse.GetValue(batch),
                AggregateLatency = all ?? parse.GetValue(aggregate),
                FinalLatency = all ?? parse.GetValue(final),
                LatencyJitter = parse.GetValue(jitter),
                Speed = parse.GetValue(speed),
                HonourGetProofTimeout = !parse.GetValue(ignoreTimeout),
                FailureRate = parse.GetValue(failureRate),
                Misbehaviour = parse.GetValue(misbehaviour),
                JournalPath = parse.GetValue(journal),
                Seed = parse.GetValue(seed),
                ReconnectDelay = parse.GetValue(reconnect),
            };
            X509Certificate2? client = null;
            X509Certificate2? authority = null;
            try
            {
                options.BearerToken = await ReadTokenAsync(parse.GetValue(tokenFile), cancellationToken).ConfigureAwait(false);
                (client, authority) = LoadCertificates(parse.GetValue(clientCert), parse.GetValue(clientKey), parse.GetValue(caCert));
                options.ClientCertificate = client;
                options.ServerCertificateAuthority = authority;
                options.Validate();
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException or CryptographicException)
            {
                client?.Dispose();
                authority?.Dispose();
                await Console.Error.WriteLineAsync($"zkpow prover: {ex.Message}").ConfigureAwait(false);
                return 2;
            }

            using var clientDisposal = client;
            using var authorityDisposal = authority;

            using var loggers = CliLogging.Create();
            await using var prover = new MockProver(options, TimeProvider.System, loggers.CreateLogger<MockProver>());
            loggers.CreateLogger("zkpow.prover").LogInformation("Mock prover {Name} ({Instance}) dialing {Aggregator}", options.Name, prover.InstanceId, options.Aggregator);
            try
            {
                await prover.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Ctrl+C / SIGTERM: the prover closed its stream.
            }

            // The prover runs until stopped: 130 / 143 after a signal.
            return CliApp.ExitCode(0);
        });
        return command;
    }

    /// <summary>The token in <paramref name="path"/> (surrounding white space trimmed), or null without a file.</summary>
    private static async Task<string?> ReadTokenAsync(string? path, CancellationToken cancellationToken)
    {
        if (path is null)
        {
            return null;
        }

        if (!File.Exists(path))
        {
            throw new ArgumentException($"--token-file: no file at '{path}'");
        }

        var token = (await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim();
        return token.Length == 0 ? throw new ArgumentException($"--token-file: '{path}' is empty") : token;
    }

    private static (X509Certificate2? Client, X509Certificate2? Authority) LoadCertificates(string? certPath, string? keyPath, string? caPath)
    {
        if ((certPath is null) != (keyPath is null))
        {
            throw new ArgumentException("--client-cert and --client-key go together");
        }

        foreach (var path in new[] { certPath, keyPath, caPath })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new ArgumentException($"no file at '{path}'");
            }
        }

        X509Certificate2? client = null;
        if (certPath is not null)
        {
            // Through PKCS#12, so that the TLS stack can use the key on every platform.
            using var pem = X509Certificate2.CreateFromPemFile(certPath, keyPath);
            client = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        try
        {
            var authority = caPath is null ? null : X509CertificateLoader.LoadCertificateFromFile(caPath);
            return (client, authority);
        }
        catch
        {
            client?.Dispose();
            throw;
        }
    }
}
