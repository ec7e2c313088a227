# pragma version ~=0.4.3
"""
@title DebtLedger collection policy
@notice The collection rules of the consortium: stages by days past due, channels and kinds
        of contact per stage, contact hours, frequency caps shared across creditors.
        `authorize_contact` either logs ContactAuthorized or reverts with the rule that refused.
@dev Messages: a rule's refusal reverts "policy: <rule>" (debtledger.domain.policies.RULE_NAMES,
     in the order they are checked); every other refusal (caller, input, state) starts
     "collection: ". Storage is one packed slot per policy, one per claim plus its debtor
     pseudonym, one per debtor and one per contact, and for a coordinated debtor one more
     plus one per creditor; the rest is in events.
     Days past due are whole 86,400-second days since the due date, paused time excluded:
     (now - due - paused) // 86400, at least 0. Contact hours and "today" for the daily cap
     are in the debtor's local time (block time + the claim's UTC offset). Times are kept in
     40 bits (claims) and 32 bits (debtor contacts: valid until 2106).
     Coordinated debtors (a debtor of several creditors): an account with the consortium's
     KEEPER role (the consortium's coordination service) divides the debtor's 7-day
     budget of capped contacts among its creditors (`set_budget_shares`). Until the
     release point of each week a creditor's claims may use only its part
     (creditor-budget); from then on to the end of the week, the parts the others left
     unused are free to all and only the policy's caps apply. Weeks run from Monday 00:00
     UTC (the first from 1970-01-05); the release point is RELEASE_OFFSET after it
     (Thursday 00:00 UTC). On a coordinated debtor two parties do not make capped contacts
     on the same local day (calendar).
@custom:contract-name CollectionPolicy
@license MIT
"""

interface IConsortium:
    def has_role(account: address, role: bytes32) -> bool: view
    def admin() -> address: view


struct Claim:
    owner: address
    status: uint8
    due_date: uint64
    currency: bytes3
    principal: uint128
    outstanding: uint128


interface IClaimRegistry:
    def claims(claim_id: bytes32) -> Claim: view
    def exists(claim_id: bytes32) -> bool: view
    def is_mandated(claim_id: bytes32, agency: address) -> bool: view
    def mandate_of(claim_id: bytes32) -> (address, uint64): view


# A policy's parameters, as `set_policy` takes them and `policy_of` returns them. Zero in a
# cap, wait or period turns that rule off.
struct Params:
    # first day past due of stages 1-4 (stage 0 is current); from 1, strictly rising
    stage_days: uint16[4]
    # per stage 0-4: bit c set when channel c (0 sms, 1 email, 2 voice, 3 letter, 4 visit)
    # is allowed
    channels: uint8[5]
    # per stage 0-4: bit k set when kind k (0 reminder, 1 collection, 2 third party,
    # 3 credit report, 4 legal) is allowed
    kinds: uint8[5]
    # contact window [contact_start, contact_end), minutes of the debtor's local day
    contact_start: uint16
    contact_end: uint16
    # capped contacts of a debtor per local day, across every creditor and agency (0-7)
    max_daily: uint8
    # capped contacts of a debtor in any 604,800 seconds, across every creditor (0-7)
    max_weekly: uint8
    # channels the daily and weekly caps and the cooling-off apply to (bitmask)
    capped_channels: uint8
    # seconds after a conversation with the debtor during which capped channels are refused
    cooling_off: uint32
    # unanswered attempts on the claim before third parties may be contacted
    third_party_after: uint8
    # days after the claim's first contact before a credit-bureau report
    credit_report_wait_days: uint16
    # lowest stage at which legal action may be taken
    legal_min_stage: uint8
    # days after the due date from which the debt is time-barred (no legal action)
    limitation_days: uint16


# What the contract holds for an enrolled claim, unpacked (`enrolment`).
struct Enrolment:
    policy_id: bytes32
    debtor: bytes32
    tz_offset_minutes: int16
    due_date: uint64
    stage: uint8
    paused_since: uint64
    paused_seconds: uint64
    failed_attempts: uint8
    first_contact: uint64


CREDITOR: public(constant(bytes32)) = keccak256("CREDITOR")
GATEWAY: public(constant(bytes32)) = keccak256("GATEWAY")
KEEPER: public(constant(bytes32)) = keccak256("KEEPER")

STATUS_ACTIVE: constant(uint8) = 1
STAGES: constant(uint256) = 5
CHANNELS: constant(uint8) = 5
KINDS: constant(uint8) = 5
KIND_REMINDER: constant(uint8) = 0
KIND_THIRD_PARTY: constant(uint8) = 2
KIND_CREDIT_REPORT: constant(uint8) = 3
KIND_LEGAL: constant(uint8) = 4
OUTCOME_UNANSWERED: constant(uint8) = 2
OUTCOME_CONVERSATION: constant(uint8) = 3
OUTCOME_PROMISE_TO_PAY: constant(uint8) = 4
MAX_CAP: constant(uint8) = 7
MAX_MASK: constant(uint8) = 31
MIN_OFFSET: constant(int16) = -720
MAX_OFFSET: constant(int16) = 840
MAX_ADVANCE: public(constant(uint256)) = 200
DAY: constant(uint256) = 86400
WEEK: constant(uint256) = 7 * 86400

# Rule codes: the position in RULE_NAMES, from 1 (0: allowed).
R_NOT_MANDATED: constant(uint256) = 1
R_CLAIM_INACTIVE: constant(uint256) = 2
R_NOT_ENROLLED: constant(uint256) = 3
R_COLLECTION_PAUSED: constant(uint256) = 4
R_CHANNEL: constant(uint256) = 5
R_KIND: constant(uint256) = 6
R_CONTACT_HOURS: constant(uint256) = 7
R_DAILY: constant(uint256) = 8
R_WEEKLY: constant(uint256) = 9
R_CREDITOR_BUDGET: constant(uint256) = 10
R_CALENDAR: constant(uint256) = 11
R_COOLING_OFF: constant(uint256) = 12
R_THIRD_PARTY: constant(uint256) = 13
R_CREDIT_REPORT_WAIT: constant(uint256) = 14
R_LEGAL_STAGE: constant(uint256) = 15
R_TIME_BARRED: constant(uint256) = 16

