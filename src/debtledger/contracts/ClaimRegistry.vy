# pragma version ~=0.4.3
"""
@title DebtLedger claim registry
@notice One owner per claim, transfers that cannot sell a claim twice, mandates to
        agencies, repayments, settlement, write-off and disputes.
@dev Storage is two packed slots per claim (gas is the cost); descriptive data lives in
     events, from which the full history of every claim can be rebuilt.
@custom:contract-name ClaimRegistry
@license MIT
"""

interface IConsortium:
    def has_role(account: address, role: bytes32) -> bool: view


CREDITOR: public(constant(bytes32)) = keccak256("CREDITOR")
AGENCY: public(constant(bytes32)) = keccak256("AGENCY")
COURT: public(constant(bytes32)) = keccak256("COURT")
GATEWAY: public(constant(bytes32)) = keccak256("GATEWAY")

STATUS_ACTIVE: public(constant(uint8)) = 1
STATUS_SETTLED: public(constant(uint8)) = 2
STATUS_WRITTEN_OFF: public(constant(uint8)) = 3
STATUS_DISPUTED: public(constant(uint8)) = 4

MAX_BATCH: public(constant(uint256)) = 1000

# Bit layout of the packed `_meta` slot: owner | due date | status | currency.
DUE_SHIFT: constant(uint256) = 160
STATUS_SHIFT: constant(uint256) = 224
CURRENCY_SHIFT: constant(uint256) = 232
ADDRESS_MASK: constant(uint256) = (1 << 160) - 1
U64_MASK: constant(uint256) = (1 << 64) - 1
U8_MASK: constant(uint256) = (1 << 8) - 1
U128_MASK: constant(uint256) = (1 << 128) - 1
BUY_BACK_FLAG: constant(uint256) = 1 << 160


# Registration input, five words a claim. Amounts and terms are packed: measured on anvil,
# this layout halves the node's memory per claim against seven separate fields (1.2 KB
# instead of 2.3 KB), which keeps a million-claim book under 2 GB. Events stay unpacked.
struct ClaimInput:
    claim_id: bytes32
    debtor: bytes32
    # principal in minor units (high 128 bits) | outstanding (low 128 bits)
    amounts: uint256
    # ISO 4217 currency code as three ASCII bytes (bits 64-87) | due date, unix seconds (0-63)
    terms: uint256
    record_hash: bytes32


struct Claim:
    owner: address
    status: uint8
    due_date: uint64
    currency: bytes3
    principal: uint128
    outstanding: uint128


# @dev The consortium whose roles this registry trusts.
consortium: public(immutable(IConsortium))

# @dev claim id => owner (bits 0-159) | due date, unix seconds (160-223) |
#      status (224-231) | ISO 4217 currency code, bytes3 (232-255). Zero: no such claim.
_meta: HashMap[bytes32, uint256]

# @dev claim id => principal in minor units (high 128 bits) | outstanding (low 128 bits).
_amounts: HashMap[bytes32, uint256]

# @dev claim id => proposed buyer (bits 0-159) | buy-back flag (bit 160). Zero: none pending.
_pending: HashMap[bytes32, uint256]

# @dev claim id => agency (bits 0-159) | mandate expiry, unix seconds (160-223).
_mandates: HashMap[bytes32, uint256]

# @dev claim id => the owner that sold it last (the party a buy-back returns it to).
last_seller: public(HashMap[bytes32, address])


# @dev A creditor registered a claim. Carries every descriptive field of the claim.
event ClaimRegistered:
    claim_id: indexed(bytes32)
    creditor: indexed(address)
    debtor: indexed(bytes32)
    principal: uint128
    outstanding: uint128
    currency: bytes3
    due_date: uint64
    record_hash: bytes32


# @dev The owner offered the claim to a buyer; `price_hash` commits to the agreed price.
event TransferProposed:
    claim_id: indexed(bytes32)
    seller: indexed(address)
    buyer: indexed(address)
    price_hash: bytes32
    buy_back: bool


# @dev The buyer accepted: it is now the only owner.
event ClaimTransferred:
    claim_id: indexed(bytes32)
    seller: indexed(address)
    buyer: indexed(address)
    buy_back: bool


