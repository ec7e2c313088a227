"""The local development node: anvil from the pinned npm package, on loopback, with its
state kept in the data folder by atomic snapshots.

anvil's own `--state` loses everything on SIGKILL and `--state-interval` can leave an empty
file that anvil refuses to load, so the snapshot is taken over RPC (`anvil_dumpState`),
written to a temporary file, fsynced and renamed into place: the file on disk is always a
whole snapshot. A node restored from an older snapshot is made whole again by the outbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from debtledger.chain.rpc import Rpc
from debtledger.config import Settings
from debtledger.errors import ChainError

SNAPSHOT_NAME = "state.json"
PID_NAME = "anvil.pid"
LOG_NAME = "anvil.log"


@contextlib.contextmanager
def chain_lock(folder: Path) -> Iterator[None]:
    """Mining and snapshots exclude each other, across processes.

    Measured here: a state dump taken while a block is being mined can hold that block's
    state changes without the block itself (the transactions and their events are lost
    while their effects remain). With `--no-mining` only `evm_mine` changes the state, so
    holding this lock around both keeps every snapshot whole.
    """
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "chain.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def anvil_binary(project_root: Path | None = None) -> Path:
    """Find the anvil binary shipped by the npm package `@foundry-rs/anvil`."""
    env = os.environ.get("DEBTLEDGER_ANVIL")
    if env:
        return Path(env)
    roots = [project_root] if project_root else []
    roots += [Path.cwd(), Path(__file__).resolve().parents[3]]
    for root in roots:
        candidate = root / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
        if candidate.exists():
            return candidate
    found = shutil.which("anvil")
    if found:
        return Path(found)
    raise ChainError("anvil not found: run `npm ci` in the project folder (package.json pins it)")


def rpc(url: str, method: str, params: list[Any] | None = None, timeout: float = 30.0) -> Any:
    """One JSON-RPC call to `url`; raises NodeUnavailable when the node does not answer."""
    return Rpc(url, timeout=timeout).call(method, params)


@dataclass
class LocalNode:
    """An anvil process whose state lives in `settings.node_dir`."""

    settings: Settings
    process: subprocess.Popen[bytes] | None = None

    @property
    def folder(self) -> Path:
        return self.settings.node_dir

    @property
    def snapshot_path(self) -> Path:
        return self.folder / SNAPSHOT_NAME

    @property
    def url(self) -> str:
        return self.settings.node_url

    def command(self) -> list[str]:
        s = self.settings
        cmd = [
            str(anvil_binary()),
            "--host",
            s.node_host,
            "--port",
            str(s.node_port),
            "--chain-id",
            str(s.chain_id),
            # Same fork as the bytecode target: what runs here runs on Besu too.
            "--hardfork",
            "shanghai",
            # Group commit: the adapter mines one block per group of writes.
            "--no-mining",
            "--gas-limit",
            str(s.block_gas_limit),
            # A permissioned chain without fees: no base-fee drift, no funding of keys.
            "--base-fee",
            "0",
            "--gas-price",
            "0",
            "--accounts",
            "0",
            # Group commits carry megabytes of transactions; anvil refuses bodies >= 2 MiB.
            "--no-request-size-limit",
            # Keep no historical states in memory: blocks and logs stay, memory stays flat.
            "--prune-history",
            "--silent",
        ]
        if self.snapshot_path.exists():
            cmd += ["--load-state", str(self.snapshot_path)]
        return cmd

    def start(self, wait_s: float = 15.0) -> None:
        """Start anvil (loading the last snapshot) and wait until it answers."""
        if self.is_running():
            raise ChainError(f"a node already answers at {self.url}")
        self.folder.mkdir(parents=True, exist_ok=True)
        log = open(self.folder / LOG_NAME, "ab")  # noqa: SIM115 - handed to the child
        proc = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.process = proc
        log.close()
        (self.folder / PID_NAME).write_text(str(proc.pid))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (self.folder / LOG_NAME).read_text(errors="replace")[-500:]
                raise ChainError(f"anvil exited at start (code {proc.returncode}): {tail}")
            if self.is_running():
                return
            time.sleep(0.05)
        raise ChainError(f"anvil did not answer at {self.url} within {wait_s} s")

    def is_running(self) -> bool:
        try:
            rpc(self.url, "eth_chainId", timeout=1.0)
        except ChainError:
            return False
        return True

    def snapshot(self) -> Path:
        """Write the node's whole state atomically: temp file, fsync, rename, fsync folder."""
        with chain_lock(self.folder):
            dump = rpc(self.url, "anvil_dumpState", timeout=300.0)
        try:
            state = gzip.decompress(bytes.fromhex(str(dump).removeprefix("0x")))
        except (ValueError, OSError, EOFError) as exc:
            raise ChainError("the node's state dump is not a whole gzip payload") from exc
        tmp = self.snapshot_path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(state)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.snapshot_path)
        dir_fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return self.snapshot_path

    def pid(self) -> int | None:
        if self.process is not None:
            return self.process.pid
        try:
            return int((self.folder / PID_NAME).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self, snapshot: bool = True, timeout_s: float = 10.0) -> None:
        """Snapshot (when asked and reachable), then stop anvil with SIGTERM."""
        if snapshot and self.is_running():
            self.snapshot()
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            self._wait_gone(pid, timeout_s)
        (self.folder / PID_NAME).unlink(missing_ok=True)
        self.process = None

    def kill(self) -> None:
        """SIGKILL the node, as a crash would (tests use this)."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 10.0)
        self.process = None

    def _wait_gone(self, pid: int, timeout_s: float) -> None:
        if self.process is not None:
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def memory_bytes(self) -> int:
        """Resident memory of the node process (benchmarks report its peak)."""
        import psutil

        pid = self.pid()
        if pid is None:
            return 0
        return int(psutil.Process(pid).memory_info().rss)


class Snapshotter:
    """Takes a snapshot every `interval_s` while the chain has moved since the last one."""

    def __init__(self, node: LocalNode, interval_s: float) -> None:
        self.node = node
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="snapshotter", daemon=True)
        self._last_block: object = None

    def start(self) -> Snapshotter:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def tick(self) -> None:
        """Snapshot now if the head moved. A dead node or a failed write is not fatal here:
        the thread must outlive crashes of the node it watches, and tries again next tick."""
        try:
            head = rpc(self.node.url, "eth_getBlockByNumber", ["latest", False], timeout=2.0)
            head_hash = head["hash"] if isinstance(head, dict) else None
            if head_hash != self._last_block:
                self.node.snapshot()
                self._last_block = head_hash
        except (ChainError, OSError):
            return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
