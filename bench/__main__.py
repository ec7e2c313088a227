"""Run the benchmarks: `python -m bench [--quick] [NAME ...]` (names: see --help)."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
import time
import traceback

BENCHMARKS = {
    "import": "bench.bench_import",
    "gas": "bench.bench_gas",
    "memory": "bench.bench_memory",
    "indexer": "bench.bench_indexer",
    "api_latency": "bench.bench_api_latency",
    "load": "bench.bench_load",
    "privacy": "bench.bench_privacy",
    "evidence": "bench.bench_evidence",
    "supervision": "bench.bench_supervision",
    "keeper": "bench.bench_keeper",
}


def machine_load() -> str:
    """The machine's load before starting: figures from a busy machine are not comparable."""
    import psutil

    me = os.getpid()
    psutil.cpu_percent()
    procs = list(psutil.process_iter(["pid", "name"]))
    for p in procs:
        with contextlib.suppress(psutil.Error):
            p.cpu_percent()
    time.sleep(1.0)
    others = []
    for p in procs:
        with contextlib.suppress(psutil.Error):
            cpu = p.cpu_percent()
            if p.pid != me and cpu >= 10:
                others.append(f"{p.info['name']}[{p.pid}] {cpu:.0f}%")
    load1 = os.getloadavg()[0]
    text = f"machine: {os.cpu_count()} CPUs, load average (1 min) {load1:.2f}"
    if others:
        text += "; WARNING, busy with other processes: " + ", ".join(others[:6])
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smaller sizes (same as BENCH_QUICK=1)"
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}: choose from {', '.join(BENCHMARKS)}")
    if args.quick:
        os.environ["BENCH_QUICK"] = "1"

    from bench._common import FIGURES, log, quick_mode, summary_table

    names = args.names or list(BENCHMARKS)
    log(f"DebtLedger benchmarks ({'quick' if quick_mode() else 'full'} mode): {', '.join(names)}")
    busy = machine_load()
    log(busy)
    failed: list[str] = []
    t0 = time.perf_counter()
    for name in names:
        t = time.perf_counter()
        try:
            importlib.import_module(BENCHMARKS[name]).run()
        except Exception:  # noqa: BLE001 - report and go on with the next benchmark
            traceback.print_exc()
            failed.append(name)
        log(f"[{name}] done in {time.perf_counter() - t:.1f} s\n")
    log(f"Summary ({'quick' if quick_mode() else 'full'} mode, {time.perf_counter() - t0:.0f} s)")
    if FIGURES:
        log(summary_table(FIGURES))
    if failed:
        log(f"FAILED to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
