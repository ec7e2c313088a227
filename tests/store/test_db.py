"""The store's engine and migrations on a real SQLite file, and (where not about SQLite
itself) on a real PostgreSQL database."""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, insert, inspect, select

from debtledger.store import models
from debtledger.store.db import alembic_config, make_engine, migrate
from debtledger.store.outbox import NewEntry, Outbox
from tests.conftest import StoreDatabases

# Every table of the store: the migrations must make exactly what the models say.
OWN_TABLES = set(models.metadata.tables)


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_engine_is_wal_with_full_fsync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'db.sqlite'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    assert (tmp_path / "new" / "db.sqlite").exists()


def test_migrations_make_the_models_on_a_fresh_file_and_run_again_as_no_op(
    store_dbs: StoreDatabases,
) -> None:
    engine = make_engine(store_dbs.new("db"))
    migrate(engine)
    with engine.connect() as conn:
        version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert version == _head()
        assert set(inspect(conn).get_table_names()) >= OWN_TABLES
        own = MetaData(naming_convention=models.metadata.naming_convention)
        for name in OWN_TABLES:
            models.metadata.tables[name].to_metadata(own)
        opts = {
            "compare_type": True,
            "include_name": lambda name, kind, _parent: kind != "table" or name in OWN_TABLES,
        }
        assert compare_metadata(MigrationContext.configure(conn, opts=opts), own) == []
    Outbox(engine).set_next_nonce("0xabc", 1)  # usable
    with engine.begin() as conn:
        conn.execute(insert(models.nonce_table).values(sender="0xabc", next_nonce=7))
    migrate(engine)  # again: nothing to do, nothing lost
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM alembic_version").scalar() == 1
        assert conn.execute(select(models.nonce_table.c.next_nonce)).scalar() == 7


def test_migration_adopts_an_outbox_made_before_migrations(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    legacy = MetaData()
    for table in (models.outbox_table, models.nonce_table):
        table.to_metadata(legacy)
    old = create_engine(f"sqlite:///{path}")
    legacy.create_all(old)
    with old.begin() as conn:
        conn.execute(insert(legacy.tables["nonces"]).values(sender="0xold", next_nonce=42))
    old.dispose()
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    assert Outbox(engine).senders() == ["0xold"]
    with engine.connect() as conn:
        assert {"claims", "claim_events"} <= set(inspect(conn).get_table_names())


def test_large_amounts_are_kept_exactly_and_compare_as_numbers(
    store_dbs: StoreDatabases,
) -> None:
    engine = make_engine(store_dbs.new("db"))
    migrate(engine)
    big = 2**128 - 1
    c = models.claims_table
    base = {
        "owner": "0x1",
        "creditor": "0x1",
        "debtor": "0x2",
        "status": "active",
        "currency": "CNY",
        "due_date": date(2026, 1, 1),
        "pending_buy_back": False,
        "updated_block": 1,
    }
    with engine.begin() as conn:
        conn.execute(
            insert(c),
            [
                {**base, "claim_id": "a", "principal": big, "outstanding": big - 1},
                {**base, "claim_id": "b", "principal": 9, "outstanding": 10**20},
            ],
        )
    with engine.connect() as conn:
        got = dict(conn.execute(select(c.c.claim_id, c.c.outstanding)).all())
        assert got == {"a": big - 1, "b": 10**20}
        over = conn.execute(select(c.c.claim_id).where(c.c.outstanding > 10**19)).scalars()
        assert sorted(over) == ["a", "b"]
        assert conn.execute(select(c.c.claim_id).where(c.c.principal < 10)).scalars().all() == ["b"]


def test_two_first_reservations_of_a_sender_take_turns(store_dbs: StoreDatabases) -> None:
    """Two processes reserving the first nonces of a new sender at once: no shared nonce, no
    failure (on PostgreSQL the counter row does not exist yet to be locked)."""
    url = store_dbs.new("db")
    migrate(make_engine(url))
    start = threading.Barrier(2)
    got: list[list[int]] = []
    errors: list[BaseException] = []

    def sign(first: int) -> list[NewEntry]:
        time.sleep(0.3)  # the other writer arrives meanwhile
        return [
            NewEntry(
                f"k{first + i}-{threading.get_ident()}",
                "t",
                b"\x01",
                f"0x{first + i:064x}",
                first + i,
            )
            for i in range(3)
        ]

    def write() -> None:
        outbox = Outbox(make_engine(url))
        start.wait()
        try:
            got.append([e.nonce for e in outbox.add("0xnew", 5, sign)])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            outbox.engine.dispose()

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(n for nonces in got for n in nonces) == list(range(5, 11))
    assert Outbox(make_engine(url)).senders() == ["0xnew"]
