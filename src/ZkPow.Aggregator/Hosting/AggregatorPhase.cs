namespace ZkPow.Aggregator.Hosting;

/// <summary>Where an aggregator is in its life: the operator endpoint answers from it.</summary>
public enum AggregatorPhase
{
    /// <summary>Start-up: checking the network and starting the parts (the reason says what it waits for).</summary>
    Starting,

    /// <summary>Every part started.</summary>
    Running,

    /// <summary>Shutting down.</summary>
    Stopping,
}
