"""Collection policies: presets as data, and the reference of the contact rules the
CollectionPolicy contract enforces (the contract tests compare the two)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources

import pytest
from eth_utils import keccak
from hypothesis import given
from hypothesis import strategies as st

from debtledger.domain.policies import (
    CN_CBA_2026,
    DAY,
    PRESETS,
    RULE_NAMES,
    US_REG_F,
    WEEK,
    WEEK_START,
    Channel,
    ContactState,
    Kind,
    Outcome,
    PolicyRules,
    after_contact,
    after_outcome,
    after_pause,
    after_resume,
    budget_shares,
    check_contact,
    counts,
    creditor_count,
    days_past_due,
    due_stage,
    from_params,
    local_minute,
    mask,
    policy_id,
    preset,
    released,
    stage_of,
    to_params,
)
from debtledger.errors import InvalidInput, NotFound

DUE = 1_767_225_600  # 2026-01-01 00:00 UTC
CST = 480  # UTC+8


def local(days: int, hh: int, mm: int = 0, tz: int = CST) -> int:
    """Unix time of hh:mm in the debtor's zone, `days` calendar days after DUE's date."""
    return DUE + days * DAY + (hh * 60 + mm - tz) * 60


def source() -> str:
    return resources.files("debtledger.contracts").joinpath("CollectionPolicy.vy").read_text()


# ------------------------------------------------------------------ presets as data


def test_presets_are_addressed_by_name_and_keccak_id() -> None:
    assert set(PRESETS) == {"cn-cba-2026", "us-reg-f"}
    for name, rules in PRESETS.items():
        assert rules.policy_id == policy_id(name) == keccak(text=name)
        assert preset(name) is rules
        assert preset(keccak(text=name)) is rules


@pytest.mark.parametrize("wanted", ["eu-gdpr", keccak(text="eu-gdpr"), b""])
def test_unknown_preset_is_not_found(wanted: str | bytes) -> None:
    with pytest.raises(NotFound):
        preset(wanted)


def test_cn_preset_has_the_guideline_values() -> None:
    r = CN_CBA_2026
    assert (r.contact_start, r.contact_end) == (8 * 60, 22 * 60)
    assert (r.max_daily, r.third_party_after) == (6, 3)
    assert r.limitation_days == 3 * 365
    assert r.capped_channels == mask(Channel.VOICE)


def test_us_preset_has_the_regulation_f_values() -> None:
    r = US_REG_F
    assert (r.contact_start, r.contact_end) == (8 * 60, 21 * 60)
    assert (r.max_weekly, r.cooling_off_seconds) == (7, 7 * DAY)
    assert r.credit_report_wait_days == 14
    assert r.limitation_days > 0


@pytest.mark.parametrize("rules", PRESETS.values(), ids=PRESETS.keys())
def test_params_round_trip(rules: PolicyRules) -> None:
    params = to_params(rules)
    assert len(params) == 13
    assert from_params(rules.name, params) == rules
    # as the contract returns it: lists for the arrays
    as_read = [list(p) if isinstance(p, tuple) else p for p in params]
    assert from_params(rules.name, as_read) == rules


def test_from_params_refuses_a_short_tuple() -> None:
    with pytest.raises(InvalidInput) as info:
        from_params("x", to_params(US_REG_F)[:-1])
    assert info.value.field == "params"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stage_days", (0, 8, 31, 91)),
        ("stage_days", (1, 8, 8, 91)),
        ("stage_days", (1, 8, 31)),
        ("stage_days", (1, 8, 31, 2**16)),
        ("channels", (1, 1, 1, 1)),
        ("channels", (1, 1, 1, 1, 32)),
        ("kinds", (1, 1, 1, 1, -1)),
        ("contact_start", -1),
        ("contact_end", 1441),
        ("contact_end", 8 * 60),  # equal to the start: an empty window
        ("max_daily", 8),
        ("max_weekly", 8),
        ("capped_channels", 32),
        ("cooling_off_seconds", 2**32),
        ("third_party_after", 256),
        ("credit_report_wait_days", -1),
        ("legal_min_stage", 5),
        ("limitation_days", 2**16),
        ("max_daily", True),
        ("name", ""),
    ],
)
def test_bad_rules_name_the_field(field: str, value: object) -> None:
    with pytest.raises(InvalidInput) as info:
        replace(US_REG_F, **{field: value})
    assert info.value.field == field
    assert str(value) not in str(info.value) or field == "name"


# ------------------------------------------------------------------ names match the contract


def test_every_policy_revert_in_the_contract_is_a_rule_and_back() -> None:
    reverts = re.findall(r'"policy: ([a-z-]+)"', source())
    assert set(reverts) == set(RULE_NAMES)
    assert len(reverts) == len(RULE_NAMES)  # each once


def test_contract_checks_and_names_rules_in_the_same_order() -> None:
    text = source()
    codes = re.findall(r"^(R_[A-Z_]+): constant\(uint256\) = (\d+)$", text, flags=re.M)
    assert [int(n) for _, n in codes] == list(range(1, len(RULE_NAMES) + 1))
    refusals = re.findall(r'assert rule != (R_[A-Z_]+), "policy: ([a-z-]+)"', text)
    assert [name for _, name in refusals] == list(RULE_NAMES)
    assert [code for code, _ in refusals] == [code for code, _ in codes]
    named = re.findall(r'if rule == (R_[A-Z_]+):\n\s+return "([a-z-]+)"', text)
    assert named == refusals


def test_non_rule_refusals_do_not_use_the_rule_prefix() -> None:
    messages = re.findall(r'"([a-z]+): [^"]+"', source())
    assert set(messages) == {"policy", "collection"}


# ------------------------------------------------------------------ days past due and stages


@pytest.mark.parametrize(
    ("dpd", "stage"),
    [(0, 0), (1, 1), (7, 1), (8, 2), (30, 2), (31, 3), (90, 3), (91, 4), (5000, 4)],
)
def test_stage_boundaries(dpd: int, stage: int) -> None:
    assert stage_of(CN_CBA_2026, dpd) == stage


@pytest.mark.parametrize(
    ("now", "dpd"),
    [(DUE - 1, 0), (DUE, 0), (DUE + DAY - 1, 0), (DUE + DAY, 1), (DUE + 91 * DAY, 91)],
)
def test_days_past_due_counts_whole_days_from_the_due_date(now: int, dpd: int) -> None:
    assert days_past_due(ContactState(due_date=DUE), now) == dpd


def test_paused_time_does_not_count() -> None:
    state = ContactState(due_date=DUE, paused_seconds=3 * DAY)
    assert days_past_due(state, DUE + 10 * DAY) == 7
    paused = ContactState(due_date=DUE, paused_since=DUE + 5 * DAY)
    assert days_past_due(paused, DUE + 5 * DAY) == 5
    assert days_past_due(paused, DUE + 50 * DAY) == 5  # stands still during the pause
    assert due_stage(CN_CBA_2026, paused, DUE + 50 * DAY) == 0  # and the claim is current


def test_pause_before_the_due_date_counts_from_it() -> None:
    state = after_pause(ContactState(due_date=DUE), DUE - 10 * DAY)
    assert state.paused_since == DUE
    resumed = after_resume(state, DUE + 4 * DAY, DUE + 6 * DAY)
    assert resumed.paused_seconds == 4 * DAY
    assert days_past_due(resumed, DUE + 6 * DAY) == 2


def test_resume_before_the_pause_began_adds_nothing() -> None:
    state = after_pause(ContactState(due_date=DUE), DUE + 20 * DAY)
    assert after_resume(state, DUE + 10 * DAY, DUE + 30 * DAY).paused_seconds == 0


def test_pause_and_resume_refuse_the_wrong_state() -> None:
    paused = after_pause(ContactState(due_date=DUE), DUE)
    with pytest.raises(InvalidInput):
        after_pause(paused, DUE + 1)
    with pytest.raises(InvalidInput):
        after_resume(ContactState(due_date=DUE), DUE, DUE)
    with pytest.raises(InvalidInput) as info:
        after_resume(paused, DUE + 2, DUE + 1)
    assert info.value.field == "since"


@pytest.mark.parametrize(
    ("tz", "hh", "mm"), [(CST, 7, 59), (CST, 8, 0), (CST, 21, 59), (CST, 22, 0), (-300, 0, 0)]
)
def test_local_minute_of_the_debtor(tz: int, hh: int, mm: int) -> None:
    assert local_minute(local(10, hh, mm, tz), tz) == hh * 60 + mm


@pytest.mark.parametrize("tz", [-721, 841, True])
def test_state_refuses_an_offset_out_of_range(tz: int) -> None:
    with pytest.raises(InvalidInput) as info:
        ContactState(due_date=DUE, tz_offset_minutes=tz)
    assert info.value.field == "tz_offset_minutes"


# ------------------------------------------------------------------ the rules


def cn_state(**kw: object) -> ContactState:
    return ContactState(due_date=DUE, tz_offset_minutes=CST, **kw)  # type: ignore[arg-type]


def test_cn_contact_hours_in_the_debtors_time() -> None:
    state = cn_state()
    voice, collect = Channel.VOICE, Kind.COLLECTION
    # 08:00 in Beijing is midnight UTC: the block time crosses a UTC day there
    assert check_contact(CN_CBA_2026, state, local(10, 7, 59), voice, collect) == "contact-hours"
    assert check_contact(CN_CBA_2026, state, local(10, 8, 0), voice, collect) is None
    assert check_contact(CN_CBA_2026, state, local(10, 21, 59), voice, collect) is None
    assert check_contact(CN_CBA_2026, state, local(10, 22, 0), voice, collect) == "contact-hours"


def test_daily_cap_counts_the_debtors_local_day_not_the_utc_day() -> None:
    tz = -300  # a debtor in UTC-5: local 21:00 is 02:00 UTC the next day
    morning = [local(10, 9, m, tz) for m in range(6)]
    state = ContactState(due_date=DUE, tz_offset_minutes=tz, recent=tuple(reversed(morning)))
    evening = local(10, 21, 0, tz)
    assert counts(state, evening) == (6, 6)
    assert check_contact(CN_CBA_2026, state, evening, Channel.VOICE, Kind.COLLECTION) == (
        "daily-attempts"
    )
    next_morning = local(11, 8, 0, tz)
    assert counts(state, next_morning) == (0, 6)
    assert check_contact(CN_CBA_2026, state, next_morning, Channel.VOICE, Kind.COLLECTION) is None


def test_caps_apply_to_capped_channels_only() -> None:
    now = local(10, 9, 0)
    state = cn_state(recent=(now - 60,) * 6)
    assert check_contact(CN_CBA_2026, state, now, Channel.VOICE, Kind.COLLECTION) == (
        "daily-attempts"
    )
    assert check_contact(CN_CBA_2026, state, now, Channel.SMS, Kind.COLLECTION) is None
    assert after_contact(CN_CBA_2026, state, now, Channel.SMS).recent == state.recent


def test_weekly_window_is_the_last_604800_seconds() -> None:
    first = local(10, 9, 0, -300)
    recent = tuple(reversed([first + i * DAY for i in range(7)]))
    state = ContactState(due_date=DUE, tz_offset_minutes=-300, recent=recent)
    assert check_contact(US_REG_F, state, first + WEEK - 1, Channel.VOICE, Kind.COLLECTION) == (
        "weekly-contacts"
    )
    assert check_contact(US_REG_F, state, first + WEEK, Channel.VOICE, Kind.COLLECTION) is None


def test_recent_keeps_the_seven_newest() -> None:
    state = cn_state()
    for i in range(9):
        state = after_contact(US_REG_F, state, DUE + i, Channel.VOICE)
    assert state.recent == tuple(DUE + i for i in range(8, 1, -1))
    assert state.first_contact == DUE


def test_cooling_off_after_a_conversation_or_a_promise() -> None:
    now = local(40, 10, 0, -300)
    for outcome in (Outcome.CONVERSATION, Outcome.PROMISE_TO_PAY):
        state = after_outcome(ContactState(due_date=DUE, tz_offset_minutes=-300), now, outcome)
        later = now + 7 * DAY
        rule = check_contact(US_REG_F, state, later - 1, Channel.VOICE, Kind.COLLECTION)
        assert rule == "cooling-off"
        assert check_contact(US_REG_F, state, later, Channel.VOICE, Kind.COLLECTION) is None
        assert check_contact(US_REG_F, state, later - 1, Channel.EMAIL, Kind.COLLECTION) is None


def test_unanswered_attempts_open_third_party_contact() -> None:
    now = local(10, 10, 0)
    state = cn_state()
    for _ in range(2):
        state = after_outcome(state, now, Outcome.UNANSWERED)
    state = after_outcome(state, now, Outcome.ANSWERED)  # answered does not count
    assert check_contact(CN_CBA_2026, state, now, Channel.VOICE, Kind.THIRD_PARTY) == (
        "third-party"
    )
    state = after_outcome(state, now, Outcome.UNANSWERED)
    assert check_contact(CN_CBA_2026, state, now, Channel.VOICE, Kind.THIRD_PARTY) is None


def test_failed_attempts_saturate() -> None:
    state = cn_state(failed_attempts=255)
    assert after_outcome(state, DUE, Outcome.UNANSWERED).failed_attempts == 255


def test_credit_report_waits_for_a_first_contact() -> None:
    now = local(40, 10, 0)
    sms, report = Channel.SMS, Kind.CREDIT_REPORT
    assert check_contact(CN_CBA_2026, cn_state(), now, sms, report) == "credit-report-wait"
    state = cn_state(first_contact=now - 7 * DAY + 1)
    assert check_contact(CN_CBA_2026, state, now, sms, report) == "credit-report-wait"
    state = cn_state(first_contact=now - 7 * DAY)
    assert check_contact(CN_CBA_2026, state, now, sms, report) is None


def test_legal_needs_the_stage_and_a_debt_not_time_barred() -> None:
    letter, legal = Channel.LETTER, Kind.LEGAL
    assert check_contact(CN_CBA_2026, cn_state(), local(90, 10), letter, legal) == "legal-stage"
    assert check_contact(CN_CBA_2026, cn_state(), local(91, 10), letter, legal) is None
    barred = DUE + 3 * 365 * DAY
    state = ContactState(due_date=DUE, tz_offset_minutes=-10 * 60)  # 14:00 local at `barred`
    assert check_contact(CN_CBA_2026, state, barred - 1, letter, legal) is None
    assert check_contact(CN_CBA_2026, state, barred, letter, legal) == "time-barred"


def test_first_rule_in_order_wins() -> None:
    night = local(10, 23, 0)
    busy = cn_state(recent=(night - 60,) * 6)
    assert check_contact(CN_CBA_2026, busy, night, Channel.VOICE, Kind.COLLECTION) == (
        "contact-hours"
    )
    order = [
        (replace(busy, mandated=False, active=False, enrolled=False), "not-mandated"),
        (replace(busy, active=False, enrolled=False), "claim-inactive"),
        (replace(busy, enrolled=False, paused_since=DUE), "not-enrolled"),
        (replace(busy, paused_since=DUE), "collection-paused"),
    ]
    for state, rule in order:
        assert check_contact(CN_CBA_2026, state, night, Channel.VOICE, Kind.COLLECTION) == rule


def test_paused_claim_may_get_reminders_on_stage_0_channels() -> None:
    state = cn_state(paused_since=DUE + DAY)
    now = local(40, 10, 0)
    assert check_contact(CN_CBA_2026, state, now, Channel.SMS, Kind.REMINDER) is None
    assert check_contact(CN_CBA_2026, state, now, Channel.VOICE, Kind.REMINDER) == (
        "channel-not-allowed"
    )
    assert check_contact(CN_CBA_2026, state, now, Channel.SMS, Kind.COLLECTION) == (
        "collection-paused"
    )


def test_channels_and_kinds_follow_the_stage() -> None:
    before_due = DUE - DAY + 10 * 3600  # stage 0
    state = cn_state()
    assert check_contact(CN_CBA_2026, state, before_due, Channel.VOICE, Kind.REMINDER) == (
        "channel-not-allowed"
    )
    assert check_contact(CN_CBA_2026, state, before_due, Channel.SMS, Kind.COLLECTION) == (
        "kind-not-allowed"
    )
    assert check_contact(CN_CBA_2026, state, before_due, Channel.SMS, Kind.REMINDER) is None


@given(
    rules=st.sampled_from(list(PRESETS.values())),
    offset=st.integers(-10 * DAY, 1200 * DAY),
    tz=st.integers(-720, 840),
    channel=st.sampled_from(Channel),
    kind=st.sampled_from(Kind),
    gaps=st.lists(st.integers(1, 3 * DAY), max_size=7),
)
def test_an_allowed_contact_breaks_no_single_rule(
    rules: PolicyRules, offset: int, tz: int, channel: Channel, kind: Kind, gaps: list[int]
) -> None:
    """Whatever the state: allowed means every rule, checked on its own, allows."""
    now = DUE + offset
    recent, t = [], now
    for gap in gaps:
        t -= gap
        recent.append(t)
    state = ContactState(due_date=DUE, tz_offset_minutes=tz, recent=tuple(recent))
    if check_contact(rules, state, now, channel, kind) is not None:
        return
    stage = due_stage(rules, state, now)
    assert rules.channels[stage] >> channel & 1 and rules.kinds[stage] >> kind & 1
    assert rules.contact_start <= local_minute(now, tz) < rules.contact_end
    day, week = counts(state, now)
    if rules.capped_channels >> channel & 1:
        assert not rules.max_daily or day < rules.max_daily
        assert not rules.max_weekly or week < rules.max_weekly
    assert kind not in (Kind.CREDIT_REPORT, Kind.THIRD_PARTY) or (
        kind == Kind.THIRD_PARTY and rules.third_party_after == 0
    )


# ------------------------------------------------------------------ coordinated debtors

AGENCY_X = "0x" + "a1" * 20
AGENCY_Y = "0x" + "b2" * 20
MONDAY = DUE + 11 * DAY  # 2026-01-12 00:00 UTC
THURSDAY = MONDAY + 3 * DAY


def coordinated(**overrides: object) -> ContactState:
    """A claim of a coordinated debtor in New York (us-reg-f hours), its owner's part 2,
    asked for by AGENCY_X."""
    base = ContactState(
        due_date=DUE,
        tz_offset_minutes=-300,
        coordinated=True,
        creditor_part=2,
        party=AGENCY_X,
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


def us_rule(state: ContactState, now: int, channel: Channel = Channel.VOICE) -> str | None:
    return check_contact(US_REG_F, state, now, channel, Kind.COLLECTION)


def test_coordination_rules_sit_after_the_weekly_cap() -> None:
    names = list(RULE_NAMES)
    assert names.index("creditor-budget") == names.index("weekly-contacts") + 1
    assert names.index("calendar") == names.index("creditor-budget") + 1
    assert names.index("cooling-off") == names.index("calendar") + 1


def test_the_release_point_is_thursday_midnight_utc() -> None:
    assert datetime.fromtimestamp(MONDAY, UTC).weekday() == 0
    assert not released(MONDAY)
    assert not released(THURSDAY - 1)
    assert released(THURSDAY)
    assert released(MONDAY + WEEK - 1)
    assert not released(MONDAY + WEEK)
    assert not released(WEEK_START)  # 1970-01-05, the first Monday


@given(st.integers(WEEK_START, 2**32 - 1))
def test_released_from_thursday_to_sunday(now: int) -> None:
    assert released(now) == (datetime.fromtimestamp(now, UTC).weekday() >= 3)


def test_a_creditor_keeps_to_its_part_until_the_release() -> None:
    now = MONDAY + 14 * 3600  # 09:00 in New York
    state = coordinated(creditor_recent=(now - 3600, now - 7200))
    assert us_rule(state, now) == "creditor-budget"
    assert us_rule(replace(state, creditor_part=3), now) is None
    assert us_rule(state, now, Channel.EMAIL) is None  # not a capped channel
    assert us_rule(replace(state, coordinated=False), now) is None
    later = THURSDAY + 14 * 3600
    assert us_rule(replace(state, creditor_recent=(later - 60, later - 120)), later) is None
    # contacts older than 7 days leave the count
    old = coordinated(creditor_recent=(now - WEEK, now - WEEK - 1))
    assert creditor_count(old, now) == 0
    assert us_rule(old, now) is None


def test_the_weekly_cap_comes_before_the_budget_and_holds_after_the_release() -> None:
    now = THURSDAY + 14 * 3600
    full = coordinated(recent=tuple(now - 60 * i for i in range(1, 8)))
    assert us_rule(full, now) == "weekly-contacts"  # released: only the caps apply
    monday = now - 3 * DAY
    busy = coordinated(
        recent=tuple(monday - 60 * i for i in range(1, 8)),
        creditor_recent=(monday - 60, monday - 120),
    )
    assert us_rule(busy, monday) == "weekly-contacts"  # before the budget


def test_calendar_another_party_the_same_local_day() -> None:
    morning = MONDAY + 14 * 3600  # 09:00 in New York
    evening = MONDAY + DAY + 30 * 60  # 19:30 in New York, already Tuesday in UTC
    state = coordinated(calendar_party=AGENCY_Y, calendar_at=morning)
    assert us_rule(state, evening) == "calendar"
    assert us_rule(replace(state, party=AGENCY_Y.upper().replace("0X", "0x")), evening) is None
    assert us_rule(state, morning + DAY) is None  # the next local day
    assert us_rule(state, evening, Channel.EMAIL) is None
    # the budget is checked first, cooling-off after
    assert us_rule(replace(state, creditor_part=0), evening) == "creditor-budget"
    cooling = replace(state, last_conversation=morning, party=AGENCY_Y)
    assert us_rule(cooling, evening) == "cooling-off"


def test_after_a_contact_on_a_coordinated_debtor() -> None:
    now = MONDAY + 14 * 3600
    state = after_contact(US_REG_F, coordinated(), now, Channel.VOICE)
    assert (state.creditor_recent, state.calendar_party, state.calendar_at) == (
        (now,),
        AGENCY_X,
        now,
    )
    assert state.recent == (now,)
    e_mail = after_contact(US_REG_F, coordinated(), now, Channel.EMAIL)
    assert (e_mail.creditor_recent, e_mail.calendar_party, e_mail.recent) == ((), "", ())
    plain = after_contact(US_REG_F, coordinated(coordinated=False), now, Channel.VOICE)
    assert (plain.creditor_recent, plain.calendar_party, plain.recent) == ((), "", (now,))


def test_contact_state_bounds_the_coordination_fields() -> None:
    with pytest.raises(InvalidInput) as err:
        coordinated(creditor_part=8)
    assert err.value.field == "creditor_part"
    with pytest.raises(InvalidInput) as err:
        coordinated(creditor_recent=(1,) * 8)
    assert err.value.field == "creditor_recent"


def test_budget_shares_by_debt() -> None:
    assert budget_shares({"b": 20_000, "a": 30_000, "c": 20_000}) == {"a": 3, "b": 2, "c": 2}
    shares = budget_shares({"a": 1_000_000, "b": 1, "c": 1})
    assert shares == {"a": 7, "b": 0, "c": 0}
    assert budget_shares({"a": 1, "b": 1}) == {"a": 1, "b": 1}  # only 2 fen owed in all
    assert budget_shares({"a": 50, "b": 50}, budget=5) == {"a": 3, "b": 2}
    with pytest.raises(InvalidInput) as err:
        budget_shares({str(i): 1 for i in range(11)})
    assert err.value.field == "debts"
    with pytest.raises(InvalidInput):
        budget_shares({"a": 1}, budget=8)
