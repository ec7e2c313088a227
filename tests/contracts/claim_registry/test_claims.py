"""ClaimRegistry.claims: a claim's current state, unpacked."""

import boa
from eth_utils import keccak

ACTIVE, DISPUTED = 1, 4


def test_unknown_claim_refused(registry):
    with boa.reverts("registry: unknown claim"):
        registry.claims(keccak(text="nope"))


def test_state_changes_leave_other_fields_intact(registry, actors, register, move_to):
    """Owner and status are rewritten in place; due date, currency and amounts survive."""
    top64 = 2**64 - 1
    cid = register(
        principal=2**128 - 1, outstanding=2**128 - 2, due_date=top64, currency=b"\xff" * 3
    )
    with boa.env.prank(actors.creditor):
        registry.propose_transfer(cid, actors.creditor2, keccak(text="price"))
    with boa.env.prank(actors.creditor2):
        registry.accept_transfer(cid)
    move_to(cid, "disputed", owner=actors.creditor2)
    assert registry.claims(cid) == (
        actors.creditor2,
        DISPUTED,
        top64,
        b"\xff" * 3,
        2**128 - 1,
        2**128 - 2,
    )
    with boa.env.prank(actors.court):
        registry.resolve_dispute(cid, 5, keccak(text="ruling"))
    assert registry.claims(cid) == (actors.creditor2, ACTIVE, top64, b"\xff" * 3, 2**128 - 1, 5)
