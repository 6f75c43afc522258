using System.Numerics;

namespace ZkPow.Devnet.Chain;

/// <summary>Native-currency amounts.</summary>
internal static class Wei
{
    public static readonly BigInteger PerEther = BigInteger.Pow(10, 18);

    public static BigInteger FromEther(long ether) => ether * PerEther;
}