# Bit layout of a packed policy (`_params`): stage days 4 x 16 bits (0-63) | channel masks
# 5 x 5 bits (64-88) | kind masks 5 x 5 bits (89-113) | window start (114-124) | window end
# (125-135) | daily cap (136-139) | weekly cap (140-143) | capped channels (144-148) |
# cooling-off seconds (149-180) | third party after (181-188) | credit report wait days
# (189-204) | legal min stage (205-207) | limitation days (208-223).
CHANNELS_SHIFT: constant(uint256) = 64
KINDS_SHIFT: constant(uint256) = 89
START_SHIFT: constant(uint256) = 114
END_SHIFT: constant(uint256) = 125
DAILY_SHIFT: constant(uint256) = 136
WEEKLY_SHIFT: constant(uint256) = 140
CAPPED_SHIFT: constant(uint256) = 144
COOLING_SHIFT: constant(uint256) = 149
THIRD_SHIFT: constant(uint256) = 181
CREDIT_SHIFT: constant(uint256) = 189
LEGAL_SHIFT: constant(uint256) = 205
LIMIT_SHIFT: constant(uint256) = 208

# Bit layout of a claim's enrolment (`_claims`): due date (0-39) | start of the current
# pause, 0 when not paused (40-79) | seconds of ended pauses (80-119) | first contact
# (120-159) | UTC offset in minutes + 720 (160-175) | stored stage (176-183) | unanswered
# attempts (184-191) | policy number (192-223) | claim number (224-255).
SINCE_SHIFT: constant(uint256) = 40
PAUSED_SHIFT: constant(uint256) = 80
FIRST_SHIFT: constant(uint256) = 120
TZ_SHIFT: constant(uint256) = 160
STAGE_SHIFT: constant(uint256) = 176
FAILED_SHIFT: constant(uint256) = 184
POLICY_SHIFT: constant(uint256) = 192
NUMBER_SHIFT: constant(uint256) = 224
TZ_BIAS: constant(uint256) = 720

# Bit layout of a debtor's contacts (`_debtors`): times of the last 7 capped contacts,
# 32 bits each, newest in bits 0-31 (0-223) | last conversation (224-255).
RING_MASK: constant(uint256) = (1 << 224) - 1
CONV_SHIFT: constant(uint256) = 224

# Bit layout of a contact (`_contacts`): agency (0-159) | claim number (160-191) |
# outcome, 0 until recorded (192-199).
CLAIM_NO_SHIFT: constant(uint256) = 160
OUTCOME_SHIFT: constant(uint256) = 192

# Bit layout of a policy's entry (`_policies`): owner, zero for the consortium (0-159) |
# policy number (160-191). Zero: no such policy.
ADDRESS_MASK: constant(uint256) = (1 << 160) - 1

# Coordination of a debtor's creditors. Creditors with a part of the budget, at most.
MAX_SHARES: public(constant(uint256)) = 10
# Seconds from the start of a week (Monday 00:00 UTC) to the release point, from which a
# creditor may use the budget the others left unused: Thursday 00:00 UTC.
RELEASE_OFFSET: public(constant(uint256)) = 3 * 86400
# (t + WEEK_SHIFT) % WEEK: seconds since Monday 00:00 UTC (unix time 0 was a Thursday).
WEEK_SHIFT: constant(uint256) = 3 * 86400

# Bit layout of a debtor's coordination (`_coordination`): generation of the shares,
# counting every `set_budget_shares` (0-23) | shares in force (24) | who the last capped
# contact while in force was for, the agency or the owner (32-191) | its time (192-223).
ACTIVE_BIT: constant(uint256) = 1 << 24
PARTY_SHIFT: constant(uint256) = 32
PARTY_AT_SHIFT: constant(uint256) = 192

# Bit layout of a creditor's budget at a debtor (`_budgets`): times of the creditor's last
# 7 capped contacts with the debtor while in force, 32 bits each, newest in bits 0-31
# (0-223) | its part (224-231) | generation of the shares that gave the part (232-255).
PART_SHIFT: constant(uint256) = 224
GEN_SHIFT: constant(uint256) = 232
U24: constant(uint256) = 2**24 - 1
U3: constant(uint256) = 7
U4: constant(uint256) = 15
U5: constant(uint256) = 31
U8: constant(uint256) = 255
U11: constant(uint256) = 2047
U16: constant(uint256) = 65535
U32: constant(uint256) = 2**32 - 1
U40: constant(uint256) = 2**40 - 1


# @dev The consortium whose roles this policy trusts.
consortium: public(immutable(IConsortium))

# @dev The claim registry: owners, mandates, due dates and statuses.
registry: public(immutable(IClaimRegistry))

# @dev The RepaymentPlan contract: the only caller of `pause` and `resume`.
plans: public(address)

# @dev Policies ever set; policy numbers run from 1.
policy_count: public(uint256)

# @dev Claims ever enrolled; claim numbers run from 1.
claim_count: public(uint256)

# @dev Contacts ever authorised; the last contact id.
contact_count: public(uint256)

# @dev policy id => owner (bits 0-159, zero: the consortium) | policy number (160-191).
_policies: HashMap[bytes32, uint256]

# @dev policy number => the policy packed (layout above the constants).
_params: HashMap[uint256, uint256]

# @dev policy number => policy id.
_policy_ids: HashMap[uint256, bytes32]

# @dev claim id => enrolment packed (layout above the constants). Zero: not enrolled.
_claims: HashMap[bytes32, uint256]

# @dev claim id => debtor pseudonym, as the owner gave it at enrolment.
_debtor_of: HashMap[bytes32, bytes32]

# @dev claim number => claim id.
_claim_ids: HashMap[uint256, bytes32]

# @dev debtor pseudonym => last 7 capped contacts | last conversation (layout above).
_debtors: HashMap[bytes32, uint256]

# @dev contact id => agency | claim number | outcome (layout above). Zero: no such contact.
_contacts: HashMap[uint256, uint256]

# @dev debtor pseudonym => generation of the budget shares | in force | the last capped
#      contact's party and time (layout above). Zero: never coordinated.
_coordination: HashMap[bytes32, uint256]

# @dev debtor pseudonym => creditor => the creditor's recent capped contacts with the
#      debtor | its part | generation (layout above).
_budgets: HashMap[bytes32, HashMap[address, uint256]]


# @dev A policy was created or changed; `owner` is zero for a consortium preset.
event PolicySet:
    policy_id: indexed(bytes32)
    owner: indexed(address)
    set_by: indexed(address)
    params: Params


# @dev The owner enrolled a claim (again) under a policy, for a debtor in a time zone.
event ClaimEnrolled:
    claim_id: indexed(bytes32)
    debtor: indexed(bytes32)
    policy_id: indexed(bytes32)
    tz_offset_minutes: int16
    enrolled_by: address


