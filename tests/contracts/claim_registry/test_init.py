"""ClaimRegistry constructor and constants: bound to one consortium, same role ids."""

import boa
from eth_utils import keccak


def test_bound_to_consortium(registry, consortium):
    assert registry.consortium() == consortium.address


def test_role_constants_match_consortium(registry, consortium):
    for name in ("CREDITOR", "AGENCY", "COURT", "GATEWAY"):
        assert getattr(registry, name)() == getattr(consortium, name)() == keccak(text=name)


def test_status_and_batch_constants(registry):
    statuses = (
        registry.STATUS_ACTIVE(),
        registry.STATUS_SETTLED(),
        registry.STATUS_WRITTEN_OFF(),
        registry.STATUS_DISPUTED(),
    )
    assert statuses == (1, 2, 3, 4)
    assert registry.MAX_BATCH() == 1000


def test_roles_of_another_consortium_do_not_count(deployers, actors, claim_input):
    with boa.env.prank(actors.stranger):
        other = deployers["Consortium"].deploy()
        registry = deployers["ClaimRegistry"].deploy(other.address)
    with boa.env.prank(actors.creditor), boa.reverts("registry: caller is not a creditor"):
        registry.register(claim_input().abi())
