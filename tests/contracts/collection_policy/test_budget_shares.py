"""CollectionPolicy.set_budget_shares: one debtor of three creditors, worked by two agencies;
the 7-day budget divided by share of the debt (3/2/2 of 7), each creditor held to its part
until the week's release point (Thursday 00:00 UTC), the policy's caps applying throughout.

Examples of the comparison with the reference: DEBTLEDGER_HYPOTHESIS_EXAMPLES (default 30);
no shrinking, since every example replays a history on chain and a failure prints its steps.
"""

import os
from dataclasses import replace
from datetime import UTC, datetime

import boa
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from debtledger.domain.policies import (
    PRESETS,
    RELEASE_OFFSET,
    Channel,
    ContactState,
    Kind,
    after_contact,
    budget_shares,
    check_contact,
    released,
)

from ..conftest import DUE, US
from .conftest import EST, local

VOICE, SMS, COLLECT = int(Channel.VOICE), int(Channel.SMS), int(Kind.COLLECTION)
DEBTOR = keccak(text="coordinated-debtor")
DAY = 86_400
MONDAY = 11  # days after DUE: 2026-01-12, a Monday
RELEASE = DUE + (MONDAY + 3) * DAY  # Thursday 2026-01-15 00:00 UTC: Wednesday 19:00 in EST
WEEK_END = DUE + (MONDAY + 7) * DAY  # Monday 2026-01-19 00:00 UTC: Sunday 19:00 in EST
SETTINGS = settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
# claim -> (owner, the agency that holds its mandate)
PARTIES = {"A": ("creditor", "agency"), "B": ("creditor2", "agency2"), "C": ("creditor3", "agency")}


@pytest.fixture
def trio(enrolled):
    """Claims A (creditor, agency), B (creditor2, agency2) and C (creditor3, agency) of one
    debtor under us-reg-f (7 calls in 7 days), the debtor in `tz`."""

    def make(tz: int = EST) -> dict[str, bytes]:
        return {
            name: enrolled(preset=US, tz=tz, debtor=DEBTOR, owner=owner, agency=agency)
            for name, (owner, agency) in PARTIES.items()
        }

    return make


@pytest.fixture
def share(policy, actors):
    """The keeper divides DEBTOR's budget: keyword creditor names → parts."""

    def do(**parts: int) -> None:
        with boa.env.prank(actors.keeper):
            policy.set_budget_shares(
                DEBTOR, [getattr(actors, n) for n in parts], list(parts.values())
            )

    return do


def refused(authorize, rule, *args, **kw):
    with boa.reverts(f"policy: {rule}"):
        authorize(*args, **kw)


def test_the_dates_are_what_the_tests_say():
    assert datetime.fromtimestamp(DUE + MONDAY * DAY, UTC).strftime("%A %H:%M") == "Monday 00:00"
    assert datetime.fromtimestamp(RELEASE, UTC).strftime("%A %H:%M") == "Thursday 00:00"
    assert local(MONDAY + 2, 19, 0, EST) == RELEASE
    assert RELEASE - (DUE + MONDAY * DAY) == RELEASE_OFFSET


def test_shares_by_debt_are_three_two_two():
    # What the coordinator would compute for debts of 30,000, 20,000 and 20,000 fen.
    assert budget_shares({"creditor": 30_000, "creditor2": 20_000, "creditor3": 20_000}) == {
        "creditor": 3,
        "creditor2": 2,
        "creditor3": 2,
    }


def test_a_creditor_beyond_its_part_waits_for_the_release_point(
    policy, actors, agency2, trio, share, authorize, at, events
):
    c = trio()
    share(creditor=3, creditor2=2, creditor3=2)
    at(local(MONDAY, 9, 0, EST))
    for m in range(3):
        at(local(MONDAY, 9, m, EST))
        authorize(c["A"], VOICE, COLLECT)
    refused(authorize, "creditor-budget", c["A"], VOICE, COLLECT)
    assert policy.check_contact(c["A"], VOICE, COLLECT, actors.agency) == "creditor-budget"
    # The owner itself contacting directly spends the same part.
    assert policy.check_contact(c["A"], VOICE, COLLECT, actors.creditor) == "creditor-budget"
    authorize(c["A"], SMS, COLLECT)  # SMS is not capped: no budget
    authorize(c["C"], VOICE, COLLECT)  # the same agency, for creditor3: its own part
    at(local(MONDAY + 1, 9, 0, EST))
    authorize(c["B"], VOICE, COLLECT, agency="agency2")
    authorize(c["B"], VOICE, COLLECT, agency="agency2")
    refused(authorize, "creditor-budget", c["B"], VOICE, COLLECT, agency="agency2")
    part, recent = policy.budget_share(DEBTOR, actors.creditor)
    assert (part, len([t for t in recent if t])) == (3, 3)
    # Six of the seven: A's agency is refused up to the last second before the release.
    at(RELEASE - 1)
    assert policy.check_contact(c["A"], VOICE, COLLECT, actors.agency) == "creditor-budget"
    at(RELEASE)
    contact_id = authorize(c["A"], VOICE, COLLECT)
    assert [n for n, _ in events(policy)] == ["ContactAuthorized"]
    assert policy.contact_of(contact_id)[1] == actors.agency
    # The debtor's own cap still holds: the seventh was the last.
    at(RELEASE + 3600)
    assert policy.check_contact(c["B"], VOICE, COLLECT, agency2) == "weekly-contacts"
    refused(authorize, "weekly-contacts", c["B"], VOICE, COLLECT, agency="agency2")
    assert policy.check_contact(c["C"], VOICE, COLLECT, actors.agency) == "weekly-contacts"