# @dev A contact passed every rule; the gateway may make it now.
event ContactAuthorized:
    contact_id: uint256
    claim_id: indexed(bytes32)
    debtor: indexed(bytes32)
    agency: indexed(address)
    channel: uint8
    kind: uint8
    at: uint64


# @dev How an authorised contact went (1 answered, 2 unanswered, 3 conversation,
#      4 promise to pay).
event OutcomeRecorded:
    claim_id: indexed(bytes32)
    recorded_by: indexed(address)
    contact_id: uint256
    outcome: uint8
    at: uint64


# @dev The claim's stored stage moved (keeper, pause or resume).
event StageChanged:
    claim_id: indexed(bytes32)
    from_stage: uint8
    to_stage: uint8
    days_past_due: uint256


# @dev A repayment plan paused collection; days past due stand still from `since`.
event CollectionPaused:
    claim_id: indexed(bytes32)
    since: uint64
    days_past_due: uint256


# @dev Collection resumed; the pause ended at `since`. `paused_seconds`: all pauses so far.
event CollectionResumed:
    claim_id: indexed(bytes32)
    since: uint64
    paused_seconds: uint64


# @dev The coordinator divided the debtor's 7-day budget of capped contacts among its
#      creditors: `parts[i]` contacts for `creditors[i]` (empty lists: no division).
event BudgetSharesSet:
    debtor: indexed(bytes32)
    set_by: indexed(address)
    creditors: DynArray[address, MAX_SHARES]
    parts: DynArray[uint8, MAX_SHARES]


# @dev The consortium admin named the RepaymentPlan contract.
event PlansSet:
    previous: indexed(address)
    plans: indexed(address)
    set_by: indexed(address)


@deploy
def __init__(consortium_: IConsortium, registry_: IClaimRegistry):
    """
    @notice Bind the policy to the consortium whose roles it trusts and to the registry.
    @param consortium_ The Consortium contract.
    @param registry_ The ClaimRegistry contract.
    """
    consortium = consortium_
    registry = registry_


# ---------------------------------------------------------------- internal functions


@internal
@view
def _has_role(role: bytes32, account: address) -> bool:
    return staticcall consortium.has_role(account, role)


@internal
@view
def _check_admin():
    assert msg.sender == staticcall consortium.admin(), "collection: caller is not the admin"


@internal
@view
def _check_plans():
    assert msg.sender == self.plans, "collection: caller is not the plans contract"


@internal
@view
def _check_agency_or_gateway(agency: address):
    if msg.sender != agency:
        assert self._has_role(GATEWAY, msg.sender), "collection: caller is not the agency or a gateway"


@internal
@view
def _enrolled(claim_id: bytes32) -> uint256:
    c: uint256 = self._claims[claim_id]
    assert c != 0, "collection: claim not enrolled"
    return c


@internal
@pure
def _with(word: uint256, at: uint256, mask: uint256, field: uint256) -> uint256:
    return (word & ~(mask << at)) | (field << at)


@internal
@pure
def _pack(p: Params) -> uint256:
    packed: uint256 = 0
    for i: uint256 in range(4):
        packed |= convert(p.stage_days[i], uint256) << (16 * i)
    for s: uint256 in range(STAGES):
        packed |= convert(p.channels[s], uint256) << (CHANNELS_SHIFT + 5 * s)
        packed |= convert(p.kinds[s], uint256) << (KINDS_SHIFT + 5 * s)
    return (
        packed
        | (convert(p.contact_start, uint256) << START_SHIFT)
        | (convert(p.contact_end, uint256) << END_SHIFT)
        | (convert(p.max_daily, uint256) << DAILY_SHIFT)
        | (convert(p.max_weekly, uint256) << WEEKLY_SHIFT)
        | (convert(p.capped_channels, uint256) << CAPPED_SHIFT)
        | (convert(p.cooling_off, uint256) << COOLING_SHIFT)
        | (convert(p.third_party_after, uint256) << THIRD_SHIFT)
        | (convert(p.credit_report_wait_days, uint256) << CREDIT_SHIFT)
        | (convert(p.legal_min_stage, uint256) << LEGAL_SHIFT)
        | (convert(p.limitation_days, uint256) << LIMIT_SHIFT)
    )


@internal
@pure
def _unpack(packed: uint256) -> Params:
    p: Params = empty(Params)
    for i: uint256 in range(4):
        p.stage_days[i] = convert((packed >> (16 * i)) & U16, uint16)
    for s: uint256 in range(STAGES):
        p.channels[s] = convert((packed >> (CHANNELS_SHIFT + 5 * s)) & U5, uint8)
        p.kinds[s] = convert((packed >> (KINDS_SHIFT + 5 * s)) & U5, uint8)
    p.contact_start = convert((packed >> START_SHIFT) & U11, uint16)
    p.contact_end = convert((packed >> END_SHIFT) & U11, uint16)
    p.max_daily = convert((packed >> DAILY_SHIFT) & U4, uint8)
    p.max_weekly = convert((packed >> WEEKLY_SHIFT) & U4, uint8)
    p.capped_channels = convert((packed >> CAPPED_SHIFT) & U5, uint8)
    p.cooling_off = convert((packed >> COOLING_SHIFT) & U32, uint32)
    p.third_party_after = convert((packed >> THIRD_SHIFT) & U8, uint8)
    p.credit_report_wait_days = convert((packed >> CREDIT_SHIFT) & U16, uint16)
    p.legal_min_stage = convert((packed >> LEGAL_SHIFT) & U3, uint8)
    p.limitation_days = convert((packed >> LIMIT_SHIFT) & U16, uint16)
    return p


@internal
@pure
def _check_params(p: Params):
    previous: uint16 = 0
    for d: uint16 in p.stage_days:
        assert d > previous, "collection: stage days must rise from 1"
        previous = d
    for s: uint256 in range(STAGES):
        assert p.channels[s] <= MAX_MASK and p.kinds[s] <= MAX_MASK, "collection: mask out of range"
    assert p.capped_channels <= MAX_MASK, "collection: mask out of range"
    assert p.contact_start < p.contact_end and p.contact_end <= 1440, "collection: bad contact window"
    assert p.max_daily <= MAX_CAP and p.max_weekly <= MAX_CAP, "collection: cap above 7"
    assert convert(p.legal_min_stage, uint256) < STAGES, "collection: legal stage above 4"


@internal
@pure
def _days_past_due(c: uint256, now: uint256) -> uint256:
    due: uint256 = c & U40
    paused: uint256 = (c >> PAUSED_SHIFT) & U40
    since: uint256 = (c >> SINCE_SHIFT) & U40
    if since != 0 and now > since:
        paused += now - since
    if now <= due + paused:
        return 0
    return (now - due - paused) // DAY


