# pragma version ~=0.4.3
"""
@title DebtLedger repayment plans
@notice Instalment plans agreed by a claim's owner and its debtor: while a plan is kept,
        collection is paused and the claim is current; a missed instalment re-enters it.
@dev One plan per claim at a time; it belongs to the claim, not to the owner, so it
     survives a transfer. States: proposed (the owner's offer) -> active (the debtor
     consented through the gateway; CollectionPolicy.pause) -> completed (every instalment
     paid, or the claim settled) or broken (an instalment unpaid past its grace days;
     CollectionPolicy.resume from the missed due date). A broken plan may be re-aged or a
     new one proposed. Payments go to ClaimRegistry.record_repayment, so this contract holds
     the consortium's GATEWAY role. Storage: one header slot and one schedule-hash slot per
     plan, two instalments per slot; schedules are in full in the events.
@custom:contract-name RepaymentPlan
@license MIT
"""

interface IConsortium:
    def has_role(account: address, role: bytes32) -> bool: view


struct Claim:
    owner: address
    status: uint8
    due_date: uint64
    currency: bytes3
    principal: uint128
    outstanding: uint128


interface IClaimRegistry:
    def claims(claim_id: bytes32) -> Claim: view
    def record_repayment(claim_id: bytes32, amount: uint128, receipt_hash: bytes32): nonpayable


interface ICollectionPolicy:
    def is_enrolled(claim_id: bytes32) -> bool: view
    def pause(claim_id: bytes32): nonpayable
    def resume(claim_id: bytes32, since: uint256): nonpayable


# A plan as `plan_of` returns it.
struct Plan:
    state: uint8
    instalments: uint8
    next_instalment: uint8
    grace_days: uint16
    paid_into_next: uint128
    schedule_hash: bytes32


GATEWAY: public(constant(bytes32)) = keccak256("GATEWAY")

STATE_NONE: public(constant(uint8)) = 0
STATE_PROPOSED: public(constant(uint8)) = 1
STATE_ACTIVE: public(constant(uint8)) = 2
STATE_BROKEN: public(constant(uint8)) = 3
STATE_COMPLETED: public(constant(uint8)) = 4

MAX_INSTALMENTS: public(constant(uint256)) = 60
STATUS_ACTIVE: constant(uint8) = 1
STATUS_SETTLED: constant(uint8) = 2
DAY: constant(uint256) = 86400

# An instalment as given: due date, unix seconds (bits 128-167) | amount in minor units
# (bits 0-87); every other bit zero.
DUE_SHIFT_IN: constant(uint256) = 128

# Bit layout of a plan's header (`_plans`): state (0-7) | instalment count (8-15) | next
# unpaid instalment (16-23) | grace days (24-39) | amount already paid into the next
# instalment (40-127).
COUNT_SHIFT: constant(uint256) = 8
NEXT_SHIFT: constant(uint256) = 16
GRACE_SHIFT: constant(uint256) = 24
PAID_SHIFT: constant(uint256) = 40

# Bit layout of an instalment slot (`_instalments`): instalment 2k (bits 0-127) | instalment
# 2k+1 (128-255); each amount (0-87) | due date (88-127).
DUE_SHIFT: constant(uint256) = 88
U8: constant(uint256) = 255
U16: constant(uint256) = 65535
U40: constant(uint256) = 2**40 - 1
U88: constant(uint256) = 2**88 - 1
U128: constant(uint256) = 2**128 - 1


# @dev The consortium whose roles this contract trusts.
consortium: public(immutable(IConsortium))

# @dev The claim registry that records the payments.
registry: public(immutable(IClaimRegistry))

# @dev The collection policy that plans pause and resume.
policy: public(immutable(ICollectionPolicy))

# @dev claim id => plan header (layout above). Zero: never had a plan.
_plans: HashMap[bytes32, uint256]

# @dev claim id => keccak256 of the ABI encoding of the schedule (uint256[] of instalments).
_schedules: HashMap[bytes32, bytes32]

# @dev claim id => slot k => instalments 2k and 2k+1 (layout above).
_instalments: HashMap[bytes32, HashMap[uint256, uint256]]


# @dev The owner offered a plan; the debtor has not consented yet.
event PlanProposed:
    claim_id: indexed(bytes32)
    proposed_by: indexed(address)
    schedule_hash: bytes32
    grace_days: uint16
    instalments: DynArray[uint256, MAX_INSTALMENTS]


# @dev The debtor consented (recorded by the gateway): the plan is active, collection paused.
event PlanConsented:
    claim_id: indexed(bytes32)
    recorded_by: indexed(address)
    consent_hash: bytes32
    schedule_hash: bytes32


