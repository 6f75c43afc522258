// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title The miners' stake, as the rollup contract sees it.
interface IMinerDeposit {
    /// @notice The stake currently held for `miner`.
    function depositOf(address miner) external view returns (uint256);

    /// @notice Takes up to `amount` of `miner`'s stake (all of it if it holds less) and sends it to the rollup
    ///         contract's reward pool. Only the rollup contract may call this.
    /// @return taken The amount actually taken.
    function slash(address miner, uint256 amount) external returns (uint256 taken);
}
