"""`debtledger serve`: migrations, the local node, the indexer and the API as one process
in the background; the demo's API keys read what the indexer follows from the chain."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.cli.test_node_cli import _env, dl
from tests.conftest import free_port


def test_serve_indexes_and_answers_with_demo_keys(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", free_port())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        dl(env, "node", "start")
        dl(env, "deploy")
        demo = dl(env, "demo", "--claims", "20")
        keys = demo["api_keys"]
        assert set(keys) == {
            "bank-a",
            "bank-b",
            "agency-x",
            "court",
            "regulator",
            "gateway",
            "keeper",
        }
        started = dl(env, "serve", "--detach", "--port", str(port))
        assert started["url"] == url and started["started"] is True
        assert dl(env, "serve", "--detach", "--port", str(port))["started"] is False
        assert httpx.get(f"{url}/ready").json()["status"] == "ready"
        bank_a = {"Authorization": f"Bearer {keys['bank-a']}"}
        deadline = time.monotonic() + 20
        seen: list[object] = []
        # 19 of the 20 (one was sold to bank-b), and the claim registered with its record.
        while len(seen) != 20 and time.monotonic() < deadline:
            seen = httpx.get(f"{url}/claims", params={"limit": 100}, headers=bank_a).json()["data"]
            time.sleep(0.2)
        assert len(seen) == 20
        bank_b = {"Authorization": f"Bearer {keys['bank-b']}"}
        assert len(httpx.get(f"{url}/claims", headers=bank_b).json()["data"]) == 1
        assert dl(env, "serve", "--stop")["stopped"] is True
    finally:
        for args in (["serve", "--stop"], ["node", "stop"]):
            subprocess.run(
                [sys.executable, "-m", "debtledger.cli.main", *args], env=env, timeout=60
            )