# @dev The proposed buyer declined the offer.
event TransferDeclined:
    claim_id: indexed(bytes32)
    seller: indexed(address)
    buyer: indexed(address)


# @dev The offer was withdrawn: by the owner, or because a dispute or closure ended it.
event TransferCancelled:
    claim_id: indexed(bytes32)
    seller: indexed(address)
    buyer: indexed(address)
    cancelled_by: address


# @dev The owner mandated an agency to collect the claim until `expiry`.
event MandateGranted:
    claim_id: indexed(bytes32)
    owner: indexed(address)
    agency: indexed(address)
    expiry: uint64


# @dev A mandate ended before its expiry: revoked by the owner or ended by a transfer.
event MandateRevoked:
    claim_id: indexed(bytes32)
    agency: indexed(address)
    revoked_by: indexed(address)


# @dev A repayment was recorded; `applied` is the part that reduced the outstanding amount.
event RepaymentRecorded:
    claim_id: indexed(bytes32)
    recorded_by: indexed(address)
    amount: uint128
    applied: uint128
    outstanding: uint128
    receipt_hash: bytes32


# @dev The claim is closed as paid or settled; `forgiven` is what was left unpaid.
event ClaimSettled:
    claim_id: indexed(bytes32)
    settled_by: indexed(address)
    forgiven: uint128
    settlement_hash: bytes32


# @dev The owner wrote the claim off at its outstanding amount.
event ClaimWrittenOff:
    claim_id: indexed(bytes32)
    written_off_by: indexed(address)
    outstanding: uint128


# @dev The claim was disputed; collection and sale stop until it is resolved.
event ClaimDisputed:
    claim_id: indexed(bytes32)
    disputed_by: indexed(address)
    reason_hash: bytes32


# @dev A dispute was resolved; `outstanding` is the amount the resolution fixed.
event DisputeResolved:
    claim_id: indexed(bytes32)
    resolved_by: indexed(address)
    outstanding: uint128
    resolution_hash: bytes32


@deploy
def __init__(consortium_: IConsortium):
    """
    @notice Bind the registry to the consortium whose roles it trusts.
    @param consortium_ The Consortium contract.
    """
    consortium = consortium_


# ---------------------------------------------------------------- internal helpers


@internal
@view
def _has_role(role: bytes32, account: address) -> bool:
    return staticcall consortium.has_role(account, role)


@internal
@view
def _meta_of(claim_id: bytes32) -> uint256:
    meta: uint256 = self._meta[claim_id]
    assert meta != 0, "registry: unknown claim"
    return meta


@internal
@pure
def _owner(meta: uint256) -> address:
    return convert(meta & ADDRESS_MASK, address)


@internal
@pure
def _status(meta: uint256) -> uint8:
    return convert((meta >> STATUS_SHIFT) & U8_MASK, uint8)


@internal
@pure
def _with_status(meta: uint256, status: uint8) -> uint256:
    return (meta & ~(U8_MASK << STATUS_SHIFT)) | (convert(status, uint256) << STATUS_SHIFT)


@internal
@pure
def _with_owner(meta: uint256, owner: address) -> uint256:
    return (meta & ~ADDRESS_MASK) | convert(owner, uint256)


@internal
@pure
def _check_not_closed(status: uint8):
    assert status != STATUS_SETTLED, "registry: claim is settled"
    assert status != STATUS_WRITTEN_OFF, "registry: claim is written off"


@internal
@pure
def _check_active(status: uint8):
    self._check_not_closed(status)
    assert status != STATUS_DISPUTED, "registry: claim is disputed"


@internal
@view
def _check_owner(meta: uint256):
    assert self._owner(meta) == msg.sender, "registry: caller is not the owner"


