# pragma version ~=0.4.3
"""
@title Baseline registry for the gas benchmark: every claim field in storage
@notice The same batch API, checks and event as ClaimRegistry.register_batch, but each
        claim keeps owner, debtor, principal, outstanding, currency, due date, record hash
        and status in storage, one slot each (Vyper does not pack storage): 8 new slots per
        claim where ClaimRegistry writes 2 packed ones.
@dev Benchmark only (bench/bench_gas.py); not part of the product.
@license MIT
"""

interface IConsortium:
    def has_role(account: address, role: bytes32) -> bool: view


CREDITOR: constant(bytes32) = keccak256("CREDITOR")
STATUS_ACTIVE: constant(uint8) = 1
MAX_BATCH: constant(uint256) = 1000


struct ClaimInput:
    claim_id: bytes32
    debtor: bytes32
    principal: uint128
    outstanding: uint128
    currency: bytes3
    due_date: uint64
    record_hash: bytes32


struct StoredClaim:
    owner: address
    debtor: bytes32
    principal: uint128
    outstanding: uint128
    currency: bytes3
    due_date: uint64
    record_hash: bytes32
    status: uint8


event ClaimRegistered:
    claim_id: indexed(bytes32)
    creditor: indexed(address)
    debtor: indexed(bytes32)
    principal: uint128
    outstanding: uint128
    currency: bytes3
    due_date: uint64
    record_hash: bytes32


consortium: public(immutable(IConsortium))
claims: public(HashMap[bytes32, StoredClaim])


@deploy
def __init__(consortium_: IConsortium):
    consortium = consortium_


@internal
def _register(creditor: address, c: ClaimInput):
    assert c.claim_id != empty(bytes32), "registry: empty claim id"
    assert self.claims[c.claim_id].owner == empty(address), "registry: claim already registered"
    assert c.debtor != empty(bytes32), "registry: empty debtor pseudonym"
    assert c.principal > 0, "registry: principal must be positive"
    assert c.outstanding <= c.principal, "registry: outstanding exceeds principal"
    assert c.due_date > 0, "registry: missing due date"
    assert c.currency != empty(bytes3), "registry: missing currency"
    self.claims[c.claim_id] = StoredClaim(
        owner=creditor,
        debtor=c.debtor,
        principal=c.principal,
        outstanding=c.outstanding,
        currency=c.currency,
        due_date=c.due_date,
        record_hash=c.record_hash,
        status=STATUS_ACTIVE,
    )
    log ClaimRegistered(
        claim_id=c.claim_id,
        creditor=creditor,
        debtor=c.debtor,
        principal=c.principal,
        outstanding=c.outstanding,
        currency=c.currency,
        due_date=c.due_date,
        record_hash=c.record_hash,
    )


@external
def register_batch(claims: DynArray[ClaimInput, MAX_BATCH]):
    """
    @notice Register up to 1,000 claims owned by the caller in one call; all or none.
    """
    assert staticcall consortium.has_role(msg.sender, CREDITOR), "registry: caller is not a creditor"
    assert len(claims) > 0, "registry: empty batch"
    for c: ClaimInput in claims:
        self._register(msg.sender, c)
