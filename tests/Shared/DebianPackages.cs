namespace ZkPow.Tests;

/// <summary>
/// Debian packages a test needs (for example <c>prometheus</c> for <c>promtool</c>): the product's
/// <see cref="ZkPow.Devnet.Storage.DebianPackages"/> (installed with apt-get when missing and root, under a lock shared
/// across processes; without root the test fails naming the package).
/// </summary>
internal static class DebianPackages
{
    /// <summary>The full path of <paramref name="binary"/>, installing <paramref name="package"/> if it is missing.</summary>
    public static Task<string> RequireAsync(string package, string binary) => ZkPow.Devnet.Storage.DebianPackages.RequireAsync(package, binary);

    /// <summary>What <paramref name="find"/> returns, installing <paramref name="package"/> first if it returns null.</summary>
    public static Task<string> RequireAsync(string package, string binary, Func<string?> find) =>
        ZkPow.Devnet.Storage.DebianPackages.RequireAsync(package, binary, find);
}
