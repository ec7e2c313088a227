"""`debtledger node start|status|stop` as real processes: the node runs in the background,
keeps snapshots, and comes back with its state after a stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port


def _env(data: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "DEBTLEDGER_DATA_DIR": str(data),
        "DEBTLEDGER_NODE_PORT": str(port),
        "DEBTLEDGER_SNAPSHOT_INTERVAL_S": "0.2",
    }


def dl(env: dict[str, str], *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "debtledger.cli.main", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_node_lifecycle_keeps_state(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", free_port())
    try:
        assert dl(env, "node", "start")["started"] is True
        assert dl(env, "node", "start")["started"] is False  # already running: no second node
        dl(env, "deploy")
        dl(env, "org", "add", "bank-a", "--role", "CREDITOR")
        dl(
            env,
            "claim",
            "register",
            "N-1",
            "--as",
            "bank-a",
            "--debtor",
            "0x" + "ab" * 32,
            "--principal-fen",
            "700",
            "--due",
            "2026-05-01",
        )
        deadline = time.monotonic() + 10
        while (
            "snapshot" not in (status := dl(env, "node", "status")) and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert status["running"] is True and status["snapshot"]
        assert dl(env, "node", "stop")["stopped"] is True
        assert dl(env, "node", "status")["running"] is False
        dl(env, "node", "start")
        assert dl(env, "claim", "show", "N-1")["principal_fen"] == 700
    finally:
        subprocess.run(
            [sys.executable, "-m", "debtledger.cli.main", "node", "stop"], env=env, timeout=60
        )
