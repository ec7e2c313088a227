"""CollectionPolicy.__init__: bound to the consortium and the registry, nothing else set."""

from importlib import resources

import boa
from eth_utils import keccak

from debtledger.chain.compile import EVM_VERSION

ZERO = "0x" + "00" * 20


def test_bound_to_consortium_and_registry(consortium, registry, actors):
    path = resources.files("debtledger.contracts").joinpath("CollectionPolicy.vy")
    deployer = boa.load_partial(str(path), compiler_args={"evm_version": EVM_VERSION})
    with boa.env.prank(actors.admin):
        fresh = deployer.deploy(consortium.address, registry.address)
    assert fresh.consortium() == consortium.address
    assert fresh.registry() == registry.address
    assert fresh.plans() == ZERO
    assert (fresh.policy_count(), fresh.claim_count(), fresh.contact_count()) == (0, 0, 0)


def test_role_constants_match_the_consortium(policy, consortium):
    for name in ("CREDITOR", "GATEWAY", "KEEPER"):
        assert getattr(policy, name)() == keccak(text=name) == getattr(consortium, name)()
    assert policy.MAX_ADVANCE() == 200


def test_session_deployment_is_bound_to_the_plans(policy, plans, consortium, role):
    assert policy.plans() == plans.address
    assert plans.policy() == policy.address
    assert consortium.has_role(plans.address, role("GATEWAY"))
