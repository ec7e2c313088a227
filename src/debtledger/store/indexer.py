"""The read model: claims and their events indexed from the registry into the store, kept
in step with the chain, and rebuilt where the chain changed under it.

The cursor (last indexed block and its hash) moves in the same database transaction as the
rows of the blocks it covers, so a crash never leaves a half-applied range. Before every
run the cursor's hash is checked against the chain: a reorganisation, or a local node
restored from an older snapshot, rewinds the read model to the newest block both agree on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from debtledger.chain.abi import Event
from debtledger.chain.events import EventReader
from debtledger.chain.rpc import Rpc
from debtledger.domain.claims import ClaimStatus
from debtledger.errors import ChainError, NodeUnavailable, StoreError
from debtledger.store.db import save_rows, take_turns
from debtledger.store.models import (
    claim_events_table,
    claims_table,
    indexed_blocks_table,
    indexer_state_table,
)

log = logging.getLogger(__name__)

STREAM = "ClaimRegistry"
# Blocks per database transaction; bounded so one chunk's events fit in memory.
CHUNK_BLOCKS = 500
# Hashes kept of the newest indexed blocks: the deepest rewind done without a full re-index.
KEEP_BLOCKS = 256
_IN = 500  # ids per IN (...) clause
ZERO_ADDRESS = "0x" + "00" * 20

Row = dict[str, Any]


class _Diverged(Exception):
    """The chain changed while a chunk was read: read it again after a fork check."""


@dataclass(frozen=True)
class Cursor:
    """The last indexed block (start block - 1 and no hash before the first chunk)."""

    block: int
    hash: str | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _currency(hex_code: str) -> str:
    raw = bytes.fromhex(hex_code.removeprefix("0x"))
    text = raw.decode("utf-8", errors="replace")
    # PostgreSQL text cannot hold NUL; the registry only requires a non-zero code.
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def _day(ts: int) -> date:
    try:
        return datetime.fromtimestamp(ts, tz=UTC).date()
    except (OverflowError, OSError, ValueError):
        return date.max  # a due date past year 9999: no date type can hold it


def apply_event(row: Row | None, name: str, args: Mapping[str, Any], block: int) -> Row | None:
    """The claim's read-model row after one registry event (args as stored: bytes as 0x-hex).

    Mirrors the registry's storage writes: each event carries what its function changed.
    Side effects that have their own event (a transfer cancelled by a settlement, a mandate
    ended by a sale) are applied by that event. None: no such claim yet (and no row).
    """
    if name == "ClaimRegistered":
        return {
            "claim_id": args["claim_id"],
            "owner": args["creditor"],
            "creditor": args["creditor"],
            "debtor": args["debtor"],
            "status": ClaimStatus.ACTIVE.label,
            "principal": args["principal"],
            "outstanding": args["outstanding"],
            "currency": _currency(args["currency"]),
            "due_date": _day(args["due_date"]),
            "pending_buyer": None,
            "pending_buy_back": False,
            "mandate_agency": None,
            "mandate_expiry": None,
            "updated_block": block,
        }
    if row is None:
        return None
    row = {**row, "updated_block": block}
    if name == "TransferProposed":
        row.update(pending_buyer=args["buyer"], pending_buy_back=bool(args["buy_back"]))
    elif name == "ClaimTransferred":
        row.update(owner=args["buyer"], pending_buyer=None, pending_buy_back=False)
    elif name in ("TransferDeclined", "TransferCancelled"):
        row.update(pending_buyer=None, pending_buy_back=False)
    elif name == "MandateGranted":
        row.update(mandate_agency=args["agency"], mandate_expiry=args["expiry"])
    elif name == "MandateRevoked":
        row.update(mandate_agency=None, mandate_expiry=None)
    elif name == "RepaymentRecorded":
        row.update(outstanding=args["outstanding"])
    elif name == "ClaimSettled":
        row.update(status=ClaimStatus.SETTLED.label, outstanding=0)
    elif name == "ClaimWrittenOff":
        row.update(status=ClaimStatus.WRITTEN_OFF.label)
    elif name == "ClaimDisputed":
        row.update(status=ClaimStatus.DISPUTED.label)
    elif name == "DisputeResolved":
        # Zero settles: the ClaimSettled that follows in the same call sets that status.
        row.update(status=ClaimStatus.ACTIVE.label, outstanding=args["outstanding"])
    return row


class Indexer:
    """Indexes the registry's events into the read model, chunk by chunk.

    A subclass indexes other contracts as a stream of its own: it names the stream and the
    table of its recent block hashes, and overrides `_read`, `_store_events` and
    `_rewind_rows` (the cursor, chunks and fork checks stay as they are).
    """

    stream = STREAM
    blocks = indexed_blocks_table

    def __init__(
        self,
        rpc: Rpc,
        events: EventReader,
        engine: Engine,
        *,
        contract: str,
        chain_id: int,
        start_block: int,
        chunk_blocks: int = CHUNK_BLOCKS,
        keep_blocks: int = KEEP_BLOCKS,
    ) -> None:
        if chunk_blocks < 1 or keep_blocks < 1:
            raise ValueError("chunk_blocks and keep_blocks must be positive")
        self.rpc = rpc
        self.events = events
        self.engine = engine
        self.contract = contract
        self.chain_id = chain_id
        self.start_block = start_block
        self.chunk_blocks = chunk_blocks
        self.keep_blocks = keep_blocks

    # ------------------------------------------------------------------ running

    def run_once(self, to_block: int | None = None) -> int:
        """Index from the block after the cursor to `to_block` (default: the head); returns
        the events stored.

        A chain that no longer holds the cursor's block is rewound first (see `rewind`).
        """
        stored = 0
        head = self._head()
        cursor = self._check_fork(self.cursor(), head)
        retries = 0
        while cursor.block < (head if to_block is None else min(head, to_block)):
            end = min(cursor.block + self.chunk_blocks, head)
            if to_block is not None:
                end = min(end, to_block)
            try:
                n, cursor = self._index_chunk(cursor, end)
            except _Diverged:
                retries += 1
                if retries > 3:
                    raise ChainError("the chain keeps changing under the indexer") from None
                head = self._head()
                cursor = self._check_fork(self.cursor(), head)
                continue
            stored += n
        return stored

    def follow(self, stop: threading.Event, poll_s: float = 1.0) -> int:
        """Run until `stop` is set, indexing new blocks every `poll_s` seconds; returns the
        events stored. A node that does not answer is waited for, not fatal."""
        total = 0
        while not stop.is_set():
            try:
                total += self.run_once()
            except NodeUnavailable as exc:
                log.warning("indexer: %s; trying again in %.1f s", exc, poll_s)
            stop.wait(poll_s)
        return total

    # ------------------------------------------------------------------ cursor

    def cursor(self) -> Cursor:
        """Where the read model stands; made (before the start block) on first use. Refuses a
        store that holds the read model of another deployment."""
        with self.engine.begin() as conn:
            take_turns(conn, f"indexer:{self.stream}")
            row = conn.execute(
                select(indexer_state_table).where(indexer_state_table.c.stream == self.stream)
            ).first()
            if row is None:
                conn.execute(
                    insert(indexer_state_table).values(
                        stream=self.stream,
                        chain_id=self.chain_id,
                        contract=self.contract,
                        start_block=self.start_block,
                        last_block=self.start_block - 1,
                        last_hash=None,
                        updated_at=time.time(),
                    )
                )
                return Cursor(self.start_block - 1, None)
            m = row._mapping
            if (m["chain_id"], m["contract"].lower()) != (self.chain_id, self.contract.lower()):
                raise StoreError(
                    f"the read model holds registry {m['contract']} on chain {m['chain_id']}, "
                    f"not {self.contract} on chain {self.chain_id}: use a new store"
                )
            return Cursor(int(m["last_block"]), m["last_hash"])

    def _set_cursor(self, conn: Connection, cursor: Cursor) -> None:
        conn.execute(
            update(indexer_state_table)
            .where(indexer_state_table.c.stream == self.stream)
            .values(last_block=cursor.block, last_hash=cursor.hash, updated_at=time.time())
        )

    # ------------------------------------------------------------------ chain reads

    def _head(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def _headers(self, numbers: Iterable[int]) -> dict[int, tuple[str, str]]:
        """(hash, parent hash) of each block the chain has; absent ones are left out."""
        wanted = sorted(set(numbers))
        found: dict[int, tuple[str, str]] = {}
        for i in range(0, len(wanted), 200):
            part = wanted[i : i + 200]
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in part]
            for n, reply in zip(part, self.rpc.batch(calls), strict=True):
                if "error" in reply:
                    raise ChainError(f"eth_getBlockByNumber {n}: {reply['error']}")
                block = reply.get("result")
                if block:
                    found[n] = (block["hash"], block["parentHash"])
        return found

    # ------------------------------------------------------------------ forks

    def _check_fork(self, cursor: Cursor, head: int) -> Cursor:
        if cursor.hash is None:
            return cursor
        if cursor.block <= head:
            known = self._headers([cursor.block]).get(cursor.block)
            if known is not None and known[0] == cursor.hash:
                return cursor
        return self.rewind(head)

    def rewind(self, head: int | None = None) -> Cursor:
        """Rewind the read model to the newest indexed block the chain still holds (same
        number, same hash; its ancestors then match too), or to before the start block when
        none of the kept ones matches. Events after it are deleted and the claims they
        touched rebuilt from their remaining events, all in one transaction."""
        if head is None:
            head = self._head()
        with self.engine.connect() as conn:
            kept = conn.execute(
                select(self.blocks.c.block_number, self.blocks.c.block_hash)
                .where(self.blocks.c.block_number <= head)
                .order_by(self.blocks.c.block_number.desc())
            ).all()
        chain = self._headers(n for n, _ in kept)
        fork = Cursor(self.start_block - 1, None)
        for number, block_hash in kept:
            if chain.get(number, ("",))[0] == block_hash:
                fork = Cursor(int(number), block_hash)
                break
        log.warning("indexer: chain diverged; rewinding the read model to block %d", fork.block)
        with self.engine.begin() as conn:
            take_turns(conn, f"indexer:{self.stream}")
            self._rewind_rows(conn, fork.block)
            conn.execute(delete(self.blocks).where(self.blocks.c.block_number > fork.block))
            self._set_cursor(conn, fork)
        return fork

    def _rewind_rows(self, conn: Connection, fork_block: int) -> None:
        """Delete the events after `fork_block` and rebuild the rows they touched from the
        events that remain (inside rewind's transaction)."""
        ev = claim_events_table.c
        affected = list(
            conn.execute(
                select(ev.claim_id).where(ev.block_number > fork_block).distinct()
            ).scalars()
        )
        conn.execute(delete(claim_events_table).where(ev.block_number > fork_block))
        for i in range(0, len(affected), _IN):
            part = affected[i : i + _IN]
            conn.execute(delete(claims_table).where(claims_table.c.claim_id.in_(part)))
            replay = conn.execute(
                select(ev.claim_id, ev.name, ev.args, ev.block_number)
                .where(ev.claim_id.in_(part))
                .order_by(ev.block_number, ev.log_index)
            ).all()
            rows: dict[str, Row | None] = {}
            for claim_id, name, args, block in replay:
                rows[claim_id] = apply_event(rows.get(claim_id), name, args, int(block))
            fresh = [r for r in rows.values() if r is not None]
            if fresh:
                conn.execute(insert(claims_table), fresh)

    # ------------------------------------------------------------------ one chunk

    def _index_chunk(self, cursor: Cursor, end: int) -> tuple[int, Cursor]:
        """Read blocks cursor+1..end and store them with the new cursor in one transaction.

        Headers are read before and after the logs: the first block must descend from the
        cursor's block, every log's block hash must be the header's, and the last block's
        hash must not have changed meanwhile; otherwise the chain moved and _Diverged.
        """
        first = cursor.block + 1
        tail = range(max(first, end - self.keep_blocks + 1), end + 1)
        headers = self._headers([first, *tail])
        if end not in headers or first not in headers:
            raise _Diverged
        if cursor.hash is not None and headers[first][1] != cursor.hash:
            raise _Diverged
        events = self._read(first, end)
        again = self._headers({end} | {e.block_number for e in events} - set(tail))
        if again.get(end) != headers[end]:
            raise _Diverged
        headers.update(again)
        for e in events:
            if e.block_hash is None or headers.get(e.block_number, ("",))[0] != e.block_hash:
                raise _Diverged
        new_cursor = Cursor(end, headers[end][0])
        with self.engine.begin() as conn:
            take_turns(conn, f"indexer:{self.stream}")  # then the cursor read is the newest
            state = conn.execute(
                select(indexer_state_table.c.last_block, indexer_state_table.c.last_hash).where(
                    indexer_state_table.c.stream == self.stream
                )
            ).one()
            if (state.last_block, state.last_hash) != (cursor.block, cursor.hash):
                raise _Diverged  # another indexer moved the cursor: start from where it is
            stored = self._store_events(conn, events)
            conn.execute(delete(self.blocks).where(self.blocks.c.block_number >= tail.start))
            conn.execute(
                insert(self.blocks),
                [{"block_number": n, "block_hash": headers[n][0]} for n in tail],
            )
            conn.execute(
                delete(self.blocks).where(self.blocks.c.block_number <= end - self.keep_blocks)
            )
            self._set_cursor(conn, new_cursor)
        return stored, new_cursor

    def _read(self, first: int, end: int) -> list[Event]:
        """The stream's events in blocks first..end, oldest first."""
        return list(self.events.events(first, end, address=self.contract))

    def _store_events(self, conn: Connection, events: Sequence[Event]) -> int:
        """Store the events not stored yet and apply them to their claims' rows."""
        if not events:
            return 0
        ev = claim_events_table.c
        lo, hi = events[0].block_number, events[-1].block_number
        seen = {
            (int(b), int(i))
            for b, i in conn.execute(
                select(ev.block_number, ev.log_index).where(ev.block_number.between(lo, hi))
            )
        }
        fresh = [
            {
                "block_number": e.block_number,
                "block_hash": e.block_hash,
                "tx_hash": e.tx_hash,
                "log_index": e.log_index,
                "name": e.name,
                "claim_id": "0x" + e.args["claim_id"].hex(),
                "args": {k: _jsonable(v) for k, v in e.args.items()},
            }
            for e in events
            if (e.block_number, e.log_index) not in seen and "claim_id" in e.args
        ]
        if not fresh:
            return 0
        conn.execute(insert(claim_events_table), fresh)
        ids = sorted({f["claim_id"] for f in fresh})
        rows: dict[str, Row | None] = {}
        for i in range(0, len(ids), _IN):
            q = select(claims_table).where(claims_table.c.claim_id.in_(ids[i : i + _IN]))
            rows.update({r.claim_id: dict(r._mapping) for r in conn.execute(q)})
        existed = set(rows)
        for f in fresh:
            cid = f["claim_id"]
            rows[cid] = apply_event(rows.get(cid), f["name"], f["args"], f["block_number"])
        save_rows(conn, claims_table, "claim_id", rows, existed)
        return len(fresh)
