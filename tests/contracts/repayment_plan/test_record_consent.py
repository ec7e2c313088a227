"""RepaymentPlan.record_consent: the gateway records the debtor's consent; the plan is
active and collection pauses (the claim is current)."""

import boa
import pytest
from eth_utils import keccak

from ..conftest import DUE
from .conftest import ACTIVE, CONSENT, START, monthly, schedule_hash

DAY = 86_400


def test_gateway_records_consent_and_collection_pauses(
    plans, policy, actors, plan_claim, propose, consent, logs
):
    with boa.env.prank(actors.keeper):
        policy.advance([plan_claim])
    assert policy.stage_of(plan_claim) == (3, 3, 40)
    propose(plan_claim)
    consent(plan_claim)
    assert logs(plans) == [
        (
            plans.address,
            "PlanConsented",
            {
                "claim_id": plan_claim,
                "recorded_by": actors.gateway,
                "consent_hash": CONSENT,
                "schedule_hash": schedule_hash(monthly()),
            },
        ),
        (
            policy.address,
            "CollectionPaused",
            {"claim_id": plan_claim, "since": START, "days_past_due": 40},
        ),
        (
            policy.address,
            "StageChanged",
            {"claim_id": plan_claim, "from_stage": 3, "to_stage": 0, "days_past_due": 40},
        ),
    ]
    assert plans.plan_of(plan_claim).state == ACTIVE
    assert policy.stage_of(plan_claim) == (0, 0, 40)
    assert policy.enrolment(plan_claim).paused_since == START


@pytest.mark.parametrize("caller", ["creditor", "agency", "keeper", "admin", "stranger"])
def test_refused_for_non_gateways(plans, actors, plan_claim, propose, consent, caller):
    propose(plan_claim)
    with boa.reverts("plan: caller is not a gateway"):
        consent(plan_claim, caller=getattr(actors, caller))
    assert plans.plan_of(plan_claim).state == 1


def test_needs_a_proposal(plan_claim, consent):
    with boa.reverts("plan: no proposed plan"):
        consent(plan_claim)


def test_only_once(active_plan, consent):
    with boa.reverts("plan: no proposed plan"):
        consent(active_plan)


def test_empty_consent_refused(plan_claim, propose, consent):
    propose(plan_claim)
    with boa.reverts("plan: empty consent"):
        consent(plan_claim, consent_hash=b"\x00" * 32)


def test_claim_disputed_since_the_offer(plan_claim, propose, consent, move_to):
    propose(plan_claim)
    move_to(plan_claim, "disputed")
    with boa.reverts("plan: claim is not active"):
        consent(plan_claim)


def test_plan_survives_a_transfer(plans, actors, registry, plan_claim, propose, consent):
    """The plan belongs to the claim: the buyer inherits the debtor's agreement."""
    propose(plan_claim)
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(plan_claim, actors.creditor2, keccak(text="price"))
    with boa.env.prank(actors.creditor2):
        registry.accept_transfer(plan_claim)
    consent(plan_claim)
    assert plans.plan_of(plan_claim).state == ACTIVE


def test_unknown_claim(consent):
    with boa.reverts("plan: no proposed plan"):
        consent(keccak(text="ghost"))


def test_consent_before_the_due_date_pauses_from_it(plans, policy, enrolled, propose, consent, at):
    at(DUE - 10 * DAY)
    cid = enrolled()
    propose(cid, monthly(2, 4_000, first=DUE + 20 * DAY))
    consent(cid)
    assert policy.enrolment(cid).paused_since == DUE
