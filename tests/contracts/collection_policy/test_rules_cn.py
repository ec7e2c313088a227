"""The cn-cba-2026 preset on chain: for each rule, a contact that breaks it gets the named
refusal and one just inside passes. The debtor is in UTC+8 and block times are UTC, so
08:00 in Beijing is midnight UTC."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind, Outcome

from ..conftest import DUE
from .conftest import CST, EST, local

SMS, VOICE, LETTER, VISIT = (
    int(c) for c in (Channel.SMS, Channel.VOICE, Channel.LETTER, Channel.VISIT)
)
REMIND, COLLECT, THIRD, REPORT, LEGAL = (int(k) for k in Kind)
DAY = 86_400


@pytest.fixture
def cid(enrolled):
    return enrolled(tz=CST)


def refused(authorize, rule, *args, **kw):
    with boa.reverts(f"policy: {rule}"):
        authorize(*args, **kw)


@pytest.mark.parametrize(
    ("hh", "mm", "ok"), [(7, 59, False), (8, 0, True), (21, 59, True), (22, 0, False)]
)
def test_contact_hours(policy, actors, cid, authorize, at, hh, mm, ok):
    now = at(local(10, hh, mm))
    assert (now - DUE) % DAY == ((hh * 60 + mm - CST) * 60) % DAY  # the block time is UTC
    if ok:
        authorize(cid, VOICE, COLLECT)
    else:
        refused(authorize, "contact-hours", cid, VOICE, COLLECT)
        assert policy.check_contact(cid, VOICE, COLLECT, actors.agency) == "contact-hours"


def test_hours_bind_every_channel(cid, authorize, at):
    at(local(10, 7, 59))
    refused(authorize, "contact-hours", cid, SMS, COLLECT)


def test_daily_attempts(policy, actors, cid, authorize, at):
    for m in range(6):
        at(local(10, 9, m))
        authorize(cid, VOICE, COLLECT)
    at(local(10, 9, 6))
    refused(authorize, "daily-attempts", cid, VOICE, COLLECT)
    at(local(10, 21, 59))
    refused(authorize, "daily-attempts", cid, VOICE, COLLECT)
    authorize(cid, SMS, COLLECT)  # texts are not capped
    at(local(11, 8, 0))  # a new day in Beijing
    authorize(cid, VOICE, COLLECT)
    assert policy.check_contact(cid, VOICE, COLLECT, actors.agency) == ""


def test_daily_attempts_count_the_local_day_of_a_debtor_west_of_utc(enrolled, authorize, at):
    west = enrolled(tz=EST, debtor=keccak(text="abroad"))
    for m in range(6):
        at(local(10, 9, m, EST))  # 14:0m UTC
        authorize(west, VOICE, COLLECT)
    at(local(10, 21, 0, EST))  # 02:00 UTC the next day: still the same local day
    refused(authorize, "daily-attempts", west, VOICE, COLLECT)
    at(local(11, 8, 0, EST))
    authorize(west, VOICE, COLLECT)


def test_no_weekly_cap(cid, authorize, at):
    """The guideline sets none: six calls on each of two days all pass."""
    for day in (10, 11):
        for m in range(6):
            at(local(day, 9, m))
            authorize(cid, VOICE, COLLECT)


def test_no_cooling_off(cid, authorize, outcome, at):
    at(local(10, 9, 0))
    contact = authorize(cid, VOICE, COLLECT)
    outcome(contact, Outcome.CONVERSATION)
    authorize(cid, VOICE, COLLECT)


def test_third_party_after_three_failed_attempts(policy, actors, cid, authorize, outcome, at):
    at(local(10, 9, 0))
    refused(authorize, "third-party", cid, VOICE, THIRD)
    for result in (Outcome.UNANSWERED, Outcome.ANSWERED, Outcome.UNANSWERED):
        outcome(authorize(cid, VOICE, COLLECT), result)
    refused(authorize, "third-party", cid, VOICE, THIRD)
    assert policy.check_contact(cid, VOICE, THIRD, actors.agency) == "third-party"
    outcome(authorize(cid, VOICE, COLLECT), Outcome.UNANSWERED)
    assert policy.enrolment(cid).failed_attempts == 3
    authorize(cid, VOICE, THIRD)


def test_credit_report_waits_seven_days_after_the_first_contact(cid, authorize, at):
    at(local(10, 9, 0))
    refused(authorize, "credit-report-wait", cid, LETTER, REPORT)
    first = local(10, 9, 0)
    authorize(cid, SMS, COLLECT)
    at(first + 7 * DAY - 1)
    refused(authorize, "credit-report-wait", cid, LETTER, REPORT)
    at(first + 7 * DAY)
    authorize(cid, LETTER, REPORT)


def test_legal_from_stage_4(policy, cid, authorize, at):
    at(local(90, 10, 0))
    assert policy.stage_of(cid)[1:] == (3, 90)
    refused(authorize, "legal-stage", cid, LETTER, LEGAL)
    at(local(91, 8, 0))
    assert policy.stage_of(cid)[1:] == (4, 91)
    authorize(cid, LETTER, LEGAL)


def test_time_barred_after_three_years(enrolled, authorize, at):
    due = DUE + 4 * 3600  # 12:00 in Beijing, so the limit falls inside contact hours
    old = enrolled(tz=CST, due=due, debtor=keccak(text="old"))
    at(due + 1095 * DAY - 1)
    authorize(old, LETTER, LEGAL)
    at(due + 1095 * DAY)
    refused(authorize, "time-barred", old, LETTER, LEGAL)
    authorize(old, LETTER, COLLECT)  # collecting is still allowed; suing is not


@pytest.mark.parametrize(
    ("day", "channel", "ok"),
    [
        (-1, VOICE, False),  # stage 0: texts and e-mail only
        (-1, SMS, True),
        (3, LETTER, False),  # stage 1: no letters
        (3, VOICE, True),
        (20, VISIT, False),  # stage 2: no visits
        (31, VISIT, True),  # stage 3
    ],
)
def test_channel_per_stage(cid, authorize, at, day, channel, ok):
    at(local(day, 10, 0))
    kind = REMIND if day < 0 else COLLECT
    if ok:
        authorize(cid, channel, kind)
    else:
        refused(authorize, "channel-not-allowed", cid, channel, kind)


@pytest.mark.parametrize(
    ("day", "kind", "ok"),
    [(-1, COLLECT, False), (-1, REMIND, True), (3, THIRD, False), (3, COLLECT, True)],
)
def test_kind_per_stage(cid, authorize, at, day, kind, ok):
    at(local(day, 10, 0))
    if ok:
        authorize(cid, SMS, kind)
    else:
        refused(authorize, "kind-not-allowed", cid, SMS, kind)


def test_collection_paused_by_a_plan_leaves_reminders(policy, plans, cid, authorize, at):
    at(local(40, 10, 0))
    with boa.env.prank(plans.address):
        policy.pause(cid)
    refused(authorize, "collection-paused", cid, SMS, COLLECT)
    refused(authorize, "collection-paused", cid, LETTER, LEGAL)
    authorize(cid, SMS, REMIND)
    refused(authorize, "channel-not-allowed", cid, VOICE, REMIND)  # stage 0 channels
