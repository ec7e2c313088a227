"""ClaimRegistry.is_mandated: a live mandate of this agency on an active claim."""

import boa
from eth_utils import keccak


def test_live_until_expiry(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + 100)
    boa.env.time_travel(seconds=99)
    assert registry.is_mandated(claim, actors.agency)
    boa.env.time_travel(seconds=1)  # now == expiry
    assert not registry.is_mandated(claim, actors.agency)


def test_only_for_the_mandated_agency(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + 100)
    assert not registry.is_mandated(claim, actors.gateway)
    assert not registry.is_mandated(keccak(text="nope"), actors.agency)


def test_suspended_while_disputed(registry, actors, claim, move_to):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + 100)
    move_to(claim, "disputed")
    assert not registry.is_mandated(claim, actors.agency)
    with boa.env.prank(actors.court):
        registry.resolve_dispute(claim, 1_000, keccak(text="ruling"))
    assert registry.is_mandated(claim, actors.agency)


def test_ended_by_settlement(registry, actors, claim, move_to):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + 100)
    move_to(claim, "settled")
    assert not registry.is_mandated(claim, actors.agency)