@internal
def _register(creditor: address, c: ClaimInput):
    assert c.claim_id != empty(bytes32), "registry: empty claim id"
    assert self._meta[c.claim_id] == 0, "registry: claim already registered"
    assert c.debtor != empty(bytes32), "registry: empty debtor pseudonym"
    principal: uint256 = c.amounts >> 128
    outstanding: uint256 = c.amounts & U128_MASK
    assert principal > 0, "registry: principal must be positive"
    assert outstanding <= principal, "registry: outstanding exceeds principal"
    due_date: uint256 = c.terms & U64_MASK
    currency: uint256 = c.terms >> 64
    assert due_date > 0, "registry: missing due date"
    assert currency != 0, "registry: missing currency"
    assert currency >> 24 == 0, "registry: malformed terms"
    self._meta[c.claim_id] = (
        convert(creditor, uint256)
        | (due_date << DUE_SHIFT)
        | (convert(STATUS_ACTIVE, uint256) << STATUS_SHIFT)
        | (currency << CURRENCY_SHIFT)
    )
    self._amounts[c.claim_id] = c.amounts
    log ClaimRegistered(
        claim_id=c.claim_id,
        creditor=creditor,
        debtor=c.debtor,
        principal=convert(principal, uint128),
        outstanding=convert(outstanding, uint128),
        currency=convert(convert(currency << CURRENCY_SHIFT, bytes32), bytes3),
        due_date=convert(due_date, uint64),
        record_hash=c.record_hash,
    )


@internal
def _cancel_pending(claim_id: bytes32, seller: address):
    pending: uint256 = self._pending[claim_id]
    if pending != 0:
        self._pending[claim_id] = 0
        log TransferCancelled(
            claim_id=claim_id,
            seller=seller,
            buyer=convert(pending & ADDRESS_MASK, address),
            cancelled_by=msg.sender,
        )


@internal
def _propose(claim_id: bytes32, meta: uint256, buyer: address, price_hash: bytes32, buy_back: bool):
    assert self._pending[claim_id] == 0, "registry: claim already pending transfer"
    assert buyer != msg.sender, "registry: buyer is the owner"
    assert self._has_role(CREDITOR, buyer), "registry: buyer is not a creditor"
    flag: uint256 = 0
    if buy_back:
        flag = BUY_BACK_FLAG
    self._pending[claim_id] = convert(buyer, uint256) | flag
    log TransferProposed(
        claim_id=claim_id, seller=msg.sender, buyer=buyer, price_hash=price_hash, buy_back=buy_back
    )


@internal
def _end_mandate(claim_id: bytes32):
    mandate: uint256 = self._mandates[claim_id]
    if mandate != 0:
        self._mandates[claim_id] = 0
        log MandateRevoked(
            claim_id=claim_id, agency=convert(mandate & ADDRESS_MASK, address), revoked_by=msg.sender
        )


@internal
@view
def _pending_buyer(claim_id: bytes32) -> (address, bool):
    pending: uint256 = self._pending[claim_id]
    assert pending != 0, "registry: no pending transfer"
    return convert(pending & ADDRESS_MASK, address), pending & BUY_BACK_FLAG != 0


# ---------------------------------------------------------------- registration


@external
def register(c: ClaimInput):
    """
    @notice Register one claim owned by the caller.
    @param c The claim: id, debtor pseudonym (32 bytes, never personal data), amounts
             (principal and outstanding in minor units, fen for CNY, packed), terms (ISO
             currency code and due date in unix seconds, packed), and the hash committing to
             the full off-chain record.
    """
    assert self._has_role(CREDITOR, msg.sender), "registry: caller is not a creditor"
    self._register(msg.sender, c)


@external
def register_batch(claims: DynArray[ClaimInput, MAX_BATCH]):
    """
    @notice Register up to 1,000 claims owned by the caller in one call; all or none.
    @param claims The claims, each as for `register`.
    """
    assert self._has_role(CREDITOR, msg.sender), "registry: caller is not a creditor"
    assert len(claims) > 0, "registry: empty batch"
    for c: ClaimInput in claims:
        self._register(msg.sender, c)


# ---------------------------------------------------------------- transfers


