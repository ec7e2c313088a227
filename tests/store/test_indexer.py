"""The read model against a real anvil: it follows every registry event to the state the
contract holds, survives being stopped anywhere, and rebuilds what a changed chain undid."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from debtledger.chain.abi import Event
from debtledger.errors import StoreError
from debtledger.store.db import make_engine, migrate
from debtledger.store.indexer import STREAM, Indexer
from debtledger.store.models import claim_events_table, claims_table, indexer_state_table
from tests.conftest import Ledger, StoreDatabases, new_claim

ZERO = "0x" + "00" * 20


def _engine(dbs: StoreDatabases, name: str) -> Engine:
    """A new, migrated store on the test's backend."""
    engine = make_engine(dbs.new(name))
    migrate(engine)
    return engine


def _indexer(ledger: Ledger, engine: Engine, **options: int) -> Indexer:
    return Indexer(
        ledger.rt.writer.rpc,
        ledger.rt.events,
        engine,
        contract=ledger.rt.address("ClaimRegistry"),
        chain_id=ledger.rt.chain_id,
        start_block=ledger.rt.deployment.block,
        **options,
    )


def _dump(engine: Engine) -> dict[str, Any]:
    """Everything the read model holds, in a comparable form."""
    ev = claim_events_table.c
    with engine.connect() as conn:
        claims = [dict(r._mapping) for r in conn.execute(select(claims_table))]
        events = [
            tuple(r)
            for r in conn.execute(
                select(
                    ev.block_number,
                    ev.log_index,
                    ev.block_hash,
                    ev.tx_hash,
                    ev.name,
                    ev.claim_id,
                    ev.args,
                ).order_by(ev.block_number, ev.log_index)
            )
        ]
        state = conn.execute(
            select(indexer_state_table.c.last_block, indexer_state_table.c.last_hash).where(
                indexer_state_table.c.stream == STREAM  # the registry's (not the keeper's)
            )
        ).one()
    return {
        "claims": sorted(claims, key=lambda r: r["claim_id"]),
        "events": events,
        "cursor": tuple(state),
    }


def _as_shown(ledger: Ledger, row: dict[str, Any]) -> dict[str, Any]:
    """A read-model row in the shape of `ClaimService.show`."""
    name = ledger.orgs.name_of
    return {
        "claim_id": row["claim_id"],
        "owner": name(row["owner"]),
        "owner_address": row["owner"],
        "status": row["status"],
        "due_date": row["due_date"].isoformat(),
        "currency": row["currency"],
        "principal_fen": row["principal"],
        "outstanding_fen": row["outstanding"],
        "pending_transfer": None
        if row["pending_buyer"] is None
        else {"buyer": name(row["pending_buyer"]), "buy_back": row["pending_buy_back"]},
        "mandate": None
        if row["mandate_agency"] is None
        else {
            "agency": name(row["mandate_agency"]),
            "expires": datetime.fromtimestamp(row["mandate_expiry"], tz=UTC).isoformat(),
        },
    }


def _assert_matches_chain(ledger: Ledger, engine: Engine, refs: list[str]) -> None:
    rows = {r["claim_id"]: r for r in _dump(engine)["claims"]}
    ids = {"0x" + new_claim(ref).claim_id.hex() for ref in refs}
    assert set(rows) == ids
    for cid in ids:
        assert _as_shown(ledger, rows[cid]) == ledger.claims.show(bytes.fromhex(cid[2:]))


