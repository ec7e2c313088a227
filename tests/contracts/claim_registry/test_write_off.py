"""ClaimRegistry.write_off: the owner writes a claim off; it can no longer be sold or collected."""

import boa
import pytest
from eth_utils import keccak

WRITTEN_OFF = 3


def test_owner_writes_off(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.write_off(claim)
    assert events(registry) == [
        (
            "ClaimWrittenOff",
            {"claim_id": claim, "written_off_by": actors.creditor, "outstanding": 8_000},
        )
    ]
    got = registry.claims(claim)
    assert (got.status, got.outstanding) == (WRITTEN_OFF, 8_000)


@pytest.mark.parametrize("caller", ["court", "creditor2"])
def test_refused_for_non_owner(registry, actors, claim, caller):
    with boa.env.prank(getattr(actors, caller)), boa.reverts("registry: caller is not the owner"):
        registry.write_off(claim)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("settled", "registry: claim is settled"), ("written_off", "registry: claim is written off")],
)
def test_refused_for_closed_claim(registry, actors, claim, move_to, status, reason):
    move_to(claim, status)
    with boa.env.prank(actors.creditor), boa.reverts(reason):
        registry.write_off(claim)


def test_disputed_claim_with_buy_back_offer(registry, actors, sold_claim, move_to, events):
    """A disputed claim can be written off; that ends the standing buy-back offer."""
    move_to(sold_claim, "disputed", owner=actors.creditor2)
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, keccak(text="price"))
        registry.write_off(sold_claim)
    assert [name for name, _ in events(registry)] == ["TransferCancelled", "ClaimWrittenOff"]
    assert registry.claims(sold_claim).status == WRITTEN_OFF
    assert registry.pending_transfer(sold_claim) == ("0x" + "00" * 20, False)
