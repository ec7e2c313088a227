"""Shared fixtures: a real anvil node in a temporary data folder, deployed contracts and
organisations with their own keys; and the store on either backend (SQLite, PostgreSQL)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from debtledger.chain.node import LocalNode, anvil_binary
from debtledger.chain.rpc import Rpc
from debtledger.claims.service import ClaimService
from debtledger.config import Settings, get_settings
from debtledger.domain.claims import NewClaim, parse_claim
from debtledger.errors import ChainError
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


@contextlib.contextmanager
def block_producing_node(*extra: str) -> Iterator[str]:
    """A node DebtLedger does not run: anvil making a block every second on its own (as a
    Besu/QBFT network does); yields its URL."""
    port = free_port()
    args = ["--port", str(port), "--block-time", "1", "--hardfork", "shanghai", "--silent"]
    proc = subprocess.Popen([str(anvil_binary()), *args, *extra])
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                Rpc(url).call("eth_chainId")
                break
            except ChainError:
                assert time.monotonic() < deadline, "the node did not start"
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait()


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


# The PostgreSQL server the store tests also run on: `make test` starts it
# (scripts/test-postgres.sh) and sets this URL, whose role may create databases.
PG_URL_ENV = "DEBTLEDGER_TEST_PG_URL"
# DEBTLEDGER_TEST_PG=off skips the PostgreSQL variants on purpose; without it, and without
# the URL, they fail rather than pass unnoticed.
PG_SWITCH_ENV = "DEBTLEDGER_TEST_PG"
BACKENDS = ["sqlite", "postgresql"]


@dataclass
class StoreDatabases:
    """Fresh, empty store databases for one test: SQLite files in a temporary folder, or
    PostgreSQL databases of their own (made from the admin URL, dropped afterwards), so
    tests on PostgreSQL see nothing of each other and run in parallel."""

    backend: str
    folder: Path
    admin_url: str | None = None
    made: list[str] = field(default_factory=list)

    def new(self, name: str = "store") -> str:
        """The URL of a new, empty database (`name` names the SQLite file)."""
        if self.backend == "sqlite":
            self.folder.mkdir(parents=True, exist_ok=True)
            return f"sqlite:///{self.folder / f'{name}.sqlite'}"
        assert self.admin_url is not None
        db = f"debtledger_t_{secrets.token_hex(6)}"
        self._admin(f'CREATE DATABASE "{db}"')
        self.made.append(db)
        return make_url(self.admin_url).set(database=db).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        while self.made:
            db = self.made.pop()
            # FORCE ends our own sessions; it may not end another role's backend (say an
            # autovacuum worker that just started on the database), so wait and try again.
            for attempt in range(50):
                try:
                    self._admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                    break
                except DBAPIError:
                    if attempt == 49:
                        raise
                    time.sleep(0.2)

    def _admin(self, sql: str) -> None:
        assert self.admin_url is not None
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store's backend; a test using it (or `store_url`, `store_dbs`) runs on each."""
    return str(request.param)


@pytest.fixture
def store_dbs(backend: str, tmp_path: Path) -> Iterator[StoreDatabases]:
    admin_url = None
    if backend == "postgresql":
        admin_url = os.environ.get(PG_URL_ENV)
        if not admin_url:
            if os.environ.get(PG_SWITCH_ENV, "").lower() == "off":
                pytest.skip(f"PostgreSQL variants switched off ({PG_SWITCH_ENV}=off)")
            pytest.fail(
                f"{PG_URL_ENV} is not set, so the PostgreSQL variant cannot run: run `make test` "
                "(it starts PostgreSQL and sets it), or set it to a PostgreSQL URL whose role "
                f"may CREATE DATABASE; {PG_SWITCH_ENV}=off skips these variants.",
                pytrace=False,
            )
    dbs = StoreDatabases(backend, tmp_path / "stores", admin_url)
    try:
        yield dbs
    finally:
        dbs.drop_all()


@pytest.fixture
def store_url(backend: str, store_dbs: StoreDatabases) -> str | None:
    """`Settings.store_url` on this backend: None (SQLite in the data folder) or a fresh
    PostgreSQL database."""
    return None if backend == "sqlite" else store_dbs.new()


@pytest.fixture
def store_settings(tmp_path: Path, store_url: str | None) -> Settings:
    """Settings whose store is on the test's backend; a folder whose tests should run on
    both backends overrides `settings` with these (see tests/store/conftest.py)."""
    return make_settings(tmp_path / "data", store_url=store_url)


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


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `debtledger` on the ledger's data folder and node: `cli("claim show C-1 --json")`,
    or one argument per parameter when one has spaces; returns (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from debtledger.cli.main import app

    monkeypatch.setenv("DEBTLEDGER_DATA_DIR", str(ledger.settings.data_dir))
    monkeypatch.setenv("DEBTLEDGER_NODE_PORT", str(ledger.settings.node_port))
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        argv = shlex.split(args[0]) if len(args) == 1 else list(args)
        result = runner.invoke(app, argv, input=stdin)
        return result.exit_code, result.stdout, result.stderr

    return invoke


def enrol_at_midday(
    rt: Runtime, claim_id: bytes, owner: str, *, policy: str = "cn-cba-2026"
) -> None:
    """Put a claim under a preset with the debtor's time zone chosen so that the chain's
    current time is about 13:00 for the debtor: inside every preset's contact hours,
    whatever the wall clock says when the tests run."""
    from debtledger.collection.engine import CollectionService

    now = int(rt.writer.rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    minutes = (now % 86_400) // 60
    CollectionService(rt).enrol(
        claim_id,
        owner,
        policy=policy,
        tz_offset_minutes=13 * 60 - minutes,
        idem_key=f"enrol:{claim_id.hex()}",
    )
