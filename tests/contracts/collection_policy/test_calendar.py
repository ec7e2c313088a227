"""The coordination calendar: on a debtor whose budget is divided among its creditors, two
parties (agencies, or an owner contacting directly) do not make capped contacts on the same
day of the debtor's local calendar."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import Channel, Kind

from ..conftest import CN, US
from .conftest import CST, EST, local

VOICE, SMS, COLLECT = int(Channel.VOICE), int(Channel.SMS), int(Kind.COLLECTION)
DEBTOR = keccak(text="calendar-debtor")


@pytest.fixture
def pair(enrolled, policy, actors):
    """Claims A (creditor, agency) and B (creditor2, agency2) of one debtor in `tz`, its
    budget divided 4/3 unless `shares=False`."""

    def make(preset: str = US, tz: int = CST, shares: bool = True) -> tuple[bytes, bytes]:
        a = enrolled(preset=preset, tz=tz, debtor=DEBTOR)
        b = enrolled(preset=preset, tz=tz, debtor=DEBTOR, owner="creditor2", agency="agency2")
        if shares:
            with boa.env.prank(actors.keeper):
                policy.set_budget_shares(DEBTOR, [actors.creditor, actors.creditor2], [4, 3])
        return a, b

    return make


def refused(authorize, rule, *args, **kw):
    with boa.reverts(f"policy: {rule}"):
        authorize(*args, **kw)


def test_a_second_agency_waits_for_the_debtors_next_day(policy, agency2, pair, authorize, at):
    a, b = pair(tz=CST)
    at(local(20, 9, 0))
    authorize(a, VOICE, COLLECT)
    at(local(20, 20, 59))  # 20:59 in Beijing, the last minute of the window
    refused(authorize, "calendar", b, VOICE, COLLECT, agency="agency2")
    assert policy.check_contact(b, VOICE, COLLECT, agency2) == "calendar"
    at(local(21, 8, 0))  # just past the debtor's midnight and the window's start
    authorize(b, VOICE, COLLECT, agency="agency2")
    refused(authorize, "calendar", a, VOICE, COLLECT)  # now agency2 holds the day


def test_the_day_is_the_debtors_not_utc(policy, agency2, pair, authorize, at):
    a, b = pair(tz=EST)
    at(local(20, 9, 0, EST))  # 14:00 UTC
    authorize(a, VOICE, COLLECT)
    at(local(20, 19, 30, EST))  # 00:30 UTC the next day, the same evening in New York
    assert policy.check_contact(b, VOICE, COLLECT, agency2) == "calendar"
    at(local(21, 8, 0, EST))
    assert policy.check_contact(b, VOICE, COLLECT, agency2) == ""


def test_the_same_party_may_call_again(policy, actors, pair, authorize, at):
    a, _ = pair()
    at(local(20, 9, 0))
    authorize(a, VOICE, COLLECT)  # the gateway, for the agency
    at(local(20, 10, 0))
    authorize(a, VOICE, COLLECT, caller="agency")  # the agency itself
    assert policy.coordination_of(DEBTOR) == (True, actors.agency, local(20, 10, 0))


def test_an_owner_contacting_directly_is_a_party_of_its_own(policy, actors, pair, authorize, at):
    a, _ = pair()
    at(local(20, 9, 0))
    authorize(a, VOICE, COLLECT, agency="creditor", caller="creditor")
    assert policy.coordination_of(DEBTOR)[1] == actors.creditor
    at(local(20, 9, 30))
    refused(authorize, "calendar", a, VOICE, COLLECT)  # its own agency, on the same claim
    authorize(a, VOICE, COLLECT, agency="creditor", caller="creditor")


def test_channels_without_caps_are_not_on_the_calendar(pair, authorize, at):
    a, b = pair(preset=CN)  # cn-cba-2026 caps calls only
    at(local(20, 9, 0))
    authorize(a, VOICE, COLLECT)
    authorize(b, SMS, COLLECT, agency="agency2")
    refused(authorize, "calendar", b, VOICE, COLLECT, agency="agency2")


def test_rules_in_order_daily_then_budget_then_calendar(
    policy, actors, agency2, pair, at, authorize
):
    a, b = pair(preset=CN)  # six calls a day, parts 4/3
    at(local(20, 9, 0))  # a Wednesday: before the release point
    for _ in range(4):
        authorize(a, VOICE, COLLECT)
    assert policy.check_contact(a, VOICE, COLLECT, actors.agency) == "creditor-budget"
    assert policy.check_contact(b, VOICE, COLLECT, agency2) == "calendar"
    at(local(22, 9, 0))  # Friday: released, so only the caps and the calendar apply
    for _ in range(6):
        authorize(a, VOICE, COLLECT)
    assert policy.check_contact(b, VOICE, COLLECT, agency2) == "daily-attempts"


def test_uncoordinated_debtors_have_no_calendar(policy, agency2, pair, authorize, at):
    a, b = pair(shares=False)
    at(local(20, 9, 0))
    authorize(a, VOICE, COLLECT)
    authorize(b, VOICE, COLLECT, agency="agency2")
    assert policy.coordination_of(DEBTOR) == (False, "0x" + "00" * 20, 0)
