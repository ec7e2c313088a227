"""The service is SIGKILLed while its indexer works through a large import; restarted, its
read model equals a fresh re-index of the same chain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from debtledger.config import get_settings
from debtledger.demo import write_claims_csv
from debtledger.runtime import Runtime
from debtledger.store.db import make_engine, migrate
from debtledger.store.indexer import Indexer
from tests.cli.test_node_cli import _env, dl
from tests.conftest import free_port
from tests.store.test_indexer import _dump


def test_killed_mid_stream_the_read_model_ends_as_a_fresh_index(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node_port, api_port = free_port(), free_port()
    env = _env(data, node_port)
    url = f"http://127.0.0.1:{api_port}"
    try:
        dl(env, "node", "start")
        dl(env, "deploy")
        dl(env, "org", "add", "bank-a", "--role", "CREDITOR")
        dl(env, "org", "add", "bank-b", "--role", "CREDITOR")
        for n, org in enumerate(("bank-a", "bank-b")):
            path = tmp_path / f"{org}.csv"
            write_claims_csv(path, 2_000, seed=n, prefix=f"K{n}")
            dl(env, "claim", "import", str(path), "--as", org)
        dl(env, "serve", "--detach", "--port", str(api_port))
        time.sleep(0.2)  # the indexer is working through 4,000 registrations
        os.kill(int((data / "api.pid").read_text()), signal.SIGKILL)
        (data / "api.pid").unlink()
        dl(
            env,
            "claim",
            "transfer",
            "K0-000001",
            "--as",
            "bank-a",
            "--to",
            "bank-b",
            "--price-fen",
            "5",
        )
        dl(env, "serve", "--detach", "--port", str(api_port))
        assert httpx.get(f"{url}/ready").status_code == 200

        settings = get_settings(data_dir=data, node_port=node_port)
        rt = Runtime(settings)
        head = rt.writer.head()
        deadline = time.monotonic() + 60
        while rt.indexer.cursor().block < head:
            assert time.monotonic() < deadline, "the restarted indexer did not catch up"
            time.sleep(0.2)
        fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
        migrate(fresh)
        Indexer(
            rt.writer.rpc,
            rt.events,
            fresh,
            contract=rt.address("ClaimRegistry"),
            chain_id=rt.chain_id,
            start_block=rt.deployment.block,
        ).run_once(head)
        survived, rebuilt = _dump(rt.engine), _dump(fresh)
        assert len(rebuilt["claims"]) == 4_000
        assert survived == rebuilt
    finally:
        for args in (["serve", "--stop"], ["node", "stop"]):
            subprocess.run(
                [sys.executable, "-m", "debtledger.cli.main", *args], env=env, timeout=60
            )
