// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IMinerDeposit} from "./IMinerDeposit.sol";
import {IProverSettlement} from "./IProverSettlement.sol";

/// @title MinerDeposit: the stake that miners lock to be allowed to commit proof hashes.
/// @notice Miners stake native currency with `deposit()` and take it back with `withdraw(amount)`. The rollup
///         contract (fixed at construction) may slash a stake; slashed funds are sent to the rollup contract, whose
///         native balance is the reward pool, so they are paid out again as rewards to honest provers.
///         Before a withdrawal, the rollup contract settles the miner's overdue commitments, so an unrevealed
///         commitment cannot escape its slash by withdrawing the stake first.
contract MinerDeposit is IMinerDeposit {
    /// @notice The rollup contract: the only account that may slash, and the one that settles before withdrawals.
    address public immutable rollup;

    mapping(address => uint256) private _deposits;
    bool private _locked;

    event Deposited(address indexed miner, uint256 amount, uint256 total);
    event Withdrawn(address indexed miner, uint256 amount, uint256 total);
    event StakeSlashed(address indexed miner, uint256 amount, uint256 total);

    error OnlyRollup();
    error ZeroAmount();
    error InsufficientDeposit(uint256 requested, uint256 available);
    error TransferFailed();
    error Reentrancy();

    /// @param rollup_ The rollup contract (it may be deployed after this contract: pass its precomputed address).
    constructor(address rollup_) {
        rollup = rollup_;
    }

    /// @notice Adds `msg.value` to the caller's stake.
    function deposit() external payable {
        if (msg.value == 0) revert ZeroAmount();
        uint256 total = _deposits[msg.sender] + msg.value;
        _deposits[msg.sender] = total;
        emit Deposited(msg.sender, msg.value, total);
    }

    /// @notice Sends `amount` of the caller's stake back to it, after applying the caller's pending slashes.
    function withdraw(uint256 amount) external {
        if (_locked) revert Reentrancy();
        _locked = true;
        if (amount == 0) revert ZeroAmount();
        IProverSettlement(rollup).settle(msg.sender);
        uint256 available = _deposits[msg.sender];
        if (amount > available) revert InsufficientDeposit(amount, available);
        uint256 total = available - amount;
        _deposits[msg.sender] = total;
        emit Withdrawn(msg.sender, amount, total);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
        _locked = false;
    }

    /// @inheritdoc IMinerDeposit
    function depositOf(address miner) external view returns (uint256) {
        return _deposits[miner];
    }

    /// @inheritdoc IMinerDeposit
    function slash(address miner, uint256 amount) external returns (uint256 taken) {
        if (msg.sender != rollup) revert OnlyRollup();
        uint256 available = _deposits[miner];
        taken = amount < available ? amount : available;
        if (taken == 0) return 0;
        uint256 total = available - taken;
        _deposits[miner] = total;
        emit StakeSlashed(miner, taken, total);
        (bool ok, ) = payable(rollup).call{value: taken}("");
        if (!ok) revert TransferFailed();
    }
}