@internal
@pure
def _stage_for(p: uint256, dpd: uint256) -> uint256:
    stage: uint256 = 0
    for i: uint256 in range(4):
        if dpd < (p >> (16 * i)) & U16:
            break
        stage += 1
    return stage


@internal
@view
def _due_stage(c: uint256, dpd: uint256) -> uint256:
    # A plan in good standing keeps the claim current.
    if (c >> SINCE_SHIFT) & U40 != 0:
        return 0
    return self._stage_for(self._params[(c >> POLICY_SHIFT) & U32], dpd)


@internal
@view
def _requester_rule(claim_id: bytes32, enrolled: bool, agency: address) -> uint256:
    # The usual case, an agency with a live mandate, costs one call.
    if staticcall registry.is_mandated(claim_id, agency):
        return 0
    if not enrolled and not staticcall registry.exists(claim_id):
        return R_NOT_MANDATED
    info: Claim = staticcall registry.claims(claim_id)
    if info.owner != agency:
        mandatee: address = empty(address)
        expiry: uint64 = 0
        mandatee, expiry = staticcall registry.mandate_of(claim_id)
        if mandatee != agency or convert(expiry, uint256) <= block.timestamp:
            return R_NOT_MANDATED
    if info.status != STATUS_ACTIVE:
        return R_CLAIM_INACTIVE
    return 0


@internal
@pure
def _frequency_rule(p: uint256, d: uint256, now: uint256, tz_shift: uint256) -> uint256:
    # tz_shift: (UTC offset + 720 minutes) in seconds; local time = t + tz_shift - 12 h.
    bias: uint256 = TZ_BIAS * 60
    today: uint256 = (now + tz_shift - bias) // DAY
    day: uint256 = 0
    week: uint256 = 0
    for i: uint256 in range(7):
        t: uint256 = (d >> (32 * i)) & U32
        if t == 0 or t + WEEK <= now:
            break  # entries are newest first: every older one is out of the week too
        week += 1
        if (t + tz_shift - bias) // DAY == today:
            day += 1
    daily: uint256 = (p >> DAILY_SHIFT) & U4
    if daily != 0 and day >= daily:
        return R_DAILY
    weekly: uint256 = (p >> WEEKLY_SHIFT) & U4
    if weekly != 0 and week >= weekly:
        return R_WEEKLY
    return 0


@internal
@pure
def _cooling_rule(p: uint256, d: uint256, now: uint256) -> uint256:
    cooling: uint256 = (p >> COOLING_SHIFT) & U32
    conversation: uint256 = d >> CONV_SHIFT
    if cooling != 0 and conversation != 0 and now < conversation + cooling:
        return R_COOLING_OFF
    return 0


@internal
@pure
def _released(now: uint256) -> bool:
    return (now + WEEK_SHIFT) % WEEK >= RELEASE_OFFSET


@internal
@view
def _coordination_rule(claim_id: bytes32, agency: address, now: uint256, tz_shift: uint256) -> (uint256, address):
    # Returns (rule code or 0, the claim's owner); the owner is zero when the claim's debtor
    # is not coordinated (no shares in force): then nothing here applies.
    w: uint256 = self._coordination[self._debtor_of[claim_id]]
    if w & ACTIVE_BIT == 0:
        return 0, empty(address)
    owner: address = (staticcall registry.claims(claim_id)).owner
    if not self._released(now):
        b: uint256 = self._budgets[self._debtor_of[claim_id]][owner]
        part: uint256 = 0
        if b >> GEN_SHIFT == w & U24:
            part = (b >> PART_SHIFT) & U8
        used: uint256 = 0
        for i: uint256 in range(7):
            t: uint256 = (b >> (32 * i)) & U32
            if t == 0 or t + WEEK <= now:
                break  # newest first, as the debtor's own ring
            used += 1
        if used >= part:
            return R_CREDITOR_BUDGET, owner
    party: uint256 = (w >> PARTY_SHIFT) & ADDRESS_MASK
    if party != 0 and party != convert(agency, uint256):
        bias: uint256 = TZ_BIAS * 60
        last: uint256 = (w >> PARTY_AT_SHIFT) & U32
        if (last + tz_shift - bias) // DAY == (now + tz_shift - bias) // DAY:
            return R_CALENDAR, owner
    return 0, owner


@internal
@view
def _evaluate(claim_id: bytes32, channel: uint8, kind: uint8, agency: address) -> (uint256, uint256, uint256, bool, address):
    # Returns (rule code or 0, claim enrolment, debtor contacts, whether the channel is capped,
    # the claim's owner when its debtor is coordinated and the channel capped, else zero).
    c: uint256 = self._claims[claim_id]
    rule: uint256 = self._requester_rule(claim_id, c != 0, agency)
    if rule != 0:
        return rule, c, 0, False, empty(address)
    if c == 0:
        return R_NOT_ENROLLED, c, 0, False, empty(address)
    paused: bool = (c >> SINCE_SHIFT) & U40 != 0
    if paused and kind != KIND_REMINDER:
        return R_COLLECTION_PAUSED, c, 0, False, empty(address)
    now: uint256 = block.timestamp
    p: uint256 = self._params[(c >> POLICY_SHIFT) & U32]
    stage: uint256 = 0
    if not paused:
        stage = self._stage_for(p, self._days_past_due(c, now))
    ch: uint256 = convert(channel, uint256)
    kd: uint256 = convert(kind, uint256)
    if (p >> (CHANNELS_SHIFT + 5 * stage + ch)) & 1 == 0:
        return R_CHANNEL, c, 0, False, empty(address)
    if (p >> (KINDS_SHIFT + 5 * stage + kd)) & 1 == 0:
        return R_KIND, c, 0, False, empty(address)
    tz_shift: uint256 = ((c >> TZ_SHIFT) & U16) * 60
    minute: uint256 = (now + tz_shift - TZ_BIAS * 60) % DAY // 60
    if minute < (p >> START_SHIFT) & U11 or minute >= (p >> END_SHIFT) & U11:
        return R_CONTACT_HOURS, c, 0, False, empty(address)
    capped: bool = (p >> (CAPPED_SHIFT + ch)) & 1 == 1
    d: uint256 = 0
    owner: address = empty(address)
    if capped:
        d = self._debtors[self._debtor_of[claim_id]]
        rule = self._frequency_rule(p, d, now, tz_shift)
        if rule == 0:
            rule, owner = self._coordination_rule(claim_id, agency, now, tz_shift)
        if rule == 0:
            rule = self._cooling_rule(p, d, now)
        if rule != 0:
            return rule, c, d, capped, owner
    if kind == KIND_THIRD_PARTY and (c >> FAILED_SHIFT) & U8 < (p >> THIRD_SHIFT) & U8:
        return R_THIRD_PARTY, c, d, capped, owner
    if kind == KIND_CREDIT_REPORT:
        first: uint256 = (c >> FIRST_SHIFT) & U40
        if first == 0 or now < first + ((p >> CREDIT_SHIFT) & U16) * DAY:
            return R_CREDIT_REPORT_WAIT, c, d, capped, owner
    if kind == KIND_LEGAL:
        if stage < (p >> LEGAL_SHIFT) & U3:
            return R_LEGAL_STAGE, c, d, capped, owner
        limitation: uint256 = (p >> LIMIT_SHIFT) & U16
        if limitation != 0 and now >= (c & U40) + limitation * DAY:
            return R_TIME_BARRED, c, d, capped, owner
    return 0, c, d, capped, owner


