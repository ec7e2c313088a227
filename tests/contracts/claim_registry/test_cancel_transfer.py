"""ClaimRegistry.cancel_transfer: the owner withdraws its offer."""

import boa
from eth_utils import keccak

ZERO = "0x" + "00" * 20
PRICE = keccak(text="price")


def test_owner_withdraws_offer(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
        registry.cancel_transfer(claim)
    assert events(registry) == [
        (
            "TransferCancelled",
            {
                "claim_id": claim,
                "seller": actors.creditor,
                "buyer": actors.creditor2,
                "cancelled_by": actors.creditor,
            },
        )
    ]
    assert registry.pending_transfer(claim) == (ZERO, False)
    with boa.env.prank(actors.creditor2), boa.reverts("registry: no pending transfer"):
        registry.accept_transfer(claim)


def test_refused_for_buyer(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, PRICE)
    with boa.env.prank(actors.creditor2), boa.reverts("registry: caller is not the owner"):
        registry.cancel_transfer(claim)
    assert registry.pending_transfer(claim) == (actors.creditor2, False)


def test_refused_without_offer(registry, actors, claim):
    with boa.env.prank(actors.creditor), boa.reverts("registry: no pending transfer"):
        registry.cancel_transfer(claim)
