"""RepaymentPlan.propose: the owner offers the debtor an instalment plan."""

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..conftest import NOT_ACTIVE
from .conftest import BROKEN, PROPOSED, START, monthly, schedule_hash, word, words

DAY = 86_400


def test_owner_proposes(plans, actors, plan_claim, propose, logs):
    packed = monthly()
    propose(plan_claim, packed, grace=5)
    assert logs(plans) == [
        (
            plans.address,
            "PlanProposed",
            {
                "claim_id": plan_claim,
                "proposed_by": actors.creditor,
                "schedule_hash": schedule_hash(packed),
                "grace_days": 5,
                "instalments": packed,
            },
        )
    ]
    assert tuple(plans.plan_of(plan_claim)) == (PROPOSED, 4, 0, 5, 0, schedule_hash(packed))
    assert plans.instalments_of(plan_claim) == packed


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    gaps=st.lists(st.integers(1, 400 * DAY), min_size=1, max_size=60),
    amounts=st.lists(st.integers(1, 2**88 - 1), min_size=60, max_size=60),
)
def test_any_valid_schedule_round_trips(plans, plan_claim, propose, gaps, amounts):
    due, schedule = START, []
    for gap, amount in zip(gaps, amounts, strict=False):
        due += gap
        schedule.append((due, amount))
    with boa.env.anchor():
        propose(plan_claim, words(schedule))
        assert plans.instalments_of(plan_claim) == words(schedule)
        assert plans.plan_of(plan_claim).schedule_hash == schedule_hash(words(schedule))


@pytest.mark.parametrize("caller", ["creditor2", "agency", "gateway", "admin", "stranger"])
def test_refused_for_anyone_but_the_owner(plans, actors, plan_claim, propose, caller):
    with boa.reverts("plan: caller is not the owner"):
        propose(plan_claim, owner=getattr(actors, caller))
    assert plans.plan_of(plan_claim).state == 0


@NOT_ACTIVE
def test_claim_must_be_active(plan_claim, propose, move_to, status, reason):
    move_to(plan_claim, status)
    with boa.reverts("plan: claim is not active"):
        propose(plan_claim)


def test_claim_must_be_enrolled(claim, propose, at):
    at(START)
    with boa.reverts("plan: claim not enrolled"):
        propose(claim)


def test_not_over_an_active_plan(active_plan, propose):
    with boa.reverts("plan: plan already active"):
        propose(active_plan, monthly(2))


def test_replaces_an_offer(plans, plan_claim, propose):
    propose(plan_claim, monthly(4))
    propose(plan_claim, monthly(1, 8_000), grace=0)
    assert tuple(plans.plan_of(plan_claim))[:4] == (PROPOSED, 1, 0, 0)
    assert plans.instalments_of(plan_claim) == monthly(1, 8_000)


def test_replaces_a_broken_plan(plans, active_plan, propose, at):
    at(START + 36 * DAY)
    assert plans.check_missed(active_plan)
    assert plans.plan_of(active_plan).state == BROKEN
    propose(active_plan, monthly(2, 4_000, first=START + 60 * DAY))
    assert plans.plan_of(active_plan).state == PROPOSED


@pytest.mark.parametrize(
    ("packed", "reason"),
    [
        ([], "plan: empty schedule"),
        ([word(START + DAY, 0)], "plan: instalment amount must be positive"),
        ([word(START + DAY, 2**88)], "plan: malformed instalment"),
        ([word(START + DAY, 1) | (1 << 100)], "plan: malformed instalment"),
        ([word(2**40, 1)], "plan: malformed instalment"),
        ([word(START, 1)], "plan: due dates must be in the future and rise"),
        (
            [word(START + 2 * DAY, 1), word(START + 2 * DAY, 1)],
            "plan: due dates must be in the future and rise",
        ),
        (
            [word(START + 2 * DAY, 1), word(START + DAY, 1)],
            "plan: due dates must be in the future and rise",
        ),
    ],
)
def test_bad_schedule_refused(plan_claim, propose, packed, reason):
    with boa.reverts(reason):
        propose(plan_claim, packed)


def test_at_most_60_instalments(plans, plan_claim, propose):
    propose(plan_claim, monthly(60, 1))
    assert plans.plan_of(plan_claim).instalments == 60
    with pytest.raises(Exception):  # noqa: B017 - the ABI refuses a 61-long array
        propose(plan_claim, monthly(61, 1))
