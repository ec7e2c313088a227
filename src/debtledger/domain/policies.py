"""Collection policies as data, and the pure reference of the contact rules the
CollectionPolicy contract enforces.

A policy says, per stage of days past due, which channels and kinds of contact are allowed,
when in the debtor's local day, how often, and when third parties, credit bureaus and
courts may be involved. `check_contact` decides exactly as the contract does, in the same
order, so the contract tests compare the two and the service can explain a refusal before
it sends anything. No I/O: times are unix seconds, as the chain sees them.

A debtor of several creditors can be coordinated: its 7-day budget of capped contacts is
divided among the creditors by their share of the debt (`budget_shares`), each creditor
keeps to its part until the week's release point (`released`), and two parties never
contact the debtor on the same local day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import IntEnum
from types import MappingProxyType

from debtledger.domain._checks import check_int
from debtledger.domain.claims import keccak256
from debtledger.domain.split import split
from debtledger.errors import InvalidInput, NotFound

DAY = 86_400
WEEK = 7 * DAY
STAGES = 5
MAX_CAP = 7
"""Largest daily or weekly cap: the contract keeps the last seven capped contacts of a
debtor (Regulation F's 7-in-7 is the largest cap in use)."""
MIN_OFFSET_MINUTES = -12 * 60
MAX_OFFSET_MINUTES = 14 * 60
MINUTES_A_DAY = 24 * 60
WEEK_START = 4 * DAY
"""Weeks run from Monday 00:00 UTC: the first from unix time 345,600 (1970-01-05)."""
RELEASE_OFFSET = 3 * DAY
"""From this long after a week's start (Thursday 00:00 UTC) to its end, the budget the
other creditors left unused is free to all: only the policy's caps apply."""
MAX_SHARES = 10
"""Most creditors a debtor's budget is divided among."""

# The contract's own numbering: bit i of a mask is member i.


class Channel(IntEnum):
    """How the gateway reaches the debtor."""

    SMS = 0
    EMAIL = 1
    VOICE = 2
    LETTER = 3
    VISIT = 4


class Kind(IntEnum):
    """What a contact is for."""

    REMINDER = 0
    COLLECTION = 1
    THIRD_PARTY = 2
    CREDIT_REPORT = 3
    LEGAL = 4


class Outcome(IntEnum):
    """How a contact went, as recorded afterwards (0 on chain: not recorded yet)."""

    ANSWERED = 1
    UNANSWERED = 2
    CONVERSATION = 3
    PROMISE_TO_PAY = 4


RULE_NAMES = (
    "not-mandated",
    "claim-inactive",
    "not-enrolled",
    "collection-paused",
    "channel-not-allowed",
    "kind-not-allowed",
    "contact-hours",
    "daily-attempts",
    "weekly-contacts",
    "creditor-budget",
    "calendar",
    "cooling-off",
    "third-party",
    "credit-report-wait",
    "legal-stage",
    "time-barred",
)
"""Every rule that can refuse a contact, in the order the contract checks them. The
contract reverts with "policy: <name>"; its `check_contact` view returns the bare name."""


def mask(*members: IntEnum) -> int:
    """The bitmask of channels or kinds: bit i set for member i."""
    out = 0
    for m in members:
        out |= 1 << int(m)
    return out


ALL_CHANNELS = mask(*Channel)
ALL_KINDS = mask(*Kind)


@dataclass(frozen=True)
class PolicyRules:
    """One collection policy. Zero in a cap, wait or period means the rule is off.

    `stage_days[i]` is the first day past due of stage i + 1 (stage 0 is current).
    `channels[s]` and `kinds[s]` are the masks allowed at stage s. The contact window is
    [contact_start, contact_end) in minutes of the debtor's local day (no window across
    midnight). The daily and weekly caps and the cooling-off apply to the channels in
    `capped_channels` (calls, typically); they count every authorised contact on those
    channels, across every creditor and agency, since the outcome of a contact is not known
    when it is authorised.
    """

    name: str
    stage_days: tuple[int, int, int, int]
    channels: tuple[int, int, int, int, int]
    kinds: tuple[int, int, int, int, int]
    contact_start: int
    contact_end: int
    max_daily: int
    max_weekly: int
    capped_channels: int
    cooling_off_seconds: int
    third_party_after: int
    credit_report_wait_days: int
    legal_min_stage: int
    limitation_days: int
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidInput("a policy needs a name", field="name")
        days = tuple(self.stage_days)
        if len(days) != STAGES - 1:
            raise InvalidInput("give four stage thresholds", field="stage_days")
        for i, d in enumerate(days):
            check_int(d, "stage_days", minimum=1, maximum=2**16 - 1)
            if i and d <= days[i - 1]:
                raise InvalidInput("thresholds must be strictly increasing", field="stage_days")
        for name in ("channels", "kinds"):
            masks = getattr(self, name)
            if len(masks) != STAGES:
                raise InvalidInput("give one mask per stage (five)", field=name)
            for m in masks:
                check_int(m, name, minimum=0, maximum=2**STAGES - 1)
        check_int(self.contact_start, "contact_start", minimum=0, maximum=MINUTES_A_DAY - 1)
        check_int(self.contact_end, "contact_end", minimum=1, maximum=MINUTES_A_DAY)
        if self.contact_end <= self.contact_start:
            raise InvalidInput("the window must end after it starts", field="contact_end")
        check_int(self.max_daily, "max_daily", minimum=0, maximum=MAX_CAP)
        check_int(self.max_weekly, "max_weekly", minimum=0, maximum=MAX_CAP)
        check_int(self.capped_channels, "capped_channels", minimum=0, maximum=ALL_CHANNELS)
        check_int(self.cooling_off_seconds, "cooling_off_seconds", minimum=0, maximum=2**32 - 1)
        check_int(self.third_party_after, "third_party_after", minimum=0, maximum=255)
        check_int(
            self.credit_report_wait_days, "credit_report_wait_days", minimum=0, maximum=2**16 - 1
        )
        check_int(self.legal_min_stage, "legal_min_stage", minimum=0, maximum=STAGES - 1)
        check_int(self.limitation_days, "limitation_days", minimum=0, maximum=2**16 - 1)

    @property
    def policy_id(self) -> bytes:
        """The on-chain id: keccak-256 of the name."""
        return policy_id(self.name)


def policy_id(name: str) -> bytes:
    """The on-chain id of a policy name (keccak-256 of its UTF-8 text)."""
    return keccak256(name.encode())


Params = tuple[
    tuple[int, int, int, int],
    tuple[int, int, int, int, int],
    tuple[int, int, int, int, int],
    int,
    int,
    int,
    int,
    int,
    int,
    int,
    int,
    int,
    int,
]


def to_params(rules: PolicyRules) -> Params:
    """The `Params` struct CollectionPolicy.set_policy takes, field for field."""
    return (
        rules.stage_days,
        rules.channels,
        rules.kinds,
        rules.contact_start,
        rules.contact_end,
        rules.max_daily,
        rules.max_weekly,
        rules.capped_channels,
        rules.cooling_off_seconds,
        rules.third_party_after,
        rules.credit_report_wait_days,
        rules.legal_min_stage,
        rules.limitation_days,
    )


# The fields of the contract's `Params` struct, in order (also PolicyRules' rule fields).
PARAM_FIELDS = (
    "stage_days",
    "channels",
    "kinds",
    "contact_start",
    "contact_end",
    "max_daily",
    "max_weekly",
    "capped_channels",
    "cooling_off_seconds",
    "third_party_after",
    "credit_report_wait_days",
    "legal_min_stage",
    "limitation_days",
)


def from_params(name: str, params: Iterable[object]) -> PolicyRules:
    """The rules a `Params` tuple read back from the contract stands for (validated)."""
    values = [tuple(v) if isinstance(v, list | tuple) else v for v in params]
    keys = PARAM_FIELDS
    if len(values) != len(keys):
        raise InvalidInput("a policy has thirteen parameters", field="params")
    return PolicyRules(name, **dict(zip(keys, values, strict=True)))  # type: ignore[arg-type]


_S, _E, _V, _L, _P = Channel.SMS, Channel.EMAIL, Channel.VOICE, Channel.LETTER, Channel.VISIT
_R, _C, _T = Kind.REMINDER, Kind.COLLECTION, Kind.THIRD_PARTY
_CR, _LG = Kind.CREDIT_REPORT, Kind.LEGAL

CN_CBA_2026 = PolicyRules(
    name="cn-cba-2026",
    stage_days=(1, 8, 31, 91),
    channels=(
        mask(_S, _E),
        mask(_S, _E, _V),
        mask(_S, _E, _V, _L),
        mask(_S, _E, _V, _L, _P),
        mask(_S, _E, _V, _L, _P),
    ),
    kinds=(
        mask(_R),
        mask(_R, _C, _CR, _LG),
        mask(_R, _C, _T, _CR, _LG),
        mask(_R, _C, _T, _CR, _LG),
        mask(_R, _C, _T, _CR, _LG),
    ),
    contact_start=8 * 60,
    contact_end=22 * 60,
    max_daily=6,
    max_weekly=0,
    capped_channels=mask(_V),
    cooling_off_seconds=0,
    third_party_after=3,
    credit_report_wait_days=7,
    legal_min_stage=4,
    limitation_days=3 * 365,
    notes=(
        "No contact from 22:00 to 08:00 in the debtor's local time.",
        "At most 6 call attempts a local day (every authorised call counts: its outcome is "
        "not known when it is authorised).",
        "Third parties (emergency contacts) only after 3 unanswered attempts on the claim.",
        "Credit-bureau reports 7 days after the first contact (the notice the Credit "
        "Reporting Regulation art. 15 asks for before negative information is reported).",
        "Legal action from 91 days past due; not after the 3-year limitation period of the "
        "Civil Code art. 188, counted from the due date (interruptions are not modelled).",
        "No weekly cap and no cooling-off: the guideline sets none; a creditor's own "
        "policy may add them.",
    ),
)

US_REG_F = PolicyRules(
    name="us-reg-f",
    stage_days=(1, 8, 31, 91),
    channels=(
        mask(_E, _L),
        mask(_S, _E, _V, _L),
        mask(_S, _E, _V, _L),
        mask(_S, _E, _V, _L, _P),
        mask(_S, _E, _V, _L, _P),
    ),
    kinds=(
        mask(_R),
        mask(_R, _C, _CR, _LG),
        mask(_R, _C, _T, _CR, _LG),
        mask(_R, _C, _T, _CR, _LG),
        mask(_R, _C, _T, _CR, _LG),
    ),
    contact_start=8 * 60,
    contact_end=21 * 60,
    max_daily=0,
    max_weekly=7,
    capped_channels=mask(_V),
    cooling_off_seconds=7 * DAY,
    third_party_after=0,
    credit_report_wait_days=14,
    legal_min_stage=3,
    limitation_days=3 * 365,
    notes=(
        "Contacts only from 08:00 to 21:00 local time (12 CFR 1006.6(b)(1)(i)); 21:00 is "
        "the first refused minute.",
        "At most 7 calls in 7 days, and none within 7 days after a telephone conversation "
        "(12 CFR 1006.14(b)(2)).",
        "No credit report before a first contact plus 14 days (12 CFR 1006.30(a)).",
        "No legal action on time-barred debt (12 CFR 1006.26(b)): 3 years, the shortest "
        "common state period; creditors in longer-period states set their own policy.",
        "Third-party (location) contacts need no failed attempts; from stage 2 only.",
    ),
)

PRESETS: MappingProxyType[str, PolicyRules] = MappingProxyType(
    {p.name: p for p in (CN_CBA_2026, US_REG_F)}
)
"""The presets the consortium installs at deployment, by name."""


def preset(name_or_id: str | bytes) -> PolicyRules:
    """A preset by name, or by its on-chain id."""
    if isinstance(name_or_id, bytes):
        for p in PRESETS.values():
            if p.policy_id == name_or_id:
                return p
    elif name_or_id in PRESETS:
        return PRESETS[name_or_id]
    raise NotFound("no policy preset by that name or id")


# ------------------------------------------------------------------ the rules


@dataclass(frozen=True)
class ContactState:
    """What the contract knows when it decides on a contact: the requester's standing,
    the claim's enrolment and the debtor's recent contacts.

    `paused_since` is the start of the current pause, never before the due date (0: not
    paused); `paused_seconds` the length of the pauses already ended. `recent` holds the
    times of the debtor's last capped contacts, newest first, at most seven.

    On a coordinated debtor (`coordinated`: budget shares in force) `creditor_part` is the
    claim owner's part of the 7-day budget and `creditor_recent` the owner's own capped
    contacts with the debtor, newest first; `calendar_party` is who the debtor's last
    capped contact was for (the agency, or the owner contacting directly; "" none) and
    `calendar_at` its time; `party` is who this contact is for.
    """

    due_date: int
    tz_offset_minutes: int = 0
    mandated: bool = True
    active: bool = True
    enrolled: bool = True
    paused_since: int = 0
    paused_seconds: int = 0
    failed_attempts: int = 0
    first_contact: int = 0
    recent: tuple[int, ...] = ()
    last_conversation: int = 0
    coordinated: bool = False
    creditor_part: int = 0
    creditor_recent: tuple[int, ...] = ()
    calendar_party: str = ""
    calendar_at: int = 0
    party: str = ""

    def __post_init__(self) -> None:
        check_int(
            self.tz_offset_minutes,
            "tz_offset_minutes",
            minimum=MIN_OFFSET_MINUTES,
            maximum=MAX_OFFSET_MINUTES,
        )
        if len(self.recent) > MAX_CAP:
            raise InvalidInput("at most seven recent contacts are kept", field="recent")
        if len(self.creditor_recent) > MAX_CAP:
            raise InvalidInput("at most seven recent contacts are kept", field="creditor_recent")
        check_int(self.creditor_part, "creditor_part", minimum=0, maximum=MAX_CAP)

    @property
    def paused(self) -> bool:
        return self.paused_since != 0


def days_past_due(state: ContactState, now: int) -> int:
    """Whole days since the due date, paused time excluded: (now - due - paused) // 86400,
    at least 0. During a pause the count stands still."""
    paused = state.paused_seconds
    if state.paused:
        paused += max(0, now - state.paused_since)
    return max(0, now - state.due_date - paused) // DAY


def stage_of(rules: PolicyRules, dpd: int) -> int:
    """The stage for `dpd` days past due: how many thresholds it has reached."""
    return sum(1 for d in rules.stage_days if dpd >= d)


def due_stage(rules: PolicyRules, state: ContactState, now: int) -> int:
    """The stage the claim is in now: 0 while a repayment plan pauses collection (a plan in
    good standing keeps the claim current), else the stage of its days past due."""
    return 0 if state.paused else stage_of(rules, days_past_due(state, now))


def local_seconds(now: int, tz_offset_minutes: int) -> int:
    """Unix time shifted to the debtor's local wall clock."""
    return now + tz_offset_minutes * 60


def local_minute(now: int, tz_offset_minutes: int) -> int:
    """Minute of the debtor's local day, 0-1439."""
    return local_seconds(now, tz_offset_minutes) % DAY // 60


def counts(state: ContactState, now: int) -> tuple[int, int]:
    """Capped contacts of the debtor today (local day) and in the last 604,800 seconds."""
    today = local_seconds(now, state.tz_offset_minutes) // DAY
    day = week = 0
    for t in state.recent:
        if t == 0 or t <= now - WEEK:
            break
        week += 1
        if local_seconds(t, state.tz_offset_minutes) // DAY == today:
            day += 1
    return day, week


def released(now: int) -> bool:
    """Whether the week's unused budget is released at `now`: from Thursday 00:00 UTC to
    the end of the week (Monday 00:00 UTC)."""
    return (now - WEEK_START) % WEEK >= RELEASE_OFFSET


def creditor_count(state: ContactState, now: int) -> int:
    """The claim owner's capped contacts with the debtor in the last 604,800 seconds."""
    week = 0
    for t in state.creditor_recent:
        if t == 0 or t <= now - WEEK:
            break
        week += 1
    return week


def same_local_day(a: int, b: int, tz_offset_minutes: int) -> bool:
    """Whether two times fall on the same day of the debtor's local calendar."""
    return local_seconds(a, tz_offset_minutes) // DAY == local_seconds(b, tz_offset_minutes) // DAY


def coordination_rule(state: ContactState, now: int) -> str | None:
    """The coordination rule that refuses a capped contact with a coordinated debtor, if
    any: the owner's part is used up before the release point (creditor-budget), or
    another party contacted the debtor earlier on its local day (calendar)."""
    if not state.coordinated:
        return None
    if not released(now) and creditor_count(state, now) >= state.creditor_part:
        return "creditor-budget"
    if (
        state.calendar_party
        and state.calendar_party.lower() != state.party.lower()
        and same_local_day(state.calendar_at, now, state.tz_offset_minutes)
    ):
        return "calendar"
    return None


def budget_shares(debts: Mapping[str, int], budget: int = MAX_CAP) -> dict[str, int]:
    """Divide a debtor's 7-day budget of capped contacts among its creditors (creditor →
    fen owed) by their share of the debt, largest remainders first (ties: the smaller
    creditor key); the parts add up to `budget`, or to the fen owed when that is less.
    What `set_budget_shares` on CollectionPolicy takes."""
    check_int(budget, "budget", minimum=0, maximum=MAX_CAP)
    if len(debts) > MAX_SHARES:
        raise InvalidInput(f"at most {MAX_SHARES} creditors share a budget", field="debts")
    total = sum(check_int(v, "debts", minimum=0) for v in debts.values())
    return split(min(budget, total), debts)


def check_contact(
    rules: PolicyRules, state: ContactState, now: int, channel: Channel, kind: Kind
) -> str | None:
    """The first rule that refuses this contact at `now`, in the contract's order; None
    when every rule allows it."""
    if not state.mandated:
        return "not-mandated"
    if not state.active:
        return "claim-inactive"
    if not state.enrolled:
        return "not-enrolled"
    if state.paused and kind != Kind.REMINDER:
        return "collection-paused"
    stage = due_stage(rules, state, now)
    if not rules.channels[stage] >> channel & 1:
        return "channel-not-allowed"
    if not rules.kinds[stage] >> kind & 1:
        return "kind-not-allowed"
    minute = local_minute(now, state.tz_offset_minutes)
    if not rules.contact_start <= minute < rules.contact_end:
        return "contact-hours"
    if rules.capped_channels >> channel & 1:
        day, week = counts(state, now)
        if rules.max_daily and day >= rules.max_daily:
            return "daily-attempts"
        if rules.max_weekly and week >= rules.max_weekly:
            return "weekly-contacts"
        coordination = coordination_rule(state, now)
        if coordination is not None:
            return coordination
        if (
            rules.cooling_off_seconds
            and state.last_conversation
            and now < state.last_conversation + rules.cooling_off_seconds
        ):
            return "cooling-off"
    if kind == Kind.THIRD_PARTY and state.failed_attempts < rules.third_party_after:
        return "third-party"
    if kind == Kind.CREDIT_REPORT and (
        not state.first_contact or now < state.first_contact + rules.credit_report_wait_days * DAY
    ):
        return "credit-report-wait"
    if kind == Kind.LEGAL:
        if stage < rules.legal_min_stage:
            return "legal-stage"
        if rules.limitation_days and now >= state.due_date + rules.limitation_days * DAY:
            return "time-barred"
    return None


def after_contact(
    rules: PolicyRules, state: ContactState, now: int, channel: Channel
) -> ContactState:
    """The state after an authorised contact: a capped channel enters the debtor's recent
    contacts (on a coordinated debtor also the owner's, and the calendar), and the claim's
    first contact is remembered."""
    state = replace(state, first_contact=state.first_contact or now)
    if not rules.capped_channels >> channel & 1:
        return state
    state = replace(state, recent=(now, *state.recent)[:MAX_CAP])
    if state.coordinated:
        state = replace(
            state,
            creditor_recent=(now, *state.creditor_recent)[:MAX_CAP],
            calendar_party=state.party,
            calendar_at=now,
        )
    return state


def after_outcome(state: ContactState, now: int, outcome: Outcome) -> ContactState:
    """The state after a contact's outcome is recorded: an unanswered attempt counts
    towards third-party contact (saturating at 255); a conversation or a promise to pay
    starts the debtor's cooling-off."""
    if outcome == Outcome.UNANSWERED:
        return replace(state, failed_attempts=min(255, state.failed_attempts + 1))
    if outcome in (Outcome.CONVERSATION, Outcome.PROMISE_TO_PAY):
        return replace(state, last_conversation=now)
    return state


def after_pause(state: ContactState, now: int) -> ContactState:
    """Collection paused by a repayment plan: paused time counts from the due date at
    the earliest."""
    if state.paused:
        raise InvalidInput("collection is already paused", field="paused_since")
    return replace(state, paused_since=max(now, state.due_date))


def after_resume(state: ContactState, since: int, now: int) -> ContactState:
    """Collection resumed: the pause ended at `since` (at most `now`); its length joins
    the paused time."""
    if not state.paused:
        raise InvalidInput("collection is not paused", field="paused_since")
    if since > now:
        raise InvalidInput("a pause cannot end in the future", field="since")
    return replace(
        state,
        paused_seconds=state.paused_seconds + max(0, since - state.paused_since),
        paused_since=0,
    )
