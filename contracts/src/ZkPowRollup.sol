// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVerifierRollup} from "./IVerifierRollup.sol";
import {IMinerDeposit} from "./IMinerDeposit.sol";
import {IProverSettlement} from "./IProverSettlement.sol";

/// @title ZkPowRollup: a ZK-PoW rollup contract with commit-then-reveal proof submission.
/// @notice The admin (also the trusted sequencer) sequences batches. Staked miners compete to prove each sequence:
///         first a proof hash bound to their address (`submitProofHash`, within T1 blocks of the round start), then
///         the proof itself (`verifyBatches`, from start + T1 to start + T1 + T2, with no end once a proof landed).
///
///         Reward pool: this contract's native balance (funded by plain transfers from anyone, normally the
///         deployer). Every valid reveal is paid `rewardPerSequence * stakeAtCommit / roundStakeTotal`, capped by the
///         pool's balance; an empty pool pays 0 and never reverts.
///
///         Slashing: a wrong reveal is slashed `incorrectProofHashPunishAmount` at once (reason 1) and the call returns
///         without reverting. A commitment whose round is over and that was never revealed is slashed
///         `noProofPunishAmount` (reason 2) lazily, at the committer's own next `submitProofHash`, `verifyBatches` or
///         stake withdrawal, or by `settle(prover)`. Slashed stake is sent by the deposit contract to this contract,
///         i.e. into the reward pool.
///
///         A commitment can be revealed once: after a valid reveal, a wrong reveal or a slash for not revealing it is
///         closed, and revealing it again reverts `CommittedProof()`.
contract ZkPowRollup is IProverSettlement {
    struct BatchData {
        bytes transactions;
        bytes32 globalExitRoot;
        uint64 timestamp;
        uint64 minForcedTimestamp;
    }

    struct SequencedBatchData {
        bytes32 accInputHash;
        uint64 sequencedTimestamp;
        uint64 previousLastBatchSequenced;
        uint256 blockNumber;
        bool proofSubmitted;
    }

    struct Commitment {
        bytes32 proofHash;
        uint64 roundStart;
        uint32 openSlot; // 1 + index in the prover's open list; 0 when not open
        bool proved;
        bool closed;
        uint256 stake;
    }

    /// @notice The BN254 scalar field: SNARK inputs are reduced modulo it.
    uint256 internal constant RFIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The Goldilocks prime 2^64 - 2^32 + 1: every 64-bit limb of a state root must be below it.
    uint256 internal constant GOLDILOCKS_PRIME = 0xFFFFFFFF00000001;

    uint8 internal constant SLASH_WRONG_REVEAL = 1;
    uint8 internal constant SLASH_UNREVEALED = 2;

    /// @notice Deploys, administers and sequences.
    address public immutable admin;
    /// @notice The proof verifier.
    IVerifierRollup public immutable rollupVerifier;
    /// @notice The stake contract.
    IMinerDeposit public immutable minerDeposit;
    /// @notice The rollup's chain id (not the base chain's).
    uint64 public immutable chainID;
    /// @notice The rollup's fork id.
    uint64 public immutable forkID;
    /// @notice The stake a miner must hold to commit a proof hash.
    uint256 public immutable minDeposit;
    /// @notice Slash for a commitment left unrevealed past its round.
    uint256 public immutable noProofPunishAmount;
    /// @notice Slash for a wrong reveal.
    uint256 public immutable incorrectProofHashPunishAmount;

    /// @notice T1: the hash window, in blocks from the round start.
    uint8 public proofHashCommitEpoch;
    /// @notice T2: the proof window's length, in blocks after start + T1.
    uint8 public proofCommitEpoch;
    /// @notice The reward shared by the valid revealers of one sequence.
    uint256 public rewardPerSequence;

    uint64 public lastBatchSequenced;
    uint64 public lastVerifiedBatch;
    mapping(uint64 => bytes32) public batchNumToStateRoot;
    mapping(uint64 => SequencedBatchData) public sequencedBatches;
    /// @notice The sum of the committers' stakes (as of their commit) in the sequence's current round.
    mapping(uint64 => uint256) public roundStakeTotal;

    uint256 private _lastSequenceBlock;
    mapping(uint64 => mapping(address => Commitment)) private _commitments;
    mapping(address => uint64[]) private _openCommitments;

    event SequenceBatches(uint64 indexed numBatch);
    event SubmitProofHash(address prover, uint64 initNumBatch, uint64 finalNewBatch, bytes32 proofHash);
    event VerifyBatchesTrustedAggregator(uint64 indexed numBatch, bytes32 stateRoot, address indexed aggregator);
    event RewardPaid(address indexed prover, uint64 indexed finalNewBatch, uint256 amount);
    event Slashed(address indexed prover, uint64 indexed finalNewBatch, uint256 amount, uint8 reason);
    event SetProofHashCommitEpoch(uint8 newProofHashCommitEpoch);
    event SetProofCommitEpoch(uint8 newProofCommitEpoch);
    event SetRewardPerSequence(uint256 newRewardPerSequence);

    error CommittedProofHash();
    error CommittedProof();
    error CommittedTimeout();
    error InsufficientPledge();
    error CommittedBatches();
    error SubmitProofEarly();
    error SubmitProofTooLate();
    error ErrCommitProof();
    error ErrSequencerRange(uint64 initNumBatch, uint64 finalNewBatch);
    error InitNumBatchAboveLastVerifiedBatch();
    error OldStateRootDoesNotExist();
    error NewStateRootNotInsidePrime();
    error OnlyAdmin();
    error OnlyProverOrAdmin();
    error SequenceZeroBatches();
    error OldAccInputHashDoesNotExist();
    error NewAccInputHashDoesNotExist();
    error RewardTransferFailed();

    modifier onlyAdmin() {
        if (msg.sender != admin) revert OnlyAdmin();
        _;
    }

    /// @param verifier The proof verifier.
    /// @param deposit The stake contract (it must name this contract as its rollup).
    /// @param rollupChainID The rollup's chain id.
    /// @param rollupForkID The rollup's fork id.
    /// @param genesisStateRoot The state root of batch 0.
    /// @param hashEpoch T1, in blocks.
    /// @param proofEpoch T2, in blocks.
    /// @param minStake The minimum stake to commit a hash.
    /// @param noProofPunish The slash for an unrevealed commitment.
    /// @param incorrectProofPunish The slash for a wrong reveal.
    /// @param reward The reward per sequence.
    constructor(
        IVerifierRollup verifier,
        IMinerDeposit deposit,
        uint64 rollupChainID,
        uint64 rollupForkID,
        bytes32 genesisStateRoot,
        uint8 hashEpoch,
        uint8 proofEpoch,
        uint256 minStake,
        uint256 noProofPunish,
        uint256 incorrectProofPunish,
        uint256 reward
    ) {
        admin = msg.sender;
        rollupVerifier = verifier;
        minerDeposit = deposit;
        chainID = rollupChainID;
        forkID = rollupForkID;
        batchNumToStateRoot[0] = genesisStateRoot;
        proofHashCommitEpoch = hashEpoch;
        proofCommitEpoch = proofEpoch;
        minDeposit = minStake;
        noProofPunishAmount = noProofPunish;
        incorrectProofHashPunishAmount = incorrectProofPunish;
        rewardPerSequence = reward;
    }

    /// @notice Funds the reward pool.
    receive() external payable {}

    // ------------------------------------------------------------------ sequencing

    /// @notice Sequences `batches` (at least one) as one sequence; at most one call per block.
    function sequenceBatches(BatchData[] calldata batches, address l2Coinbase) external onlyAdmin {
        uint256 count = batches.length;
        if (count == 0) revert SequenceZeroBatches();
        if (_lastSequenceBlock == block.number) revert CommittedBatches();
        _lastSequenceBlock = block.number;

        uint64 previous = lastBatchSequenced;
        bytes32 acc = sequencedBatches[previous].accInputHash;
        for (uint256 i = 0; i < count; i++) {
            BatchData calldata batch = batches[i];
            acc = keccak256(
                abi.encodePacked(acc, keccak256(batch.transactions), batch.globalExitRoot, batch.timestamp, l2Coinbase)
            );
        }
        uint64 newLast = previous + uint64(count);
        sequencedBatches[newLast] = SequencedBatchData({
            accInputHash: acc,
            sequencedTimestamp: uint64(block.timestamp),
            previousLastBatchSequenced: previous,
            blockNumber: 0,
            proofSubmitted: false
        });
        lastBatchSequenced = newLast;
        emit SequenceBatches(newLast);
    }

    // ------------------------------------------------------------------ step 1: the proof hash

    /// @notice Commits `proofHash = keccak256(abi.encodePacked(keccak256(proof), msg.sender))` for the sequence
    ///         `(initNumBatch, finalNewBatch]`. The first hash of a round opens it.
    function submitProofHash(uint64 initNumBatch, uint64 finalNewBatch, bytes32 proofHash) external {
        _settle(msg.sender, 0);

        Commitment storage commitment = _commitments[finalNewBatch][msg.sender];
        if (lastVerifiedBatch >= finalNewBatch || commitment.proved) revert CommittedProof();
        uint256 roundLength = uint256(proofHashCommitEpoch) + proofCommitEpoch;
        if (commitment.roundStart != 0 && block.number - commitment.roundStart <= roundLength) {
            revert CommittedProofHash();
        }
        uint256 stake = minerDeposit.depositOf(msg.sender);
        if (stake < minDeposit) revert InsufficientPledge();
        SequencedBatchData storage sequence = sequencedBatches[finalNewBatch];
        if (sequence.accInputHash == bytes32(0) || sequence.previousLastBatchSequenced != initNumBatch) {
            revert ErrSequencerRange(initNumBatch, finalNewBatch);
        }

        uint256 start = sequence.blockNumber;
        if (start != 0 && !sequence.proofSubmitted && block.number - start > roundLength) {
            // The round expired without a proof: reset it.
            start = 0;
            sequence.blockNumber = 0;
            roundStakeTotal[finalNewBatch] = 0;
        }
        if (start != 0 && block.number - start > proofHashCommitEpoch) revert CommittedTimeout();
        if (start == 0) {
            start = block.number;
            sequence.blockNumber = start;
        }

        commitment.proofHash = proofHash;
        commitment.roundStart = uint64(start);
        commitment.proved = false;
        commitment.closed = false;
        commitment.stake = stake;
        roundStakeTotal[finalNewBatch] += stake;
        uint64[] storage open = _openCommitments[msg.sender];
        open.push(finalNewBatch);
        commitment.openSlot = uint32(open.length);

        emit SubmitProofHash(msg.sender, initNumBatch, finalNewBatch, proofHash);
    }

    // ------------------------------------------------------------------ step 2: the proof

    /// @notice Reveals the proof committed for the sequence `(initNumBatch, finalNewBatch]`. A reveal that does not
    ///         match the committed hash, or that the verifier rejects, is slashed and returns without reverting.
    function verifyBatches(
        uint64 initNumBatch,
        uint64 finalNewBatch,
        bytes32 newLocalExitRoot,
        bytes32 newStateRoot,
        bytes calldata proof
    ) external {
        _settle(msg.sender, finalNewBatch);

        Commitment storage commitment = _commitments[finalNewBatch][msg.sender];
        if (commitment.roundStart == 0) revert CommittedProofHash();
        if (commitment.proved || commitment.closed) revert CommittedProof();
        SequencedBatchData storage sequence = sequencedBatches[finalNewBatch];
        uint256 start = sequence.blockNumber;
        if (commitment.roundStart != start) revert ErrCommitProof();

        if (block.number < start + proofHashCommitEpoch) revert SubmitProofEarly();
        if (!sequence.proofSubmitted && block.number > start + proofHashCommitEpoch + proofCommitEpoch) {
            revert SubmitProofTooLate();
        }

        if (sequence.previousLastBatchSequenced != initNumBatch) revert ErrSequencerRange(initNumBatch, finalNewBatch);
        if (initNumBatch > lastVerifiedBatch) revert InitNumBatchAboveLastVerifiedBatch();
        bytes32 oldStateRoot = batchNumToStateRoot[initNumBatch];
        if (oldStateRoot == bytes32(0)) revert OldStateRootDoesNotExist();
        if (!_insideGoldilocks(newStateRoot)) revert NewStateRootNotInsidePrime();

        commitment.closed = true;
        _removeOpen(msg.sender, commitment);

        bool valid = keccak256(abi.encodePacked(keccak256(proof), msg.sender)) == commitment.proofHash &&
            _verify(initNumBatch, finalNewBatch, newLocalExitRoot, oldStateRoot, newStateRoot, proof);
        if (!valid) {
            uint256 taken = minerDeposit.slash(msg.sender, incorrectProofHashPunishAmount);
            emit Slashed(msg.sender, finalNewBatch, taken, SLASH_WRONG_REVEAL);
            return;
        }

        commitment.proved = true;
        if (!sequence.proofSubmitted) {
            sequence.proofSubmitted = true;
            lastVerifiedBatch = finalNewBatch;
            batchNumToStateRoot[finalNewBatch] = newStateRoot;
            emit VerifyBatchesTrustedAggregator(finalNewBatch, newStateRoot, msg.sender);
        }
        _payReward(msg.sender, finalNewBatch, commitment.stake);
    }

    // ------------------------------------------------------------------ settlement

    /// @inheritdoc IProverSettlement
    /// @dev Callable by the prover itself, the admin, or the deposit contract (before a withdrawal).
    function settle(address prover) external {
        if (msg.sender != prover && msg.sender != admin && msg.sender != address(minerDeposit)) {
            revert OnlyProverOrAdmin();
        }
        _settle(prover, 0);
    }

    /// @notice The sequences for which `prover` holds a commitment that is neither revealed nor slashed yet.
    function openCommitmentsOf(address prover) external view returns (uint64[] memory) {
        return _openCommitments[prover];
    }

    // ------------------------------------------------------------------ views

    /// @notice The SNARK input preimage for `msg.sender` (212 bytes): sha256 it and reduce modulo RFIELD.
    function getInputSnarkBytes(
        uint64 initNumBatch,
        uint64 finalNewBatch,
        bytes32 newLocalExitRoot,
        bytes32 oldStateRoot,
        bytes32 newStateRoot
    ) public view returns (bytes memory) {
        bytes32 oldAccInputHash = sequencedBatches[initNumBatch].accInputHash;
        bytes32 newAccInputHash = sequencedBatches[finalNewBatch].accInputHash;
        if (initNumBatch != 0 && oldAccInputHash == bytes32(0)) revert OldAccInputHashDoesNotExist();
        if (newAccInputHash == bytes32(0)) revert NewAccInputHashDoesNotExist();
        return abi.encodePacked(
            msg.sender,
            oldStateRoot,
            oldAccInputHash,
            initNumBatch,
            chainID,
            forkID,
            newStateRoot,
            newAccInputHash,
            newLocalExitRoot,
            finalNewBatch
        );
    }

    /// @notice The commitment of `prover` for the sequence ending at `finalNewBatch`.
    function proverCommitProofHash(uint64 finalNewBatch, address prover)
        external
        view
        returns (bytes32 proofHash, uint256 roundStart, bool proof)
    {
        Commitment storage commitment = _commitments[finalNewBatch][prover];
        return (commitment.proofHash, commitment.roundStart, commitment.proved);
    }

    /// @notice The reward pool's balance.
    function rewardPool() external view returns (uint256) {
        return address(this).balance;
    }

    // ------------------------------------------------------------------ admin

    function setProofHashCommitEpoch(uint8 newProofHashCommitEpoch) external onlyAdmin {
        proofHashCommitEpoch = newProofHashCommitEpoch;
        emit SetProofHashCommitEpoch(newProofHashCommitEpoch);
    }

    function setProofCommitEpoch(uint8 newProofCommitEpoch) external onlyAdmin {
        proofCommitEpoch = newProofCommitEpoch;
        emit SetProofCommitEpoch(newProofCommitEpoch);
    }

    function setRewardPerSequence(uint256 newRewardPerSequence) external onlyAdmin {
        rewardPerSequence = newRewardPerSequence;
        emit SetRewardPerSequence(newRewardPerSequence);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Slashes every open commitment of `prover` whose round is over, except the one for `keep`.
    function _settle(address prover, uint64 keep) private {
        uint64[] storage open = _openCommitments[prover];
        uint256 roundLength = uint256(proofHashCommitEpoch) + proofCommitEpoch;
        // Walk backwards: removing entry i moves the (already visited) last entry into slot i.
        for (uint256 i = open.length; i > 0; ) {
            unchecked {
                i--;
            }
            uint64 finalNewBatch = open[i];
            if (finalNewBatch == keep) continue;
            Commitment storage commitment = _commitments[finalNewBatch][prover];
            if (block.number <= uint256(commitment.roundStart) + roundLength) continue;
            commitment.closed = true;
            _removeOpen(prover, commitment);
            uint256 taken = minerDeposit.slash(prover, noProofPunishAmount);
            emit Slashed(prover, finalNewBatch, taken, SLASH_UNREVEALED);
        }
    }

    function _removeOpen(address prover, Commitment storage commitment) private {
        uint256 slot = commitment.openSlot;
        if (slot == 0) return;
        commitment.openSlot = 0;
        uint64[] storage open = _openCommitments[prover];
        uint256 last = open.length;
        if (slot != last) {
            uint64 moved = open[last - 1];
            open[slot - 1] = moved;
            _commitments[moved][prover].openSlot = uint32(slot);
        }
        open.pop();
    }

    function _verify(
        uint64 initNumBatch,
        uint64 finalNewBatch,
        bytes32 newLocalExitRoot,
        bytes32 oldStateRoot,
        bytes32 newStateRoot,
        bytes calldata proof
    ) private view returns (bool) {
        bytes memory preimage =
            getInputSnarkBytes(initNumBatch, finalNewBatch, newLocalExitRoot, oldStateRoot, newStateRoot);
        uint256[1] memory input = [uint256(sha256(preimage)) % RFIELD];
        // Deliberately not a try/catch: a verifier that runs out of gas must revert the reveal, not slash an honest
        // prover whose transaction was sent with too little gas (gas estimation would otherwise find that point).
        // The verifier itself returns false for any malformed proof and never reverts.
        return rollupVerifier.verifyProof(proof, input);
    }

    function _payReward(address prover, uint64 finalNewBatch, uint256 stake) private {
        uint256 total = roundStakeTotal[finalNewBatch];
        uint256 amount = total == 0 ? 0 : (rewardPerSequence * stake) / total;
        uint256 pool = address(this).balance;
        if (amount > pool) amount = pool;
        if (amount != 0) {
            // A failed transfer reverts the reveal rather than silently paying nothing (which gas estimation could
            // otherwise select); a prover must be able to receive native currency.
            (bool ok, ) = payable(prover).call{value: amount}("");
            if (!ok) revert RewardTransferFailed();
        }
        emit RewardPaid(prover, finalNewBatch, amount);
    }

    function _insideGoldilocks(bytes32 root) private pure returns (bool) {
        uint256 value = uint256(root);
        for (uint256 i = 0; i < 4; i++) {
            if (uint64(value >> (64 * i)) >= GOLDILOCKS_PRIME) return false;
        }
        return true;
    }
}
