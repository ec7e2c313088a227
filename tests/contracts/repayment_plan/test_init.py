"""RepaymentPlan.__init__: bound to the consortium, the registry and the policy."""

from importlib import resources

import boa
from eth_utils import keccak

from debtledger.chain.compile import EVM_VERSION


def test_bound_to_its_contracts(consortium, registry, policy, actors):
    path = resources.files("debtledger.contracts").joinpath("RepaymentPlan.vy")
    deployer = boa.load_partial(str(path), compiler_args={"evm_version": EVM_VERSION})
    with boa.env.prank(actors.admin):
        fresh = deployer.deploy(consortium.address, registry.address, policy.address)
    assert (fresh.consortium(), fresh.registry(), fresh.policy()) == (
        consortium.address,
        registry.address,
        policy.address,
    )


def test_constants(plans):
    assert plans.GATEWAY() == keccak(text="GATEWAY")
    assert plans.MAX_INSTALMENTS() == 60
    states = ("NONE", "PROPOSED", "ACTIVE", "BROKEN", "COMPLETED")
    assert [getattr(plans, f"STATE_{s}")() for s in states] == [0, 1, 2, 3, 4]


def test_no_plan_reads_as_zero(plans):
    claim = keccak(text="nothing")
    assert tuple(plans.plan_of(claim)) == (0, 0, 0, 0, 0, b"\x00" * 32)
    assert plans.instalments_of(claim) == []
