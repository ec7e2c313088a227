"""(f) `load`: C concurrent clients posting claim registrations to one API server for T
seconds, each following its operations; then every acknowledged write checked on chain
and in the read model.

One fresh node, one organisation hosted with a CREDITOR key. The API server (uvicorn over
create_app on a Runtime of that data folder, its committer sending in groups) runs in its
own process, so the clients' Python does not share the server's interpreter lock; the
clients are asyncio tasks, each with its own keep-alive httpx connection. Each client, in a
loop: POST /claims (a unique ref, an Idempotency-Key of its own), then every 5th write
retries its previous request with the same key and body (must answer 202 with the same
operation), then follows the operation via GET /operations/{id} until it is not pending.

Afterwards (untimed): every acknowledged operation must be mined, the indexer is run, and
every acknowledged claim must be in the read model and have exactly one ClaimRegistered
event on chain (rt.events) and in claim_events; nothing else may have been registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._common import Figure, free_port, fresh_ledger, log, quick_mode, report, size

CLAIM = {"debtor_pseudonym": "0x" + "cd" * 32, "principal_fen": 50_000, "due_date": "2027-06-30"}
RETRY_EVERY = 5
POLL_S = 0.05


def _serve(data_dir: str, node_port: int, api_port: int) -> None:
    """The API server process (spawned): a Runtime over the bench's data folder."""
    import uvicorn

    from debtledger.api.app import create_app
    from debtledger.config import get_settings
    from debtledger.runtime import Runtime

    settings = get_settings(
        data_dir=Path(data_dir), node_port=node_port, rpc_url=None, mode="local"
    )
    uvicorn.run(create_app(Runtime(settings)), host="127.0.0.1", port=api_port, log_level="warning")


@dataclass
class Tally:
    acked: dict[str, int] = field(default_factory=dict)  # claim ref -> operation id
    post_ms: list[float] = field(default_factory=list)
    retry_ms: list[float] = field(default_factory=list)
    retries_ok: int = 0
    follow_polls: int = 0
    errors: list[str] = field(default_factory=list)


