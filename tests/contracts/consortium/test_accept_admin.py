"""Consortium.accept_admin: only the named successor takes over, once."""

import boa
from eth_utils import keccak

ZERO = "0x" + "00" * 20


def test_successor_takes_over(consortium, actors, role, events):
    successor = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(successor)
    with boa.env.prank(successor):
        consortium.accept_admin()
    assert events(consortium) == [
        ("AdminTransferred", {"previous_admin": actors.admin, "new_admin": successor})
    ]
    assert consortium.admin() == successor
    assert consortium.pending_admin() == ZERO
    with boa.env.prank(actors.admin), boa.reverts("consortium: caller is not the admin"):
        consortium.grant_role(role("KEEPER"), actors.stranger, keccak(text="org:stranger"))
    with boa.env.prank(successor):
        consortium.grant_role(role("KEEPER"), actors.stranger, keccak(text="org:stranger"))


def test_refused_for_anyone_but_successor(consortium, actors):
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(actors.keeper)
    for caller in (actors.admin, actors.stranger):
        with boa.env.prank(caller), boa.reverts("consortium: caller is not the pending admin"):
            consortium.accept_admin()
    assert consortium.admin() == actors.admin


def test_accepting_twice_refused(consortium, actors):
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(actors.keeper)
    with boa.env.prank(actors.keeper):
        consortium.accept_admin()
        with boa.reverts("consortium: caller is not the pending admin"):
            consortium.accept_admin()


def test_zero_address_never_accepts(consortium):
    """With no successor named, the zero address (pending_admin's empty value) is refused."""
    assert consortium.pending_admin() == ZERO
    with boa.env.prank(ZERO), boa.reverts("consortium: caller is not the pending admin"):
        consortium.accept_admin()
