using System.CommandLine;
using System.Net.Http.Headers;
using ZkPow.Aggregator.Hosting;

namespace ZkPow.Cli;

/// <summary>State-changing requests to an aggregator's operator API: the header <c>X-ZkPow-Operator: 1</c> and, with
/// <c>--token-file</c>, <c>Authorization: Bearer &lt;token&gt;</c> (the token whose SHA-256 is <c>Http:OperatorTokenHash</c>).</summary>
internal static class OperatorRequests
{
    public static Option<FileInfo?> TokenFile() => new("--token-file")
    {
        Description = "File holding the operator token (first line), needed when the aggregator sets Http:OperatorTokenHash",
    };

    /// <summary>The token in <paramref name="file"/> (its first non-empty line), or null without a file. Throws
    /// <see cref="IOException"/> with a clear message when the file cannot be read or is empty.</summary>
    public static string? ReadToken(FileInfo? file)
    {
        if (file is null)
        {
            return null;
        }

        string text;
        try
        {
            text = File.ReadAllText(file.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"--token-file {file.FullName}: {ex.Message}", ex);
        }

        return text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0)
            ?? throw new IOException($"--token-file {file.FullName} is empty");
    }

    /// <summary>A POST to <paramref name="path"/> with the operator headers.</summary>
    public static HttpRequestMessage Post(string path, string? token, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.Add(OperatorApiGuard.HeaderName, "1");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return request;
    }
}
