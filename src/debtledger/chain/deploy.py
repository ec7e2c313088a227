"""Deploy the contracts and keep the record of the deployment in the data folder."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from eth_abi import encode
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from debtledger.chain.compile import CONTRACTS, EVM_VERSION, compile_contract
from debtledger.chain.writer import ChainWriter, Write
from debtledger.errors import ChainError, NotFound


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
        init = art.bytecode
        if name != "Consortium":
            init += encode(["address"], [addresses["Consortium"]])
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
