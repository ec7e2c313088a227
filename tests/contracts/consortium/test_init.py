"""Consortium constructor and role constants."""

import boa
from eth_utils import keccak

ZERO = "0x" + "00" * 20


def test_deployer_becomes_admin(deployers, actors, events):
    with boa.env.prank(actors.stranger):
        consortium = deployers["Consortium"].deploy()
    assert events(consortium) == [
        ("AdminTransferred", {"previous_admin": ZERO, "new_admin": actors.stranger})
    ]
    assert consortium.admin() == actors.stranger
    assert consortium.pending_admin() == ZERO


def test_admin_holds_no_role(consortium, actors, role):
    """Administering the consortium is not membership: the admin cannot act as a creditor."""
    names = ("CREDITOR", "AGENCY", "COURT", "REGULATOR", "GATEWAY", "KEEPER")
    assert not any(consortium.has_role(actors.admin, role(n)) for n in names)


def test_role_constants_are_keccak_of_their_names(consortium):
    for name in ("CREDITOR", "AGENCY", "COURT", "REGULATOR", "GATEWAY", "KEEPER"):
        assert getattr(consortium, name)() == keccak(text=name)