@internal
@pure
def _refuse(rule: uint256):
    assert rule != R_NOT_MANDATED, "policy: not-mandated"
    assert rule != R_CLAIM_INACTIVE, "policy: claim-inactive"
    assert rule != R_NOT_ENROLLED, "policy: not-enrolled"
    assert rule != R_COLLECTION_PAUSED, "policy: collection-paused"
    assert rule != R_CHANNEL, "policy: channel-not-allowed"
    assert rule != R_KIND, "policy: kind-not-allowed"
    assert rule != R_CONTACT_HOURS, "policy: contact-hours"
    assert rule != R_DAILY, "policy: daily-attempts"
    assert rule != R_WEEKLY, "policy: weekly-contacts"
    assert rule != R_CREDITOR_BUDGET, "policy: creditor-budget"
    assert rule != R_CALENDAR, "policy: calendar"
    assert rule != R_COOLING_OFF, "policy: cooling-off"
    assert rule != R_THIRD_PARTY, "policy: third-party"
    assert rule != R_CREDIT_REPORT_WAIT, "policy: credit-report-wait"
    assert rule != R_LEGAL_STAGE, "policy: legal-stage"
    assert rule != R_TIME_BARRED, "policy: time-barred"


@internal
@pure
def _rule_name(rule: uint256) -> String[40]:
    if rule == R_NOT_MANDATED:
        return "not-mandated"
    if rule == R_CLAIM_INACTIVE:
        return "claim-inactive"
    if rule == R_NOT_ENROLLED:
        return "not-enrolled"
    if rule == R_COLLECTION_PAUSED:
        return "collection-paused"
    if rule == R_CHANNEL:
        return "channel-not-allowed"
    if rule == R_KIND:
        return "kind-not-allowed"
    if rule == R_CONTACT_HOURS:
        return "contact-hours"
    if rule == R_DAILY:
        return "daily-attempts"
    if rule == R_WEEKLY:
        return "weekly-contacts"
    if rule == R_CREDITOR_BUDGET:
        return "creditor-budget"
    if rule == R_CALENDAR:
        return "calendar"
    if rule == R_COOLING_OFF:
        return "cooling-off"
    if rule == R_THIRD_PARTY:
        return "third-party"
    if rule == R_CREDIT_REPORT_WAIT:
        return "credit-report-wait"
    if rule == R_LEGAL_STAGE:
        return "legal-stage"
    if rule == R_TIME_BARRED:
        return "time-barred"
    return ""


@internal
def _move_stage(claim_id: bytes32, c: uint256, to_stage: uint256, dpd: uint256) -> uint256:
    from_stage: uint256 = (c >> STAGE_SHIFT) & U8
    if from_stage == to_stage:
        return c
    log StageChanged(
        claim_id=claim_id,
        from_stage=convert(from_stage, uint8),
        to_stage=convert(to_stage, uint8),
        days_past_due=dpd,
    )
    return self._with(c, STAGE_SHIFT, U8, to_stage)


# ---------------------------------------------------------------- policies


@external
def set_policy(policy_id: bytes32, params: Params):
    """
    @notice Create or change a policy. The consortium admin sets presets (owned by the
            consortium); a creditor sets its own. The first setter owns the id: only it (or,
            for a preset, the admin of the day) may change it. A change applies at once to
            every claim enrolled under the policy.
    @param policy_id The policy's id: keccak256 of its name (e.g. "cn-cba-2026"); not zero.
    @param params The rules; see the `Params` struct. Stage days rise strictly from 1; masks
           have five bits; the window lies within the day (0-1440 minutes, start before
           end); caps are at most 7; the legal stage at most 4.
    """
    assert policy_id != empty(bytes32), "collection: empty policy id"
    is_admin: bool = msg.sender == staticcall consortium.admin()
    entry: uint256 = self._policies[policy_id]
    owner: address = empty(address)
    number: uint256 = 0
    if entry == 0:
        assert is_admin or self._has_role(CREDITOR, msg.sender), "collection: caller may not set policies"
        if not is_admin:
            owner = msg.sender
        number = self.policy_count + 1
        self.policy_count = number
        self._policies[policy_id] = convert(owner, uint256) | (number << 160)
        self._policy_ids[number] = policy_id
    else:
        owner = convert(entry & ADDRESS_MASK, address)
        number = entry >> 160
        if owner == empty(address):
            assert is_admin, "collection: policy belongs to the consortium"
        else:
            assert owner == msg.sender, "collection: policy belongs to another creditor"
    self._check_params(params)
    self._params[number] = self._pack(params)
    log PolicySet(policy_id=policy_id, owner=owner, set_by=msg.sender, params=params)


@external
@view
def policy_of(policy_id: bytes32) -> (address, Params):
    """
    @notice A policy's owner and rules; reverts for an unknown policy.
    @param policy_id The policy's id.
    @return The owner (zero address: a consortium preset) and the rules.
    """
    entry: uint256 = self._policies[policy_id]
    assert entry != 0, "collection: unknown policy"
    return convert(entry & ADDRESS_MASK, address), self._unpack(self._params[entry >> 160])


# ---------------------------------------------------------------- enrolment


