namespace ZkPow.Aggregator.Hosting;

/// <summary>Counts the open prover sessions of each principal against <c>Provers:MaxSessionsPerPrincipal</c>.</summary>
public sealed class PrincipalSessions(int maxPerPrincipal)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _open = new(StringComparer.Ordinal);

    public int MaxPerPrincipal { get; } = maxPerPrincipal;

    /// <summary>Counts one more session for the principal, unless it already holds the most allowed.</summary>
    public bool TryEnter(string principal)
    {
        lock (_gate)
        {
            var open = _open.GetValueOrDefault(principal);
            if (open >= MaxPerPrincipal)
            {
                return false;
            }

            _open[principal] = open + 1;
            return true;
        }
    }

    public void Leave(string principal)
    {
        lock (_gate)
        {
            if (_open.TryGetValue(principal, out var open))
            {
                if (open <= 1)
                {
                    _open.Remove(principal);
                }
                else
                {
                    _open[principal] = open - 1;
                }
            }
        }
    }
}
