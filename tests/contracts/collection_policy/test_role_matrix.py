"""Who may call what on CollectionPolicy: every mutating function x every kind of caller.

Each case first puts a claim in the state the function needs (so only the caller decides);
allowed calls must log their event, refused calls must revert with the function's rule.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boa
import pytest
from eth_utils import keccak

from debtledger.domain.policies import CN_CBA_2026, to_params

from .conftest import local

KINDS = (
    "owner",
    "creditor",
    "agency",
    "agency2",
    "gateway",
    "keeper",
    "admin",
    "plans",
    "stranger",
)
# Y allowed, . refused; columns in KINDS order. "owner" owns the claim, "creditor" is another
# creditor, "agency" holds the claim's mandate, "agency2" does not, "plans" is the
# RepaymentPlan contract, which holds the GATEWAY role (so the registry takes its payments):
# its code never records outcomes, but the role would let it. authorize_contact: each caller
# asks for itself (the gateway for the mandated agency).
MATRIX = """
                   own cre agy ag2 gwy kpr adm pln str
set_policy          Y   Y   .   .   .   .   Y   .   .
enrol               Y   .   .   .   .   .   .   .   .
authorize_contact   Y   .   Y   .   Y   .   .   .   .
record_outcome      .   .   Y   .   Y   .   .   Y   .
advance             .   .   .   .   .   Y   .   .   .
set_plans           .   .   .   .   .   .   Y   .   .
pause               .   .   .   .   .   .   .   Y   .
resume              .   .   .   .   .   .   .   Y   .
set_budget_shares   .   .   .   .   .   Y   .   .   .
"""
ALLOWED = {
    row.split()[0]: {k for k, cell in zip(KINDS, row.split()[1:], strict=True) if cell == "Y"}
    for row in MATRIX.strip().splitlines()[1:]
}


@dataclass(frozen=True)
class Case:
    setup: Callable[[Any], Any]
    call: Callable[[Any, Any, str], None]  # (ctx, prepared, caller address)
    refusal: str
    event: str


def _authorize_for(ctx: Any, cid: bytes, caller: str) -> None:
    agency = ctx.addr["agency"] if caller == ctx.addr["gateway"] else caller
    ctx.policy.authorize_contact(cid, 0, 1, agency)


def _contact(ctx: Any) -> int:
    cid = ctx.enrolled()
    with boa.env.prank(ctx.addr["gateway"]):
        return int(ctx.policy.authorize_contact(cid, 0, 1, ctx.addr["agency"]))


def _paused(ctx: Any) -> bytes:
    cid = ctx.enrolled()
    with boa.env.prank(ctx.addr["plans"]):
        ctx.policy.pause(cid)
    return cid


CASES = {
    "set_policy": Case(
        lambda ctx: None,
        lambda ctx, _, who: ctx.policy.set_policy(keccak(text=f"p-{who}"), to_params(CN_CBA_2026)),
        "collection: caller may not set policies",
        "PolicySet",
    ),
    "enrol": Case(
        lambda ctx: ctx.enrolled(),
        lambda ctx, cid, _: ctx.policy.enrol(cid, keccak(text="us-reg-f"), keccak(text="d"), 0),
        "collection: caller is not the owner",
        "ClaimEnrolled",
    ),
    "authorize_contact": Case(
        lambda ctx: ctx.enrolled(),
        lambda ctx, cid, who: _authorize_for(ctx, cid, who),
        "policy: not-mandated",
        "ContactAuthorized",
    ),
    "record_outcome": Case(
        _contact,
        lambda ctx, contact_id, _: ctx.policy.record_outcome(contact_id, 2),
        "collection: caller is not the agency or a gateway",
        "OutcomeRecorded",
    ),
    "advance": Case(
        lambda ctx: ctx.enrolled(),
        lambda ctx, cid, _: ctx.policy.advance([cid]),
        "collection: caller is not a keeper",
        "StageChanged",
    ),
    "set_plans": Case(
        lambda ctx: None,
        lambda ctx, _, who: ctx.policy.set_plans(ctx.addr["plans"]),
        "collection: caller is not the admin",
        "PlansSet",
    ),
    "pause": Case(
        lambda ctx: ctx.enrolled(),
        lambda ctx, cid, _: ctx.policy.pause(cid),
        "collection: caller is not the plans contract",
        "CollectionPaused",
    ),
    "resume": Case(
        _paused,
        lambda ctx, cid, _: ctx.policy.resume(cid, 0),
        "collection: caller is not the plans contract",
        "CollectionResumed",
    ),
    "set_budget_shares": Case(
        lambda ctx: None,
        lambda ctx, _, who: ctx.policy.set_budget_shares(
            keccak(text="d"), [ctx.addr["owner"], ctx.addr["creditor"]], [4, 3]
        ),
        "collection: caller is not a keeper",
        "BudgetSharesSet",
    ),
}


def test_matrix_covers_every_mutating_function(policy):
    mutating = {
        f["name"]
        for f in policy.abi
        if f.get("type") == "function" and f["stateMutability"] not in ("view", "pure")
    }
    assert mutating == set(CASES) == set(ALLOWED)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fn", sorted(CASES))
def test_role_matrix(policy, actors, agency2, plans, enrolled, at, fn, kind):
    at(local(10, 9, 0))
    addr = {k: getattr(actors, k, None) for k in KINDS}
    addr |= {"owner": actors.creditor, "creditor": actors.creditor2, "agency2": agency2}
    addr["plans"] = plans.address

    class Ctx:
        pass

    ctx = Ctx()
    ctx.policy, ctx.enrolled, ctx.addr = policy, enrolled, addr
    case = CASES[fn]
    prepared = case.setup(ctx)
    with boa.env.prank(addr[kind]):
        if kind in ALLOWED[fn]:
            case.call(ctx, prepared, addr[kind])
            assert case.event in [type(e).__name__ for e in policy.get_logs()]
        else:
            with boa.reverts(case.refusal):
                case.call(ctx, prepared, addr[kind])
