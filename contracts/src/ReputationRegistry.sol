// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title ERC-8004 ReputationRegistry (v2 interface) for Dispatch's local chains.
/// @notice Clients (for Dispatch: the coordinators) leave signed-value feedback on agents; readers
/// aggregate it over the client addresses they trust, which is what makes sybil feedback harmless.
contract ReputationRegistry {
    struct Feedback {
        int128 value;
        uint8 valueDecimals;
        bool isRevoked;
        string tag1;
        string tag2;
    }

    /// @dev Tag filters are hashes; bytes32(0) means "any tag".
    struct Query {
        uint256 agentId;
        bytes32 tag1;
        bytes32 tag2;
    }

    struct Totals {
        int256 sumWad;
        uint64 count;
        uint8 maxDecimals;
    }

    event NewFeedback(
        uint256 indexed agentId,
        address indexed clientAddress,
        uint64 feedbackIndex,
        int128 value,
        uint8 valueDecimals,
        string indexed indexedTag1,
        string tag1,
        string tag2,
        string endpoint,
        string feedbackURI,
        bytes32 feedbackHash
    );
    event FeedbackRevoked(uint256 indexed agentId, address indexed clientAddress, uint64 indexed feedbackIndex);

    error AgentNotFound(uint256 agentId);
    error SelfFeedback(uint256 agentId, address caller);
    error InvalidValueDecimals(uint8 valueDecimals);
    error ValueOutOfRange(int128 value);
    error FeedbackNotFound(uint256 agentId, address clientAddress, uint64 feedbackIndex);
    error AlreadyRevoked(uint256 agentId, address clientAddress, uint64 feedbackIndex);
    error EmptyClientList();

    uint8 public constant MAX_VALUE_DECIMALS = 18;
    /// @dev Bounds |value| so any value rescaled to 18 decimals fits in int256 with room to sum.
    int128 public constant MAX_ABS_VALUE = 1e38;

    IERC721 private immutable _identityRegistry;

    mapping(uint256 agentId => mapping(address client => mapping(uint64 index => Feedback))) private _feedback;
    mapping(uint256 agentId => mapping(address client => uint64 lastIndex)) private _lastIndex;
    mapping(uint256 agentId => address[] clients) private _clients;

    constructor(address identityRegistry) {
        _identityRegistry = IERC721(identityRegistry);
    }

    function getIdentityRegistry() external view returns (address) {
        return address(_identityRegistry);
    }

    function giveFeedback(
        uint256 agentId,
        int128 value,
        uint8 valueDecimals,
        // memory, not calldata: a calldata string takes two stack slots and the event would not fit the stack.
        string memory tag1,
        string memory tag2,
        string memory endpoint,
        string memory feedbackURI,
        bytes32 feedbackHash
    ) external {
        if (valueDecimals > MAX_VALUE_DECIMALS) revert InvalidValueDecimals(valueDecimals);
        if (value > MAX_ABS_VALUE || value < -MAX_ABS_VALUE) revert ValueOutOfRange(value);
        _requireNotSelf(agentId);

        // Indexes are 1-based so that 0 can mean "no feedback yet" in getLastIndex.
        uint64 index = ++_lastIndex[agentId][msg.sender];
        if (index == 1) _clients[agentId].push(msg.sender);
        _feedback[agentId][msg.sender][index] =
            Feedback({value: value, valueDecimals: valueDecimals, isRevoked: false, tag1: tag1, tag2: tag2});

        emit NewFeedback(
            agentId, msg.sender, index, value, valueDecimals, tag1, tag1, tag2, endpoint, feedbackURI, feedbackHash
        );
    }

    /// @notice Only the client who gave a feedback can revoke it; the record stays, flagged.
    function revokeFeedback(uint256 agentId, uint64 feedbackIndex) external {
        Feedback storage fb = _stored(agentId, msg.sender, feedbackIndex);
        if (fb.isRevoked) revert AlreadyRevoked(agentId, msg.sender, feedbackIndex);
        fb.isRevoked = true;
        emit FeedbackRevoked(agentId, msg.sender, feedbackIndex);
    }

    function readFeedback(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        external
        view
        returns (int128 value, uint8 valueDecimals, string memory tag1, string memory tag2, bool isRevoked)
    {
        Feedback storage fb = _stored(agentId, clientAddress, feedbackIndex);
        return (fb.value, fb.valueDecimals, fb.tag1, fb.tag2, fb.isRevoked);
    }

    /// @notice Average of the non-revoked feedback from `clientAddresses` matching the tags ("" = any tag),
    /// expressed with the largest decimals among the counted entries (fewer only if int128 would overflow).
    function getSummary(uint256 agentId, address[] calldata clientAddresses, string calldata tag1, string calldata tag2)
        external
        view
        returns (uint64 count, int128 summaryValue, uint8 summaryValueDecimals)
    {
        // Reading "everyone" would let anyone stuff the average with throwaway accounts.
        if (clientAddresses.length == 0) revert EmptyClientList();
        // Structs in memory keep the legacy pipeline within its 16 stack slots (no viaIR needed).
        Query memory query = Query({agentId: agentId, tag1: _tagFilter(tag1), tag2: _tagFilter(tag2)});
        Totals memory totals;
        for (uint256 i; i < clientAddresses.length; i++) {
            _addClient(query, clientAddresses[i], totals);
        }
        return _average(totals);
    }

    function getClients(uint256 agentId) external view returns (address[] memory) {
        return _clients[agentId];
    }

    function getLastIndex(uint256 agentId, address clientAddress) external view returns (uint64) {
        return _lastIndex[agentId][clientAddress];
    }

    function _stored(uint256 agentId, address clientAddress, uint64 feedbackIndex)
        private
        view
        returns (Feedback storage)
    {
        if (feedbackIndex == 0 || feedbackIndex > _lastIndex[agentId][clientAddress]) {
            revert FeedbackNotFound(agentId, clientAddress, feedbackIndex);
        }
        return _feedback[agentId][clientAddress][feedbackIndex];
    }

    /// @dev Adds one client's matching, non-revoked feedback to the running totals.
    function _addClient(Query memory query, address client, Totals memory totals) private view {
        uint64 last = _lastIndex[query.agentId][client];
        for (uint64 j = 1; j <= last; j++) {
            Feedback storage fb = _feedback[query.agentId][client][j];
            if (fb.isRevoked || !_tagMatches(query.tag1, fb.tag1) || !_tagMatches(query.tag2, fb.tag2)) continue;
            totals.sumWad += int256(fb.value) * int256(10 ** (MAX_VALUE_DECIMALS - fb.valueDecimals));
            if (fb.valueDecimals > totals.maxDecimals) totals.maxDecimals = fb.valueDecimals;
            totals.count++;
        }
    }

    /// @dev Rounds toward zero; drops decimals only when the average would not fit in int128.
    function _average(Totals memory totals) private pure returns (uint64, int128, uint8) {
        if (totals.count == 0) return (0, 0, 0);
        uint8 decimals = totals.maxDecimals;
        int256 avg = totals.sumWad / int256(uint256(totals.count)) / int256(10 ** (MAX_VALUE_DECIMALS - decimals));
        while (avg > type(int128).max || avg < type(int128).min) {
            decimals--;
            avg /= 10;
        }
        return (totals.count, int128(avg), decimals);
    }

    /// @dev bytes32(0) stands for "any tag": an empty filter string matches everything.
    function _tagFilter(string calldata tag) private pure returns (bytes32) {
        return bytes(tag).length == 0 ? bytes32(0) : keccak256(bytes(tag));
    }

    function _tagMatches(bytes32 filter, string storage tag) private pure returns (bool) {
        return filter == bytes32(0) || keccak256(bytes(tag)) == filter;
    }

    /// @dev An agent's owner and anyone it approved act for the agent, so none of them may rate it.
    function _requireNotSelf(uint256 agentId) private view {
        address owner;
        try _identityRegistry.ownerOf(agentId) returns (address o) {
            owner = o;
        } catch {
            revert AgentNotFound(agentId);
        }
        if (
            msg.sender == owner || _identityRegistry.isApprovedForAll(owner, msg.sender)
                || _identityRegistry.getApproved(agentId) == msg.sender
        ) revert SelfFeedback(agentId, msg.sender);
    }
}
