"""(g) `supervision`: (1) how far the compliance monitor runs behind the chain's head while
~100 chain events a second arrive, against the registry indexer alone in the same run;
(2) the unified debtor view's latency for one debtor with 50 claims across 10 creditors,
against a single claim lookup in the read model.

(1) One fresh node, 20 claims of one creditor with a large outstanding amount. A writer
thread records a 1-fen repayment every 10 ms in groups of ten (each a transaction and, with
the local node mining every transaction, a block with one RepaymentRecorded event): the
simplest stream of chain events that every indexed reader must take in, standing in for
contacts (ContactAuthorized would be refused by the policy's contact caps long before 100
a second). Meanwhile `Monitor.follow` (interval 0.2 s: index, then look at every source)
and, on a store of its own, a bare `Indexer.follow` (the same interval) run; every 0.1 s
the sampler takes head - last block each has finished with. With one event per block,
blocks behind are events behind. Figures: p50 and p99 of the monitor's lag, against the
indexer's p99.

(2) 10 creditors register 5 claims each of one debtor pseudonym, enrolled under the CN
preset. Timed: `DebtorView.view` as the regulator (claims from the read model, stages and
the example contact's verdict in two JSON-RPC batches, plans in one, last contacts from the
logs) over 50 calls; as a creditor (the same plus a 3072-bit Paillier exposure round over
10 creditors) over fewer calls; baseline: `ClaimReads.get` of one claim.
"""

from __future__ import annotations

import hashlib
import statistics
import threading
import time
from datetime import date, timedelta
from typing import Any

from bench._common import Figure, fresh_ledger, log, ratio, report, size

GOAL_LAG_P99_BLOCKS = 100  # one second of the stream
GOAL_VIEW_P99_MS = 1_000
RATE = 100  # events a second
GROUP = 10
REPAYMENT_GAS = 150_000


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _claims(prefix: str, n: int, debtor: bytes, outstanding: int) -> list[Any]:
    from debtledger.domain.claims import parse_claim

    due = (date.today() - timedelta(days=5)).isoformat()
    return [
        parse_claim(
            {
                "claim_ref": f"{prefix}-{i:03d}",
                "debtor_pseudonym": "0x" + debtor.hex(),
                "principal_fen": str(outstanding),
                "outstanding_fen": str(outstanding),
                "currency": "CNY",
                "due_date": due,
            }
        )
        for i in range(n)
    ]


def _receipt(n: int) -> bytes:
    return hashlib.sha256(b"bench receipt %d" % n).digest()


# ------------------------------------------------------------------ (1) the monitor's lag


def monitor_lag(seconds: int) -> None:
    from debtledger.chain.writer import Write
    from debtledger.coordination.monitor import Monitor
    from debtledger.store.db import make_engine, migrate
    from debtledger.store.indexer import Indexer

    with fresh_ledger(("bank-a",)) as ledger:
        rt = ledger.rt
        claims = _claims("LAG", 20, hashlib.sha256(b"lag").digest(), 10**12)
        ledger.claims.register_batch("bank-a", claims, idem_key="lag:batch")
        monitor = Monitor(rt)
        monitor.run_once()
        alone_engine = make_engine(f"sqlite:///{ledger.folder / 'indexer-alone.sqlite'}")
        migrate(alone_engine)
        alone = Indexer(
            rt.writer.rpc,
            rt.events,
            alone_engine,
            contract=rt.address("ClaimRegistry"),
            chain_id=rt.chain_id,
            start_block=rt.deployment.block,
        )
        alone.run_once()

        signer = ledger.orgs.account("bank-a")
        abi, at = rt.abi("ClaimRegistry"), rt.address("ClaimRegistry")
        stop = threading.Event()
        sent = [0]

        def write() -> None:
            n = 0
            t0 = time.perf_counter()
            while not stop.is_set():
                writes = [
                    Write(
                        abi,
                        at,
                        "record_repayment",
                        (claims[(n + i) % len(claims)].claim_id, 1, _receipt(n + i)),
                        f"lag:repay:{n + i}",
                        gas=REPAYMENT_GAS,
                    )
                    for i in range(GROUP)
                ]
                rt.writer.execute(signer, writes)
                n += GROUP
                sent[0] = n
                pause = t0 + n / RATE - time.perf_counter()
                if pause > 0:
                    stop.wait(pause)

        monitor_lags: list[float] = []
        alone_lags: list[float] = []

        def sample() -> None:
            while not stop.is_set():
                head = int(rt.writer.rpc.call("eth_blockNumber"), 16)
                if monitor.processed_block is not None:
                    monitor_lags.append(head - monitor.processed_block)
                alone_lags.append(head - alone.cursor().block)
                stop.wait(0.1)

        follow_stop = threading.Event()
        threads = [
            threading.Thread(target=monitor.follow, args=(follow_stop, 0.2), daemon=True),
            threading.Thread(target=alone.follow, args=(follow_stop, 0.2), daemon=True),
        ]
        for t in threads:
            t.start()
        writer = threading.Thread(target=write, daemon=True)
        sampler = threading.Thread(target=sample, daemon=True)
        t0 = time.perf_counter()
        writer.start()
        sampler.start()
        time.sleep(seconds)
        stop.set()
        writer.join()
        sampler.join()
        elapsed = time.perf_counter() - t0
        follow_stop.set()
        for t in threads:
            t.join(timeout=30)
        achieved = sent[0] / elapsed
        log(
            f"  stream: {sent[0]:,} repayments in {elapsed:.1f} s = {achieved:.0f}/s "
            f"(asked {RATE}/s); {len(monitor_lags)} samples"
        )
        log(
            f"  monitor lag p50 {percentile(monitor_lags, 50):.0f}, p99 "
            f"{percentile(monitor_lags, 99):.0f} blocks; indexer alone p50 "
            f"{percentile(alone_lags, 50):.0f}, p99 {percentile(alone_lags, 99):.0f} blocks"
        )
        notes = [
            f"stream of {achieved:.0f} events/s achieved ({RATE}/s asked), one event per block",
            "both followers poll every 0.2 s; the monitor also scans five store sources a run",
        ]
        base99 = percentile(alone_lags, 99)
        p99 = percentile(monitor_lags, 99)
        report(
            Figure(
                "supervision_monitor_lag_p99",
                p99,
                "events behind",
                "indexer alone, p99 lag (same run)",
                base99,
                ratio(p99, base99),
                f"<= {GOAL_LAG_P99_BLOCKS} events (1 s of the stream)",
                p99 <= GOAL_LAG_P99_BLOCKS,
                notes,
            )
        )
        p50, base50 = percentile(monitor_lags, 50), percentile(alone_lags, 50)
        report(
            Figure(
                "supervision_monitor_lag_p50",
                p50,
                "events behind",
                "indexer alone, p50 lag (same run)",
                base50,
                ratio(p50, base50),
                "-",
                None,
            )
        )