@external
def enrol(claim_id: bytes32, policy_id: bytes32, debtor: bytes32, tz_offset_minutes: int16):
    """
    @notice The claim's owner puts the claim under a policy, or changes its policy, debtor
            pseudonym or time zone (a new owner after a transfer enrols it under its own
            policy). Stage, pauses and contact history stay.
    @dev The registry keeps the debtor pseudonym only in its ClaimRegistered event, so the
         owner passes it here; the regulator's monitor cross-checks it against that event
         off chain. The pseudonym is the key of the 7-day budget every creditor and agency
         of the debtor shares.
    @param claim_id The claim; registered, owned by the caller, due date before 2^40.
    @param policy_id A consortium preset or a policy of the caller's own.
    @param debtor The debtor's pseudonym (32 bytes; never personal data); not zero.
    @param tz_offset_minutes The debtor's UTC offset in minutes, -720 to +840 (+480 for
           China Standard Time); it decides contact hours and the debtor's day.
    """
    entry: uint256 = self._policies[policy_id]
    assert entry != 0, "collection: unknown policy"
    policy_owner: address = convert(entry & ADDRESS_MASK, address)
    assert policy_owner == empty(address) or policy_owner == msg.sender, "collection: policy belongs to another creditor"
    info: Claim = staticcall registry.claims(claim_id)
    assert info.owner == msg.sender, "collection: caller is not the owner"
    assert debtor != empty(bytes32), "collection: empty debtor pseudonym"
    assert tz_offset_minutes >= MIN_OFFSET and tz_offset_minutes <= MAX_OFFSET, "collection: time zone offset out of range"
    due: uint256 = convert(info.due_date, uint256)
    assert due <= U40, "collection: due date out of range"
    c: uint256 = self._claims[claim_id]
    if c == 0:
        number: uint256 = self.claim_count + 1
        self.claim_count = number
        self._claim_ids[number] = claim_id
        c = due | (number << NUMBER_SHIFT)
    c = self._with(c, POLICY_SHIFT, U32, entry >> 160)
    c = self._with(c, TZ_SHIFT, U16, convert(convert(tz_offset_minutes, int256) + 720, uint256))
    self._claims[claim_id] = c
    if self._debtor_of[claim_id] != debtor:
        self._debtor_of[claim_id] = debtor
    log ClaimEnrolled(
        claim_id=claim_id,
        debtor=debtor,
        policy_id=policy_id,
        tz_offset_minutes=tz_offset_minutes,
        enrolled_by=msg.sender,
    )


@external
@view
def is_enrolled(claim_id: bytes32) -> bool:
    """
    @notice Whether the claim is under a policy.
    @param claim_id The claim.
    @return True when enrolled.
    """
    return self._claims[claim_id] != 0


@external
@view
def enrolment(claim_id: bytes32) -> Enrolment:
    """
    @notice What the contract holds for an enrolled claim; reverts for one not enrolled.
    @param claim_id The claim.
    @return Policy id, debtor pseudonym, UTC offset (minutes), due date, stored stage, start
            of the current pause (0: not paused; never before the due date), seconds of
            ended pauses, unanswered attempts, time of the first authorised contact (0:
            none); times in unix seconds.
    """
    c: uint256 = self._enrolled(claim_id)
    return Enrolment(
        policy_id=self._policy_ids[(c >> POLICY_SHIFT) & U32],
        debtor=self._debtor_of[claim_id],
        tz_offset_minutes=convert(convert((c >> TZ_SHIFT) & U16, int256) - 720, int16),
        due_date=convert(c & U40, uint64),
        stage=convert((c >> STAGE_SHIFT) & U8, uint8),
        paused_since=convert((c >> SINCE_SHIFT) & U40, uint64),
        paused_seconds=convert((c >> PAUSED_SHIFT) & U40, uint64),
        failed_attempts=convert((c >> FAILED_SHIFT) & U8, uint8),
        first_contact=convert((c >> FIRST_SHIFT) & U40, uint64),
    )


@external
@view
def debtor_contacts(debtor: bytes32) -> (uint32[7], uint32):
    """
    @notice The debtor's recent capped contacts and last conversation, across creditors.
    @param debtor The debtor's pseudonym.
    @return The times of the last 7 capped contacts, newest first (0: none), and of the
            last conversation (0: none), unix seconds.
    """
    d: uint256 = self._debtors[debtor]
    recent: uint32[7] = empty(uint32[7])
    for i: uint256 in range(7):
        recent[i] = convert((d >> (32 * i)) & U32, uint32)
    return recent, convert(d >> CONV_SHIFT, uint32)


# ---------------------------------------------------------------- contacts


@external
def authorize_contact(claim_id: bytes32, channel: uint8, kind: uint8, agency: address) -> uint256:
    """
    @notice Authorise one contact with the claim's debtor, or revert with the rule that
            refuses it ("policy: <rule>"). Rules, in order: the agency holds a live mandate
            or owns the claim (not-mandated); the claim is active (claim-inactive); it is
            enrolled (not-enrolled); a repayment plan has not paused collection, reminders
            aside (collection-paused); the channel and kind are allowed at the claim's stage
            now, stage 0 while paused (channel-not-allowed, kind-not-allowed); the debtor's
            local time is within the window (contact-hours); for capped channels, the
            debtor's contacts today (daily-attempts) and in the last 7 days
            (weekly-contacts) are under the caps, on a coordinated debtor the claim owner's
            contacts in the last 7 days are under its part until the week's release point
            (creditor-budget) and no other party contacted the debtor today (calendar), and
            no cooling-off runs (cooling-off); third parties need enough unanswered attempts (third-party); a credit report
            waits for the first contact plus the wait (credit-report-wait); legal action
            needs the legal stage (legal-stage) and a debt not time-barred (time-barred).
    @dev Every authorised contact on a capped channel counts towards the caps, whatever its
         outcome turns out to be. The claim's first contact is the first authorised one.
    @param claim_id The claim.
    @param channel 0 sms, 1 email, 2 voice, 3 letter, 4 visit.
    @param kind 0 reminder, 1 collection, 2 third party, 3 credit report, 4 legal.
    @param agency Who the contact is for: the mandated agency or the owner. The caller is
           that party itself or a gateway acting for it.
    @return The contact id (sequential, from 1), for `record_outcome`.
    """
    assert channel < CHANNELS, "collection: unknown channel"
    assert kind < KINDS, "collection: unknown kind"
    self._check_agency_or_gateway(agency)
    rule: uint256 = 0
    c: uint256 = 0
    d: uint256 = 0
    capped: bool = False
    owner: address = empty(address)
    rule, c, d, capped, owner = self._evaluate(claim_id, channel, kind, agency)
    if rule != 0:
        self._refuse(rule)
    now: uint256 = convert(convert(block.timestamp, uint32), uint256)
    debtor: bytes32 = self._debtor_of[claim_id]
    if capped:
        self._debtors[debtor] = (d & ~RING_MASK) | (((d << 32) | now) & RING_MASK)
        if owner != empty(address):
            b: uint256 = self._budgets[debtor][owner]
            self._budgets[debtor][owner] = (b & ~RING_MASK) | (((b << 32) | now) & RING_MASK)
            w: uint256 = self._coordination[debtor]
            self._coordination[debtor] = (w & (U24 | ACTIVE_BIT)) | (convert(agency, uint256) << PARTY_SHIFT) | (now << PARTY_AT_SHIFT)
    if (c >> FIRST_SHIFT) & U40 == 0:
        self._claims[claim_id] = c | (now << FIRST_SHIFT)
    contact_id: uint256 = self.contact_count + 1
    self.contact_count = contact_id
    self._contacts[contact_id] = convert(agency, uint256) | (((c >> NUMBER_SHIFT) & U32) << CLAIM_NO_SHIFT)
    log ContactAuthorized(
        contact_id=contact_id,
        claim_id=claim_id,
        debtor=debtor,
        agency=agency,
        channel=channel,
        kind=kind,
        at=convert(now, uint64),
    )
    return contact_id


