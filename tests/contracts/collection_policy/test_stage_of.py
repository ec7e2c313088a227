"""CollectionPolicy.stage_of: stored stage, due stage and days past due from block time."""

from dataclasses import replace

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import CN_CBA_2026, to_params

from ..conftest import DUE

DAY = 86_400


@pytest.mark.parametrize(
    ("now", "stage", "dpd"),
    [
        (DUE - 30 * DAY, 0, 0),
        (DUE + DAY - 1, 0, 0),
        (DUE + DAY, 1, 1),
        (DUE + 8 * DAY - 1, 1, 7),
        (DUE + 8 * DAY, 2, 8),
        (DUE + 31 * DAY - 1, 2, 30),
        (DUE + 31 * DAY, 3, 31),
        (DUE + 91 * DAY - 1, 3, 90),
        (DUE + 91 * DAY, 4, 91),
        (DUE + 5000 * DAY, 4, 5000),
    ],
)
def test_due_stage_follows_block_time(policy, enrolled, at, now, stage, dpd):
    cid = enrolled()
    at(now)
    assert policy.stage_of(cid) == (0, stage, dpd)


def test_custom_thresholds(policy, actors, enrolled, at):
    with boa.env.prank(actors.admin):
        policy.set_policy(
            keccak(text="fast"), to_params(replace(CN_CBA_2026, stage_days=(1, 2, 3, 4)))
        )
    cid = enrolled(preset="fast")
    at(DUE + 3 * DAY)
    assert policy.stage_of(cid) == (0, 3, 3)


def test_not_enrolled_reverts(policy, claim):
    with boa.reverts("collection: claim not enrolled"):
        policy.stage_of(claim)


def test_paused_claim_is_current_and_its_days_stand_still(policy, plans, enrolled, at):
    cid = enrolled()
    at(DUE + 40 * DAY)
    with boa.env.prank(plans.address):
        policy.pause(cid)
    at(DUE + 400 * DAY)
    assert policy.stage_of(cid) == (0, 0, 40)