def test_the_release_lasts_to_the_end_of_the_week(policy, actors, trio, share, authorize, at):
    c = trio()
    share(creditor=3, creditor2=2, creditor3=2)
    for m in range(3):
        at(local(MONDAY, 9, m, EST))
        authorize(c["A"], VOICE, COLLECT)
    at(WEEK_END - 1)  # Sunday 18:59:59 in New York, 23:59:59 UTC: still released
    assert released(WEEK_END - 1)
    assert policy.is_released(WEEK_END - 1)
    assert policy.check_contact(c["A"], VOICE, COLLECT, actors.agency) == ""
    at(WEEK_END)  # a new week: the parts hold again, over the last 7 days
    assert not policy.is_released(WEEK_END)
    assert policy.check_contact(c["A"], VOICE, COLLECT, actors.agency) == "creditor-budget"
    at(local(MONDAY + 7, 9, 0, EST))  # the first of the three calls left the window
    authorize(c["A"], VOICE, COLLECT)
    refused(authorize, "creditor-budget", c["A"], VOICE, COLLECT)


def test_a_creditor_without_a_part_waits_for_the_release(policy, actors, trio, share, at):
    c = trio()
    share(creditor=4, creditor2=3)
    at(local(MONDAY, 9, 0, EST))
    assert policy.budget_share(DEBTOR, actors.creditor3)[0] == 0
    assert policy.check_contact(c["C"], VOICE, COLLECT, actors.agency) == "creditor-budget"
    assert policy.check_contact(c["A"], VOICE, COLLECT, actors.agency) == ""
    at(RELEASE)
    assert policy.check_contact(c["C"], VOICE, COLLECT, actors.agency) == ""


def test_without_shares_nothing_changes(policy, actors, agency2, trio, authorize, at):
    c = trio()
    at(local(MONDAY, 9, 0, EST))
    for _ in range(4):
        authorize(c["A"], VOICE, COLLECT)
    authorize(c["B"], VOICE, COLLECT, agency="agency2")  # another agency, the same day
    assert policy.coordination_of(DEBTOR) == (False, "0x" + "00" * 20, 0)
    assert policy.budget_share(DEBTOR, actors.creditor) == (0, [0] * 7)


def test_new_shares_replace_the_old_and_keep_the_count(policy, actors, trio, share, authorize, at):
    c = trio()
    share(creditor=3, creditor2=2, creditor3=2)
    at(local(MONDAY, 9, 0, EST))
    authorize(c["A"], VOICE, COLLECT)
    share(creditor2=5, creditor=2)
    assert policy.budget_share(DEBTOR, actors.creditor3)[0] == 0  # no longer listed
    part, recent = policy.budget_share(DEBTOR, actors.creditor)
    assert (part, recent[0]) == (2, local(MONDAY, 9, 0, EST))
    authorize(c["A"], VOICE, COLLECT)
    refused(authorize, "creditor-budget", c["A"], VOICE, COLLECT)
    assert policy.check_contact(c["C"], VOICE, COLLECT, actors.agency) == "creditor-budget"


def test_empty_lists_end_the_coordination(policy, actors, agency2, trio, share, authorize, at):
    c = trio()
    share(creditor=1)
    at(local(MONDAY, 9, 0, EST))
    authorize(c["A"], VOICE, COLLECT)
    assert policy.coordination_of(DEBTOR) == (True, actors.agency, local(MONDAY, 9, 0, EST))
    share()
    assert policy.coordination_of(DEBTOR) == (False, "0x" + "00" * 20, 0)
    assert policy.budget_share(DEBTOR, actors.creditor)[0] == 0
    authorize(c["A"], VOICE, COLLECT)  # beyond the old part
    authorize(c["B"], VOICE, COLLECT, agency="agency2")  # no calendar either