@external
def propose_transfer(claim_id: bytes32, buyer: address, price_hash: bytes32):
    """
    @notice Offer the claim to another creditor. One offer at a time: a claim that is already
            offered, or that the caller no longer owns, cannot be offered (no double sale).
    @param claim_id The claim.
    @param buyer The buying creditor's address.
    @param price_hash Commitment to the agreed price (the price itself stays off chain).
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    self._check_active(self._status(meta))
    self._propose(claim_id, meta, buyer, price_hash, False)


@external
def propose_buy_back(claim_id: bytes32, price_hash: bytes32):
    """
    @notice Offer the claim back to the creditor that sold it last (repurchase, for example
            on a breach of warranty). Allowed for disputed claims: the dispute goes with it.
    @param claim_id The claim.
    @param price_hash Commitment to the agreed repurchase price.
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    self._check_not_closed(self._status(meta))
    seller: address = self.last_seller[claim_id]
    assert seller != empty(address), "registry: claim was never sold"
    self._propose(claim_id, meta, seller, price_hash, True)


@external
def accept_transfer(claim_id: bytes32):
    """
    @notice The proposed buyer takes the claim; any mandate of the seller ends.
    @param claim_id The claim.
    """
    meta: uint256 = self._meta_of(claim_id)
    buyer: address = empty(address)
    buy_back: bool = False
    buyer, buy_back = self._pending_buyer(claim_id)
    assert buyer == msg.sender, "registry: caller is not the proposed buyer"
    status: uint8 = self._status(meta)
    if buy_back:
        self._check_not_closed(status)
    else:
        self._check_active(status)
    assert self._has_role(CREDITOR, msg.sender), "registry: buyer is not a creditor"
    seller: address = self._owner(meta)
    self._pending[claim_id] = 0
    self._end_mandate(claim_id)
    self._meta[claim_id] = self._with_owner(meta, msg.sender)
    self.last_seller[claim_id] = seller
    log ClaimTransferred(claim_id=claim_id, seller=seller, buyer=msg.sender, buy_back=buy_back)


@external
def decline_transfer(claim_id: bytes32):
    """
    @notice The proposed buyer refuses the offer.
    @param claim_id The claim.
    """
    meta: uint256 = self._meta_of(claim_id)
    buyer: address = empty(address)
    buy_back: bool = False
    buyer, buy_back = self._pending_buyer(claim_id)
    assert buyer == msg.sender, "registry: caller is not the proposed buyer"
    self._pending[claim_id] = 0
    log TransferDeclined(claim_id=claim_id, seller=self._owner(meta), buyer=buyer)


@external
def cancel_transfer(claim_id: bytes32):
    """
    @notice The owner withdraws its offer.
    @param claim_id The claim.
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    self._pending_buyer(claim_id)
    self._cancel_pending(claim_id, msg.sender)


# ---------------------------------------------------------------- mandates


@external
def grant_mandate(claim_id: bytes32, agency: address, expiry: uint64):
    """
    @notice Mandate an agency to collect the claim until `expiry`; replaces any mandate.
    @param claim_id The claim.
    @param agency The agency's address; it must hold the AGENCY role.
    @param expiry End of the mandate, unix seconds; later than the current block.
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    self._check_active(self._status(meta))
    assert self._has_role(AGENCY, agency), "registry: mandatee is not an agency"
    assert convert(expiry, uint256) > block.timestamp, "registry: mandate expiry is in the past"
    self._end_mandate(claim_id)  # a replaced mandate leaves its end in the history
    self._mandates[claim_id] = convert(agency, uint256) | (convert(expiry, uint256) << 160)
    log MandateGranted(claim_id=claim_id, owner=msg.sender, agency=agency, expiry=expiry)


