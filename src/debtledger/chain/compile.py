"""Compile the Vyper contracts for an EVM version that runs on anvil and on Besu (QBFT)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import vyper
from vyper import compiler
from vyper.compiler.settings import Settings as VyperSettings

# Shanghai: the newest fork whose opcodes both anvil and Besu/QBFT networks run without
# Cancun activation. A test checks the bytecode holds no newer opcode.
EVM_VERSION = "shanghai"
CONTRACTS = (
    "Consortium",
    "ClaimRegistry",
    "EvidenceAnchor",
    "CollectionPolicy",
    "RepaymentPlan",
)


@dataclass(frozen=True)
class Artifact:
    """A compiled contract: what deploy needs and what the deployment record keeps."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime: bytes
    source_sha256: str
    compiler_version: str = vyper.__version__
    evm_version: str = EVM_VERSION


def source(name: str) -> str:
    """The Vyper source of a contract shipped in this package."""
    return resources.files("debtledger.contracts").joinpath(f"{name}.vy").read_text()


@cache
def compile_contract(name: str) -> Artifact:
    """Compile one contract (cached per process; ~100 ms each)."""
    code = source(name)
    out = compiler.compile_code(
        code,
        contract_path=f"{name}.vy",
        output_formats=["abi", "bytecode", "bytecode_runtime"],
        settings=VyperSettings(evm_version=EVM_VERSION),
    )
    return Artifact(
        name=name,
        abi=out["abi"],
        bytecode=bytes.fromhex(out["bytecode"].removeprefix("0x")),
        runtime=bytes.fromhex(out["bytecode_runtime"].removeprefix("0x")),
        source_sha256=hashlib.sha256(code.encode()).hexdigest(),
    )
