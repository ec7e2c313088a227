# pragma version ~=0.4.3
"""
@title DebtLedger evidence anchor
@notice Fixes the Merkle root of a batch of collection records in time, so a court can
        check a record's inclusion proof against a root nobody could change afterwards.
@dev One packed slot per root: what verification needs (who, when, how many leaves).
     The batch id is only logged. Roots are RFC 6962 tree heads over SHA-256.
@custom:contract-name EvidenceAnchor
@license MIT
"""

interface IConsortium:
    def has_role(account: address, role: bytes32) -> bool: view


CREDITOR: public(constant(bytes32)) = keccak256("CREDITOR")
AGENCY: public(constant(bytes32)) = keccak256("AGENCY")
COURT: public(constant(bytes32)) = keccak256("COURT")
GATEWAY: public(constant(bytes32)) = keccak256("GATEWAY")

# Largest batch one root may cover: the count gets 32 bits of the packed slot.
MAX_COUNT: public(constant(uint64)) = 2**32 - 1

# Bit layout of the packed `_anchors` slot: submitter | anchored at | count.
TIME_SHIFT: constant(uint256) = 160
COUNT_SHIFT: constant(uint256) = 224
ADDRESS_MASK: constant(uint256) = (1 << 160) - 1
U64_MASK: constant(uint256) = (1 << 64) - 1


# @dev The consortium whose roles this anchor trusts.
consortium: public(immutable(IConsortium))

# @dev root => submitter (bits 0-159) | block timestamp, unix seconds (160-223) |
#      leaf count (224-255). Zero: never anchored.
_anchors: HashMap[bytes32, uint256]


# @dev A member fixed a batch's Merkle root; `anchored_at` is the block time, unix seconds.
event RootAnchored:
    root: indexed(bytes32)
    submitter: indexed(address)
    count: uint64
    batch_id: bytes32
    anchored_at: uint64


@deploy
def __init__(consortium_: IConsortium):
    """
    @notice Bind the anchor to the consortium whose roles it trusts.
    @param consortium_ The Consortium contract.
    """
    consortium = consortium_


@internal
@view
def _check_may_anchor(account: address):
    # Regulators and keepers only read evidence; every party that produces or judges it anchors.
    may: bool = False
    for role: bytes32 in [CREDITOR, AGENCY, GATEWAY, COURT]:
        if staticcall consortium.has_role(account, role):
            may = True
            break
    assert may, "anchor: caller may not anchor"


@internal
def _anchor(root: bytes32, count: uint64, batch_id: bytes32):
    assert root != empty(bytes32), "anchor: empty root"
    assert count != 0, "anchor: empty batch"
    assert count <= MAX_COUNT, "anchor: batch too large"
    assert self._anchors[root] == 0, "anchor: root already anchored"
    now: uint64 = convert(block.timestamp, uint64)
    self._anchors[root] = (
        convert(msg.sender, uint256)
        | (convert(now, uint256) << TIME_SHIFT)
        | (convert(count, uint256) << COUNT_SHIFT)
    )
    log RootAnchored(root=root, submitter=msg.sender, count=count, batch_id=batch_id, anchored_at=now)


@external
def anchor(root: bytes32, count: uint64, batch_id: bytes32):
    """
    @notice Fix a batch's Merkle root in time; a root can be anchored once only.
    @param root The RFC 6962 tree head (SHA-256) over the batch's leaf hashes; not zero.
    @param count The number of leaves in the tree, 1 to MAX_COUNT; proofs are checked
           against this size.
    @param batch_id The off-chain batch's id (32 bytes), logged for lookup only.
    """
    self._check_may_anchor(msg.sender)
    self._anchor(root, count, batch_id)


@external
@view
def anchored(root: bytes32) -> (address, uint64, uint64):
    """
    @notice Who anchored `root`, when, and over how many leaves.
    @param root The tree head.
    @return The submitter (zero address: never anchored), the block time in unix seconds
            and the leaf count (both zero when never anchored).
    """
    packed: uint256 = self._anchors[root]
    return (
        convert(packed & ADDRESS_MASK, address),
        convert((packed >> TIME_SHIFT) & U64_MASK, uint64),
        convert(packed >> COUNT_SHIFT, uint64),
    )
