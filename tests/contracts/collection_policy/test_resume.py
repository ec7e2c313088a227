"""CollectionPolicy.resume: only the plans contract; paused time accumulates (append-only)
and the claim returns to the stage of its days past due."""

import boa
import pytest

from ..conftest import DUE

DAY = 86_400


def call(policy, who, fn, *args):
    with boa.env.prank(who):
        getattr(policy, fn)(*args)


@pytest.fixture
def paused(policy, plans, enrolled, at):
    cid = enrolled()
    at(DUE + 20 * DAY)
    call(policy, plans.address, "pause", cid)
    return cid


def test_resume_now_excludes_the_pause(policy, plans, paused, at, events):
    now = at(DUE + 100 * DAY)
    call(policy, plans.address, "resume", paused, now)
    assert events(policy) == [
        ("CollectionResumed", {"claim_id": paused, "since": now, "paused_seconds": 80 * DAY}),
        ("StageChanged", {"claim_id": paused, "from_stage": 0, "to_stage": 2, "days_past_due": 20}),
    ]
    assert policy.stage_of(paused) == (2, 2, 20)


def test_resume_from_an_earlier_time_counts_the_days_after_it(policy, plans, paused, at):
    at(DUE + 100 * DAY)
    call(policy, plans.address, "resume", paused, DUE + 50 * DAY)
    e = policy.enrolment(paused)
    assert (e.paused_since, e.paused_seconds) == (0, 30 * DAY)
    assert policy.stage_of(paused) == (3, 3, 70)


def test_resume_from_before_the_pause_adds_nothing(policy, plans, paused, at):
    at(DUE + 30 * DAY)
    call(policy, plans.address, "resume", paused, DUE + 5 * DAY)
    assert policy.enrolment(paused).paused_seconds == 0
    assert policy.stage_of(paused)[1:] == (2, 30)


def test_pauses_accumulate(policy, plans, paused, at):
    at(DUE + 30 * DAY)
    call(policy, plans.address, "resume", paused, DUE + 30 * DAY)  # 10 days paused
    at(DUE + 40 * DAY)
    call(policy, plans.address, "pause", paused)
    at(DUE + 45 * DAY)
    call(policy, plans.address, "resume", paused, DUE + 45 * DAY)  # 5 more
    assert policy.enrolment(paused).paused_seconds == 15 * DAY
    assert policy.stage_of(paused) == (2, 2, 30)


def test_future_time_refused(policy, plans, paused, at):
    now = at(DUE + 30 * DAY)
    with boa.reverts("collection: resume time in the future"):
        call(policy, plans.address, "resume", paused, now + 1)


def test_not_paused(policy, plans, enrolled):
    cid = enrolled()
    with boa.reverts("collection: not paused"):
        call(policy, plans.address, "resume", cid, 0)


def test_not_enrolled(policy, plans, claim):
    with boa.reverts("collection: claim not enrolled"):
        call(policy, plans.address, "resume", claim, 0)


@pytest.mark.parametrize("caller", ["admin", "creditor", "gateway", "keeper", "stranger"])
def test_refused_for_anyone_but_the_plans(policy, actors, paused, caller):
    with boa.reverts("collection: caller is not the plans contract"):
        call(policy, getattr(actors, caller), "resume", paused, 0)
