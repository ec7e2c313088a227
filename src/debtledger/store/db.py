"""The off-chain store's engine and schema: one engine per process, its schema brought to
the newest Alembic revision shipped in this package.

SQLite (the default) runs in WAL mode with full fsync; PostgreSQL gets nothing of that.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    make_url,
    text,
    update,
)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any constant: PostgreSQL processes migrating one database take turns on this lock.
_PG_MIGRATION_LOCK = 0x0DEB7_1ED6E
# The first key of `take_turns`' two-key advisory locks (a key space apart from the above).
_PG_TURN_LOCKS = 0x0DEB7


def make_engine(url: str) -> Engine:
    """An engine for `url`: `sqlite:///path` or a PostgreSQL URL.

    On SQLite a committed row survives a crash (WAL, synchronous=FULL), a busy database is
    waited for rather than refused, and every transaction begins IMMEDIATE, so a
    read-then-write (the nonce counter) holds the write lock from its first statement and
    two processes cannot interleave.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "connect")
    def _pragmas(conn: Any, _record: object) -> None:
        conn.isolation_level = None  # let the "begin" hook issue BEGIN itself
        cur = conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine


def take_turns(conn: Connection, name: str) -> None:
    """Make the transactions that call this with the same `name` take turns: the next one
    waits here until this one ends. Call it first thing in a read-then-write transaction.

    SQLite needs nothing: every transaction there begins IMMEDIATE and so takes turns with
    every other. PostgreSQL takes a transaction-scoped advisory lock on `name`.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:name))"),
            {"space": _PG_TURN_LOCKS, "name": name},
        )


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in this package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest); a no-op when it is there.

    All of it runs in one transaction: on SQLite the IMMEDIATE begin, on PostgreSQL an
    advisory lock, make two processes that open the store together take turns.
    """
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def save_rows(
    conn: Connection,
    table: Table,
    key: str,
    rows: dict[str, dict[str, Any] | None],
    existed: set[str],
) -> None:
    """Write folded read-model rows keyed by `key`: insert those not in `existed`, update
    the others in one executemany (a None row is left as it is)."""
    new = [r for k, r in rows.items() if r is not None and k not in existed]
    changed = [{**r, "_key": k} for k, r in rows.items() if r is not None and k in existed]
    if new:
        conn.execute(insert(table), new)
    if changed:
        columns = [c.name for c in table.c if c.name != key]
        conn.execute(
            update(table)
            .where(table.c[key] == bindparam("_key"))
            .values({c: bindparam(c) for c in columns}),
            changed,
        )