def _workload(ledger: Ledger, tag: str = "") -> list[str]:
    """Every registry event at least once; returns the claim references it registered."""
    c = ledger.claims
    later = datetime.now(UTC) + timedelta(days=30)
    refs = [f"W{tag}-{i}" for i in range(1, 10)]
    ids = [new_claim(r).claim_id for r in refs]
    for ref in refs:
        c.register("bank-a", new_claim(ref, principal=50_000), idem_key=f"{tag}reg:{ref}")
    big = new_claim(f"W{tag}-big", principal=2**128 - 1)
    c.register("bank-b", big, idem_key=f"{tag}reg:big")
    refs.append(f"W{tag}-big")
    k = iter(range(1000))

    def key() -> str:
        return f"{tag}op:{next(k)}"

    one, two, three, four, five, six, seven, eight, nine = ids
    # mandate, partial repayment by the gateway, sale (ends the mandate), court dispute and a
    # resolution at zero (settles)
    c.mandate(one, "bank-a", "agency-x", later, idem_key=key())
    c.repay(one, "gateway", 20_000, "R1", idem_key=key())
    c.propose_transfer(one, "bank-a", "bank-b", 10_000, "CNY", idem_key=key())
    c.accept(one, "bank-b", idem_key=key())
    c.dispute(one, "court", "contested", idem_key=key())
    c.resolve(one, "court", 0, "judgment", idem_key=key())
    # declined, cancelled, and an offer ended by a settlement
    c.propose_transfer(two, "bank-a", "bank-b", 1, "CNY", idem_key=key())
    c.decline(two, "bank-b", idem_key=key())
    c.propose_transfer(three, "bank-a", "bank-b", 1, "CNY", idem_key=key())
    c.cancel(three, "bank-a", idem_key=key())
    c.propose_transfer(four, "bank-a", "bank-b", 1, "CNY", idem_key=key())
    c.settle(four, "bank-a", "agreed", idem_key=key())
    c.write_off(five, "bank-a", idem_key=key())
    # an owner's dispute resolved at a lower amount: active again
    c.dispute(six, "bank-a", "typo", idem_key=key())
    c.resolve(six, "bank-a", 12_345, "fixed", idem_key=key())
    # sold, offered back, then disputed: the buy-back offer stands
    c.propose_transfer(seven, "bank-a", "bank-b", 1, "CNY", idem_key=key())
    c.accept(seven, "bank-b", idem_key=key())
    c.propose_buy_back(seven, "bank-b", 1, "CNY", idem_key=key())
    c.dispute(seven, "gateway", "debtor", idem_key=key())
    # a mandate revoked, then two grants (the second replaces the first)
    c.mandate(eight, "bank-a", "agency-x", later, idem_key=key())
    c.revoke_mandate(eight, "bank-a", idem_key=key())
    c.mandate(eight, "bank-a", "agency-x", later, idem_key=key())
    c.mandate(eight, "bank-a", "agency-x", later + timedelta(days=1), idem_key=key())
    c.repay(eight, "bank-a", 1_000, "R2", idem_key=key())
    # paid in full: settled by the repayment
    c.repay(nine, "bank-a", 60_000, "R3", idem_key=key())
    c.repay(big.claim_id, "bank-b", 7, "R4", idem_key=key())
    return refs


def _import(ledger: Ledger, folder: Path, tag: str, n: int = 5) -> list[str]:
    """A few claims registered in one batch transaction (many events in one block)."""
    refs = [f"CSV{tag}-{i}" for i in range(n)]
    path = folder / f"import{tag}.csv"
    lines = ["claim_ref,debtor_pseudonym,principal_fen,outstanding_fen,currency,due_date"]
    lines += [
        f"{r},0x{'7a' * 32},{1000 + i},{900 + i},CNY,2025-0{1 + i}-01" for i, r in enumerate(refs)
    ]
    path.write_text("\n".join(lines) + "\n")
    ledger.claims.import_csv(path, "bank-b")
    return refs


