namespace ZkPow.Devnet.Tests.Proof;

public sealed class VectorsCopyTests
{
    [Fact]
    public void the_repository_copy_of_the_vectors_equals_the_shared_original_where_it_is_present()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(root.FullName, "ZkPow.slnx")))
        {
            root = root.Parent ?? throw new InvalidOperationException("no ZkPow.slnx above the tests");
        }

        var copy = File.ReadAllText(DevnetVectors.RepositoryCopy(root.FullName));
        Assert.Contains("\"snarkInput\"", copy);
        if (DevnetVectors.SharedOriginal(root.FullName) is { } original)
        {
            Assert.Equal(File.ReadAllText(original), copy);
        }
    }
}
