"""The us-reg-f preset on chain: for each rule, a contact that breaks it gets the named
refusal and one just inside passes. The debtor is in UTC-5 (New York, winter)."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind, Outcome

from ..conftest import DUE, US
from .conftest import EST, local

SMS, EMAIL, VOICE, LETTER = (
    int(c) for c in (Channel.SMS, Channel.EMAIL, Channel.VOICE, Channel.LETTER)
)
REMIND, COLLECT, THIRD, REPORT, LEGAL = (int(k) for k in Kind)
DAY = 86_400


@pytest.fixture
def cid(enrolled):
    return enrolled(preset=US, tz=EST)


def refused(authorize, rule, *args, **kw):
    with boa.reverts(f"policy: {rule}"):
        authorize(*args, **kw)


@pytest.mark.parametrize(
    ("hh", "mm", "ok"), [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False)]
)
def test_contact_hours(cid, authorize, at, hh, mm, ok):
    at(local(10, hh, mm, EST))
    if ok:
        authorize(cid, VOICE, COLLECT)
    else:
        refused(authorize, "contact-hours", cid, VOICE, COLLECT)


def test_no_daily_cap(cid, authorize, at):
    for m in range(7):
        at(local(10, 9, m, EST))
        authorize(cid, VOICE, COLLECT)


def test_seven_calls_in_seven_days(policy, actors, cid, authorize, at):
    first = local(10, 9, 0, EST)
    for day in range(7):
        at(first + day * DAY)
        authorize(cid, VOICE, COLLECT)
    at(first + 7 * DAY - 60)  # 08:59 on the eighth day: the first call is 6 d 23 h 59 m old
    refused(authorize, "weekly-contacts", cid, VOICE, COLLECT)
    assert policy.check_contact(cid, VOICE, COLLECT, actors.agency) == "weekly-contacts"
    authorize(cid, EMAIL, COLLECT)  # e-mail is not capped
    at(first + 7 * DAY)  # the first call leaves the window
    authorize(cid, VOICE, COLLECT)
    refused(authorize, "weekly-contacts", cid, VOICE, COLLECT)


@pytest.mark.parametrize("result", [Outcome.CONVERSATION, Outcome.PROMISE_TO_PAY])
def test_no_call_within_seven_days_of_a_conversation(
    policy, actors, cid, authorize, outcome, at, result
):
    at(local(40, 10, 0, EST))
    contact = authorize(cid, VOICE, COLLECT)
    spoke = at(local(40, 10, 30, EST))
    outcome(contact, result)
    assert policy.debtor_contacts(keccak(text="shared-debtor"))[1] == spoke
    at(spoke + 7 * DAY - 1)
    refused(authorize, "cooling-off", cid, VOICE, COLLECT)
    assert policy.check_contact(cid, VOICE, COLLECT, actors.agency) == "cooling-off"
    authorize(cid, LETTER, COLLECT)  # only calls cool off
    at(spoke + 7 * DAY)
    authorize(cid, VOICE, COLLECT)


@pytest.mark.parametrize("result", [Outcome.ANSWERED, Outcome.UNANSWERED])
def test_no_cooling_off_without_a_conversation(cid, authorize, outcome, at, result):
    at(local(40, 10, 0, EST))
    outcome(authorize(cid, VOICE, COLLECT), result)
    authorize(cid, VOICE, COLLECT)


def test_third_parties_need_no_failed_attempts_from_stage_2(cid, authorize, at):
    at(local(7, 10, 0, EST))
    refused(authorize, "kind-not-allowed", cid, VOICE, THIRD)
    at(local(8, 10, 0, EST))
    authorize(cid, VOICE, THIRD)


def test_credit_report_waits_fourteen_days_after_the_first_contact(cid, authorize, at):
    first = at(local(10, 10, 0, EST))
    refused(authorize, "credit-report-wait", cid, LETTER, REPORT)
    authorize(cid, LETTER, COLLECT)
    at(first + 14 * DAY - 1)
    refused(authorize, "credit-report-wait", cid, LETTER, REPORT)
    at(first + 14 * DAY)
    authorize(cid, LETTER, REPORT)


def test_legal_from_stage_3(cid, authorize, at):
    at(local(30, 10, 0, EST))
    refused(authorize, "legal-stage", cid, LETTER, LEGAL)
    at(local(31, 10, 0, EST))
    authorize(cid, LETTER, LEGAL)


def test_no_legal_action_on_time_barred_debt(policy, actors, enrolled, authorize, at):
    due = DUE + 17 * 3600  # 12:00 in New York
    old = enrolled(preset=US, tz=EST, due=due, debtor=keccak(text="old"))
    at(due + 1095 * DAY - 1)
    authorize(old, LETTER, LEGAL)
    at(due + 1095 * DAY)
    refused(authorize, "time-barred", old, LETTER, LEGAL)
    assert policy.check_contact(old, LETTER, LEGAL, actors.agency) == "time-barred"


@pytest.mark.parametrize(
    ("day", "channel", "kind", "rule"),
    [
        (-1, SMS, REMIND, "channel-not-allowed"),  # stage 0: e-mail and letters only
        (-1, EMAIL, COLLECT, "kind-not-allowed"),  # stage 0: reminders only
        (-1, EMAIL, REMIND, None),
    ],
)
def test_before_the_due_date(cid, authorize, at, day, channel, kind, rule):
    at(local(day, 10, 0, EST))
    if rule is None:
        authorize(cid, channel, kind)
    else:
        refused(authorize, rule, cid, channel, kind)
