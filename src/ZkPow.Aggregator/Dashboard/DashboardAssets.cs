using System.Collections.Frozen;

namespace ZkPow.Aggregator.Dashboard;

/// <summary>The dashboard's static files (<c>Dashboard/wwwroot</c>), embedded in the assembly: nothing is fetched from
/// elsewhere, so the page works in closed networks.</summary>
internal static class DashboardAssets
{
    private const string Prefix = "dashboard/";

    private static readonly FrozenDictionary<string, (byte[] Body, string ContentType)> s_files = Load();

    /// <summary>The file names served (<c>index.html</c>, …).</summary>
    public static IEnumerable<string> Names => s_files.Keys;

    public static bool TryGet(string name, out byte[] body, out string contentType)
    {
        if (s_files.TryGetValue(name, out var file))
        {
            (body, contentType) = file;
            return true;
        }

        (body, contentType) = ([], "");
        return false;
    }

    private static FrozenDictionary<string, (byte[] Body, string ContentType)> Load()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var name = resource[Prefix.Length..];
            files[name] = (copy.ToArray(), ContentType(name));
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
