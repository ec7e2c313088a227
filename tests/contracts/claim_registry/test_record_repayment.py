"""ClaimRegistry.record_repayment: the owner or a gateway records what the debtor paid."""

import boa
import pytest
from eth_utils import keccak

ACTIVE, SETTLED, DISPUTED = 1, 2, 4
RECEIPT = keccak(text="receipt")


@pytest.mark.parametrize("caller", ["creditor", "gateway"])
def test_partial_repayment_recorded(registry, actors, claim, events, caller):
    with boa.env.prank(getattr(actors, caller)):
        registry.record_repayment(claim, 3_000, RECEIPT)
    assert events(registry) == [
        (
            "RepaymentRecorded",
            {
                "claim_id": claim,
                "recorded_by": getattr(actors, caller),
                "amount": 3_000,
                "applied": 3_000,
                "outstanding": 5_000,
                "receipt_hash": RECEIPT,
            },
        )
    ]
    got = registry.claims(claim)
    assert (got.status, got.principal, got.outstanding) == (ACTIVE, 10_000, 5_000)


@pytest.mark.parametrize("caller", ["agency", "court", "creditor2", "stranger"])
def test_refused_for_others(registry, actors, claim, caller):
    with (
        boa.env.prank(getattr(actors, caller)),
        boa.reverts("registry: caller is not the owner or a gateway"),
    ):
        registry.record_repayment(claim, 3_000, RECEIPT)
    assert registry.claims(claim).outstanding == 8_000


def test_zero_amount_refused(registry, actors, claim):
    with boa.env.prank(actors.gateway), boa.reverts("registry: amount must be positive"):
        registry.record_repayment(claim, 0, RECEIPT)


def test_one_short_of_outstanding_stays_active(registry, actors, claim):
    with boa.env.prank(actors.gateway):
        registry.record_repayment(claim, 7_999, RECEIPT)
    got = registry.claims(claim)
    assert (got.status, got.outstanding) == (ACTIVE, 1)


@pytest.mark.parametrize("amount", [8_000, 8_001, 2**128 - 1])
def test_paying_in_full_settles_and_clamps(registry, actors, claim, events, amount):
    with boa.env.prank(actors.gateway):
        registry.record_repayment(claim, amount, RECEIPT)
    assert events(registry) == [
        (
            "RepaymentRecorded",
            {
                "claim_id": claim,
                "recorded_by": actors.gateway,
                "amount": amount,
                "applied": 8_000,
                "outstanding": 0,
                "receipt_hash": RECEIPT,
            },
        ),
        (
            "ClaimSettled",
            {
                "claim_id": claim,
                "settled_by": actors.gateway,
                "forgiven": 0,
                "settlement_hash": RECEIPT,
            },
        ),
    ]
    got = registry.claims(claim)
    assert (got.status, got.outstanding) == (SETTLED, 0)


def test_settling_repayment_cancels_offer(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(claim, actors.creditor2, keccak(text="price"))
    with boa.env.prank(actors.gateway):
        registry.record_repayment(claim, 8_000, RECEIPT)
    assert [name for name, _ in events(registry)] == [
        "RepaymentRecorded",
        "TransferCancelled",
        "ClaimSettled",
    ]
    assert events(registry)[1][1] == {
        "claim_id": claim,
        "seller": actors.creditor,
        "buyer": actors.creditor2,
        "cancelled_by": actors.gateway,
    }
    assert registry.pending_transfer(claim) == ("0x" + "00" * 20, False)


@pytest.mark.parametrize(
    ("status", "reason"),
    [("settled", "registry: claim is settled"), ("written_off", "registry: claim is written off")],
)
def test_refused_for_closed_claim(registry, actors, claim, move_to, status, reason):
    move_to(claim, status)
    with boa.env.prank(actors.gateway), boa.reverts(reason):
        registry.record_repayment(claim, 1, RECEIPT)


def test_recorded_on_disputed_claim(registry, actors, claim, move_to):
    """Money the debtor paid counts even while the claim is disputed."""
    move_to(claim, "disputed")
    with boa.env.prank(actors.gateway):
        registry.record_repayment(claim, 1_000, RECEIPT)
    got = registry.claims(claim)
    assert (got.status, got.outstanding) == (DISPUTED, 7_000)
