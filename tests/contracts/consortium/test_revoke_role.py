"""Consortium.revoke_role: only the admin takes granted roles away."""

import boa
from eth_utils import keccak


def test_admin_revokes_role(consortium, registry, actors, role, events, claim):
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("AGENCY"), actors.agency)
    assert events(consortium) == [
        (
            "RoleRevoked",
            {"account": actors.agency, "role": role("AGENCY"), "revoked_by": actors.admin},
        )
    ]
    assert not consortium.has_role(actors.agency, role("AGENCY"))
    # the registry trusts the consortium at once
    with boa.env.prank(actors.creditor), boa.reverts("registry: mandatee is not an agency"):
        registry.grant_mandate(claim, actors.agency, boa.env.timestamp + 3600)


def test_refused_for_non_admin(consortium, actors, role):
    with boa.env.prank(actors.agency), boa.reverts("consortium: caller is not the admin"):
        consortium.revoke_role(role("AGENCY"), actors.agency)
    assert consortium.has_role(actors.agency, role("AGENCY"))


def test_role_not_granted_refused(consortium, actors, role):
    with boa.env.prank(actors.admin), boa.reverts("consortium: role not granted"):
        consortium.revoke_role(role("COURT"), actors.agency)


def test_revoking_twice_refused(consortium, actors, role):
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("AGENCY"), actors.agency)
        with boa.reverts("consortium: role not granted"):
            consortium.revoke_role(role("AGENCY"), actors.agency)


def test_unknown_role_refused(consortium, actors):
    with boa.env.prank(actors.admin), boa.reverts("consortium: unknown role"):
        consortium.revoke_role(keccak(text="ADMIN"), actors.agency)


def test_organisation_stays_after_revoke(consortium, actors, role):
    """An address keeps its organisation: it can get a role back only for the same one."""
    with boa.env.prank(actors.admin):
        consortium.revoke_role(role("AGENCY"), actors.agency)
        assert consortium.org_of(actors.agency) == keccak(text="org:agency")
        with boa.reverts("consortium: account belongs to another organisation"):
            consortium.grant_role(role("AGENCY"), actors.agency, keccak(text="org:other"))
        consortium.grant_role(role("AGENCY"), actors.agency, keccak(text="org:agency"))
    assert consortium.has_role(actors.agency, role("AGENCY"))