# ---------------------------------------------------------------- who and what


KINDS = ("admin", "creditor", "agency", "gateway", "court", "regulator", "stranger", "keeper")


@pytest.mark.parametrize("kind", KINDS)
def test_only_a_keeper_sets_shares(policy, actors, events, kind):
    creditors = [actors.creditor, actors.creditor2, actors.creditor3]
    with boa.env.prank(getattr(actors, kind)):
        if kind != "keeper":
            with boa.reverts("collection: caller is not a keeper"):
                policy.set_budget_shares(DEBTOR, creditors, [3, 2, 2])
            return
        policy.set_budget_shares(DEBTOR, creditors, [3, 2, 2])
    ((name, fields),) = events(policy)
    assert name == "BudgetSharesSet"
    assert fields == {
        "debtor": DEBTOR,
        "set_by": actors.keeper,
        "creditors": creditors,
        "parts": [3, 2, 2],
    }
    assert [policy.budget_share(DEBTOR, a)[0] for a in creditors] == [3, 2, 2]
    assert policy.coordination_of(DEBTOR)[0] is True


@pytest.mark.parametrize(
    ("debtor", "names", "parts", "reason"),
    [
        (DEBTOR, ["creditor", "creditor2"], [3], "one part per creditor"),
        (DEBTOR, ["creditor", "creditor2", "creditor"], [1, 1, 1], "creditor listed twice"),
        (DEBTOR, ["creditor", "agency"], [1, 1], "shares for a non-creditor"),
        (DEBTOR, ["creditor", "creditor2", "creditor3"], [3, 3, 2], "parts above 7"),
        (b"\0" * 32, ["creditor"], [1], "empty debtor pseudonym"),
    ],
)
def test_bad_shares_are_refused(policy, actors, debtor, names, parts, reason):
    with boa.env.prank(actors.keeper), boa.reverts(f"collection: {reason}"):
        policy.set_budget_shares(debtor, [getattr(actors, n) for n in names], parts)


def test_parts_may_add_up_to_seven(policy, actors):
    with boa.env.prank(actors.keeper):
        policy.set_budget_shares(DEBTOR, [actors.creditor, actors.creditor2], [7, 0])
    assert policy.budget_share(DEBTOR, actors.creditor2)[0] == 0


# ---------------------------------------------------------------- against the reference


def coordinated_state(policy, chain_state, cid, party, owner):
    """chain_state plus what the contract holds of the coordination, for the reference."""
    active, last, last_at = policy.coordination_of(DEBTOR)
    part, recent = policy.budget_share(DEBTOR, owner)
    base: ContactState = chain_state(cid, party)
    return replace(
        base,
        coordinated=active,
        creditor_part=part,
        creditor_recent=tuple(t for t in recent if t),
        calendar_party="" if int(last, 16) == 0 else last,
        calendar_at=last_at,
        party=party,
    )


step = st.tuples(
    st.one_of(st.integers(0, 3_600), st.integers(0, DAY), st.integers(0, 4 * DAY)),
    st.sampled_from(sorted(PARTIES)),
    st.booleans(),  # the owner contacts directly instead of its agency
    st.one_of(st.just(Channel.VOICE), st.sampled_from([Channel.VOICE, Channel.SMS])),
)


@SETTINGS
@given(
    parts=st.lists(st.integers(0, 3), min_size=3, max_size=3),
    start=st.integers(0, 7 * DAY),
    steps=st.lists(step, min_size=1, max_size=20),
)
def test_contract_decides_as_the_reference(
    policy, actors, party, trio, share, at, authorize, chain_state, parts, start, steps
):
    rules = PRESETS[US]
    with boa.env.anchor():
        c = trio()
        share(creditor=parts[0], creditor2=parts[1], creditor3=parts[2])
        now = local(MONDAY, 8, 0, EST) + start
        for wait, name, direct, channel in steps:
            now = at(now + wait)
            owner_name, agency_name = PARTIES[name]
            who = party(owner_name if direct else agency_name)
            owner = party(owner_name)
            state = coordinated_state(policy, chain_state, c[name], who, owner)
            expected = check_contact(rules, state, now, channel, Kind.COLLECTION)
            got = policy.check_contact(c[name], int(channel), COLLECT, who)
            assert got == (expected or "")
            event(expected or "allowed")
            if expected is not None:
                continue
            authorize(c[name], channel, COLLECT, agency=who)
            after = coordinated_state(policy, chain_state, c[name], who, owner)
            assert after == after_contact(rules, state, now, channel)
