"""Shared helpers of the benchmarks: figures and their JSON files, a fresh ledger on a fresh
node, claims CSV files, RSS sampling and a per-phase timer.

Nothing here changes the product: the benchmarks drive `debtledger` through its own
services.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

RESULTS_DIR = Path(__file__).resolve().parent / "results"
CONTRACTS_DIR = Path(__file__).resolve().parent / "contracts"
MIB = 1024 * 1024

# ------------------------------------------------------------------ run options


def quick_mode() -> bool:
    """Quick mode (smaller sizes): `--quick` on the command line or BENCH_QUICK=1."""
    return os.environ.get("BENCH_QUICK", "").strip().lower() in ("1", "true", "yes", "on")


def size(env: str, full: int, quick: int) -> int:
    """A workload size: the env var BENCH_<env> wins, else the quick or the full size."""
    value = os.environ.get(f"BENCH_{env}")
    if value:
        return int(value.replace("_", ""))
    return quick if quick_mode() else full


def log(msg: str = "") -> None:
    print(msg, flush=True)


# ------------------------------------------------------------------ figures


@dataclass
class Figure:
    """One reported figure; `met` (goal reached) is for the summary table only."""

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float
    goal: str
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        keys = ("name", "value", "unit", "baseline", "baseline_value", "ratio", "goal")
        return {k: v for k, v in asdict(self).items() if k in keys}


FIGURES: list[Figure] = []


def ratio(value: float, baseline_value: float) -> float:
    return value / baseline_value if baseline_value else float("inf")


def report(fig: Figure) -> Figure:
    """Print the figure and write bench/results/<name>.json (<name>.quick.json in quick mode)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = ".quick.json" if quick_mode() else ".json"
    path = RESULTS_DIR / f"{fig.name}{suffix}"
    rec = fig.record()
    for k in ("value", "baseline_value", "ratio"):
        rec[k] = round(float(rec[k]), 4)
    path.write_text(json.dumps(rec, indent=2) + "\n")
    FIGURES.append(fig)
    verdict = {True: "MET", False: "NOT MET", None: "-"}[fig.met]
    log(
        f"  => {fig.name} = {fig.value:,.2f} {fig.unit}  | baseline {fig.baseline} = "
        f"{fig.baseline_value:,.2f}  | ratio {fig.ratio:.4g}  | goal {fig.goal}: {verdict}"
    )
    for note in fig.notes:
        log(f"     note: {note}")
    log(f"     written: {path.relative_to(RESULTS_DIR.parent.parent)}")
    return fig


