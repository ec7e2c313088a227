"""ClaimRegistry.accept_transfer: the proposed buyer becomes the only owner."""

import boa
from eth_utils import keccak

ZERO = "0x" + "00" * 20
DISPUTED = 4
PRICE = keccak(text="price")


def test_buyer_takes_claim_and_mandate_ends(registry, actors, claim, events):
    expiry = boa.env.timestamp + 86_400
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, expiry)
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    with boa.env.prank(actors.creditor2):
        registry.accept_transfer(claim)
    assert events(registry) == [
        (
            "MandateRevoked",
            {"claim_id": claim, "agency": actors.agency, "revoked_by": actors.creditor2},
        ),
        (
            "ClaimTransferred",
            {
                "claim_id": claim,
                "seller": actors.creditor,
                "buyer": actors.creditor2,
                "buy_back": False,
            },
        ),
    ]
    assert registry.claims(claim).owner == actors.creditor2
    assert registry.last_seller(claim) == actors.creditor
    assert registry.pending_transfer(claim) == (ZERO, False)
    assert registry.mandate_of(claim) == (ZERO, 0)


def test_refused_for_anyone_but_buyer(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    for caller in (actors.creditor, actors.creditor3):
        with boa.env.prank(caller), boa.reverts("registry: caller is not the proposed buyer"):
            registry.accept_transfer(claim)
    assert registry.claims(claim).owner == actors.creditor


def test_refused_without_offer(registry, actors, claim):
    with boa.env.prank(actors.creditor2), boa.reverts("registry: no pending transfer"):
        registry.accept_transfer(claim)


def test_former_owner_cannot_sell_again(registry, actors, sold_claim):
    """No double sale: once accepted, the seller has nothing left to offer."""
    with boa.env.prank(actors.creditor), boa.reverts("registry: caller is not the owner"):
        registry.propose_transfer(sold_claim, actors.creditor3, PRICE)


def test_buyer_that_lost_creditor_role_refused(registry, consortium, actors, claim, role):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("CREDITOR"), actors.creditor2)
    with boa.env.prank(actors.creditor2), boa.reverts("registry: buyer is not a creditor"):
        registry.accept_transfer(claim)


def test_buy_back_of_disputed_claim_completes(registry, actors, sold_claim, move_to, events):
    """The one transfer a dispute allows: the dispute goes back with the claim."""
    move_to(sold_claim, "disputed", owner=actors.creditor2)
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, PRICE)
    with boa.env.prank(actors.creditor):
        registry.accept_transfer(sold_claim)
    assert events(registry) == [
        (
            "ClaimTransferred",
            {
                "claim_id": sold_claim,
                "seller": actors.creditor2,
                "buyer": actors.creditor,
                "buy_back": True,
            },
        )
    ]
    got = registry.claims(sold_claim)
    assert (got.owner, got.status) == (actors.creditor, DISPUTED)
    assert registry.last_seller(sold_claim) == actors.creditor2
