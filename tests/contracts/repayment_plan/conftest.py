"""RepaymentPlan test fixtures: schedules packed as the contract takes them, and the plan's
usual steps (propose, consent, pay) as the party that takes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import boa
import pytest
from eth_abi import encode
from eth_utils import keccak

from ..conftest import DUE

DAY = 86_400
START = DUE + 40 * DAY  # when the plan tests begin: 40 days past due (stage 3)
CONSENT = keccak(text="debtor consent")
RECEIPT = keccak(text="receipt")
NONE, PROPOSED, ACTIVE, BROKEN, COMPLETED = range(5)


def word(due: int, amount: int) -> int:
    """One instalment as the contract takes it: due date (bits 128+) | amount."""
    return (due << 128) | amount


def words(schedule: Sequence[tuple[int, int]]) -> list[int]:
    return [word(d, a) for d, a in schedule]


def schedule_hash(packed: Sequence[int]) -> bytes:
    """keccak256 of the ABI encoding of the uint256[] schedule."""
    return keccak(encode(["uint256[]"], [list(packed)]))


def monthly(n: int = 4, amount: int = 2_000, first: int = START + 30 * DAY) -> list[int]:
    """n instalments of `amount`, 30 days apart from `first`."""
    return words([(first + i * 30 * DAY, amount) for i in range(n)])


@pytest.fixture
def logs() -> Callable[[Any], list[tuple[str, str, dict[str, Any]]]]:
    """Every event of the contract's last call, its callees' included, as (emitter address,
    name, fields) in log order."""

    def read(contract: Any) -> list[tuple[str, str, dict[str, Any]]]:
        out = []
        for log in contract.get_logs():
            values = log._asdict()
            out.append((str(values.pop("address")), type(log).__name__, values))
        return out

    return read


@pytest.fixture
def plan_claim(enrolled: Callable[..., bytes], at: Callable[[int], int]) -> bytes:
    """An enrolled claim (outstanding 8,000 of 10,000) at START, 40 days past due."""
    at(START)
    return enrolled()


@pytest.fixture
def propose(plans: Any, actors: Any) -> Callable[..., None]:
    def do(
        claim_id: bytes,
        packed: Sequence[int] | None = None,
        grace: int = 5,
        owner: str | None = None,
    ) -> None:
        with boa.env.prank(owner or actors.creditor):
            plans.propose(claim_id, list(monthly() if packed is None else packed), grace)

    return do


@pytest.fixture
def consent(plans: Any, actors: Any) -> Callable[..., None]:
    def do(claim_id: bytes, caller: str | None = None, consent_hash: bytes = CONSENT) -> None:
        with boa.env.prank(caller or actors.gateway):
            plans.record_consent(claim_id, consent_hash)

    return do


@pytest.fixture
def pay(plans: Any, actors: Any) -> Callable[..., None]:
    def do(claim_id: bytes, amount: int, caller: str | None = None) -> None:
        with boa.env.prank(caller or actors.gateway):
            plans.pay(claim_id, amount, RECEIPT)

    return do


@pytest.fixture
def active_plan(
    plan_claim: bytes, propose: Callable[..., None], consent: Callable[..., None]
) -> bytes:
    """`plan_claim` with an active plan: 4 x 2,000 every 30 days from START + 30 days,
    5 grace days."""
    propose(plan_claim)
    consent(plan_claim)
    return plan_claim
