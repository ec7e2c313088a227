"""Shared fixtures: a real anvil node in a temporary data folder, deployed contracts and
organisations with their own keys."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from debtledger.chain.node import LocalNode
from debtledger.claims.service import ClaimService
from debtledger.config import Settings, get_settings
from debtledger.domain.claims import NewClaim, parse_claim
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime

ORGS = {
    "bank-a": ["CREDITOR"],
    "bank-b": ["CREDITOR"],
    "agency-x": ["AGENCY"],
    "court": ["COURT"],
    "gateway": ["GATEWAY"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return get_settings(
        data_dir=data_dir, node_port=free_port(), snapshot_interval_s=0.2, **overrides
    )


@dataclass
class Ledger:
    """A running node with the contracts deployed and the test organisations."""

    settings: Settings
    node: LocalNode
    rt: Runtime
    orgs: OrgService
    claims: ClaimService

    def reopen(self) -> Ledger:
        """A fresh Runtime on the same data folder, as a restarted process would have."""
        rt = Runtime(self.settings)
        return Ledger(self.settings, self.node, rt, OrgService(rt), ClaimService(rt))


def new_claim(
    ref: str, principal: int = 100_000, outstanding: int | None = None, due: str = "2026-01-15"
) -> NewClaim:
    return parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": "0x" + "5e" * 32,
            "principal_fen": str(principal),
            "outstanding_fen": str(principal if outstanding is None else outstanding),
            "currency": "CNY",
            "due_date": due,
        }
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def node(settings: Settings) -> Iterator[LocalNode]:
    node = LocalNode(settings)
    node.start()
    yield node
    node.stop(snapshot=False)


@pytest.fixture
def ledger(settings: Settings, node: LocalNode) -> Ledger:
    rt = Runtime(settings)
    orgs = OrgService(rt)
    orgs.deploy()
    for name, roles in ORGS.items():
        orgs.add(name, roles, idem_key=f"org:{name}")
    return Ledger(settings, node, rt, orgs, ClaimService(rt))