# ------------------------------------------------------------------ (2) the view's latency


def view_latency(calls: int, creditor_calls: int) -> None:
    from debtledger.access.service import Principal
    from debtledger.claims.readmodel import ClaimReads
    from debtledger.collection.engine import CollectionService
    from debtledger.coordination.view import DebtorView

    creditors = tuple(f"bank-{c}" for c in "abcdefghij")
    debtor = hashlib.sha256(b"one debtor, ten creditors").digest()
    with fresh_ledger(creditors) as ledger:
        rt = ledger.rt
        ledger.orgs.add("regulator", ["REGULATOR"], idem_key="view:regulator")
        engine = CollectionService(rt)
        first = None
        for k, org in enumerate(creditors):
            batch = _claims(f"VIEW-{org}", 5, debtor, 100_000 * (k + 1))
            ledger.claims.register_batch(org, batch, idem_key=f"view:{org}")
            for c in batch:
                engine.enrol(
                    c.claim_id, org, policy="cn-cba-2026", tz_offset_minutes=480,
                    idem_key=f"view:enrol:{c.ref}",
                )  # fmt: skip
            first = first or batch[0]
        rt.indexer.run_once()
        assert first is not None

        def principal(org: str, role: str) -> Principal:
            return Principal(org, "bench", role, ledger.orgs.address(org), "bench")

        def timed(fn: Any, n: int) -> list[float]:
            fn()  # warm
            out = []
            for _ in range(n):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1000)
            return out

        view = DebtorView(rt)
        regulator = principal("regulator", "REGULATOR")
        shown = view.view(regulator, debtor)
        assert len(shown["claims"]) == 50, len(shown["claims"])
        reads = ClaimReads(rt.engine)
        one = "0x" + first.claim_id.hex()
        base = timed(lambda: reads.get(regulator, one), calls)
        as_regulator = timed(lambda: view.view(regulator, debtor), calls)
        bank_a = principal("bank-a", "CREDITOR")
        as_creditor = timed(lambda: view.view(bank_a, debtor), creditor_calls)
        b50 = statistics.median(base)
        for name, values, who in (
            ("supervision_view_regulator", as_regulator, "regulator, 50 claims"),
            ("supervision_view_creditor", as_creditor, "creditor, with a Paillier round"),
        ):
            p50, p99 = percentile(values, 50), percentile(values, 99)
            log(f"  {who}: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(values)} calls")
            report(
                Figure(
                    f"{name}_p99_ms",
                    p99,
                    "ms",
                    "single claim lookup in the read model, p50",
                    b50,
                    ratio(p99, b50),
                    f"p99 <= {GOAL_VIEW_P99_MS} ms",
                    p99 <= GOAL_VIEW_P99_MS,
                    [f"p50 {p50:.1f} ms over {len(values)} calls ({who}); 10 creditors x 5 claims"],
                )
            )


def run() -> None:
    log("[supervision] the monitor's lag under a stream of events; the debtor view's latency")
    monitor_lag(size("SUPERVISION_SECONDS", 20, 5))
    view_latency(size("SUPERVISION_VIEW_CALLS", 50, 10), size("SUPERVISION_CREDITOR_CALLS", 20, 3))


if __name__ == "__main__":
    run()