def test_read_model_follows_every_event_to_the_contracts_state(
    ledger: Ledger, tmp_path: Path, store_dbs: StoreDatabases
) -> None:
    refs = _workload(ledger) + _import(ledger, tmp_path, "A")
    engine = _engine(store_dbs, "read")
    indexer = _indexer(ledger, engine, chunk_blocks=5)
    stored = indexer.run_once()
    names = {e[4] for e in _dump(engine)["events"]}
    assert names == {
        "ClaimRegistered",
        "TransferProposed",
        "ClaimTransferred",
        "TransferDeclined",
        "TransferCancelled",
        "MandateGranted",
        "MandateRevoked",
        "RepaymentRecorded",
        "ClaimSettled",
        "ClaimWrittenOff",
        "ClaimDisputed",
        "DisputeResolved",
    }
    assert stored == len(_dump(engine)["events"])
    _assert_matches_chain(ledger, engine, refs)
    rows = {r["claim_id"]: r for r in _dump(engine)["claims"]}
    one = rows["0x" + new_claim("W-1").claim_id.hex()]
    assert one["creditor"] == ledger.orgs.address("bank-a")  # registrant, not the owner
    assert one["owner"] == ledger.orgs.address("bank-b")
    assert one["debtor"] == "0x" + "5e" * 32
    assert rows["0x" + new_claim("CSVA-2").claim_id.hex()]["due_date"] == date(2025, 3, 1)
    assert _dump(engine)["cursor"][0] == ledger.rt.writer.head()

    before = _dump(engine)
    assert indexer.run_once() == 0
    assert _dump(engine) == before

    more = _workload(ledger, "B")
    assert indexer.run_once() > 0
    _assert_matches_chain(ledger, engine, refs + more)


def test_storing_a_block_twice_stores_its_events_once(
    ledger: Ledger, tmp_path: Path, store_dbs: StoreDatabases
) -> None:
    refs = _workload(ledger)
    engine = _engine(store_dbs, "read")
    indexer = _indexer(ledger, engine)
    indexer.run_once()
    before = _dump(engine)
    events: list[Event] = list(
        ledger.rt.events.events(ledger.rt.deployment.block, address=indexer.contract)
    )
    with engine.begin() as conn:
        assert indexer._store_events(conn, events) == 0
    assert _dump(engine) == before
    _assert_matches_chain(ledger, engine, refs)


def test_stopped_anywhere_it_ends_as_a_fresh_index(
    ledger: Ledger, tmp_path: Path, store_dbs: StoreDatabases
) -> None:
    refs = _workload(ledger) + _import(ledger, tmp_path, "A")
    head = ledger.rt.writer.head()
    engine = _engine(store_dbs, "read")
    start = ledger.rt.deployment.block
    middle = (start + head) // 2
    _indexer(ledger, engine, chunk_blocks=3).run_once(to_block=middle)
    assert _dump(engine)["cursor"][0] == middle

    # A crash inside a chunk's transaction: the events are written, the cursor is not.
    class Crashing(Indexer):
        calls = 0

        def _set_cursor(self, conn: Any, cursor: Any) -> None:
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt("killed")
            super()._set_cursor(conn, cursor)

    crashing = Crashing(
        ledger.rt.writer.rpc,
        ledger.rt.events,
        engine,
        contract=ledger.rt.address("ClaimRegistry"),
        chain_id=ledger.rt.chain_id,
        start_block=start,
        chunk_blocks=4,
    )
    with pytest.raises(KeyboardInterrupt):
        crashing.run_once()
    partial = _dump(engine)
    assert partial["cursor"][0] == middle + 4
    assert all(e[0] <= middle + 4 for e in partial["events"])
    del crashing

    _indexer(ledger, engine, chunk_blocks=7).run_once()
    fresh = _engine(store_dbs, "fresh")
    _indexer(ledger, fresh).run_once()
    assert _dump(engine) == _dump(fresh)
    _assert_matches_chain(ledger, engine, refs)


def test_a_store_of_another_deployment_is_refused(
    ledger: Ledger, tmp_path: Path, store_dbs: StoreDatabases
) -> None:
    engine = _engine(store_dbs, "read")
    _indexer(ledger, engine).run_once()
    other = _indexer(ledger, engine)
    other.contract = ledger.rt.address("Consortium")
    with pytest.raises(StoreError):
        other.run_once()