# @dev A payment under the plan was recorded with the registry and credited in order.
event PlanPaymentCredited:
    claim_id: indexed(bytes32)
    paid_by: indexed(address)
    amount: uint128
    next_instalment: uint8
    paid_into_next: uint128


# @dev An instalment is paid in full.
event InstalmentPaid:
    claim_id: indexed(bytes32)
    index: uint8
    due_date: uint64
    amount: uint128


# @dev An instalment was unpaid past its grace days: collection resumes from its due date.
event PlanBroken:
    claim_id: indexed(bytes32)
    index: uint8
    due_date: uint64
    grace_days: uint16


# @dev The owner and the debtor agreed a new schedule for an active or broken plan.
event PlanReaged:
    claim_id: indexed(bytes32)
    reaged_by: indexed(address)
    old_schedule_hash: bytes32
    new_schedule_hash: bytes32
    consent_hash: bytes32
    instalments: DynArray[uint256, MAX_INSTALMENTS]


# @dev Every instalment is paid, or the claim is settled.
event PlanCompleted:
    claim_id: indexed(bytes32)
    claim_settled: bool


@deploy
def __init__(consortium_: IConsortium, registry_: IClaimRegistry, policy_: ICollectionPolicy):
    """
    @notice Bind the plans to the consortium, the registry and the collection policy.
    @param consortium_ The Consortium contract.
    @param registry_ The ClaimRegistry contract.
    @param policy_ The CollectionPolicy contract (which must name this one in `set_plans`).
    """
    consortium = consortium_
    registry = registry_
    policy = policy_


# ---------------------------------------------------------------- internal functions


@internal
@view
def _is_gateway(account: address) -> bool:
    return staticcall consortium.has_role(account, GATEWAY)


@internal
@pure
def _state(header: uint256) -> uint8:
    return convert(header & U8, uint8)


@internal
@pure
def _with_state(header: uint256, state: uint8) -> uint256:
    return (header & ~U8) | convert(state, uint256)