@external
@view
def check_contact(claim_id: bytes32, channel: uint8, kind: uint8, agency: address) -> String[40]:
    """
    @notice What `authorize_contact` would decide now for this contact: "" when allowed,
            else the name of the first rule that refuses it (without "policy: ").
    @param claim_id The claim.
    @param channel 0 sms, 1 email, 2 voice, 3 letter, 4 visit.
    @param kind 0 reminder, 1 collection, 2 third party, 3 credit report, 4 legal.
    @param agency The mandated agency or the owner the contact would be for.
    @return "" or the rule name.
    """
    assert channel < CHANNELS, "collection: unknown channel"
    assert kind < KINDS, "collection: unknown kind"
    rule: uint256 = 0
    c: uint256 = 0
    d: uint256 = 0
    capped: bool = False
    owner: address = empty(address)
    rule, c, d, capped, owner = self._evaluate(claim_id, channel, kind, agency)
    return self._rule_name(rule)


@external
def record_outcome(contact_id: uint256, outcome: uint8):
    """
    @notice Record how an authorised contact went, once. An unanswered attempt counts
            towards third-party contact on the claim; a conversation or a promise to pay
            starts the debtor's cooling-off at this block's time.
    @param contact_id The id `authorize_contact` returned.
    @param outcome 1 answered, 2 unanswered, 3 conversation, 4 promise to pay.
    """
    assert outcome >= 1 and outcome <= OUTCOME_PROMISE_TO_PAY, "collection: unknown outcome"
    record: uint256 = self._contacts[contact_id]
    assert record != 0, "collection: unknown contact"
    self._check_agency_or_gateway(convert(record & ADDRESS_MASK, address))
    assert (record >> OUTCOME_SHIFT) & U8 == 0, "collection: outcome already recorded"
    self._contacts[contact_id] = record | (convert(outcome, uint256) << OUTCOME_SHIFT)
    claim_id: bytes32 = self._claim_ids[(record >> CLAIM_NO_SHIFT) & U32]
    now: uint256 = convert(convert(block.timestamp, uint32), uint256)
    if outcome == OUTCOME_UNANSWERED:
        c: uint256 = self._claims[claim_id]
        if (c >> FAILED_SHIFT) & U8 < U8:
            self._claims[claim_id] = c + (1 << FAILED_SHIFT)
    elif outcome == OUTCOME_CONVERSATION or outcome == OUTCOME_PROMISE_TO_PAY:
        debtor: bytes32 = self._debtor_of[claim_id]
        self._debtors[debtor] = (self._debtors[debtor] & RING_MASK) | (now << CONV_SHIFT)
    log OutcomeRecorded(
        claim_id=claim_id,
        recorded_by=msg.sender,
        contact_id=contact_id,
        outcome=outcome,
        at=convert(now, uint64),
    )


@external
@view
def contact_of(contact_id: uint256) -> (bytes32, address, uint8):
    """
    @notice An authorised contact.
    @param contact_id The contact id.
    @return The claim (zero: no such contact), the agency it was for and the outcome
            (0 not recorded, 1 answered, 2 unanswered, 3 conversation, 4 promise to pay).
    """
    record: uint256 = self._contacts[contact_id]
    if record == 0:
        return empty(bytes32), empty(address), 0
    return (
        self._claim_ids[(record >> CLAIM_NO_SHIFT) & U32],
        convert(record & ADDRESS_MASK, address),
        convert((record >> OUTCOME_SHIFT) & U8, uint8),
    )


# ---------------------------------------------------------------- coordination


@external
def set_budget_shares(
    debtor: bytes32, creditors: DynArray[address, MAX_SHARES], parts: DynArray[uint8, MAX_SHARES]
):
    """
    @notice Coordinator (KEEPER role: the consortium's coordination service): divide the
            debtor's 7-day budget of capped contacts among its creditors, by their share of
            the debt. From now on, until each week's release point (Thursday 00:00 UTC), a
            claim of the debtor may be contacted on a capped channel only while its owner's
            capped contacts with the debtor in the last 7 days are fewer than its part; a
            creditor not listed has no part. The debtor is coordinated: two parties do not
            contact it on the same local day. Replaces any earlier division; empty lists
            end the coordination.
    @dev A creditor's contacts are counted from when the debtor is first coordinated (and
         kept through later divisions); the policy's own caps apply as before. The parts
         add up to at most 7, the longest budget a policy can give (MAX_CAP): a division
         meant for a lower weekly cap leaves the rest unassigned.
    @param debtor The debtor's pseudonym; not zero.
    @param creditors Up to 10 distinct accounts holding the CREDITOR role.
    @param parts Each creditor's part: capped contacts in 7 days, adding up to at most 7.
    """
    assert self._has_role(KEEPER, msg.sender), "collection: caller is not a keeper"
    assert debtor != empty(bytes32), "collection: empty debtor pseudonym"
    assert len(creditors) == len(parts), "collection: one part per creditor"
    total: uint256 = 0
    for i: uint256 in range(MAX_SHARES):
        if i >= len(creditors):
            break
        for j: uint256 in range(MAX_SHARES):
            if j >= i:
                break
            assert creditors[j] != creditors[i], "collection: creditor listed twice"
        assert self._has_role(CREDITOR, creditors[i]), "collection: shares for a non-creditor"
        total += convert(parts[i], uint256)
    assert total <= convert(MAX_CAP, uint256), "collection: parts above 7"
    w: uint256 = self._coordination[debtor]
    generation: uint256 = (w & U24) % U24 + 1
    if len(creditors) == 0:
        # No division: the calendar's last party is forgotten with it.
        w = generation
    else:
        w = (w & ~U24) | generation | ACTIVE_BIT
    self._coordination[debtor] = w
    for i: uint256 in range(MAX_SHARES):
        if i >= len(creditors):
            break
        b: uint256 = self._budgets[debtor][creditors[i]]
        self._budgets[debtor][creditors[i]] = (b & RING_MASK) | (convert(parts[i], uint256) << PART_SHIFT) | (generation << GEN_SHIFT)
    log BudgetSharesSet(debtor=debtor, set_by=msg.sender, creditors=creditors, parts=parts)