def summary_table(figures: list[Figure]) -> str:
    head = ("figure", "value", "unit", "baseline", "baseline value", "ratio", "goal", "met")
    rows = [head] + [
        (
            f.name,
            f"{f.value:,.1f}",
            f.unit,
            f.baseline.split(" (")[0],
            f"{f.baseline_value:,.1f}",
            f"{f.ratio:.3g}",
            f.goal,
            {True: "yes", False: "NO", None: "-"}[f.met],
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    line = "  ".join("-" * w for w in widths)
    out = [line]
    for i, r in enumerate(rows):
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        if i == 0:
            out.append(line)
    out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------ claims CSV


def write_csv(path: Path, count: int, *, seed: int = 20261204, prefix: str = "BENCH") -> Path:
    """A claims CSV in the import format; the same seed gives the same first rows."""
    from debtledger.demo import write_claims_csv

    write_claims_csv(path, count, seed=seed, prefix=prefix, digits=7)
    return path


# ------------------------------------------------------------------ nodes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ledger:
    """A fresh node with the contracts deployed and a creditor, in a temp data folder."""

    folder: Path
    node: Any  # LocalNode
    rt: Any  # Runtime
    orgs: Any  # OrgService
    claims: Any  # ClaimService
    notes: list[str]

    @property
    def url(self) -> str:
        return str(self.node.url)

    def rss_bytes(self) -> int:
        return int(self.node.memory_bytes())


@contextlib.contextmanager
def fresh_ledger(creditors: tuple[str, ...] = ("bank-a",)) -> Iterator[Ledger]:
    """Start anvil (LocalNode, the product's own flags) on a free port in a temp data
    folder, deploy the contracts, add the creditors; stop the node and delete the folder
    afterwards (BENCH_KEEP=1 keeps it)."""
    from debtledger.chain.node import LocalNode
    from debtledger.claims.service import ClaimService
    from debtledger.config import get_settings
    from debtledger.orgs.service import OrgService
    from debtledger.runtime import Runtime

    folder = Path(tempfile.mkdtemp(prefix="debtledger-bench-"))
    settings = get_settings(data_dir=folder, node_port=free_port(), rpc_url=None, mode="local")
    node = LocalNode(settings)
    node.start()
    try:
        notes: list[str] = []
        rt = Runtime(settings)
        orgs = OrgService(rt)
        orgs.deploy()
        for name in creditors:
            orgs.add(name, ["CREDITOR"], idem_key=f"bench-org:{name}")
        yield Ledger(folder, node, rt, orgs, ClaimService(rt), notes)
    finally:
        node.stop(snapshot=False)
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)


# The raw baseline's batch POSTs stay this small, like the writer's (MAX_BATCH_BYTES, as hex).
SAFE_BODY_BYTES = int(1.9 * MIB)


# ------------------------------------------------------------------ measuring


class RssSampler:
    """Samples a process's resident memory every `interval_s` in a thread; keeps the peak."""

    def __init__(self, pid: int, interval_s: float = 0.2) -> None:
        self.proc = psutil.Process(pid)
        self.interval_s = interval_s
        self.peak = 0
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._t0 = time.perf_counter()

    def _sample(self) -> None:
        with contextlib.suppress(psutil.Error):
            rss = int(self.proc.memory_info().rss)
            self.samples.append((time.perf_counter() - self._t0, rss))
            self.peak = max(self.peak, rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


class PhaseTimer:
    """Times named functions of the product while active (wraps, then restores them).

    Top-level phases do not overlap and add up to the whole (with "other"); detail rows run
    inside them and are listed apart."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.top: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def wrap(
        self, owner: Any, attr: str, label: str | Callable[..., str], *, top: bool = False
    ) -> None:
        original = owner.__dict__[attr] if attr in owner.__dict__ else getattr(owner, attr)
        if top and isinstance(label, str):
            self.top.append(label)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args, **kwargs) if callable(label) else label
            t = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t
                self.calls[name] = self.calls.get(name, 0) + 1

        setattr(owner, attr, timed)
        self._undo.append(lambda: setattr(owner, attr, original))

    def restore(self) -> None:
        while self._undo:
            self._undo.pop()()

    def table(self, total_s: float) -> str:
        def row(name: str, s: float, calls: int | None) -> str:
            n = f"({calls} calls)" if calls is not None else ""
            return f"    {name:46s} {s:7.3f} s  {100 * s / total_s:5.1f} %  {n}"

        top = [n for n in self.top if n in self.seconds]
        out = ["  phases (they add up to the whole):"]
        out += [row(n, self.seconds[n], self.calls[n]) for n in top]
        out.append(
            row(
                "other (import_csv's own loop, ...)",
                total_s - sum(self.seconds[n] for n in top),
                None,
            )
        )
        out.append("  inside those phases:")
        detail = sorted((n for n in self.seconds if n not in top), key=lambda n: -self.seconds[n])
        out += [row(n, self.seconds[n], self.calls[n]) for n in detail]
        return "\n".join(out)


def json_rpc_bodies(
    calls: list[tuple[str, list[Any]]], max_bytes: int = SAFE_BODY_BYTES
) -> list[bytes]:
    """Pre-built JSON-RPC batch bodies, each below `max_bytes`."""
    bodies: list[bytes] = []
    group: list[bytes] = []
    size = 2
    for i, (method, params) in enumerate(calls):
        item = json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}).encode()
        if group and size + len(item) + 1 > max_bytes:
            bodies.append(b"[" + b",".join(group) + b"]")
            group, size = [], 2
        group.append(item)
        size += len(item) + 1
    if group:
        bodies.append(b"[" + b",".join(group) + b"]")
    return bodies
