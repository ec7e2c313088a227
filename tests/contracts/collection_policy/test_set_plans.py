"""CollectionPolicy.set_plans: the consortium admin names the RepaymentPlan contract."""

import boa
import pytest

ZERO = "0x" + "00" * 20


def test_admin_replaces_the_plans_contract(policy, plans, actors, events, enrolled):
    new = boa.env.generate_address()
    with boa.env.prank(actors.admin):
        policy.set_plans(new)
    assert events(policy) == [
        ("PlansSet", {"previous": plans.address, "plans": new, "set_by": actors.admin})
    ]
    assert policy.plans() == new
    cid = enrolled()
    with boa.env.prank(plans.address), boa.reverts("collection: caller is not the plans contract"):
        policy.pause(cid)
    with boa.env.prank(new):
        policy.pause(cid)


def test_zero_address_disables_pauses(policy, plans, actors, enrolled):
    with boa.env.prank(actors.admin):
        policy.set_plans(ZERO)
    cid = enrolled()
    with boa.env.prank(plans.address), boa.reverts("collection: caller is not the plans contract"):
        policy.pause(cid)


def test_follows_an_admin_change(policy, consortium, actors):
    with boa.env.prank(actors.admin):
        consortium.transfer_admin(actors.stranger)
    with boa.env.prank(actors.stranger):
        consortium.accept_admin()
        policy.set_plans(ZERO)
    with boa.env.prank(actors.admin), boa.reverts("collection: caller is not the admin"):
        policy.set_plans(ZERO)


@pytest.mark.parametrize("caller", ["creditor", "gateway", "keeper", "regulator", "stranger"])
def test_refused_for_others(policy, plans, actors, caller):
    with boa.env.prank(getattr(actors, caller)), boa.reverts("collection: caller is not the admin"):
        policy.set_plans(ZERO)
    assert policy.plans() == plans.address
