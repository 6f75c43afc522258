namespace ZkPow.Aggregator.Chain;

/// <summary>Files that hold secrets (keystores, password files): written readable by their owner only (mode 0600), and
/// checked for group or other read access when loaded.</summary>
public static class SecretFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Exposing = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;

    /// <summary>Writes <paramref name="text"/> to <paramref name="path"/> with mode 0600 (also when the file existed).</summary>
    public static void Write(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
            if (File.Exists(path))
            {
                // The create mode applies to new files only: tighten an existing one before writing the secret into it.
                File.SetUnixFileMode(path, OwnerOnly);
            }
        }

        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(text);
    }

    /// <summary>Whether group or others may read or write <paramref name="path"/> (never on Windows, where modes do not apply).</summary>
    public static bool IsExposed(string path) =>
        !OperatingSystem.IsWindows() && File.Exists(path) && (File.GetUnixFileMode(path) & Exposing) != 0;
}