@external
def revoke_mandate(claim_id: bytes32):
    """
    @notice The owner ends the claim's mandate before its expiry.
    @param claim_id The claim.
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    assert self._mandates[claim_id] != 0, "registry: no mandate"
    self._end_mandate(claim_id)


# ---------------------------------------------------------------- money and closure


@external
def record_repayment(claim_id: bytes32, amount: uint128, receipt_hash: bytes32):
    """
    @notice Record a repayment by the debtor. The outstanding amount falls by the amount and
            never below zero; at zero the claim is settled.
    @param claim_id The claim.
    @param amount Amount paid in minor units (fen); positive.
    @param receipt_hash Hash of the payment receipt (the receipt itself is evidence off chain).
    """
    meta: uint256 = self._meta_of(claim_id)
    assert self._owner(meta) == msg.sender or self._has_role(GATEWAY, msg.sender), "registry: caller is not the owner or a gateway"
    self._check_not_closed(self._status(meta))
    assert amount > 0, "registry: amount must be positive"
    amounts: uint256 = self._amounts[claim_id]
    outstanding: uint128 = convert(amounts & U128_MASK, uint128)
    applied: uint128 = min(amount, outstanding)
    outstanding -= applied
    self._amounts[claim_id] = (amounts & ~U128_MASK) | convert(outstanding, uint256)
    log RepaymentRecorded(
        claim_id=claim_id,
        recorded_by=msg.sender,
        amount=amount,
        applied=applied,
        outstanding=outstanding,
        receipt_hash=receipt_hash,
    )
    if outstanding == 0:
        self._cancel_pending(claim_id, self._owner(meta))
        self._meta[claim_id] = self._with_status(meta, STATUS_SETTLED)
        log ClaimSettled(claim_id=claim_id, settled_by=msg.sender, forgiven=0, settlement_hash=receipt_hash)


@external
def settle(claim_id: bytes32, settlement_hash: bytes32):
    """
    @notice The owner closes the claim as settled; what is left unpaid is forgiven.
    @param claim_id The claim.
    @param settlement_hash Hash of the settlement agreement.
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    self._check_active(self._status(meta))
    amounts: uint256 = self._amounts[claim_id]
    self._cancel_pending(claim_id, msg.sender)
    self._amounts[claim_id] = amounts & ~U128_MASK
    self._meta[claim_id] = self._with_status(meta, STATUS_SETTLED)
    log ClaimSettled(
        claim_id=claim_id,
        settled_by=msg.sender,
        forgiven=convert(amounts & U128_MASK, uint128),
        settlement_hash=settlement_hash,
    )


@external
def write_off(claim_id: bytes32):
    """
    @notice The owner writes the claim off at its outstanding amount; it can no longer be
            sold or collected.
    @param claim_id The claim.
    """
    meta: uint256 = self._meta_of(claim_id)
    self._check_owner(meta)
    self._check_not_closed(self._status(meta))
    self._cancel_pending(claim_id, msg.sender)
    self._meta[claim_id] = self._with_status(meta, STATUS_WRITTEN_OFF)
    log ClaimWrittenOff(
        claim_id=claim_id,
        written_off_by=msg.sender,
        outstanding=convert(self._amounts[claim_id] & U128_MASK, uint128),
    )


@external
def dispute(claim_id: bytes32, reason_hash: bytes32):
    """
    @notice Mark the claim disputed (by its owner, a court, or the gateway for the debtor).
            A pending sale is cancelled; a buy-back offer stands.
    @param claim_id The claim.
    @param reason_hash Hash of the dispute's grounds (kept off chain).
    """
    meta: uint256 = self._meta_of(claim_id)
    assert (
        self._owner(meta) == msg.sender
        or self._has_role(COURT, msg.sender)
        or self._has_role(GATEWAY, msg.sender)
    ), "registry: caller may not dispute"
    self._check_active(self._status(meta))
    if self._pending[claim_id] & BUY_BACK_FLAG == 0:
        self._cancel_pending(claim_id, self._owner(meta))
    self._meta[claim_id] = self._with_status(meta, STATUS_DISPUTED)
    log ClaimDisputed(claim_id=claim_id, disputed_by=msg.sender, reason_hash=reason_hash)


