"""Deploy the contracts and keep the record of the deployment in the data folder.

Each contract is bound at construction to the ones it trusts (BINDINGS); then the admin
wires the collection engine: the policy names its plan contract, the plan contract gets the
GATEWAY role (the registry takes repayments from the owner or a gateway) and the policy
presets are installed.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from debtledger.chain.abi import ContractABI
from debtledger.chain.compile import CONTRACTS, EVM_VERSION, compile_contract
from debtledger.chain.writer import ChainWriter, Write
from debtledger.domain.policies import PRESETS, to_params
from debtledger.errors import ChainError, NotFound

# Constructor arguments: the addresses of the contracts each one is bound to, in order.
BINDINGS: dict[str, tuple[str, ...]] = {
    "Consortium": (),
    "ClaimRegistry": ("Consortium",),
    "EvidenceAnchor": ("Consortium",),
    "CollectionPolicy": ("Consortium", "ClaimRegistry"),
    "RepaymentPlan": ("Consortium", "ClaimRegistry", "CollectionPolicy"),
}
# The organisation id the consortium records for the RepaymentPlan contract's GATEWAY role.
PLANS_ORG_ID = keccak(text="debtledger:RepaymentPlan")
# Transactions after the deployments: set_plans, the GATEWAY grant, one per preset.
SETUP_WRITES = 2 + len(PRESETS)


@dataclass(frozen=True)
class Deployment:
    """Where the contracts are and what was deployed: the record a court or auditor checks."""

    chain_id: int
    addresses: dict[str, str]
    block: int
    deployer: str
    compiler_version: str
    evm_version: str
    source_sha256: dict[str, str]
    deployed_at: float

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        if not path.exists():
            raise NotFound(f"no deployment recorded at {path}: run `debtledger deploy` first")
        return cls(**json.loads(path.read_text()))


def deploy(writer: ChainWriter, admin: LocalAccount) -> Deployment:
    """Deploy the Consortium, then every other contract bound to it, as `admin`, through the
    outbox."""
    nonce = writer.nonce(admin.address)
    addresses: dict[str, str] = {}
    block = 0
    for name in CONTRACTS:
        art = compile_contract(name)
        bound = BINDINGS[name]
        init = art.bytecode + encode(["address"] * len(bound), [addresses[b] for b in bound])
        write = Write(
            abi=None,
            contract=None,
            fn=f"deploy {name}",
            args=(),
            idem_key=f"deploy:{writer.chain_id}:{admin.address}:{nonce}:{name}",
            data=init,
        )
        (entry,) = writer.execute(admin, [write])
        receipt = writer.rpc.call("eth_getTransactionReceipt", [entry.tx_hash])
        if not receipt or not receipt.get("contractAddress"):
            raise ChainError(f"deploying {name} produced no contract")
        addresses[name] = to_checksum_address(receipt["contractAddress"])
        block = block or int(receipt["blockNumber"], 16)
    writer.execute(
        admin, setup_writes(addresses, f"deploy:{writer.chain_id}:{admin.address}:{nonce}")
    )
    return Deployment(
        chain_id=writer.chain_id,
        addresses=addresses,
        block=block,
        deployer=admin.address,
        compiler_version=compile_contract(CONTRACTS[0]).compiler_version,
        evm_version=EVM_VERSION,
        source_sha256={n: compile_contract(n).source_sha256 for n in CONTRACTS},
        deployed_at=time.time(),
    )


def setup_writes(addresses: dict[str, str], key: str) -> list[Write]:
    """The admin's writes that wire the collection engine once every contract is deployed:
    the policy names the plan contract, which gets the GATEWAY role so the registry records
    its payments (the registry trusts owners and gateways only; a role of its own would need
    a registry change), and the policy presets are installed. `key` prefixes the writes'
    idempotency keys."""
    policy = ContractABI(compile_contract("CollectionPolicy").abi)
    consortium = ContractABI(compile_contract("Consortium").abi)
    plans = addresses["RepaymentPlan"]
    writes = [
        Write(policy, addresses["CollectionPolicy"], "set_plans", (plans,), f"{key}:set_plans"),
        Write(
            consortium,
            addresses["Consortium"],
            "grant_role",
            (keccak(text="GATEWAY"), plans, PLANS_ORG_ID),
            f"{key}:grant:GATEWAY:RepaymentPlan",
        ),
    ]
    writes += [
        Write(
            policy,
            addresses["CollectionPolicy"],
            "set_policy",
            (rules.policy_id, to_params(rules)),
            f"{key}:preset:{name}",
        )
        for name, rules in PRESETS.items()
    ]
    return writes
