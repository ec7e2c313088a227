"""ClaimRegistry.decline_transfer: the proposed buyer refuses the offer."""

import boa
from eth_utils import keccak

ZERO = "0x" + "00" * 20
PRICE = keccak(text="price")


def test_buyer_declines(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    with boa.env.prank(actors.creditor2):
        registry.decline_transfer(claim)
    assert events(registry) == [
        (
            "TransferDeclined",
            {"claim_id": claim, "seller": actors.creditor, "buyer": actors.creditor2},
        )
    ]
    assert registry.pending_transfer(claim) == (ZERO, False)
    assert registry.claims(claim).owner == actors.creditor
    with boa.env.prank(actors.creditor):  # free to offer it again
        registry.propose_transfer(claim, actors.creditor3, PRICE)


def test_refused_for_owner(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
        with boa.reverts("registry: caller is not the proposed buyer"):
            registry.decline_transfer(claim)
    assert registry.pending_transfer(claim) == (actors.creditor2, False)


def test_refused_without_offer(registry, actors, claim):
    with boa.env.prank(actors.creditor2), boa.reverts("registry: no pending transfer"):
        registry.decline_transfer(claim)


def test_last_seller_declines_buy_back(registry, actors, sold_claim, events):
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, PRICE)
    with boa.env.prank(actors.creditor):
        registry.decline_transfer(sold_claim)
    assert events(registry) == [
        (
            "TransferDeclined",
            {"claim_id": sold_claim, "seller": actors.creditor2, "buyer": actors.creditor},
        )
    ]
    assert registry.claims(sold_claim).owner == actors.creditor2
