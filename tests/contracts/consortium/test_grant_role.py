"""Consortium.grant_role: only the admin gives known roles to identified organisations."""

import boa
import pytest
from eth_utils import keccak

ZERO = "0x" + "00" * 20
ORG = keccak(text="org:new")


def test_admin_grants_role(consortium, actors, role, events):
    account = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.grant_role(role("AGENCY"), account, ORG)
    assert events(consortium) == [
        (
            "RoleGranted",
            {"account": account, "role": role("AGENCY"), "org_id": ORG, "granted_by": actors.admin},
        )
    ]
    assert consortium.has_role(account, role("AGENCY"))
    assert not consortium.has_role(account, role("CREDITOR"))
    assert consortium.org_of(account) == ORG


@pytest.mark.parametrize("caller", ["stranger", "creditor", "regulator"])
def test_refused_for_non_admin(consortium, actors, role, caller):
    account = boa.env.generate_address()
    with boa.env.prank(getattr(actors, caller)), boa.reverts("consortium: caller is not the admin"):
        consortium.grant_role(role("AGENCY"), account, ORG)
    assert not consortium.has_role(account, role("AGENCY"))


def test_second_role_for_same_organisation(consortium, actors, role):
    with boa.env.prank(actors.admin):
        consortium.grant_role(role("GATEWAY"), actors.agency, keccak(text="org:agency"))
    assert consortium.has_role(actors.agency, role("GATEWAY"))
    assert consortium.has_role(actors.agency, role("AGENCY"))


def test_account_of_another_organisation_refused(consortium, actors, role):
    with (
        boa.env.prank(actors.admin),
        boa.reverts("consortium: account belongs to another organisation"),
    ):
        consortium.grant_role(role("GATEWAY"), actors.agency, ORG)


def test_role_already_granted_refused(consortium, actors, role):
    with boa.env.prank(actors.admin), boa.reverts("consortium: role already granted"):
        consortium.grant_role(role("AGENCY"), actors.agency, keccak(text="org:agency"))


def test_unknown_role_refused(consortium, actors):
    with boa.env.prank(actors.admin), boa.reverts("consortium: unknown role"):
        consortium.grant_role(keccak(text="ADMIN"), boa.env.generate_address(), ORG)


def test_zero_address_refused(consortium, actors, role):
    with boa.env.prank(actors.admin), boa.reverts("consortium: zero address"):
        consortium.grant_role(role("CREDITOR"), ZERO, ORG)


def test_empty_organisation_id_refused(consortium, actors, role):
    with boa.env.prank(actors.admin), boa.reverts("consortium: empty organisation id"):
        consortium.grant_role(role("CREDITOR"), boa.env.generate_address(), b"\x00" * 32)
