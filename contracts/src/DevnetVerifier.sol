// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IVerifierRollup} from "./IVerifierRollup.sol";

/// @title DevnetVerifier: the devnet's stand-in for a SNARK verifier.
/// @notice A devnet final proof carries the data it claims to prove,
///         `abi.encode(bytes32 tag, address aggregator, uint64 chainID, uint64 forkID, uint64 initNumBatch,
///         uint64 finalNewBatch, bytes32 oldStateRoot, bytes32 oldAccInputHash, bytes32 newStateRoot,
///         bytes32 newAccInputHash, bytes32 newLocalExitRoot, address l2Coinbase, bytes32[] txHashes,
///         bytes32[] globalExitRoots, uint64[] timestamps)`, and this contract recomputes the state transition, the
///         acc input hash chain, the local exit root and the SNARK input from it.
/// @dev The proof is decoded by hand and only its canonical `abi.encode` layout is accepted, so that any malformed
///      input returns false instead of reverting (a revert would spare a cheating miner its slash).
contract DevnetVerifier is IVerifierRollup {
    /// @notice keccak256("zkpow-devnet/final-proof/v1")
    bytes32 public constant FINAL_PROOF_TAG = keccak256("zkpow-devnet/final-proof/v1");

    uint256 internal constant RFIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes32 internal constant ROOT_MASK = 0x7fffffffffffffff7fffffffffffffff7fffffffffffffff7fffffffffffffff;
    uint256 internal constant HEAD_SIZE = 15 * 32;

    struct Claim {
        address aggregator;
        uint64 chainID;
        uint64 forkID;
        uint64 initNumBatch;
        uint64 finalNewBatch;
        bytes32 oldStateRoot;
        bytes32 oldAccInputHash;
        bytes32 newStateRoot;
        bytes32 newAccInputHash;
        bytes32 newLocalExitRoot;
        address l2Coinbase;
        uint256 count;
        uint256 arraySize; // 32 (length word) + 32 * count
    }

    /// @inheritdoc IVerifierRollup
    function verifyProof(bytes calldata proof, uint256[1] calldata pubSignals) external pure returns (bool) {
        (bool ok, Claim memory claim) = _decodeHead(proof);
        if (!ok) return false;
        if (!_checkChains(proof, claim)) return false;
        if (keccak256(abi.encodePacked("zkpow-devnet/ler", claim.newStateRoot)) != claim.newLocalExitRoot) {
            return false;
        }
        return _snarkInput(claim) == pubSignals[0];
    }

    function _decodeHead(bytes calldata proof) private pure returns (bool, Claim memory claim) {
        uint256 length = proof.length;
        if (length < HEAD_SIZE + 3 * 32) return (false, claim);
        if (bytes32(_word(proof, 0)) != FINAL_PROOF_TAG) return (false, claim);

        uint256 aggregator = _word(proof, 1 * 32);
        uint256 l2Coinbase = _word(proof, 11 * 32);
        if (aggregator > type(uint160).max || l2Coinbase > type(uint160).max) return (false, claim);
        claim.aggregator = address(uint160(aggregator));
        claim.l2Coinbase = address(uint160(l2Coinbase));

        uint256 chainID = _word(proof, 2 * 32);
        uint256 forkID = _word(proof, 3 * 32);
        uint256 initNumBatch = _word(proof, 4 * 32);
        uint256 finalNewBatch = _word(proof, 5 * 32);
        if (
            chainID > type(uint64).max ||
            forkID > type(uint64).max ||
            initNumBatch > type(uint64).max ||
            finalNewBatch > type(uint64).max ||
            finalNewBatch <= initNumBatch
        ) return (false, claim);
        claim.chainID = uint64(chainID);
        claim.forkID = uint64(forkID);
        claim.initNumBatch = uint64(initNumBatch);
        claim.finalNewBatch = uint64(finalNewBatch);

        claim.oldStateRoot = bytes32(_word(proof, 6 * 32));
        claim.oldAccInputHash = bytes32(_word(proof, 7 * 32));
        claim.newStateRoot = bytes32(_word(proof, 8 * 32));
        claim.newAccInputHash = bytes32(_word(proof, 9 * 32));
        claim.newLocalExitRoot = bytes32(_word(proof, 10 * 32));

        // Three arrays of `count` words each, laid out canonically right after the head.
        uint256 count = finalNewBatch - initNumBatch;
        if (count > (length - HEAD_SIZE) / 96) return (false, claim);
        uint256 arraySize = 32 + 32 * count;
        if (
            length != HEAD_SIZE + 3 * arraySize ||
            _word(proof, 12 * 32) != HEAD_SIZE ||
            _word(proof, 13 * 32) != HEAD_SIZE + arraySize ||
            _word(proof, 14 * 32) != HEAD_SIZE + 2 * arraySize ||
            _word(proof, HEAD_SIZE) != count ||
            _word(proof, HEAD_SIZE + arraySize) != count ||
            _word(proof, HEAD_SIZE + 2 * arraySize) != count
        ) return (false, claim);
        claim.count = count;
        claim.arraySize = arraySize;
        return (true, claim);
    }

    function _checkChains(bytes calldata proof, Claim memory claim) private pure returns (bool) {
        bytes32 acc = claim.oldAccInputHash;
        bytes32 root = claim.oldStateRoot;
        uint256 txHashes = HEAD_SIZE + 32;
        uint256 globalExitRoots = txHashes + claim.arraySize;
        uint256 timestamps = globalExitRoots + claim.arraySize;
        for (uint256 i = 0; i < claim.count; i++) {
            uint256 timestamp = _word(proof, timestamps + 32 * i);
            if (timestamp > type(uint64).max) return false;
            bytes memory batch = abi.encodePacked(
                _word(proof, txHashes + 32 * i),
                _word(proof, globalExitRoots + 32 * i),
                uint64(timestamp),
                claim.l2Coinbase
            );
            acc = keccak256(abi.encodePacked(acc, batch));
            root = keccak256(abi.encodePacked(root, batch)) & ROOT_MASK;
        }
        return acc == claim.newAccInputHash && root == claim.newStateRoot;
    }

    function _snarkInput(Claim memory claim) private pure returns (uint256) {
        bytes memory preimage = abi.encodePacked(
            claim.aggregator,
            claim.oldStateRoot,
            claim.oldAccInputHash,
            claim.initNumBatch,
            claim.chainID,
            claim.forkID,
            claim.newStateRoot,
            claim.newAccInputHash,
            claim.newLocalExitRoot,
            claim.finalNewBatch
        );
        return uint256(sha256(preimage)) % RFIELD;
    }

    function _word(bytes calldata data, uint256 offset) private pure returns (uint256) {
        return uint256(bytes32(data[offset:offset + 32]));
    }
}
