"""ClaimRegistry.revoke_mandate: the owner ends a mandate early."""

import boa

ZERO = "0x" + "00" * 20
DAY = 86_400


def test_owner_revokes_mandate(registry, actors, claim, events):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + DAY)
        registry.revoke_mandate(claim)
    assert events(registry) == [
        (
            "MandateRevoked",
            {"claim_id": claim, "agency": actors.agency, "revoked_by": actors.creditor},
        )
    ]
    assert registry.mandate_of(claim) == (ZERO, 0)
    assert not registry.is_mandated(claim, actors.agency)


def test_refused_for_agency(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + DAY)
    with boa.env.prank(actors.agency), boa.reverts("registry: caller is not the owner"):
        registry.revoke_mandate(claim)
    assert registry.is_mandated(claim, actors.agency)


def test_refused_without_mandate(registry, actors, claim):
    with boa.env.prank(actors.creditor), boa.reverts("registry: no mandate"):
        registry.revoke_mandate(claim)


def test_expired_mandate_can_be_cleared(registry, actors, claim):
    with boa.env.prank(actors.creditor):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + DAY)
    boa.env.time_travel(seconds=2 * DAY)
    with boa.env.prank(actors.creditor):
        registry.revoke_mandate(claim)
    assert registry.mandate_of(claim) == (ZERO, 0)
