using System.CommandLine;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Cli.Commands;

/// <summary><c>zkpow token new</c> and <c>zkpow token hash</c>: bearer tokens for provers (the aggregator's
/// configuration holds only their SHA-256, in <c>Provers:Tokens</c>).</summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var command = new Command("token", "Make prover tokens and the hashes Provers:Tokens holds");
        command.Subcommands.Add(New());
        command.Subcommands.Add(Hash());
        return command;
    }

    private static Command New()
    {
        var name = new Option<string>("--name")
        {
            Description = "Name of the prover (or sidecar) the token is for; it becomes the prover's principal",
            DefaultValueFactory = _ => "prover-1",
        };
        var json = CliOptions.Json();
        var command = new Command("new", "Print a fresh random token and its SHA-256 (give the token to the prover, the hash to Provers:Tokens)")
        {
            name, json,
        };
        command.SetAction(parse =>
        {
            var who = parse.GetValue(name)!;
            if (!ValidName(who))
            {
                Console.Error.WriteLine($"zkpow token new: --name '{who}' must be 1 to {ProverServerOptions.MaxTokenNameLength} letters, digits, '.', '_' or '-'");
                return 2;
            }

            var token = ProverTokens.New();
            var hash = ProverTokens.Hash(token);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(new { name = who, token, sha256 = hash });
                return 0;
            }

            Console.Out.WriteLine($"token:  {token}");
            Console.Out.WriteLine($"sha256: {hash}");
            Console.Out.WriteLine($"config: \"Tokens\": [ {{ \"Name\": \"{who}\", \"Sha256\": \"{hash}\" }} ]   (in the Provers section)");
            Console.Error.WriteLine("The prover sends the token as gRPC metadata 'authorization: Bearer <token>'. The token is not stored anywhere: keep it.");
            return 0;
        });
        return command;
    }

    private static Command Hash()
    {
        var tokenArgument = new Argument<string?>("token")
        {
            Description = "The token to hash; without it, the first line of stdin is read (keeps the token out of shell history)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var json = CliOptions.Json();
        var command = new Command("hash", "Print the SHA-256 of an existing token, as Provers:Tokens holds it") { tokenArgument, json };
        command.SetAction(parse =>
        {
            var token = (parse.GetValue(tokenArgument) ?? Console.In.ReadLine())?.Trim();
            if (string.IsNullOrEmpty(token))
            {
                Console.Error.WriteLine("zkpow token hash: no token given (pass it as an argument or on stdin)");
                return 2;
            }

            var hash = ProverTokens.Hash(token);
            if (parse.GetValue(json))
            {
                JsonOutput.Write(new { sha256 = hash });
            }
            else
            {
                Console.Out.WriteLine(hash);
            }

            return 0;
        });
        return command;
    }

    private static bool ValidName(string name) =>
        name.Length is > 0 and <= ProverServerOptions.MaxTokenNameLength &&
        !name.AsSpan().ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");
}
