"""Long-running commands started in the background (the node supervisor, the API server)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from debtledger.errors import ChainError


def spawn(
    args: list[str], folder: Path, name: str, ready: Callable[[], bool], wait_s: float = 60
) -> int:
    """Run `debtledger ARGS` detached, its output in FOLDER/NAME.log and its pid in
    FOLDER/NAME.pid; return once `ready()` holds."""
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / f"{name}.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "debtledger.cli.main", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=os.environ.copy(),
        )
    (folder / f"{name}.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + wait_s
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log_path.read_text(errors="replace")[-400:].strip()
            raise ChainError(f"{name} did not start: {tail}")
        time.sleep(0.1)
    return proc.pid


def stop(folder: Path, name: str, wait_s: float = 30) -> bool:
    """SIGTERM the process recorded in FOLDER/NAME.pid and wait for it; False if none ran."""
    pid_file = folder / f"{name}.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text())
    stopped = False
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    stopped = True
    pid_file.unlink(missing_ok=True)
    return stopped
