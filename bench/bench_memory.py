"""(c) `memory`: the local node's peak resident memory while a book of claims (1,000,000 in
full mode) is imported with group commit into a fresh LocalNode. The anvil process's RSS is
sampled every 0.2 s in a thread; the baseline is its RSS right after deploy.

Also printed: the time it took, and per block the time evm_mine took, because anvil's cost
per block grows with the slots it stores (see LIBRARY-NOTES.md).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench._common import (
    MIB,
    Figure,
    RssSampler,
    fresh_ledger,
    log,
    quick_mode,
    ratio,
    report,
    size,
    write_csv,
)

GOAL_MIB = 2048


def run() -> list[Figure]:
    from debtledger.chain import writer as w

    n = size("MEMORY_N", 1_000_000, 100_000)
    log(f"[memory] {n:,} claims imported with group commit into a fresh node; RSS every 0.2 s")
    with tempfile.TemporaryDirectory(prefix="debtledger-bench-csv-") as tmp:
        t = time.perf_counter()
        csv_path = write_csv(Path(tmp) / "book.csv", n, prefix="BOOK")
        log(f"  CSV of {n:,} claims written in {time.perf_counter() - t:.1f} s (untimed)")
        with fresh_ledger() as led:
            for note in led.notes:
                log(f"  {note}")
            after_deploy = led.rss_bytes()
            mines: list[float] = []
            original_call = w.Rpc.call

            def call(self: Any, method: str, params: Any = None) -> Any:
                if method != "evm_mine":
                    return original_call(self, method, params)
                t = time.perf_counter()
                try:
                    return original_call(self, method, params)
                finally:
                    mines.append(time.perf_counter() - t)

            t0 = time.perf_counter()
            last = [t0, 0]
            step = max(1, n // 10)

            def progress(done: int, total: int) -> None:
                if done // step == last[1] // step and done != total:
                    return
                now = time.perf_counter()
                rate = (done - last[1]) / (now - last[0])
                log(
                    f"    {done:>9,}/{total:,} claims  {now - t0:6.1f} s  {rate:8,.0f} claims/s "
                    f"lately  last evm_mine {mines[-1] if mines else 0:.2f} s  node RSS "
                    f"{led.rss_bytes() / MIB:,.0f} MiB"
                )
                last[0], last[1] = now, done

            me = psutil.Process(os.getpid())
            w.Rpc.call = call  # type: ignore[method-assign]
            try:
                with RssSampler(led.node.pid(), 0.2) as node_rss, RssSampler(me.pid, 0.5) as py:
                    t0 = last[0] = time.perf_counter()
                    rep = led.claims.import_csv(csv_path, "bank-a", progress=progress)
                    seconds = time.perf_counter() - t0
            finally:
                w.Rpc.call = original_call  # type: ignore[method-assign]
            assert rep.imported == n, f"imported {rep.imported} of {n}"
            end_rss = led.rss_bytes()
    log(
        f"  imported {n:,} claims in {seconds:.1f} s ({n / seconds:,.0f} claims/s), "
        f"{rep.transactions} txs, {len(mines)} evm_mine calls totalling {sum(mines):.1f} s "
        f"(first {mines[0]:.2f} s, last {mines[-1]:.2f} s)"
    )
    log(
        f"  node RSS: after deploy {after_deploy / MIB:,.0f} MiB, peak {node_rss.peak / MIB:,.0f}"
        f" MiB ({len(node_rss.samples)} samples), at the end {end_rss / MIB:,.0f} MiB; "
        f"benchmark process peak {py.peak / MIB:,.0f} MiB"
    )
    notes = [f"import took {seconds:.1f} s ({n / seconds:,.0f} claims/s)"]
    if quick_mode() or n < 1_000_000:
        notes.append(f"{n:,} claims, not the acceptance size of 1,000,000")
    peak = node_rss.peak / MIB
    return [
        report(
            Figure(
                name="node_peak_rss_mb",
                value=peak,
                unit="MiB",
                baseline="node_rss_after_deploy",
                baseline_value=after_deploy / MIB,
                ratio=ratio(peak, after_deploy / MIB),
                goal=f"< {GOAL_MIB} MiB for 1,000,000 claims",
                # Below the acceptance size a low peak proves nothing: not judged.
                met=(peak < GOAL_MIB) if n >= 1_000_000 else (None if peak < GOAL_MIB else False),
                notes=notes,
            )
        )
    ]
