"""ClaimRegistry.propose_transfer: the owner offers an active claim to one creditor at a time."""

import boa
import pytest
from eth_utils import keccak

from tests.contracts.conftest import NOT_ACTIVE

ZERO = "0x" + "00" * 20
PRICE = keccak(text="price: 6000 CNY")


def test_owner_offers_claim(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    assert events(registry) == [
        (
            "TransferProposed",
            {
                "claim_id": claim,
                "seller": actors.creditor,
                "buyer": actors.creditor2,
                "price_hash": PRICE,
                "buy_back": False,
            },
        )
    ]
    assert registry.pending_transfer(claim) == (actors.creditor2, False)
    assert registry.claims(claim).owner == actors.creditor


def test_refused_for_non_owner(registry, actors, claim):
    with boa.env.prank(actors.creditor2), boa.reverts("registry: caller is not the owner"):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    assert registry.pending_transfer(claim) == (ZERO, False)


def test_second_offer_refused_while_pending(registry, actors, claim):
    """No double sale: a claim on offer cannot be offered to anyone else."""
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
        with boa.reverts("registry: claim already pending transfer"):
            registry.propose_transfer(claim, actors.creditor3, PRICE)
    assert registry.pending_transfer(claim) == (actors.creditor2, False)


def test_offer_to_self_refused(registry, actors, claim):
    with boa.env.prank(actors.creditor), boa.reverts("registry: buyer is the owner"):
        registry.propose_transfer(claim, actors.creditor, PRICE)


@pytest.mark.parametrize("buyer", ["agency", "stranger"])
def test_buyer_must_be_creditor(registry, actors, claim, buyer):
    with boa.env.prank(actors.creditor), boa.reverts("registry: buyer is not a creditor"):
        registry.propose_transfer(claim, getattr(actors, buyer), PRICE)


@NOT_ACTIVE
def test_refused_unless_active(registry, actors, claim, move_to, status, reason):
    move_to(claim, status)
    with boa.env.prank(actors.creditor), boa.reverts(reason):
        registry.propose_transfer(claim, actors.creditor2, PRICE)


def test_unknown_claim_refused(registry, actors):
    with boa.env.prank(actors.creditor), boa.reverts("registry: unknown claim"):
        registry.propose_transfer(keccak(text="nope"), actors.creditor2, PRICE)
