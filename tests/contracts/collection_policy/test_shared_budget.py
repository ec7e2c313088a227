"""One debtor, two creditors, two agencies: the caps are the debtor's, shared by all."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind

from ..conftest import CN, US
from .conftest import CST, EST, local

VOICE, SMS, COLLECT = int(Channel.VOICE), int(Channel.SMS), int(Kind.COLLECTION)
DEBTOR = keccak(text="one-debtor")
DAY = 86_400


@pytest.fixture
def claims(enrolled):
    """Claim A (creditor, agency) and claim B (creditor2, agency2) of one debtor."""

    def make(preset: str, tz: int) -> tuple[bytes, bytes]:
        a = enrolled(preset=preset, tz=tz, debtor=DEBTOR)
        b = enrolled(preset=preset, tz=tz, debtor=DEBTOR, owner="creditor2", agency="agency2")
        return a, b

    return make


def test_seven_day_budget_shared_by_creditors_and_agencies(
    policy, actors, agency2, claims, authorize, at
):
    a, b = claims(US, EST)
    first = local(10, 9, 0, EST)
    callers = [
        (a, "agency", "gateway"),
        (b, "agency2", "gateway"),
        (a, "agency", "agency"),  # the agency itself
        (b, "agency2", "agency2"),
        (a, "creditor", "creditor"),  # the owner itself
        (b, "creditor2", "gateway"),
        (a, "agency", "gateway"),
    ]
    for day, (cid, agency, caller) in enumerate(callers):
        at(first + day * DAY)
        authorize(cid, VOICE, COLLECT, agency=agency, caller=caller)
    at(first + 6 * DAY + 3600)
    for cid, agency in (
        (a, actors.agency),
        (b, agency2),
        (a, actors.creditor),
        (b, actors.creditor2),
    ):
        assert policy.check_contact(cid, VOICE, COLLECT, agency) == "weekly-contacts"
    with boa.reverts("policy: weekly-contacts"):
        authorize(b, VOICE, COLLECT, agency="agency2")
    assert len([t for t in policy.debtor_contacts(DEBTOR)[0] if t]) == 7


def test_daily_budget_shared(policy, agency2, claims, authorize, at):
    a, b = claims(CN, CST)
    for m in range(3):
        at(local(10, 9, 2 * m))
        authorize(a, VOICE, COLLECT)
        at(local(10, 9, 2 * m + 1))
        authorize(b, VOICE, COLLECT, agency="agency2")
    with boa.reverts("policy: daily-attempts"):
        authorize(b, VOICE, COLLECT, agency="agency2")
    assert policy.check_contact(a, VOICE, COLLECT, agency2) == "not-mandated"  # b's agency


def test_conversation_on_one_claim_cools_off_the_others(claims, authorize, outcome, at):
    a, b = claims(US, EST)
    at(local(40, 10, 0, EST))
    outcome(authorize(a, VOICE, COLLECT), 3)
    with boa.reverts("policy: cooling-off"):
        authorize(b, VOICE, COLLECT, agency="agency2")


def test_failed_attempts_are_per_claim(policy, claims, authorize, outcome, at):
    a, b = claims(CN, CST)
    at(local(40, 10, 0))
    for _ in range(3):
        outcome(authorize(a, SMS, COLLECT), 2)
    authorize(a, VOICE, int(Kind.THIRD_PARTY))
    with boa.reverts("policy: third-party"):
        authorize(b, VOICE, int(Kind.THIRD_PARTY), agency="agency2")
    assert (policy.enrolment(a).failed_attempts, policy.enrolment(b).failed_attempts) == (3, 0)


def test_other_debtors_are_untouched(claims, enrolled, authorize, at):
    a, _ = claims(CN, CST)
    other = enrolled(debtor=keccak(text="someone-else"))
    for m in range(6):
        at(local(10, 9, m))
        authorize(a, VOICE, COLLECT)
    authorize(other, VOICE, COLLECT)