@internal
@view
def _instalment(claim_id: bytes32, index: uint256) -> (uint256, uint256):
    # (due date, amount)
    half: uint256 = (self._instalments[claim_id][index // 2] >> (128 * (index % 2))) & U128
    return half >> DUE_SHIFT, half & U88


@internal
def _store(claim_id: bytes32, instalments: DynArray[uint256, MAX_INSTALMENTS]) -> bytes32:
    n: uint256 = len(instalments)
    assert n > 0, "plan: empty schedule"
    previous: uint256 = block.timestamp
    pair: uint256 = 0
    for i: uint256 in range(n, bound=MAX_INSTALMENTS):
        word: uint256 = instalments[i]
        due: uint256 = word >> DUE_SHIFT_IN
        amount: uint256 = word & U128
        assert amount != 0, "plan: instalment amount must be positive"
        assert amount <= U88 and due <= U40, "plan: malformed instalment"
        assert due > previous, "plan: due dates must be in the future and rise"
        previous = due
        pair |= ((due << DUE_SHIFT) | amount) << (128 * (i % 2))
        if i % 2 == 1 or i == n - 1:
            self._instalments[claim_id][i // 2] = pair
            pair = 0
    return keccak256(abi_encode(instalments))


@internal
@view
def _missed(claim_id: bytes32, header: uint256) -> (bool, uint256):
    # Whether the next unpaid instalment is past its grace days now; and its due date.
    index: uint256 = (header >> NEXT_SHIFT) & U8
    if index >= (header >> COUNT_SHIFT) & U8:
        return False, 0
    due: uint256 = 0
    amount: uint256 = 0
    due, amount = self._instalment(claim_id, index)
    return block.timestamp > due + ((header >> GRACE_SHIFT) & U16) * DAY, due


@internal
def _break(claim_id: bytes32, header: uint256, due: uint256):
    self._plans[claim_id] = self._with_state(header, STATE_BROKEN)
    log PlanBroken(
        claim_id=claim_id,
        index=convert((header >> NEXT_SHIFT) & U8, uint8),
        due_date=convert(due, uint64),
        grace_days=convert((header >> GRACE_SHIFT) & U16, uint16),
    )
    extcall policy.resume(claim_id, due)


@internal
def _credit(claim_id: bytes32, header: uint256, amount: uint256) -> uint256:
    count: uint256 = (header >> COUNT_SHIFT) & U8
    index: uint256 = (header >> NEXT_SHIFT) & U8
    paid: uint256 = (header >> PAID_SHIFT) & U88
    left: uint256 = amount
    for i: uint256 in range(MAX_INSTALMENTS):
        if left == 0 or index >= count:
            break
        due: uint256 = 0
        owed: uint256 = 0
        due, owed = self._instalment(claim_id, index)
        owed -= paid
        if left < owed:
            paid += left
            left = 0
            break
        left -= owed
        log InstalmentPaid(
            claim_id=claim_id,
            index=convert(index, uint8),
            due_date=convert(due, uint64),
            amount=convert(owed + paid, uint128),
        )
        index += 1
        paid = 0
    return (header & ((1 << NEXT_SHIFT) - 1)) | (header & (U16 << GRACE_SHIFT)) | (index << NEXT_SHIFT) | (paid << PAID_SHIFT)


# ---------------------------------------------------------------- plans


@external
def propose(claim_id: bytes32, instalments: DynArray[uint256, MAX_INSTALMENTS], grace_days: uint16):
    """
    @notice The claim's owner offers the debtor a plan; it replaces an earlier offer, a
            broken or a completed plan, not an active one (see `reage`).
    @param claim_id An active claim enrolled in the collection policy, owned by the caller.
    @param instalments 1 to 60 instalments, each packed as due date in unix seconds
           (bits 128-167) | amount in minor units, fen for CNY (bits 0-87, positive); due
           dates after the current block and strictly rising.
    @param grace_days Days after an instalment's due date before it counts as missed.
    """
    info: Claim = staticcall registry.claims(claim_id)
    assert info.owner == msg.sender, "plan: caller is not the owner"
    assert info.status == STATUS_ACTIVE, "plan: claim is not active"
    assert staticcall policy.is_enrolled(claim_id), "plan: claim not enrolled"
    assert self._state(self._plans[claim_id]) != STATE_ACTIVE, "plan: plan already active"
    schedule_hash: bytes32 = self._store(claim_id, instalments)
    self._plans[claim_id] = (
        convert(STATE_PROPOSED, uint256)
        | (len(instalments) << COUNT_SHIFT)
        | (convert(grace_days, uint256) << GRACE_SHIFT)
    )
    self._schedules[claim_id] = schedule_hash
    log PlanProposed(
        claim_id=claim_id,
        proposed_by=msg.sender,
        schedule_hash=schedule_hash,
        grace_days=grace_days,
        instalments=instalments,
    )


@external
def record_consent(claim_id: bytes32, consent_hash: bytes32):
    """
    @notice The gateway records the debtor's consent to the proposed plan: the plan is
            active and collection is paused (the claim is current). The gateway checks that
            the consent names the proposal's schedule hash, which PlanConsented logs.
    @param claim_id A claim with a proposed plan that is still active.
    @param consent_hash Hash of the debtor's consent record (kept off chain); not zero.
    """
    assert self._is_gateway(msg.sender), "plan: caller is not a gateway"
    header: uint256 = self._plans[claim_id]
    assert self._state(header) == STATE_PROPOSED, "plan: no proposed plan"
    assert consent_hash != empty(bytes32), "plan: empty consent"
    assert (staticcall registry.claims(claim_id)).status == STATUS_ACTIVE, "plan: claim is not active"
    self._plans[claim_id] = self._with_state(header, STATE_ACTIVE)
    log PlanConsented(
        claim_id=claim_id,
        recorded_by=msg.sender,
        consent_hash=consent_hash,
        schedule_hash=self._schedules[claim_id],
    )
    extcall policy.pause(claim_id)


@external
def pay(claim_id: bytes32, amount: uint128, receipt_hash: bytes32):
    """
    @notice Record a payment under the active plan with the registry and credit it to the
            instalments in order (a surplus goes on to the next ones). If the next
            instalment was already missed (past its grace days), the plan breaks first and
            the payment is recorded with the registry only: a late payment does not mend a
            broken plan; the outcome depends only on the block time, not on when a keeper
            looked. Paying the last instalment, or settling the claim, completes the plan;
            collection then resumes unless the claim is settled.
    @param claim_id A claim with an active plan.
    @param amount Amount paid in minor units (fen); positive.
    @param receipt_hash Hash of the payment receipt.
    """
    if not self._is_gateway(msg.sender):
        assert (staticcall registry.claims(claim_id)).owner == msg.sender, "plan: caller is not the owner or a gateway"
    header: uint256 = self._plans[claim_id]
    assert self._state(header) == STATE_ACTIVE, "plan: no active plan"
    missed: bool = False
    due: uint256 = 0
    missed, due = self._missed(claim_id, header)
    if missed:
        self._break(claim_id, header, due)
        extcall registry.record_repayment(claim_id, amount, receipt_hash)
        return
    extcall registry.record_repayment(claim_id, amount, receipt_hash)
    header = self._credit(claim_id, header, convert(amount, uint256))
    index: uint256 = (header >> NEXT_SHIFT) & U8
    log PlanPaymentCredited(
        claim_id=claim_id,
        paid_by=msg.sender,
        amount=amount,
        next_instalment=convert(index, uint8),
        paid_into_next=convert((header >> PAID_SHIFT) & U88, uint128),
    )
    settled: bool = (staticcall registry.claims(claim_id)).status == STATUS_SETTLED
    if index == (header >> COUNT_SHIFT) & U8 or settled:
        header = self._with_state(header, STATE_COMPLETED)
        log PlanCompleted(claim_id=claim_id, claim_settled=settled)
        self._plans[claim_id] = header
        if not settled:
            extcall policy.resume(claim_id, block.timestamp)
        return
    self._plans[claim_id] = header


@external
def check_missed(claim_id: bytes32) -> bool:
    """
    @notice Anyone (a keeper): if the active plan's next instalment is unpaid past its due
            date plus the grace days (block time strictly after), the plan breaks and
            collection resumes from that due date. Otherwise nothing happens and nothing
            reverts: a second call, or a call for a claim with no active plan, returns False.
    @param claim_id The claim.
    @return True when this call broke the plan.
    """
    header: uint256 = self._plans[claim_id]
    if self._state(header) != STATE_ACTIVE:
        return False
    missed: bool = False
    due: uint256 = 0
    missed, due = self._missed(claim_id, header)
    if not missed:
        return False
    self._break(claim_id, header, due)
    return True


@external
def reage(claim_id: bytes32, instalments: DynArray[uint256, MAX_INSTALMENTS], consent_hash: bytes32):
    """
    @notice The owner replaces the schedule of an active or broken plan with one the debtor
            agreed to; the plan is active again from its first new instalment (what was paid
            into the old schedule is in the registry's outstanding amount) and a broken plan
            pauses collection again. Grace days stay.
    @param claim_id A claim with an active or broken plan, owned by the caller, still active.
    @param instalments The new schedule, as for `propose`.
    @param consent_hash Hash of the debtor's consent to the new schedule; not zero.
    """
    info: Claim = staticcall registry.claims(claim_id)
    assert info.owner == msg.sender, "plan: caller is not the owner"
    header: uint256 = self._plans[claim_id]
    state: uint8 = self._state(header)
    assert state == STATE_ACTIVE or state == STATE_BROKEN, "plan: no plan to re-age"
    assert consent_hash != empty(bytes32), "plan: empty consent"
    assert info.status == STATUS_ACTIVE, "plan: claim is not active"
    old_hash: bytes32 = self._schedules[claim_id]
    new_hash: bytes32 = self._store(claim_id, instalments)
    self._plans[claim_id] = (
        convert(STATE_ACTIVE, uint256)
        | (len(instalments) << COUNT_SHIFT)
        | (header & (U16 << GRACE_SHIFT))
    )
    self._schedules[claim_id] = new_hash
    log PlanReaged(
        claim_id=claim_id,
        reaged_by=msg.sender,
        old_schedule_hash=old_hash,
        new_schedule_hash=new_hash,
        consent_hash=consent_hash,
        instalments=instalments,
    )
    if state == STATE_BROKEN:
        extcall policy.pause(claim_id)


# ---------------------------------------------------------------- views


@external
@view
def plan_of(claim_id: bytes32) -> Plan:
    """
    @notice The claim's plan (all zero: never had one).
    @param claim_id The claim.
    @return State (0 none, 1 proposed, 2 active, 3 broken, 4 completed), number of
            instalments, index of the next unpaid one, grace days, amount already paid into
            the next one (minor units) and the schedule hash.
    """
    header: uint256 = self._plans[claim_id]
    return Plan(
        state=self._state(header),
        instalments=convert((header >> COUNT_SHIFT) & U8, uint8),
        next_instalment=convert((header >> NEXT_SHIFT) & U8, uint8),
        grace_days=convert((header >> GRACE_SHIFT) & U16, uint16),
        paid_into_next=convert((header >> PAID_SHIFT) & U88, uint128),
        schedule_hash=self._schedules[claim_id],
    )


@external
@view
def instalments_of(claim_id: bytes32) -> DynArray[uint256, MAX_INSTALMENTS]:
    """
    @notice The plan's schedule, packed as `propose` takes it.
    @param claim_id The claim.
    @return The instalments (empty: no plan).
    """
    out: DynArray[uint256, MAX_INSTALMENTS] = []
    count: uint256 = (self._plans[claim_id] >> COUNT_SHIFT) & U8
    for i: uint256 in range(count, bound=MAX_INSTALMENTS):
        due: uint256 = 0
        amount: uint256 = 0
        due, amount = self._instalment(claim_id, i)
        out.append((due << DUE_SHIFT_IN) | amount)
    return out