async def _client(
    cid: int, url: str, headers: dict[str, str], deadline: float, tally: Tally
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        i = 0
        prev: tuple[str, dict[str, Any], int] | None = None  # key, body, op id
        while time.perf_counter() < deadline:
            ref = f"LOAD-{cid}-{i}"
            key = f"load:{cid}:{i}"
            body = {"claim_ref": ref, **CLAIM}
            try:
                t = time.perf_counter()
                r = await client.post(
                    "/claims", json=body, headers={**headers, "Idempotency-Key": key}
                )
                tally.post_ms.append(1000 * (time.perf_counter() - t))
                if r.status_code != 202:
                    tally.errors.append(f"POST {ref}: {r.status_code} {r.text[:200]}")
                    i += 1
                    continue
                op_id = int(r.json()["id"])
                tally.acked[ref] = op_id
                if prev is not None and i % RETRY_EVERY == 0:
                    pkey, pbody, pop = prev
                    t = time.perf_counter()
                    again = await client.post(
                        "/claims", json=pbody, headers={**headers, "Idempotency-Key": pkey}
                    )
                    tally.retry_ms.append(1000 * (time.perf_counter() - t))
                    if again.status_code != 202 or int(again.json()["id"]) != pop:
                        tally.errors.append(
                            f"retry of {pbody['claim_ref']}: {again.status_code} "
                            f"{again.text[:200]} (first answer: operation {pop})"
                        )
                    else:
                        tally.retries_ok += 1
                prev = (key, body, op_id)
                while True:  # follow the operation
                    op = await client.get(f"/operations/{op_id}", headers=headers)
                    tally.follow_polls += 1
                    if op.status_code != 200:
                        tally.errors.append(f"GET operation {op_id}: {op.status_code}")
                        break
                    status = op.json()["status"]
                    if status == "mined":
                        break
                    if status != "pending":
                        tally.errors.append(f"operation {op_id} of {ref}: {op.text[:200]}")
                        break
                    if time.perf_counter() > deadline + 120:
                        tally.errors.append(f"operation {op_id} of {ref} still pending")
                        break
                    await asyncio.sleep(POLL_S)
            except Exception as exc:  # noqa: BLE001 - every exception is a counted error
                tally.errors.append(f"client {cid} write {i}: {type(exc).__name__}: {exc}")
            i += 1


async def _drive(url: str, headers: dict[str, str], clients: int, seconds: float) -> Tally:
    tally = Tally()
    deadline = time.perf_counter() + seconds
    await asyncio.gather(*(_client(c, url, headers, deadline, tally) for c in range(clients)))
    return tally


def _wait_up(url: str, proc: Any, timeout_s: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not proc.is_alive():
            raise RuntimeError(f"the API server exited ({proc.exitcode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("the API server did not become ready")


def check(rt: Any, acked: dict[str, int]) -> tuple[list[str], dict[str, int]]:
    """Every acknowledged write mined, indexed and on chain exactly once; nothing else."""
    from sqlalchemy import func, select

    from debtledger.domain.claims import claim_id
    from debtledger.store.models import claim_events_table as ev
    from debtledger.store.models import claims_table
    from debtledger.store.outbox import Status

    problems: list[str] = []
    not_mined = []
    for ref, op in acked.items():
        entry = rt.outbox.get(op)
        if entry is None or entry.status is not Status.MINED:
            not_mined.append(f"{ref} (op {op}: {entry.status if entry else 'missing'})")
    if not_mined:
        problems.append(f"{len(not_mined)} acknowledged writes not mined: {not_mined[:5]}")
    if len(set(acked.values())) != len(acked):
        problems.append("two claims were acknowledged with the same operation")

    indexed = rt.indexer.run_once()
    want = {"0x" + claim_id(ref).hex() for ref in acked}
    on_chain = Counter(
        "0x" + e.args["claim_id"].hex()
        for e in rt.events.events(
            rt.deployment.block, names=["ClaimRegistered"], address=rt.address("ClaimRegistry")
        )
    )
    with rt.engine.connect() as conn:
        in_events = Counter(
            dict(
                conn.execute(
                    select(ev.c.claim_id, func.count())
                    .where(ev.c.name == "ClaimRegistered")
                    .group_by(ev.c.claim_id)
                ).all()
            )
        )
        rows = set(conn.execute(select(claims_table.c.claim_id)).scalars())
    for name, counts in (("on chain", on_chain), ("in claim_events", in_events)):
        twice = [c for c, k in counts.items() if k != 1]
        missing = want - set(counts)
        extra = set(counts) - want
        if twice:
            problems.append(f"{len(twice)} claims registered more than once {name}")
        if missing:
            problems.append(f"{len(missing)} acknowledged claims missing {name}")
        if extra:
            problems.append(f"{len(extra)} claims {name} that were never acknowledged")
    if want - rows:
        problems.append(f"{len(want - rows)} acknowledged claims missing in the read model")
    figures = {
        "indexed": indexed,
        "on_chain": sum(on_chain.values()),
        "in_events": sum(in_events.values()),
        "rows": len(rows),
    }
    return problems, figures


def run() -> list[Figure]:
    import httpx

    from debtledger.access.service import AccessService
    from debtledger.runtime import Runtime

    clients = size("LOAD_CLIENTS", 50, 10)
    seconds = size("LOAD_SECONDS", 60, 10)
    log(f"[load] {clients} concurrent clients for {seconds} s posting claim registrations")
    with fresh_ledger(creditors=()) as led:
        access = AccessService(led.rt)
        access.host("bank-a", ["CREDITOR"], idem_key="bench-host:bank-a")
        access.add_member("bank-a", "ops")
        headers = {"Authorization": f"Bearer {access.issue_key('bank-a', 'ops', 'CREDITOR').key}"}
        settings = led.rt.settings
        head0 = led.rt.writer.head()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        ctx = multiprocessing.get_context("spawn")
        proc = ctx.Process(
            target=_serve,
            args=(str(settings.data_dir), settings.node_port, port),
            name="bench-api",
            daemon=True,
        )
        proc.start()
        try:
            _wait_up(url, proc)
            t0 = time.perf_counter()
            tally = asyncio.run(_drive(url, headers, clients, seconds))
            wall = time.perf_counter() - t0
        finally:
            proc.terminate()  # SIGTERM: uvicorn shuts down, the lifespan stops the committer
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
                proc.join()
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(url + "/health", timeout=1)
        rt = Runtime(settings)
        problems, seen = check(rt, tally.acked)
        blocks = rt.writer.head() - head0
    acked = len(tally.acked)
    rate = acked / wall
    post99 = statistics.quantiles(tally.post_ms, n=100, method="inclusive")[98]
    errors = len(tally.errors)
    log(
        f"  {acked:,} writes acknowledged (202) in {wall:.1f} s = {rate:,.1f} writes/s, "
        f"{blocks} blocks; {tally.retries_ok} idempotent retries answered with the same "
        f"operation; {tally.follow_polls:,} operation polls"
    )
    log(
        f"  POST /claims: p50 {statistics.median(tally.post_ms):.1f} ms, p99 {post99:.1f} ms, "
        f"max {max(tally.post_ms):.1f} ms"
        + (
            f"; retries p99 "
            f"{statistics.quantiles(tally.retry_ms, n=100, method='inclusive')[98]:.1f} ms"
            if len(tally.retry_ms) >= 2
            else ""
        )
    )
    log(
        f"  afterwards: indexed {seen['indexed']:,} events; ClaimRegistered on chain "
        f"{seen['on_chain']:,}, in claim_events {seen['in_events']:,}; read model rows "
        f"{seen['rows']:,}"
    )
    for e in tally.errors[:10]:
        log(f"  ERROR: {e}")
    if errors > 10:
        log(f"  ... and {errors - 10} more errors")
    for p in problems:
        log(f"  CHECK FAILED: {p}")
    if not problems:
        log("  exactly-once: every acknowledged write mined, indexed and on chain once")
    notes = [f"{clients} clients, {seconds} s"]
    if quick_mode():
        notes.append("quick mode: not the acceptance size of 50 clients for 60 s")
    return [
        report(
            Figure(
                name="load_writes_per_s",
                value=rate,
                unit="writes/s",
                baseline="post_p99 (POST /claims p99 latency, ms)",
                baseline_value=post99,
                ratio=rate / clients,
                goal="figure (ratio: writes/s per client)",
                met=None,
                notes=notes,
            )
        ),
        report(
            Figure(
                name="load_errors",
                value=errors,
                unit="errors",
                baseline=f"acknowledged writes ({acked:,})",
                baseline_value=acked,
                ratio=errors / acked if acked else float("inf"),
                goal="0",
                met=errors == 0 and acked > 0,
            )
        ),
        report(
            Figure(
                name="load_exactly_once_failures",
                value=len(problems),
                unit="failed checks",
                baseline=f"acknowledged writes ({acked:,})",
                baseline_value=acked,
                ratio=len(problems) / acked if acked else float("inf"),
                goal="0",
                met=not problems and acked > 0,
                notes=problems,
            )
        ),
    ]
