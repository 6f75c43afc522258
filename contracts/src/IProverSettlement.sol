// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Lazy settlement of a prover's overdue commitments, as the deposit contract sees it.
interface IProverSettlement {
    /// @notice Slashes every commitment of `prover` whose round is over and that was never revealed.
    function settle(address prover) external;
}
