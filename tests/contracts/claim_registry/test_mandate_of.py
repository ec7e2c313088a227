"""ClaimRegistry.mandate_of: the claim's mandate, live or expired."""

import boa

ZERO = "0x" + "00" * 20


def test_no_mandate(registry, claim):
    assert registry.mandate_of(claim) == (ZERO, 0)


def test_expired_mandate_still_reported(registry, actors, claim):
    expiry = boa.env.timestamp + 60
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, expiry)
    boa.env.time_travel(seconds=120)
    assert registry.mandate_of(claim) == (actors.agency, expiry)


def test_widest_expiry_round_trips(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, 2**64 - 1)
    assert registry.mandate_of(claim) == (actors.agency, 2**64 - 1)
