"""RepaymentPlan.pay: the payment goes to the registry and is credited to the instalments
in order; the last one (or settling the claim) completes the plan."""

import os

import boa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import ACTIVE, BROKEN, COMPLETED, RECEIPT, START, monthly

DAY = 86_400
FIRST = START + 30 * DAY  # the first instalment's due date in `active_plan`


@pytest.mark.parametrize("caller", ["gateway", "creditor"])
def test_instalment_paid(plans, registry, actors, active_plan, pay, logs, caller):
    pay(active_plan, 2_000, caller=getattr(actors, caller))
    assert logs(plans) == [
        (
            registry.address,
            "RepaymentRecorded",
            {
                "claim_id": active_plan,
                "recorded_by": plans.address,
                "amount": 2_000,
                "applied": 2_000,
                "outstanding": 6_000,
                "receipt_hash": RECEIPT,
            },
        ),
        (
            plans.address,
            "InstalmentPaid",
            {"claim_id": active_plan, "index": 0, "due_date": FIRST, "amount": 2_000},
        ),
        (
            plans.address,
            "PlanPaymentCredited",
            {
                "claim_id": active_plan,
                "paid_by": getattr(actors, caller),
                "amount": 2_000,
                "next_instalment": 1,
                "paid_into_next": 0,
            },
        ),
    ]
    plan = plans.plan_of(active_plan)
    assert (plan.state, plan.next_instalment, plan.paid_into_next) == (ACTIVE, 1, 0)


def test_partial_payments_add_up(plans, active_plan, pay, logs):
    pay(active_plan, 1_500)
    assert [name for _, name, _ in logs(plans)] == ["RepaymentRecorded", "PlanPaymentCredited"]
    assert (
        plans.plan_of(active_plan).next_instalment,
        plans.plan_of(active_plan).paid_into_next,
    ) == (0, 1_500)
    pay(active_plan, 700)
    paid = [f for _, name, f in logs(plans) if name == "InstalmentPaid"]
    assert paid == [{"claim_id": active_plan, "index": 0, "due_date": FIRST, "amount": 2_000}]
    assert (
        plans.plan_of(active_plan).next_instalment,
        plans.plan_of(active_plan).paid_into_next,
    ) == (1, 200)


def test_surplus_goes_to_the_next_instalments(plans, active_plan, pay, logs):
    pay(active_plan, 4_500)
    assert [f["index"] for _, name, f in logs(plans) if name == "InstalmentPaid"] == [0, 1]
    assert (
        plans.plan_of(active_plan).next_instalment,
        plans.plan_of(active_plan).paid_into_next,
    ) == (2, 500)


def test_last_instalment_completes_and_the_claim_settles(
    plans, policy, registry, active_plan, pay, logs, at
):
    for i in range(4):
        at(FIRST + i * 30 * DAY)
        pay(active_plan, 2_000)
    assert logs(plans)[-1] == (
        plans.address,
        "PlanCompleted",
        {"claim_id": active_plan, "claim_settled": True},
    )
    assert plans.plan_of(active_plan).state == COMPLETED
    assert registry.claims(active_plan).status == 2
    assert policy.stage_of(active_plan)[:2] == (0, 0)  # a settled claim stays out of collection


def test_completed_plan_short_of_the_debt_resumes_collection(
    plans, policy, registry, plan_claim, propose, consent, pay, at
):
    propose(plan_claim, monthly(1, 5_000))
    consent(plan_claim)
    at(FIRST)
    pay(plan_claim, 5_000)
    assert plans.plan_of(plan_claim).state == COMPLETED
    assert registry.claims(plan_claim).outstanding == 3_000
    assert policy.enrolment(plan_claim).paused_since == 0
    assert policy.stage_of(plan_claim) == (3, 3, 40)  # the 30 paused days do not count


def test_overpaying_settles_and_completes_early(plans, registry, active_plan, pay, logs):
    pay(active_plan, 9_000)
    names = [name for _, name, _ in logs(plans)]
    assert names[-1] == "PlanCompleted" and "ClaimSettled" in names
    assert plans.plan_of(active_plan).state == COMPLETED
    assert registry.claims(active_plan).outstanding == 0


def test_late_payment_breaks_the_plan_first(plans, policy, registry, active_plan, pay, logs, at):
    at(FIRST + 5 * DAY + 1)
    pay(active_plan, 2_000)
    names = [name for _, name, _ in logs(plans)]
    assert names == ["PlanBroken", "CollectionResumed", "StageChanged", "RepaymentRecorded"]
    assert plans.plan_of(active_plan).state == BROKEN
    assert plans.plan_of(active_plan).next_instalment == 0
    assert registry.claims(active_plan).outstanding == 6_000  # the money still counts


def test_payment_within_grace_is_on_time(plans, active_plan, pay, at):
    at(FIRST + 5 * DAY)
    pay(active_plan, 2_000)
    assert plans.plan_of(active_plan).state == ACTIVE


@pytest.mark.parametrize("caller", ["creditor2", "agency", "keeper", "stranger"])
def test_refused_for_others(plans, actors, active_plan, pay, caller):
    with boa.reverts("plan: caller is not the owner or a gateway"):
        pay(active_plan, 2_000, caller=getattr(actors, caller))


def test_needs_an_active_plan(plan_claim, propose, pay):
    with boa.reverts("plan: no active plan"):
        pay(plan_claim, 1)
    propose(plan_claim)
    with boa.reverts("plan: no active plan"):
        pay(plan_claim, 1)


def test_zero_refused_by_the_registry(active_plan, pay):
    with boa.reverts("registry: amount must be positive"):
        pay(active_plan, 0)


def test_plans_contract_needs_the_gateway_role(consortium, actors, active_plan, pay, role, plans):
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("GATEWAY"), plans.address)
    with boa.reverts("registry: caller is not the owner or a gateway"):
        pay(active_plan, 2_000, caller=actors.creditor)


@settings(
    max_examples=int(os.environ.get("DEBTLEDGER_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    amounts=st.lists(st.integers(1, 3_000), min_size=1, max_size=8),
    schedule=st.lists(st.integers(1, 2_500), min_size=1, max_size=5),
)
def test_credits_in_order_like_the_model(
    plans, registry, plan_claim, propose, consent, pay, amounts, schedule
):
    with boa.env.anchor():
        propose(plan_claim, [(START + (i + 1) * DAY) << 128 | a for i, a in enumerate(schedule)])
        consent(plan_claim)
        index, into, outstanding = 0, 0, 8_000
        for amount in amounts:
            if plans.plan_of(plan_claim).state != ACTIVE:
                break
            pay(plan_claim, amount)
            outstanding -= min(amount, outstanding)
            left = amount
            while left and index < len(schedule):
                step = min(left, schedule[index] - into)
                left, into = left - step, into + step
                if into == schedule[index]:
                    index, into = index + 1, 0
            plan = plans.plan_of(plan_claim)
            assert (plan.next_instalment, plan.paid_into_next) == (index, into)
            assert registry.claims(plan_claim).outstanding == outstanding
            done = index == len(schedule) or outstanding == 0
            assert plan.state == (COMPLETED if done else ACTIVE)