@external
def resolve_dispute(claim_id: bytes32, outstanding: uint128, resolution_hash: bytes32):
    """
    @notice End a dispute with the outstanding amount it fixed; zero settles the claim.
            The owner may only keep or lower the amount; a court may fix any amount up to
            the principal.
    @param claim_id The claim.
    @param outstanding The outstanding amount in minor units; at most the principal.
    @param resolution_hash Hash of the resolution (agreement or judgment).
    """
    meta: uint256 = self._meta_of(claim_id)
    assert self._owner(meta) == msg.sender or self._has_role(COURT, msg.sender), "registry: caller may not resolve"
    assert self._status(meta) == STATUS_DISPUTED, "registry: claim is not disputed"
    amounts: uint256 = self._amounts[claim_id]
    assert convert(outstanding, uint256) <= amounts >> 128, "registry: outstanding exceeds principal"
    if not self._has_role(COURT, msg.sender):
        # Only a court may fix a higher amount than the one in dispute.
        assert convert(outstanding, uint256) <= amounts & U128_MASK, "registry: owner may not raise the amount"
    self._amounts[claim_id] = (amounts & ~U128_MASK) | convert(outstanding, uint256)
    log DisputeResolved(
        claim_id=claim_id, resolved_by=msg.sender, outstanding=outstanding, resolution_hash=resolution_hash
    )
    if outstanding == 0:
        self._cancel_pending(claim_id, self._owner(meta))
        self._meta[claim_id] = self._with_status(meta, STATUS_SETTLED)
        log ClaimSettled(claim_id=claim_id, settled_by=msg.sender, forgiven=0, settlement_hash=resolution_hash)
    else:
        self._meta[claim_id] = self._with_status(meta, STATUS_ACTIVE)


# ---------------------------------------------------------------- views


@external
@view
def claims(claim_id: bytes32) -> Claim:
    """
    @notice The claim's current state; reverts for an unknown claim.
    @param claim_id The claim.
    @return owner, status (1 active, 2 settled, 3 written off, 4 disputed), due date (unix
            seconds), currency, principal and outstanding in minor units.
    """
    meta: uint256 = self._meta_of(claim_id)
    amounts: uint256 = self._amounts[claim_id]
    return Claim(
        owner=self._owner(meta),
        status=self._status(meta),
        due_date=convert((meta >> DUE_SHIFT) & U64_MASK, uint64),
        currency=convert(convert(meta >> CURRENCY_SHIFT << 232, bytes32), bytes3),
        principal=convert(amounts >> 128, uint128),
        outstanding=convert(amounts & U128_MASK, uint128),
    )


@external
@view
def exists(claim_id: bytes32) -> bool:
    """
    @notice Whether a claim with this id is registered.
    @param claim_id The claim.
    @return True when registered.
    """
    return self._meta[claim_id] != 0


@external
@view
def registered(claim_ids: DynArray[bytes32, MAX_BATCH]) -> DynArray[bool, MAX_BATCH]:
    """
    @notice For each id, whether it is registered: lets an import refuse duplicates before
            it sends anything.
    @param claim_ids Up to 1,000 claim ids.
    @return One flag per id, in order.
    """
    out: DynArray[bool, MAX_BATCH] = []
    for claim_id: bytes32 in claim_ids:
        out.append(self._meta[claim_id] != 0)
    return out


@external
@view
def pending_transfer(claim_id: bytes32) -> (address, bool):
    """
    @notice The claim's pending offer, if any.
    @param claim_id The claim.
    @return The proposed buyer (zero address: none) and whether it is a buy-back.
    """
    pending: uint256 = self._pending[claim_id]
    return convert(pending & ADDRESS_MASK, address), pending & BUY_BACK_FLAG != 0


@external
@view
def mandate_of(claim_id: bytes32) -> (address, uint64):
    """
    @notice The claim's mandate, if any (it may have expired).
    @param claim_id The claim.
    @return The agency (zero address: none) and the expiry, unix seconds.
    """
    mandate: uint256 = self._mandates[claim_id]
    return convert(mandate & ADDRESS_MASK, address), convert(mandate >> 160, uint64)


@external
@view
def is_mandated(claim_id: bytes32, agency: address) -> bool:
    """
    @notice Whether `agency` holds a live mandate for the claim at the current block time.
    @param claim_id The claim.
    @param agency The agency's address.
    @return True when mandated and not expired and the claim is active.
    """
    mandate: uint256 = self._mandates[claim_id]
    return (
        mandate != 0
        and convert(mandate & ADDRESS_MASK, address) == agency
        and (mandate >> 160) > block.timestamp
        and self._status(self._meta[claim_id]) == STATUS_ACTIVE
    )
