using ZkPow.Aggregator.Generator;

namespace ZkPow.Aggregator.Tests.Generator;

public sealed class ProofCacheTests
{
    private static string Proof(int chars, char fill = 'p') => new(fill, chars);

    [Fact]
    public void the_cache_stays_within_its_bytes_by_evicting_the_oldest_proofs()
    {
        // 100-character proofs count 200 bytes: a 1000-byte cache holds five.
        var cache = new ProofCache(1000);
        for (var id = 1; id <= 8; id++)
        {
            cache.Add(id, 10, Proof(100));
            Assert.InRange(cache.Bytes, 0, 1000);
        }

        Assert.Equal(5, cache.Count);
        Assert.Equal(1000, cache.Bytes);
        Assert.Equal(3, cache.Evictions);
        Assert.False(cache.TryGetValue(1, out _));
        Assert.False(cache.TryGetValue(3, out _));
        Assert.True(cache.TryGetValue(4, out var kept));
        Assert.Equal(100, kept.Length);

        // A proof larger than the whole bound is not kept, and evicts nothing.
        cache.Add(99, 10, Proof(600));
        Assert.False(cache.TryGetValue(99, out _));
        Assert.Equal(5, cache.Count);
    }

    [Fact]
    public void replacing_and_removing_proofs_keeps_the_byte_count_exact()
    {
        var cache = new ProofCache(10_000);
        cache.Add(1, 10, Proof(100));
        cache.Add(1, 10, Proof(300, 'q'));
        Assert.Equal(600, cache.Bytes);
        Assert.True(cache.TryGetValue(1, out var proof));
        Assert.Equal('q', proof[0]);
        Assert.True(cache.Remove(1));
        Assert.False(cache.Remove(1));
        Assert.Equal((0L, 0), (cache.Bytes, cache.Count));
    }

    [Fact]
    public void dropping_a_sequence_removes_only_its_proofs()
    {
        var cache = new ProofCache(1_000_000);
        cache.Add(1, 10, Proof(10));
        cache.Add(2, 20, Proof(20));
        cache.Add(3, 10, Proof(30));
        cache.Add(4, 30, Proof(40));
        Assert.Equal(2, cache.RemoveSequence(10));
        Assert.Equal(0, cache.RemoveSequence(10));
        Assert.False(cache.TryGetValue(1, out _));
        Assert.False(cache.TryGetValue(3, out _));
        Assert.True(cache.TryGetValue(2, out _));
        Assert.True(cache.TryGetValue(4, out _));
        Assert.Equal(2 * (20 + 40), cache.Bytes);
    }

    [Fact]
    public void a_zero_bound_caches_nothing()
    {
        var cache = new ProofCache(0);
        cache.Add(1, 10, Proof(1));
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGetValue(1, out _));
    }

    [Fact]
    public void the_generator_refuses_a_negative_cache_bound()
    {
        Assert.Equal("Generator:ProofCacheBytes", Assert.Throws<OptionsException>(new GeneratorOptions { ProofCacheBytes = -1 }.Validate).Key);
    }
}
