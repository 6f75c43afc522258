namespace ZkPow.Aggregator.Protocol;

/// <summary>What a prover session tells the code that hands out work.</summary>
public interface IProverSessionObserver
{
    /// <summary>The handshake succeeded; the session is ready for work.</summary>
    void OnConnected(ProverSession session);

    /// <summary>The session ended; any job running on it is lost to us.</summary>
    void OnDisconnected(ProverSession session, string reason);

    /// <summary>The prover port is open: from now on provers can dial in.</summary>
    void OnListening()
    {
    }
}
