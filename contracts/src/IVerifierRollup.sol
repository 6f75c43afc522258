// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The rollup's proof verifier.
interface IVerifierRollup {
    /// @notice Returns true iff `proof` proves the state transition whose SNARK input is `pubSignals[0]`.
    function verifyProof(bytes calldata proof, uint256[1] calldata pubSignals) external view returns (bool);
}
