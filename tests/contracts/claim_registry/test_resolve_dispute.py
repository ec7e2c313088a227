"""ClaimRegistry.resolve_dispute: the owner or a court ends a dispute with a fixed amount."""

import boa
import pytest
from eth_utils import keccak

ACTIVE, SETTLED, DISPUTED = 1, 2, 4
RULING = keccak(text="judgment")


@pytest.fixture
def disputed(claim, move_to):
    move_to(claim, "disputed")
    return claim


@pytest.mark.parametrize("caller", ["court", "creditor"])
def test_dispute_resolved(registry, actors, disputed, events, caller):
    with boa.env.prank(getattr(actors, caller)):
        registry.resolve_dispute(disputed, 6_000, RULING)
    assert events(registry) == [
        (
            "DisputeResolved",
            {
                "claim_id": disputed,
                "resolved_by": getattr(actors, caller),
                "outstanding": 6_000,
                "resolution_hash": RULING,
            },
        )
    ]
    got = registry.claims(disputed)
    assert (got.status, got.outstanding) == (ACTIVE, 6_000)


@pytest.mark.parametrize("caller", ["gateway", "agency", "creditor2"])
def test_refused_for_others(registry, actors, disputed, caller):
    with boa.env.prank(getattr(actors, caller)), boa.reverts("registry: caller may not resolve"):
        registry.resolve_dispute(disputed, 6_000, RULING)
    assert registry.claims(disputed).status == DISPUTED


def test_refused_for_undisputed_claim(registry, actors, claim):
    with boa.env.prank(actors.court), boa.reverts("registry: claim is not disputed"):
        registry.resolve_dispute(claim, 6_000, RULING)


def test_outstanding_up_to_principal_allowed(registry, actors, disputed):
    with boa.env.prank(actors.court):
        registry.resolve_dispute(disputed, 10_000, RULING)
    assert registry.claims(disputed).outstanding == 10_000


def test_outstanding_above_principal_refused(registry, actors, disputed):
    with boa.env.prank(actors.court), boa.reverts("registry: outstanding exceeds principal"):
        registry.resolve_dispute(disputed, 10_001, RULING)


def test_zero_settles_and_ends_buy_back_offer(registry, actors, sold_claim, move_to, events):
    move_to(sold_claim, "disputed", owner=actors.creditor2)
    with boa.env.prank(actors.creditor2):
        registry.propose_buy_back(sold_claim, keccak(text="price"))
    with boa.env.prank(actors.court):
        registry.resolve_dispute(sold_claim, 0, RULING)
    assert [name for name, _ in events(registry)] == [
        "DisputeResolved",
        "TransferCancelled",
        "ClaimSettled",
    ]
    assert events(registry)[2][1] == {
        "claim_id": sold_claim,
        "settled_by": actors.court,
        "forgiven": 0,
        "settlement_hash": RULING,
    }
    got = registry.claims(sold_claim)
    assert (got.status, got.outstanding) == (SETTLED, 0)
    assert registry.pending_transfer(sold_claim) == ("0x" + "00" * 20, False)


def test_owner_may_not_raise_the_disputed_amount(registry, actors, disputed):
    with boa.env.prank(actors.creditor), boa.reverts("registry: owner may not raise the amount"):
        registry.resolve_dispute(disputed, 8_001, RULING)
    with boa.env.prank(actors.creditor):
        registry.resolve_dispute(disputed, 8_000, RULING)
    assert registry.claims(disputed).outstanding == 8_000


def test_court_may_fix_a_higher_amount(registry, actors, disputed):
    with boa.env.prank(actors.court):
        registry.resolve_dispute(disputed, 9_500, RULING)
    assert registry.claims(disputed).outstanding == 9_500
