"""The durable outbox: every chain write is stored, signed, before it is sent.

A row holds the signed raw transaction and its idempotency key. Nonces are handed out per
sender from a counter row updated atomically, so two writers never share a nonce. On start
the outbox is reconciled with the chain (see `chain.writer.ChainWriter.reconcile`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from debtledger.store.db import take_turns
from debtledger.store.models import metadata, nonce_table, outbox_table

__all__ = [
    "Entry",
    "NewEntry",
    "Outbox",
    "Status",
    "metadata",
    "nonce_table",
    "outbox_table",
]


class Status(StrEnum):
    PENDING = "pending"  # stored; sent or about to be sent; not yet in a mined block
    MINED = "mined"  # in a mined block, executed successfully
    REVERTED = "reverted"  # in a mined block, refused by the contract (nonce consumed)


@dataclass(frozen=True)
class Entry:
    """One stored write."""

    id: int
    idem_key: str
    sender: str
    nonce: int
    label: str
    raw_tx: bytes = field(repr=False)
    tx_hash: str
    status: Status
    block_number: int | None
    error: str | None


@dataclass(frozen=True)
class NewEntry:
    idem_key: str
    label: str
    raw_tx: bytes
    tx_hash: str
    nonce: int


def _row(r: object) -> Entry:
    m = r._mapping  # type: ignore[attr-defined]
    return Entry(
        id=m["id"],
        idem_key=m["idem_key"],
        sender=m["sender"],
        nonce=m["nonce"],
        label=m["label"],
        raw_tx=bytes(m["raw_tx"]),
        tx_hash=m["tx_hash"],
        status=Status(m["status"]),
        block_number=m["block_number"],
        error=m["error"],
    )


class Outbox:
    """Stored writes, their nonces and their fate."""

    def __init__(self, engine: Engine) -> None:
        """`engine`'s schema must be migrated (`store.db.migrate`; Runtime does it)."""
        self.engine = engine

    def by_key(self, keys: Iterable[str]) -> dict[str, Entry]:
        keys = list(keys)
        found: dict[str, Entry] = {}
        with self.engine.connect() as conn:
            for i in range(0, len(keys), 500):
                q = select(outbox_table).where(outbox_table.c.idem_key.in_(keys[i : i + 500]))
                found.update({e.idem_key: e for e in map(_row, conn.execute(q))})
        return found

    def get(self, entry_id: int) -> Entry | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(outbox_table).where(outbox_table.c.id == entry_id)).first()
        return None if row is None else _row(row)

    def add(
        self,
        sender: str,
        chain_nonce: int,
        sign: Callable[[int], Sequence[NewEntry]],
    ) -> list[Entry]:
        """Reserve nonces for `sender`, sign with them and store the writes; all or none.

        `sign(first_nonce)` returns the signed writes for consecutive nonces from
        `first_nonce`. Reserving and storing happen in one database transaction, so a crash
        can leave no reserved nonce without its stored transaction (a gap would block every
        later write of the sender). The counter starts at the chain's nonce and never goes
        back, so two writers, even in two processes, never share a nonce.
        """
        now = time.time()
        keys: list[str] = []
        try:
            with self.engine.begin() as conn:
                # The counter row may not exist yet, so a row lock alone cannot keep two first
                # reservations of a sender apart on PostgreSQL.
                take_turns(conn, f"nonces:{sender}")
                current = conn.execute(
                    select(nonce_table.c.next_nonce)
                    .where(nonce_table.c.sender == sender)
                    .with_for_update()
                ).scalar()
                first = chain_nonce if current is None else max(int(current), chain_nonce)
                entries = list(sign(first))
                keys = [e.idem_key for e in entries]
                if not entries:
                    return []
                values = {"sender": sender, "next_nonce": first + len(entries)}
                if current is None:
                    conn.execute(insert(nonce_table).values(**values))
                else:
                    conn.execute(
                        update(nonce_table)
                        .where(nonce_table.c.sender == sender)
                        .values(next_nonce=first + len(entries))
                    )
                conn.execute(
                    insert(outbox_table),
                    [
                        {
                            "idem_key": e.idem_key,
                            "sender": sender,
                            "nonce": e.nonce,
                            "label": e.label,
                            "raw_tx": e.raw_tx,
                            "tx_hash": e.tx_hash,
                            "status": Status.PENDING.value,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for e in entries
                    ],
                )
        except IntegrityError:
            # A concurrent writer stored the same idempotency keys first (and this
            # transaction, with the nonces it reserved, is rolled back): theirs is the write.
            known = self.by_key(keys)
            if not keys or len(known) != len(keys):
                raise
            return [known[k] for k in keys]
        stored = self.by_key(e.idem_key for e in entries)
        return [stored[e.idem_key] for e in entries]

    def set_next_nonce(self, sender: str, next_nonce: int) -> None:
        """Move the sender's counter (reconcile, when the chain went past it)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(nonce_table)
                .where(nonce_table.c.sender == sender)
                .values(next_nonce=next_nonce)
            )

    def pending(self) -> list[Entry]:
        q = (
            select(outbox_table)
            .where(outbox_table.c.status == Status.PENDING.value)
            .order_by(outbox_table.c.sender, outbox_table.c.nonce)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def from_nonce(self, sender: str, nonce: int) -> list[Entry]:
        """Every write of `sender` at or above `nonce`, in nonce order."""
        q = (
            select(outbox_table)
            .where(outbox_table.c.sender == sender, outbox_table.c.nonce >= nonce)
            .order_by(outbox_table.c.nonce)
        )
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(q)]

    def senders(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(nonce_table.c.sender)).scalars())

    def mark(self, results: Iterable[tuple[str, Status, int | None, str | None]]) -> None:
        """Record outcomes: (tx hash, status, block number, error)."""
        now = time.time()
        with self.engine.begin() as conn:
            for tx_hash, status, block, error in results:
                conn.execute(
                    update(outbox_table)
                    .where(outbox_table.c.tx_hash == tx_hash)
                    .values(status=status.value, block_number=block, error=error, updated_at=now)
                )

    def counts(self) -> dict[str, int]:
        q = select(outbox_table.c.status, func.count()).group_by(outbox_table.c.status)
        with self.engine.connect() as conn:
            return {status: int(n) for status, n in conn.execute(q)}
