"""Who may call what on RepaymentPlan: every mutating function x every kind of caller."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boa
import pytest

from .conftest import CONSENT, RECEIPT, START, monthly

DAY = 86_400
KINDS = ("owner", "creditor", "agency", "gateway", "keeper", "admin", "stranger")
MATRIX = """
                own cre agy gwy kpr adm str
propose          Y   .   .   .   .   .   .
record_consent   .   .   .   Y   .   .   .
pay              Y   .   .   Y   .   .   .
check_missed     Y   Y   Y   Y   Y   Y   Y
reage            Y   .   .   .   .   .   .
"""
ALLOWED = {
    row.split()[0]: {k for k, cell in zip(KINDS, row.split()[1:], strict=True) if cell == "Y"}
    for row in MATRIX.strip().splitlines()[1:]
}


@dataclass(frozen=True)
class Case:
    state: str  # "claim", "proposed", "active" or "missed"
    call: Callable[[Any, bytes], None]
    refusal: str | None  # None: anyone may call
    event: str


CASES = {
    "propose": Case(
        "claim",
        lambda p, c: p.propose(c, monthly(), 5),
        "plan: caller is not the owner",
        "PlanProposed",
    ),
    "record_consent": Case(
        "proposed",
        lambda p, c: p.record_consent(c, CONSENT),
        "plan: caller is not a gateway",
        "PlanConsented",
    ),
    "pay": Case(
        "active",
        lambda p, c: p.pay(c, 2_000, RECEIPT),
        "plan: caller is not the owner or a gateway",
        "InstalmentPaid",
    ),
    "check_missed": Case("missed", lambda p, c: p.check_missed(c), None, "PlanBroken"),
    "reage": Case(
        "active",
        lambda p, c: p.reage(c, monthly(2, 4_000), CONSENT),
        "plan: caller is not the owner",
        "PlanReaged",
    ),
}


def test_matrix_covers_every_mutating_function(plans):
    mutating = {
        f["name"]
        for f in plans.abi
        if f.get("type") == "function" and f["stateMutability"] not in ("view", "pure")
    }
    assert mutating == set(CASES) == set(ALLOWED)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fn", sorted(CASES))
def test_role_matrix(plans, actors, plan_claim, propose, consent, at, fn, kind):
    addr = {k: getattr(actors, k) for k in KINDS if k not in ("owner", "creditor")}
    addr |= {"owner": actors.creditor, "creditor": actors.creditor2}
    case = CASES[fn]
    if case.state != "claim":
        propose(plan_claim)
    if case.state in ("active", "missed"):
        consent(plan_claim)
    if case.state == "missed":
        at(START + 36 * DAY)
    with boa.env.prank(addr[kind]):
        if kind in ALLOWED[fn]:
            case.call(plans, plan_claim)
            assert case.event in [type(e).__name__ for e in plans.get_logs()]
        else:
            with boa.reverts(case.refusal):
                case.call(plans, plan_claim)
