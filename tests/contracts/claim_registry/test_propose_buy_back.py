"""ClaimRegistry.propose_buy_back: the owner offers a bought claim back to its last seller."""

import boa
import pytest
from eth_utils import keccak

ZERO = "0x" + "00" * 20
PRICE = keccak(text="repurchase: 6000 CNY")


def test_owner_offers_buy_back(registry, actors, sold_claim, events):
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, PRICE)
    assert events(registry) == [
        (
            "TransferProposed",
            {
                "claim_id": sold_claim,
                "seller": actors.creditor2,
                "buyer": actors.creditor,
                "price_hash": PRICE,
                "buy_back": True,
            },
        )
    ]
    assert registry.pending_transfer(sold_claim) == (actors.creditor, True)


def test_refused_for_non_owner(registry, actors, sold_claim):
    """The last seller cannot claw the claim back on its own."""
    with boa.env.prank(actors.creditor), boa.reverts("registry: caller is not the owner"):
        registry.propose_buy_back(sold_claim, PRICE)
    assert registry.pending_transfer(sold_claim) == (ZERO, False)


def test_claim_never_sold_refused(registry, actors, claim):
    with boa.env.prank(actors.creditor), boa.reverts("registry: claim was never sold"):
        registry.propose_buy_back(claim, PRICE)


def test_allowed_for_disputed_claim(registry, actors, sold_claim, move_to):
    move_to(sold_claim, "disputed", owner=actors.creditor2)
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, PRICE)
    assert registry.pending_transfer(sold_claim) == (actors.creditor, True)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("settled", "registry: claim is settled"), ("written_off", "registry: claim is written off")],
)
def test_refused_for_closed_claim(registry, actors, sold_claim, move_to, status, reason):
    move_to(sold_claim, status, owner=actors.creditor2)
    with boa.env.prank(actors.creditor2), boa.reverts(reason):
        registry.propose_buy_back(sold_claim, PRICE)


def test_refused_while_offer_pending(registry, actors, sold_claim):
    with boa.env.prank(actors.creditor2):
        registry.propose_transfer(sold_claim, actors.creditor3, PRICE)
        with boa.reverts("registry: claim already pending transfer"):
            registry.propose_buy_back(sold_claim, PRICE)


def test_last_seller_no_longer_creditor_refused(registry, consortium, actors, sold_claim, role):
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("CREDITOR"), actors.creditor)
    with boa.env.prank(actors.creditor2), boa.reverts("registry: buyer is not a creditor"):
        registry.propose_buy_back(sold_claim, PRICE)
