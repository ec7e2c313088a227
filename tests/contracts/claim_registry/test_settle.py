"""ClaimRegistry.settle: the owner closes an active claim and forgives the rest."""

import boa
import pytest
from eth_utils import keccak

from tests.contracts.conftest import NOT_ACTIVE

SETTLED = 2
DEAL = keccak(text="settlement agreement")


def test_owner_settles(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.settle(claim, DEAL)
    assert events(registry) == [
        (
            "ClaimSettled",
            {
                "claim_id": claim,
                "settled_by": actors.creditor,
                "forgiven": 8_000,
                "settlement_hash": DEAL,
            },
        )
    ]
    got = registry.claims(claim)
    assert (got.status, got.principal, got.outstanding) == (SETTLED, 10_000, 0)


@pytest.mark.parametrize("caller", ["court", "gateway", "creditor2"])
def test_refused_for_non_owner(registry, actors, claim, caller):
    with boa.env.prank(getattr(actors, caller)), boa.reverts("registry: caller is not the owner"):
        registry.settle(claim, DEAL)
    assert registry.claims(claim).status == 1


@NOT_ACTIVE
def test_refused_unless_active(registry, actors, claim, move_to, status, reason):
    move_to(claim, status)
    with boa.env.prank(actors.creditor), boa.reverts(reason):
        registry.settle(claim, DEAL)


def test_settling_cancels_offer(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, keccak(text="price"))
        registry.settle(claim, DEAL)
    assert [name for name, _ in events(registry)] == ["TransferCancelled", "ClaimSettled"]
    with boa.env.prank(actors.creditor2), boa.reverts("registry: no pending transfer"):
        registry.accept_transfer(claim)
