"""CollectionPolicy.advance: the keeper stores each claim's due stage; block time decides."""

import boa
import pytest
from eth_utils import keccak

from ..conftest import DUE

DAY = 86_400


def advance(policy, who, ids):
    with boa.env.prank(who):
        return policy.advance(ids)


def test_keeper_moves_claims_to_their_due_stage(policy, actors, enrolled, at, events):
    a, b = enrolled(), enrolled(due=DUE + 20 * DAY)
    at(DUE + 10 * DAY)  # a: 10 days (stage 2); b: not due yet (stage 0, unchanged)
    assert advance(policy, actors.keeper, [a, b]) == 1
    assert events(policy) == [
        ("StageChanged", {"claim_id": a, "from_stage": 0, "to_stage": 2, "days_past_due": 10})
    ]
    assert policy.stage_of(a) == (2, 2, 10)
    assert policy.stage_of(b) == (0, 0, 0)


def test_second_keeper_changes_nothing(policy, actors, enrolled, at, events):
    cid = enrolled()
    at(DUE + 31 * DAY)
    advance(policy, actors.keeper, [cid])
    assert advance(policy, actors.keeper, [cid, cid]) == 0
    assert events(policy) == []
    assert policy.stage_of(cid) == (3, 3, 31)


def test_keeper_cannot_advance_early(policy, actors, enrolled, at):
    cid = enrolled()
    at(DUE + 8 * DAY - 1)
    advance(policy, actors.keeper, [cid])
    assert policy.stage_of(cid)[0] == 1
    at(DUE + 8 * DAY)
    advance(policy, actors.keeper, [cid])
    assert policy.stage_of(cid)[0] == 2


def test_stage_moves_down_too(policy, actors, plans, enrolled, at, events):
    cid = enrolled()
    at(DUE + 100 * DAY)
    advance(policy, actors.keeper, [cid])
    with boa.env.prank(plans.address):
        policy.pause(cid)  # pausing stores stage 0 itself
    assert policy.stage_of(cid) == (0, 0, 100)
    assert advance(policy, actors.keeper, [cid]) == 0


def test_unknown_and_unenrolled_claims_skipped(policy, actors, claim, enrolled, at, events):
    cid = enrolled()
    at(DUE + 2 * DAY)
    assert advance(policy, actors.keeper, [keccak(text="ghost"), claim, cid]) == 1
    assert [name for name, _ in events(policy)] == ["StageChanged"]
    assert advance(policy, actors.keeper, []) == 0


@pytest.mark.parametrize("caller", ["admin", "creditor", "agency", "gateway", "stranger"])
def test_refused_for_non_keepers(policy, actors, enrolled, at, caller):
    cid = enrolled()
    at(DUE + 2 * DAY)
    with boa.reverts("collection: caller is not a keeper"):
        advance(policy, getattr(actors, caller), [cid])
    assert policy.stage_of(cid)[0] == 0


def test_batch_limit(policy, actors):
    with pytest.raises(Exception):  # noqa: B017 - the ABI refuses a 201-long array
        advance(policy, actors.keeper, [keccak(text=str(i)) for i in range(201)])
    assert advance(policy, actors.keeper, [keccak(text=str(i)) for i in range(200)]) == 0
