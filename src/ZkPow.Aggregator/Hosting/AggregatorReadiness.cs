namespace ZkPow.Aggregator.Hosting;

/// <summary>
/// The aggregator's phase and, while starting, what it waits for: <c>/health/ready</c> answers 503 with this reason
/// until every part has started.
/// </summary>
internal sealed class AggregatorReadiness
{
    private readonly Lock _gate = new();
    private AggregatorPhase _phase = AggregatorPhase.Starting;
    private string _reason = "starting";

    public AggregatorPhase Phase
    {
        get
        {
            lock (_gate)
            {
                return _phase;
            }
        }
    }

    /// <summary>What start-up is doing or waiting for (or why the node is not running).</summary>
    public string Reason
    {
        get
        {
            lock (_gate)
            {
                return _reason;
            }
        }
    }

    public bool IsRunning => Phase == AggregatorPhase.Running;

    /// <summary>Start-up is at this step (or waits for it).</summary>
    public void Starting(string reason)
    {
        lock (_gate)
        {
            if (_phase == AggregatorPhase.Starting)
            {
                _reason = reason;
            }
        }
    }

    public void Running()
    {
        lock (_gate)
        {
            if (_phase == AggregatorPhase.Starting)
            {
                _phase = AggregatorPhase.Running;
                _reason = "running";
            }
        }
    }

    public void Stopping()
    {
        lock (_gate)
        {
            _phase = AggregatorPhase.Stopping;
            _reason = "stopping";
        }
    }
}
