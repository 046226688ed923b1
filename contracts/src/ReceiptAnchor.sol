// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title Receipt anchor: one Merkle root per batch of signed job receipts.
/// @notice Anyone holding a receipt and its proof can show the coordinator committed to it at a known time.
contract ReceiptAnchor is Ownable {
    struct Anchor {
        address submitter;
        uint64 timestamp;
        uint64 blockNumber;
        uint256 count;
        string batchId;
    }

    event Anchored(
        bytes32 indexed root, address indexed submitter, uint256 count, string batchId, uint256 timestamp
    );
    event AnchorerSet(address indexed anchorer, bool allowed);

    error NotAnchorer(address caller);
    error RootAlreadyAnchored(bytes32 root);
    error EmptyRoot();
    error EmptyBatch();
    error NotAnchored(bytes32 root);

    mapping(address anchorer => bool allowed) public isAnchorer;
    mapping(bytes32 root => Anchor) private _anchors;

    constructor(address initialOwner, address[] memory anchorers) Ownable(initialOwner) {
        for (uint256 i; i < anchorers.length; i++) {
            _setAnchorer(anchorers[i], true);
        }
    }

    function setAnchorer(address anchorer, bool allowed) external onlyOwner {
        _setAnchorer(anchorer, allowed);
    }

    /// @notice Records a batch root. Reverts on a repeat, so a retried outbox write is detectable, not double-counted.
    function anchor(bytes32 root, uint256 count, string calldata batchId) external {
        if (!isAnchorer[msg.sender]) revert NotAnchorer(msg.sender);
        if (root == bytes32(0)) revert EmptyRoot();
        if (count == 0) revert EmptyBatch();
        if (_anchors[root].submitter != address(0)) revert RootAlreadyAnchored(root);
        _anchors[root] = Anchor({
            submitter: msg.sender,
            timestamp: uint64(block.timestamp),
            blockNumber: uint64(block.number),
            count: count,
            batchId: batchId
        });
        emit Anchored(root, msg.sender, count, batchId, block.timestamp);
    }

    /// @notice The anchor of `root`; a zero submitter means the root was never anchored.
    function getAnchor(bytes32 root) external view returns (Anchor memory) {
        return _anchors[root];
    }

    function isAnchored(bytes32 root) external view returns (bool) {
        return _anchors[root].submitter != address(0);
    }

    /// @notice Checks a leaf against an anchored root (OpenZeppelin sorted-pair keccak256 tree).
    function verifyLeaf(bytes32 root, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        if (_anchors[root].submitter == address(0)) revert NotAnchored(root);
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function _setAnchorer(address anchorer, bool allowed) private {
        isAnchorer[anchorer] = allowed;
        emit AnchorerSet(anchorer, allowed);
    }
}
