"""ClaimRegistry.pending_transfer: the one pending offer, if any."""

import boa
from eth_utils import keccak

ZERO = "0x" + "00" * 20


def test_none_pending(registry, claim):
    assert registry.pending_transfer(claim) == (ZERO, False)


def test_sale_then_buy_back(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, keccak(text="price"))
    assert registry.pending_transfer(claim) == (actors.creditor2, False)
    with boa.env.prank(actors.creditor2):
        registry.accept_transfer(claim)
        registry.propose_buy_back(claim, keccak(text="price"))
    assert registry.pending_transfer(claim) == (actors.creditor, True)
