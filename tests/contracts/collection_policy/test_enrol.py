"""CollectionPolicy.enrol: the owner puts a claim under a policy for a debtor and time zone."""

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import CN_CBA_2026, to_params

from ..conftest import CN, DUE, US

DEBTOR = keccak(text="debtor-x")


def enrol_as(policy, who, claim_id, preset=CN, debtor=DEBTOR, tz=480):
    with boa.env.prank(who):
        policy.enrol(claim_id, keccak(text=preset), debtor, tz)


def test_owner_enrols(policy, actors, claim, events):
    enrol_as(policy, actors.creditor, claim)
    assert events(policy) == [
        (
            "ClaimEnrolled",
            {
                "claim_id": claim,
                "debtor": DEBTOR,
                "policy_id": keccak(text=CN),
                "tz_offset_minutes": 480,
                "enrolled_by": actors.creditor,
            },
        )
    ]
    assert policy.is_enrolled(claim)
    e = policy.enrolment(claim)
    assert (e.policy_id, e.debtor, e.tz_offset_minutes, e.due_date) == (
        keccak(text=CN),
        DEBTOR,
        480,
        1_767_225_600,
    )
    assert (e.stage, e.paused_since, e.paused_seconds, e.failed_attempts, e.first_contact) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert policy.claim_count() == 1


@pytest.mark.parametrize("caller", ["creditor2", "agency", "gateway", "admin", "stranger"])
def test_refused_for_anyone_but_the_owner(policy, actors, claim, caller):
    with boa.reverts("collection: caller is not the owner"):
        enrol_as(policy, getattr(actors, caller), claim)
    assert not policy.is_enrolled(claim)


def test_new_owner_after_a_transfer_enrols(policy, actors, sold_claim):
    with boa.reverts("collection: caller is not the owner"):
        enrol_as(policy, actors.creditor, sold_claim)
    enrol_as(policy, actors.creditor2, sold_claim, preset=US)
    assert policy.enrolment(sold_claim).policy_id == keccak(text=US)


def test_re_enrolment_changes_policy_zone_and_debtor_and_keeps_history(
    policy, actors, enrolled, at, authorize
):
    cid = enrolled()
    at(DUE + 10 * 86_400)  # 08:00 in UTC+8
    authorize(cid, 2, 1)
    before = policy.enrolment(cid)
    other = keccak(text="debtor-corrected")
    enrol_as(policy, actors.creditor, cid, preset=US, debtor=other, tz=-300)
    after = policy.enrolment(cid)
    assert (after.policy_id, after.debtor, after.tz_offset_minutes) == (
        keccak(text=US),
        other,
        -300,
    )
    assert after.first_contact == before.first_contact != 0
    assert after.due_date == before.due_date
    assert policy.claim_count() == 1  # the claim keeps its number


def test_unknown_claim_refused(policy, actors):
    with boa.reverts("registry: unknown claim"):
        enrol_as(policy, actors.creditor, keccak(text="nope"))


def test_unknown_policy_refused(policy, actors, claim):
    with boa.reverts("collection: unknown policy"):
        enrol_as(policy, actors.creditor, claim, preset="no-such-policy")


def test_another_creditors_policy_refused_own_allowed(policy, actors, claim):
    own = keccak(text="bank-b/strict")
    with boa.env.prank(actors.creditor2):
        policy.set_policy(own, to_params(CN_CBA_2026))
    with (
        boa.env.prank(actors.creditor),
        boa.reverts("collection: policy belongs to another creditor"),
    ):
        policy.enrol(claim, own, DEBTOR, 480)
    mine = keccak(text="bank-a/strict")
    with boa.env.prank(actors.creditor):
        policy.set_policy(mine, to_params(CN_CBA_2026))
        policy.enrol(claim, mine, DEBTOR, 480)
    assert policy.enrolment(claim).policy_id == mine


def test_empty_debtor_refused(policy, actors, claim):
    with boa.reverts("collection: empty debtor pseudonym"):
        enrol_as(policy, actors.creditor, claim, debtor=b"\x00" * 32)


@pytest.mark.parametrize(("tz", "ok"), [(-721, False), (-720, True), (840, True), (841, False)])
def test_time_zone_bounds(policy, actors, claim, tz, ok):
    if ok:
        enrol_as(policy, actors.creditor, claim, tz=tz)
        assert policy.enrolment(claim).tz_offset_minutes == tz
    else:
        with boa.reverts("collection: time zone offset out of range"):
            enrol_as(policy, actors.creditor, claim, tz=tz)


@pytest.mark.parametrize(("due", "ok"), [(2**40 - 1, True), (2**40, False)])
def test_due_date_must_fit_40_bits(policy, actors, register, due, ok):
    cid = register(due_date=due)
    if ok:
        enrol_as(policy, actors.creditor, cid)
        assert policy.enrolment(cid).due_date == due
    else:
        with boa.reverts("collection: due date out of range"):
            enrol_as(policy, actors.creditor, cid)


def test_enrolment_of_unknown_claim_reverts(policy, claim):
    assert not policy.is_enrolled(claim)
    with boa.reverts("collection: claim not enrolled"):
        policy.enrolment(claim)
