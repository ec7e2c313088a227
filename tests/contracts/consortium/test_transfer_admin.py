"""Consortium.transfer_admin: the admin names a successor; nothing changes until it accepts."""

import boa

ZERO = "0x" + "00" * 20


def test_admin_names_successor(consortium, actors, events):
    successor = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(successor)
    assert events(consortium) == [
        ("AdminTransferStarted", {"previous_admin": actors.admin, "new_admin": successor})
    ]
    assert consortium.pending_admin() == successor
    assert consortium.admin() == actors.admin


def test_refused_for_non_admin(consortium, actors):
    with boa.env.prank(actors.stranger), boa.reverts("consortium: caller is not the admin"):
        consortium.transfer_admin(actors.stranger)
    assert consortium.pending_admin() == ZERO


def test_successor_cannot_rename_before_accepting(consortium, actors):
    successor = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(successor)
    with boa.env.prank(successor), boa.reverts("consortium: caller is not the admin"):
        consortium.transfer_admin(actors.stranger)


def test_zero_address_cancels_pending_change(consortium, actors):
    successor = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(successor)
        consortium.transfer_admin(ZERO)
    assert consortium.pending_admin() == ZERO
    with boa.env.prank(successor), boa.reverts("consortium: caller is not the pending admin"):
        consortium.accept_admin()


def test_renaming_replaces_successor(consortium, actors):
    first, second = boa.env.generate_address(), boa.env.generate_address()
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(first)
        consortium.transfer_admin(second)
    with boa.env.prank(first), boa.reverts("consortium: caller is not the pending admin"):
        consortium.accept_admin()
    with boa.env.prank(second):
        consortium.accept_admin()
    assert consortium.admin() == second
