"""CollectionPolicy.pause: only the plans contract; days past due stand still, stage 0."""

import boa
import pytest

from ..conftest import DUE

DAY = 86_400


def pause(policy, who, cid):
    with boa.env.prank(who):
        policy.pause(cid)


def test_plans_pause_collection(policy, plans, actors, enrolled, at, events):
    cid = enrolled()
    at(DUE + 40 * DAY)
    with boa.env.prank(actors.keeper):
        policy.advance([cid])
    pause(policy, plans.address, cid)
    assert events(policy) == [
        ("CollectionPaused", {"claim_id": cid, "since": DUE + 40 * DAY, "days_past_due": 40}),
        ("StageChanged", {"claim_id": cid, "from_stage": 3, "to_stage": 0, "days_past_due": 40}),
    ]
    e = policy.enrolment(cid)
    assert (e.paused_since, e.paused_seconds, e.stage) == (DUE + 40 * DAY, 0, 0)


def test_pause_before_the_due_date_counts_from_it(policy, plans, enrolled, at, events):
    cid = enrolled()
    at(DUE - 5 * DAY)
    pause(policy, plans.address, cid)
    assert events(policy) == [
        ("CollectionPaused", {"claim_id": cid, "since": DUE, "days_past_due": 0})
    ]
    assert policy.enrolment(cid).paused_since == DUE


@pytest.mark.parametrize("caller", ["admin", "creditor", "gateway", "keeper", "stranger"])
def test_refused_for_anyone_but_the_plans(policy, actors, enrolled, caller):
    cid = enrolled()
    with boa.reverts("collection: caller is not the plans contract"):
        pause(policy, getattr(actors, caller), cid)


def test_already_paused(policy, plans, enrolled):
    cid = enrolled()
    pause(policy, plans.address, cid)
    with boa.reverts("collection: already paused"):
        pause(policy, plans.address, cid)


def test_not_enrolled(policy, plans, claim):
    with boa.reverts("collection: claim not enrolled"):
        pause(policy, plans.address, claim)