@pytest.mark.parametrize("keep_blocks", [64, 1], ids=["walk-back", "full-reindex"])
def test_a_node_back_from_an_older_snapshot_is_detected_and_rebuilt(
    ledger: Ledger, tmp_path: Path, store_dbs: StoreDatabases, keep_blocks: int
) -> None:
    c = ledger.claims
    early = _workload(ledger)
    engine = _engine(store_dbs, "read")
    indexer = _indexer(ledger, engine, chunk_blocks=4, keep_blocks=keep_blocks)
    indexer.run_once()
    ledger.node.snapshot()
    snapshot_head = ledger.rt.writer.head()
    # Later writes, lost with the node: bank-b's changes to claims indexed before.
    one = new_claim("W-8").claim_id
    c.register("bank-a", new_claim("LOST-1"), idem_key="lost-1")
    c.repay(one, "bank-a", 500, "lost", idem_key="lost-2")
    c.write_off(new_claim("W-6").claim_id, "bank-a", idem_key="lost-3")
    c.register("bank-a", new_claim("LOST-2"), idem_key="lost-4")
    indexer.run_once()
    lost_head = ledger.rt.writer.head()
    lost_hash = _dump(engine)["cursor"][1]
    assert "0x" + new_claim("LOST-1").claim_id.hex() in {
        r["claim_id"] for r in _dump(engine)["claims"]
    }

    with engine.connect() as conn:
        kept_ids = set(
            conn.execute(
                select(claim_events_table.c.id).where(
                    claim_events_table.c.block_number <= snapshot_head
                )
            ).scalars()
        )

    ledger.node.kill()
    ledger.node.start()
    assert ledger.rt.writer.head() == snapshot_head
    # The chain is shorter now: rewound to the snapshot's head.
    indexer.run_once()
    assert _dump(engine)["cursor"][0] == snapshot_head
    _assert_matches_chain(ledger, engine, early)
    if keep_blocks > lost_head - snapshot_head:  # walked back: the common past stays stored
        with engine.connect() as conn:
            assert set(conn.execute(select(claim_events_table.c.id)).scalars()) == kept_ids

    # Different writes by another sender, past the old height: same numbers, new hashes.
    while ledger.rt.writer.head() <= lost_head + 2:
        n = ledger.rt.writer.head()
        c.register("bank-b", new_claim(f"NEW-{n}"), idem_key=f"new-{n}")
    c.dispute(new_claim("W-3").claim_id, "court", "new", idem_key="new-dispute")
    block = ledger.rt.writer.rpc.call("eth_getBlockByNumber", [hex(lost_head), False])
    assert block["hash"] != lost_hash

    indexer.run_once()
    fresh = _engine(store_dbs, "fresh")
    _indexer(ledger, fresh).run_once()
    assert _dump(engine) == _dump(fresh)
    new = [f"NEW-{n}" for n in range(snapshot_head, lost_head + 3)]
    new = [r for r in new if c.registered([new_claim(r).claim_id]) == [True]]
    _assert_matches_chain(ledger, engine, early + new)
    shown = c.show(new_claim("W-8").claim_id)
    assert shown["outstanding_fen"] == 50_000 - 1_000  # the lost repayment is gone


def test_follow_indexes_new_blocks_until_stopped(
    ledger: Ledger, tmp_path: Path, store_dbs: StoreDatabases
) -> None:
    engine = _engine(store_dbs, "read")
    indexer = _indexer(ledger, engine)
    stop = threading.Event()
    thread = threading.Thread(target=indexer.follow, args=(stop, 0.05))
    thread.start()
    try:
        ledger.claims.register("bank-a", new_claim("F-1"), idem_key="f1")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(_dump(engine)["claims"]) < 1:
            time.sleep(0.05)
        _assert_matches_chain(ledger, engine, ["F-1"])
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_runtime_indexer_fills_the_runtimes_own_store(ledger: Ledger) -> None:
    ledger.claims.register("bank-a", new_claim("RT-1"), idem_key="rt1")
    assert ledger.rt.indexer.run_once() > 0
    assert ledger.rt.indexer.run_once() == 0
    with ledger.rt.engine.connect() as conn:
        owners = conn.execute(select(claims_table.c.owner)).scalars().all()
    assert owners == [ledger.orgs.address("bank-a")]
