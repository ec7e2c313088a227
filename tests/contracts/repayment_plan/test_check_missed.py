"""RepaymentPlan.check_missed: an instalment unpaid past its grace days breaks the plan and
collection resumes from its due date. Anyone may call; a repeat does nothing."""

import boa
import pytest
from eth_utils import keccak

from .conftest import ACTIVE, BROKEN, COMPLETED, START, monthly

DAY = 86_400
FIRST = START + 30 * DAY


def check(plans, who, cid):
    with boa.env.prank(who):
        return plans.check_missed(cid)


@pytest.mark.parametrize("caller", ["keeper", "stranger", "agency"])
def test_missed_instalment_breaks_the_plan(plans, policy, actors, active_plan, logs, at, caller):
    at(FIRST + 5 * DAY + 1)
    assert check(plans, getattr(actors, caller), active_plan) is True
    assert logs(plans) == [
        (
            plans.address,
            "PlanBroken",
            {"claim_id": active_plan, "index": 0, "due_date": FIRST, "grace_days": 5},
        ),
        (
            policy.address,
            "CollectionResumed",
            {"claim_id": active_plan, "since": FIRST, "paused_seconds": 30 * DAY},
        ),
        (
            policy.address,
            "StageChanged",
            {"claim_id": active_plan, "from_stage": 0, "to_stage": 3, "days_past_due": 45},
        ),
    ]
    assert plans.plan_of(active_plan).state == BROKEN
    # 40 days before the plan, none while it was kept, 5 since the missed due date
    assert policy.stage_of(active_plan) == (3, 3, 45)


def test_grace_ends_at_its_last_second(plans, policy, actors, active_plan, at):
    at(FIRST + 5 * DAY)
    assert check(plans, actors.keeper, active_plan) is False
    assert plans.plan_of(active_plan).state == ACTIVE
    assert policy.enrolment(active_plan).paused_since != 0


def test_second_call_does_nothing(plans, actors, active_plan, logs, at):
    at(FIRST + 6 * DAY)
    assert check(plans, actors.keeper, active_plan) is True
    assert check(plans, actors.keeper, active_plan) is False
    assert logs(plans) == []


def test_partly_paid_instalment_is_missed(plans, actors, active_plan, pay, at):
    pay(active_plan, 1_999)
    at(FIRST + 6 * DAY)
    assert check(plans, actors.keeper, active_plan) is True


def test_paid_instalment_moves_the_deadline_to_the_next(plans, actors, active_plan, pay, at):
    pay(active_plan, 2_000)
    at(FIRST + 30 * DAY + 5 * DAY)
    assert check(plans, actors.keeper, active_plan) is False
    at(FIRST + 30 * DAY + 5 * DAY + 1)
    assert check(plans, actors.keeper, active_plan) is True
    assert plans.plan_of(active_plan).next_instalment == 1


def test_zero_grace(plans, actors, plan_claim, propose, consent, at):
    propose(plan_claim, monthly(2), grace=0)
    consent(plan_claim)
    at(FIRST)
    assert check(plans, actors.keeper, plan_claim) is False
    at(FIRST + 1)
    assert check(plans, actors.keeper, plan_claim) is True


def test_nothing_to_check(plans, actors, plan_claim, propose, pay, consent, at):
    at(START + 400 * DAY)
    assert check(plans, actors.keeper, keccak(text="ghost")) is False
    assert check(plans, actors.keeper, plan_claim) is False  # no plan
    propose(plan_claim, monthly(1, 100, first=START + 500 * DAY))
    at(START + 600 * DAY)
    assert check(plans, actors.keeper, plan_claim) is False  # proposed only
    assert plans.plan_of(plan_claim).state == 1
    consent(plan_claim)
    pay(plan_claim, 100)  # late: breaks first
    assert plans.plan_of(plan_claim).state == BROKEN


def test_completed_plan_is_never_missed(plans, actors, plan_claim, propose, consent, pay, at):
    propose(plan_claim, monthly(1, 500))
    consent(plan_claim)
    pay(plan_claim, 500)
    at(START + 400 * DAY)
    assert plans.plan_of(plan_claim).state == COMPLETED
    assert check(plans, actors.keeper, plan_claim) is False
