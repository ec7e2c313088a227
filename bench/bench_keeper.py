"""(h) `keeper`: the keeper's work of finding and batching the due claims in a schedule of
1,000,000 claims, with 1% of them due against 10% due in the same run, and a full scan of
the schedule as the baseline.

One fresh node (the contracts deployed: the writes are encoded for the real contract), then
the schedule table filled directly with N rows (bulk insert, claims not on chain), their
`next_check_at` a permutation of N consecutive seconds, so that exactly 1% of the rows are
due at one `now` and exactly 10% at another. Timed, best of three, interleaved:
  keeper   Keeper.pages(now) (the index range in pages of 1,000 rows, each page starting
           after the last row of the one before) + Keeper.work(page) + Keeper.writes(...):
           the `advance` transactions encoded in batches of 200 claims. The transactions are
           NOT sent in the timed passes (at 10% that would be 500 transactions for claims
           that are not on chain); the 1% pass is sent once, untimed, to show the path ends
           in mined blocks.
  scan     SELECT every schedule row and keep the due ones in Python: what finding the work
           costs without the index.
Figures: the keeper at 10% due against the keeper at 1% (the ratio should be ~10: the work
grows with the due claims, not with the table), and the keeper at 1% against the scan.
"""

from __future__ import annotations

import time
from typing import Any

from bench._common import Figure, fresh_ledger, log, ratio, report, size

PERMUTE = 7_919  # a prime: i -> i * 7919 mod N is a permutation when N is not its multiple
BASE = 2_000_000_000
GOAL_RATIO = (8.0, 12.5)
GOAL_VS_SCAN = 0.2


def fill(rt: Any, n: int) -> None:
    """N schedule rows, claim ids 0x00..01 .. 0x..N, due at BASE + a permutation of 0..N-1."""
    rows = [("0x%064x" % (i + 1), "stage", BASE + (i * PERMUTE) % n, None, 0) for i in range(n)]
    with rt.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM collection_schedule")
        for i in range(0, n, 100_000):
            conn.exec_driver_sql(
                "INSERT INTO collection_schedule (claim_id, reason, next_check_at, note, attempts)"
                " VALUES (?, ?, ?, ?, ?)",
                rows[i : i + 100_000],
            )
        conn.exec_driver_sql("ANALYZE collection_schedule")


def keeper_pass(keeper: Any, now: int) -> tuple[float, int, int]:
    """The keeper's finding and batching of the work due at `now`: seconds, rows, writes."""
    t0 = time.perf_counter()
    rows = writes = 0
    for page in keeper.pages(now):
        rows += len(page)
        writes += len(keeper.writes(keeper.work(page), "bench", estimate=False))
    return time.perf_counter() - t0, rows, writes


def scan_pass(rt: Any, now: int) -> tuple[float, int]:
    """Every schedule row read, the due ones kept in Python."""
    t0 = time.perf_counter()
    with rt.engine.connect() as conn:
        due = [
            r
            for r in conn.exec_driver_sql(
                "SELECT claim_id, reason, next_check_at FROM collection_schedule"
            )
            if r[2] <= now
        ]
    return time.perf_counter() - t0, len(due)


def send_one_pass(rt: Any, keeper: Any, now: int) -> tuple[float, int]:
    """The 1% pass with its transactions sent and mined (untimed in the figures)."""
    signer = rt.keys.load(keeper.org)
    t0 = time.perf_counter()
    sent = 0
    for page in keeper.pages(now):
        writes = keeper.writes(keeper.work(page), "bench-sent", estimate=False)
        sent += len(rt.writer.execute(signer, writes))
    return time.perf_counter() - t0, sent


def run() -> list[Figure]:
    from debtledger.collection.keeper import Keeper

    n = size("KEEPER_ROWS", 1_000_000, 100_000)
    one, ten = BASE + n // 100 - 1, BASE + n // 10 - 1
    with fresh_ledger() as led:
        led.orgs.add("keeper", ["KEEPER"], idem_key="bench-org:keeper")
        t = time.perf_counter()
        fill(led.rt, n)
        log(f"[keeper] {n:,} schedule rows filled in {time.perf_counter() - t:.1f} s")
        keeper = Keeper(led.rt, org="keeper")
        best = {"1%": float("inf"), "10%": float("inf"), "scan": float("inf")}
        counts: dict[str, tuple[int, int]] = {}
        for _ in range(3):
            for label, now in (("1%", one), ("10%", ten)):
                seconds, rows, writes = keeper_pass(keeper, now)
                best[label] = min(best[label], seconds)
                counts[label] = (rows, writes)
            seconds, due = scan_pass(led.rt, one)
            best["scan"] = min(best["scan"], seconds)
            assert due == counts["1%"][0], "the scan and the keeper disagree"
        for label in ("1%", "10%"):
            rows, writes = counts[label]
            log(
                f"  keeper, {label} due: {rows:,} rows, {writes:,} advance transactions "
                f"encoded in {best[label]:.3f} s"
            )
        log(f"  full scan (select all, filter in Python): {best['scan']:.3f} s")
        sent_s, sent = send_one_pass(led.rt, keeper, one)
        log(f"  the 1% pass sent: {sent} transactions mined in {sent_s:.2f} s (untimed above)")
    r10 = ratio(best["10%"], best["1%"])
    return [
        report(
            Figure(
                name="keeper_due_10pct_vs_1pct",
                value=best["10%"],
                unit="s",
                baseline=f"the keeper's pass with 1% due ({n:,} claims scheduled)",
                baseline_value=best["1%"],
                ratio=r10,
                goal=f"ratio {GOAL_RATIO[0]:g}-{GOAL_RATIO[1]:g} (work grows with the due claims)",
                met=GOAL_RATIO[0] <= r10 <= GOAL_RATIO[1],
                notes=[
                    f"1%: {counts['1%'][0]:,} rows, 10%: {counts['10%'][0]:,} rows; "
                    "transactions encoded, not sent"
                ],
            )
        ),
        report(
            Figure(
                name="keeper_due_1pct_vs_scan",
                value=best["1%"],
                unit="s",
                baseline=f"full scan of the schedule ({n:,} rows read, filtered in Python)",
                baseline_value=best["scan"],
                ratio=ratio(best["1%"], best["scan"]),
                goal=f"ratio < {GOAL_VS_SCAN:g} (the keeper does not scan)",
                met=ratio(best["1%"], best["scan"]) < GOAL_VS_SCAN,
                notes=[f"the 1% pass sent for real: {sent} transactions in {sent_s:.2f} s"],
            )
        ),
    ]