@external
@view
def budget_share(debtor: bytes32, creditor: address) -> (uint8, uint32[7]):
    """
    @notice A creditor's part of the debtor's 7-day budget and its recent capped contacts.
    @param debtor The debtor's pseudonym.
    @param creditor The creditor.
    @return The part (0 when the debtor is not coordinated or the creditor not listed) and
            the times of the creditor's last 7 capped contacts with the debtor made while
            it was coordinated, newest first (0: none), unix seconds.
    """
    w: uint256 = self._coordination[debtor]
    b: uint256 = self._budgets[debtor][creditor]
    part: uint8 = 0
    if w & ACTIVE_BIT != 0 and b >> GEN_SHIFT == w & U24:
        part = convert((b >> PART_SHIFT) & U8, uint8)
    recent: uint32[7] = empty(uint32[7])
    for i: uint256 in range(7):
        recent[i] = convert((b >> (32 * i)) & U32, uint32)
    return part, recent


@external
@view
def coordination_of(debtor: bytes32) -> (bool, address, uint32):
    """
    @notice Whether budget shares are in force for the debtor, and the party of its last
            capped contact while they were (the calendar).
    @param debtor The debtor's pseudonym.
    @return In force; who the last capped contact was for (the agency, or the owner
            contacting directly; zero: none) and its time, unix seconds.
    """
    w: uint256 = self._coordination[debtor]
    return (
        w & ACTIVE_BIT != 0,
        convert((w >> PARTY_SHIFT) & ADDRESS_MASK, address),
        convert((w >> PARTY_AT_SHIFT) & U32, uint32),
    )


@external
@pure
def is_released(at: uint256) -> bool:
    """
    @notice Whether the week's unused budget is released at a time: from the release point
            (Thursday 00:00 UTC) to the end of the week (Monday 00:00 UTC).
    @param at Unix seconds.
    @return True from the release point on.
    """
    return self._released(at)


# ---------------------------------------------------------------- stages


@external
@view
def stage_of(claim_id: bytes32) -> (uint8, uint8, uint256):
    """
    @notice The claim's stored stage, the stage it is due to be in now, and its days past
            due; reverts for a claim not enrolled.
    @param claim_id The claim.
    @return The stored stage (what the keeper last recorded), the due stage (0 while a plan
            pauses collection) and the days past due, paused time excluded.
    """
    c: uint256 = self._enrolled(claim_id)
    dpd: uint256 = self._days_past_due(c, block.timestamp)
    return (
        convert((c >> STAGE_SHIFT) & U8, uint8),
        convert(self._due_stage(c, dpd), uint8),
        dpd,
    )


@external
def advance(claim_ids: DynArray[bytes32, MAX_ADVANCE]) -> uint256:
    """
    @notice Keeper: store each claim's due stage where it differs from the stored one. The
            stage comes from the block time, so a keeper cannot move a claim early; claims
            not enrolled or already in their stage are skipped, so two keepers at once do
            no harm.
    @param claim_ids Up to 200 claims.
    @return How many claims changed stage.
    """
    assert self._has_role(KEEPER, msg.sender), "collection: caller is not a keeper"
    changed: uint256 = 0
    for claim_id: bytes32 in claim_ids:
        c: uint256 = self._claims[claim_id]
        if c == 0:
            continue
        dpd: uint256 = self._days_past_due(c, block.timestamp)
        moved: uint256 = self._move_stage(claim_id, c, self._due_stage(c, dpd), dpd)
        if moved != c:
            self._claims[claim_id] = moved
            changed += 1
    return changed


# ---------------------------------------------------------------- pauses


@external
def set_plans(plans_: address):
    """
    @notice The consortium admin names the RepaymentPlan contract (the zero address: none).
            Claims a replaced contract paused stay paused: replace it when no plan is active,
            or have the new contract take the plans over.
    @param plans_ The RepaymentPlan contract.
    """
    self._check_admin()
    log PlansSet(previous=self.plans, plans=plans_, set_by=msg.sender)
    self.plans = plans_


@external
def pause(claim_id: bytes32):
    """
    @notice RepaymentPlan: a plan is active, so collection pauses: days past due stand still
            (counted from the due date at the earliest), the claim is current (stage 0) and
            only reminders may be sent.
    @param claim_id An enrolled claim that is not paused.
    """
    self._check_plans()
    c: uint256 = self._enrolled(claim_id)
    assert (c >> SINCE_SHIFT) & U40 == 0, "collection: already paused"
    now: uint256 = block.timestamp
    dpd: uint256 = self._days_past_due(c, now)
    since: uint256 = max(now, c & U40)
    log CollectionPaused(claim_id=claim_id, since=convert(since, uint64), days_past_due=dpd)
    c = self._move_stage(claim_id, c, 0, dpd)
    self._claims[claim_id] = self._with(c, SINCE_SHIFT, U40, since)


@external
def resume(claim_id: bytes32, since: uint256):
    """
    @notice RepaymentPlan: the plan broke or ended, so collection resumes at the stage of
            the days past due, paused time excluded. Paused time only grows (append-only).
    @param claim_id A paused claim.
    @param since When the pause ended, unix seconds, at most the block time (a broken
           plan passes the missed instalment's due date: the days after it count). A time
           before the pause began ends it with no paused time.
    """
    self._check_plans()
    c: uint256 = self._enrolled(claim_id)
    start: uint256 = (c >> SINCE_SHIFT) & U40
    assert start != 0, "collection: not paused"
    assert since <= block.timestamp, "collection: resume time in the future"
    paused: uint256 = (c >> PAUSED_SHIFT) & U40
    if since > start:
        paused += since - start
    c = self._with(self._with(c, SINCE_SHIFT, U40, 0), PAUSED_SHIFT, U40, paused)
    log CollectionResumed(claim_id=claim_id, since=convert(since, uint64), paused_seconds=convert(paused, uint64))
    dpd: uint256 = self._days_past_due(c, block.timestamp)
    self._claims[claim_id] = self._move_stage(claim_id, c, self._due_stage(c, dpd), dpd)
