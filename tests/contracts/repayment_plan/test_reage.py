"""RepaymentPlan.reage: owner and debtor agree a new schedule for an active or broken plan."""

import boa
import pytest

from .conftest import ACTIVE, CONSENT, START, monthly, schedule_hash, word

DAY = 86_400
FIRST = START + 30 * DAY


def reage(plans, who, cid, packed, consent=CONSENT):
    with boa.env.prank(who):
        plans.reage(cid, packed, consent)


def test_active_plan_gets_a_new_schedule(plans, policy, actors, active_plan, pay, logs):
    pay(active_plan, 2_500)
    new = monthly(6, 1_000, first=START + 60 * DAY)
    reage(plans, actors.creditor, active_plan, new)
    assert logs(plans) == [
        (
            plans.address,
            "PlanReaged",
            {
                "claim_id": active_plan,
                "reaged_by": actors.creditor,
                "old_schedule_hash": schedule_hash(monthly()),
                "new_schedule_hash": schedule_hash(new),
                "consent_hash": CONSENT,
                "instalments": new,
            },
        )
    ]
    assert tuple(plans.plan_of(active_plan)) == (ACTIVE, 6, 0, 5, 0, schedule_hash(new))
    assert plans.instalments_of(active_plan) == new
    assert policy.enrolment(active_plan).paused_since == START  # still the same pause


def test_broken_plan_is_mended_and_collection_pauses_again(
    plans, policy, actors, active_plan, logs, at
):
    at(FIRST + 6 * DAY)
    plans.check_missed(active_plan)
    assert policy.stage_of(active_plan) == (3, 3, 46)
    reage(plans, actors.creditor, active_plan, monthly(3, 2_000, first=FIRST + 30 * DAY))
    assert [name for _, name, _ in logs(plans)] == [
        "PlanReaged",
        "CollectionPaused",
        "StageChanged",
    ]
    assert plans.plan_of(active_plan).state == ACTIVE
    assert policy.stage_of(active_plan) == (0, 0, 46)


def test_shorter_schedule_forgets_the_old_tail(plans, actors, active_plan):
    reage(plans, actors.creditor, active_plan, monthly(1, 8_000))
    assert plans.instalments_of(active_plan) == monthly(1, 8_000)


@pytest.mark.parametrize("caller", ["creditor2", "gateway", "agency", "stranger"])
def test_refused_for_anyone_but_the_owner(plans, actors, active_plan, caller):
    with boa.reverts("plan: caller is not the owner"):
        reage(plans, getattr(actors, caller), active_plan, monthly(2))


def test_needs_an_active_or_broken_plan(plans, actors, plan_claim, propose):
    with boa.reverts("plan: no plan to re-age"):
        reage(plans, actors.creditor, plan_claim, monthly(2))
    propose(plan_claim)
    with boa.reverts("plan: no plan to re-age"):
        reage(plans, actors.creditor, plan_claim, monthly(2))


def test_empty_consent_refused(plans, actors, active_plan):
    with boa.reverts("plan: empty consent"):
        reage(plans, actors.creditor, active_plan, monthly(2), consent=b"\x00" * 32)


def test_claim_must_be_active(plans, actors, active_plan, move_to):
    move_to(active_plan, "disputed")
    with boa.reverts("plan: claim is not active"):
        reage(plans, actors.creditor, active_plan, monthly(2))


@pytest.mark.parametrize(
    ("packed", "reason"),
    [
        ([], "plan: empty schedule"),
        ([word(START - 1, 5)], "plan: due dates must be in the future and rise"),
    ],
)
def test_bad_schedule_refused(plans, actors, active_plan, packed, reason):
    with boa.reverts(reason):
        reage(plans, actors.creditor, active_plan, packed)
    assert plans.plan_of(active_plan).state == ACTIVE
