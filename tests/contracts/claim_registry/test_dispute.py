"""ClaimRegistry.dispute: the owner, a court or the gateway (for the debtor) stops collection."""

import boa
import pytest
from eth_utils import keccak

from tests.contracts.conftest import NOT_ACTIVE

DISPUTED = 4
REASON = keccak(text="debtor contests the amount")


@pytest.mark.parametrize("caller", ["creditor", "court", "gateway"])
def test_dispute_recorded(registry, actors, claim, events, caller):
    with boa.env.prank(getattr(actors, caller)):
        registry.dispute(claim, REASON)
    assert events(registry) == [
        (
            "ClaimDisputed",
            {"claim_id": claim, "disputed_by": getattr(actors, caller), "reason_hash": REASON},
        )
    ]
    assert registry.claims(claim).status == DISPUTED


@pytest.mark.parametrize("caller", ["agency", "regulator", "creditor2", "stranger"])
def test_refused_for_others(registry, actors, claim, caller):
    with boa.env.prank(getattr(actors, caller)), boa.reverts("registry: caller may not dispute"):
        registry.dispute(claim, REASON)
    assert registry.claims(claim).status == 1


@NOT_ACTIVE
def test_refused_unless_active(registry, actors, claim, move_to, status, reason):
    move_to(claim, status)
    with boa.env.prank(actors.court), boa.reverts(reason):
        registry.dispute(claim, REASON)


def test_cancels_pending_sale(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, keccak(text="price"))
    with boa.env.prank(actors.court):
        registry.dispute(claim, REASON)
    assert events(registry)[0] == (
        "TransferCancelled",
        {
            "claim_id": claim,
            "seller": actors.creditor,
            "buyer": actors.creditor2,
            "cancelled_by": actors.court,
        },
    )
    assert registry.pending_transfer(claim) == ("0x" + "00" * 20, False)


def test_buy_back_offer_stands(registry, actors, sold_claim, events):
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, keccak(text="price"))
    with boa.env.prank(actors.court):
        registry.dispute(sold_claim, REASON)
    assert [name for name, _ in events(registry)] == ["ClaimDisputed"]
    assert registry.pending_transfer(sold_claim) == (actors.creditor, True)
