"""The compliance monitor: follows the chain (through the indexers) and the store, and
records each violation once, as it happens, for regulators and courts.

What it flags, and where it looks:
  refused-attempt       a contact the contract refused (the gateway reports it here: a
                        reverted transaction leaves no event)
  unauthorised-contact  a contact evidence item with no matching ContactAuthorized event
                        (with no CollectionPolicy deployed: an agency's contact without a
                        live mandate then, from the mandate events)
  mandate-expired       a contact or a read of personal data by an agency after its mandate
                        for the claim expired
  pii-outside-mandate   a read of personal data in an AGENCY role with no live mandate for
                        the claim then (or naming no claim)
  dispute               a ClaimDisputed event
  complaint             a complaint filed
  erasure-late          an erasure not done within ERASURE_DEADLINE_S of the request (the
                        privacy service erases at once, so this finds interrupted erasures)
Reads of personal data and contacts with no on-chain authorisation are timed by this
service's clock, mandates by block time: the node's clock must keep to the wall clock (it
does on anvil and on a QBFT network; a local node moved ahead in time gives wrong verdicts).
Each source is read from a cursor (the last row id looked at) that moves in the transaction
that stores what was found, and (kind, source_ref) is unique: running twice, or two
monitors at once, stores nothing twice. Store rows are marked before the indexers run, so
the chain events a row depends on are indexed by the time the row is looked at.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, or_, select, tuple_, update

from debtledger.collection.engine import CHANNELS, KINDS, POLICY, channel_of, kind_of
from debtledger.coordination.complaints import CONTACT_RECORD
from debtledger.errors import (
    ClaimNotFound,
    DebtLedgerError,
    InvalidInput,
    NodeUnavailable,
    NotFound,
)
from debtledger.evidence.service import EvidenceService
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.db import take_turns
from debtledger.store.indexer import Indexer
from debtledger.store.models import (
    claim_events_table,
    claims_table,
    collection_events_table,
    complaints_table,
    erasures_table,
    evidence_items_table,
    monitor_cursors_table,
    organisations_table,
    pii_access_table,
    refused_attempts_table,
    violations_table,
)

log = logging.getLogger(__name__)

KINDS_FOUND = (
    "refused-attempt",
    "unauthorised-contact",
    "mandate-expired",
    "pii-outside-mandate",
    "dispute",
    "complaint",
    "erasure-late",
)
# PIPL art. 47 asks for deletion "promptly"; the service erases at once, so a request
# still open after a day was interrupted and must be finished.
ERASURE_DEADLINE_S = 86_400
POLL_S = 1.0
PAGE = 1_000  # rows per source per run: bounded memory; the rest waits for the next run
MAX_LIST = 1_000
_IN = 500
SOURCES = ("refused", "contacts", "pii", "claim-events", "complaints")
MANDATE_EVENTS = ("MandateGranted", "MandateRevoked")


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.lower() == b.lower()


# ---------------------------------------------------------------- block times and mandates


class BlockTimes:
    """Block timestamps by number, read in JSON-RPC batches and remembered."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._known: dict[int, int] = {}

    def of(self, numbers: Iterable[int]) -> dict[int, int]:
        numbers = set(numbers)
        wanted = sorted(numbers - set(self._known))
        for i in range(0, len(wanted), 200):
            part = wanted[i : i + 200]
            calls = [("eth_getBlockByNumber", [hex(n), False]) for n in part]
            for n, reply in zip(part, self.rt.writer.rpc.batch(calls), strict=True):
                block = reply.get("result")
                if not block:
                    raise NodeUnavailable(f"the node has no block {n}")
                self._known[n] = int(block["timestamp"], 16)
        return {n: self._known[n] for n in numbers}


@dataclass(frozen=True)
class MandateChange:
    """A mandate granted (agency, expiry) or ended (agency None) at a block's time."""

    block: int
    log_index: int
    at: int
    agency: str | None
    expiry: int


def mandate_timelines(
    conn: Connection, times: BlockTimes, claim_ids: Iterable[str]
) -> dict[str, list[MandateChange]]:
    """Each claim's mandate changes, oldest first, from the indexed registry events."""
    ids = sorted(set(claim_ids))
    ev = claim_events_table.c
    rows: list[Any] = []
    for i in range(0, len(ids), _IN):
        rows.extend(
            conn.execute(
                select(ev.claim_id, ev.name, ev.args, ev.block_number, ev.log_index)
                .where(ev.claim_id.in_(ids[i : i + _IN]), ev.name.in_(MANDATE_EVENTS))
                .order_by(ev.block_number, ev.log_index)
            ).all()
        )
    at = times.of(int(r.block_number) for r in rows)
    out: dict[str, list[MandateChange]] = {c: [] for c in ids}
    for r in rows:
        granted = r.name == "MandateGranted"
        out[r.claim_id].append(
            MandateChange(
                int(r.block_number),
                int(r.log_index),
                at[int(r.block_number)],
                str(r.args["agency"]) if granted else None,
                int(r.args["expiry"]) if granted else 0,
            )
        )
    return out


def mandate_state(timeline: Sequence[MandateChange], agency: str | None, at: float) -> str:
    """ "live" when `agency` held a mandate for the claim at time `at` (the registry's
    rule: expiry after the time), "expired" when the mandate then in force was its own but
    had expired, "none" otherwise."""
    current: MandateChange | None = None
    for change in timeline:
        if change.at > at:
            break
        current = change if change.agency is not None else None
    if current is None or not _same(current.agency, agency):
        return "none"
    return "live" if current.expiry > at else "expired"


def mandated_agency(timeline: Sequence[MandateChange], at: float) -> str | None:
    """The agency holding a live mandate at time `at`, if any."""
    current: MandateChange | None = None
    for change in timeline:
        if change.at > at:
            break
        current = change if change.agency is not None else None
    if current is None or current.expiry <= at:
        return None
    return current.agency


# ---------------------------------------------------------------- the monitor


@dataclass(frozen=True)
class Found:
    """A violation found, before it is stored."""

    kind: str
    source_ref: str
    detail: str
    claim_id: str | None = None
    organisation: str | None = None
    occurred_at: float | None = None


def violation_public(row: RowMapping) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "kind": row["kind"],
        "claim_id": row["claim_id"],
        "organisation": row["organisation"],
        "detail": row["detail"],
        "source_ref": row["source_ref"],
        "occurred_at": _iso(row["occurred_at"]),
        "detected_at": _iso(row["detected_at"]),
    }


class Monitor:
    """Finds and stores violations; `run_once` after the indexers, `follow` in a worker."""

    def __init__(self, rt: Runtime, *, erasure_deadline_s: float = ERASURE_DEADLINE_S) -> None:
        self.rt = rt
        self.erasure_deadline_s = erasure_deadline_s
        self.times = BlockTimes(rt)
        self.last_block: int | None = None  # the registry block the last run had indexed
        self.processed_block: int | None = None  # last_block, once that run had stored all
        self._addresses: dict[str, str | None] = {}

    # ------------------------------------------------------------------ the gateway's report

    def record_refused_attempt(
        self,
        org: str,
        claim_id: bytes,
        channel: str | int,
        kind: str | int,
        rule: str,
        *,
        address: str | None = None,
        at: float | None = None,
    ) -> int:
        """Keep a contact the contract refused (`rule`: "policy: contact-hours" or the bare
        name) for organisation `org` (its address when this service holds no key of it);
        the monitor turns it into a "refused-attempt" violation. Returns the row id."""
        ch = CHANNELS[int(channel_of(channel))]
        kd = KINDS[int(kind_of(kind))]
        claim = "0x" + claim_id.hex()
        with self.rt.engine.connect() as conn:
            creditor = conn.execute(
                select(claims_table.c.owner).where(claims_table.c.claim_id == claim)
            ).scalar()
        if creditor is None:
            try:
                creditor = self.rt.writer.call(
                    self.rt.abi("ClaimRegistry"),
                    self.rt.address("ClaimRegistry"),
                    "claims",
                    claim_id,
                )[0]
            except ClaimNotFound:
                creditor = None
        with self.rt.engine.begin() as conn:
            result = conn.execute(
                insert(refused_attempts_table).values(
                    org=org,
                    address=address or self._address(org),
                    creditor=creditor,
                    claim_id=claim,
                    channel=ch,
                    kind=kd,
                    rule=rule.removeprefix("policy: ")[:60],
                    attempted_at=time.time() if at is None else at,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    # ------------------------------------------------------------------ running

    @cached_property
    def _collection_indexer(self) -> Indexer | None:
        if POLICY not in self.rt.deployment.addresses:
            return None
        from debtledger.collection.keeper import CollectionIndexer

        return CollectionIndexer(self.rt)

    def index(self) -> None:
        """Bring the registry's and the collection engine's read models to the head."""
        self.rt.indexer.run_once()
        if self._collection_indexer is not None:
            self._collection_indexer.run_once()
        self.last_block = self.rt.indexer.cursor().block

    def run_once(self) -> list[dict[str, Any]]:
        """Index the chain, look at every source past its cursor, store what is new;
        returns the violations stored by this run, in id order."""
        marks = self._marks()
        self.index()
        with self.rt.engine.connect() as conn:
            marks["claim-events"] = int(
                conn.execute(select(func.max(claim_events_table.c.id))).scalar() or 0
            )
        cursors = self._cursors()
        found: list[Found] = []
        ends: dict[str, int] = {}
        for source, scan in (
            ("refused", self._refused),
            ("contacts", self._contacts),
            ("pii", self._pii),
            ("claim-events", self._disputes),
            ("complaints", self._complaints),
        ):
            start, mark = cursors.get(source, 0), marks[source]
            end = min(mark, start + PAGE)
            if end > start:
                found.extend(scan(start, end))
            ends[source] = max(start, end)
        found.extend(self._erasures())
        stored = self._store(found, ends)
        self.processed_block = self.last_block
        return stored

    def follow(self, stop: threading.Event, interval: float = POLL_S) -> int:
        """Run until `stop` is set, every `interval` seconds; returns the violations stored.
        A node that does not answer is waited for, not fatal."""
        total = 0
        while not stop.is_set():
            try:
                total += len(self.run_once())
            except NodeUnavailable as exc:
                log.warning("monitor: %s; trying again in %.1f s", exc, interval)
            stop.wait(interval)
        return total

    # ------------------------------------------------------------------ reading

    def violations(
        self,
        *,
        kind: str | None = None,
        claim_id: bytes | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Stored violations in id order, after `after_id`."""
        if kind is not None and kind not in KINDS_FOUND:
            raise InvalidInput(f"must be one of {', '.join(KINDS_FOUND)}", field="kind")
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"must be 1-{MAX_LIST}", field="limit")
        v = violations_table.c
        q = select(violations_table).where(v.id > after_id)
        if kind is not None:
            q = q.where(v.kind == kind)
        if claim_id is not None:
            q = q.where(v.claim_id == "0x" + claim_id.hex())
        with self.rt.engine.connect() as conn:
            rows = conn.execute(q.order_by(v.id).limit(limit)).mappings().all()
        return [violation_public(r) for r in rows]

    # ------------------------------------------------------------------ cursors

    def _marks(self) -> dict[str, int]:
        """The newest row id of each store source, before the indexers run (the chain's
        events are marked after: they are indexed before they are read)."""
        tables = {
            "refused": refused_attempts_table.c.id,
            "contacts": evidence_items_table.c.id,
            "pii": pii_access_table.c.id,
            "complaints": complaints_table.c.id,
        }
        with self.rt.engine.connect() as conn:
            marks = {
                s: int(conn.execute(select(func.max(c))).scalar() or 0) for s, c in tables.items()
            }
        return marks

    def _cursors(self) -> dict[str, int]:
        m = monitor_cursors_table.c
        with self.rt.engine.connect() as conn:
            return {s: int(i) for s, i in conn.execute(select(m.source, m.last_id))}

    # ------------------------------------------------------------------ storing

    def _store(self, found: Sequence[Found], ends: Mapping[str, int]) -> list[dict[str, Any]]:
        v, m = violations_table, monitor_cursors_table
        now = time.time()
        with self.rt.engine.begin() as conn:
            take_turns(conn, "monitor")
            current = {s: int(i) for s, i in conn.execute(select(m.c.source, m.c.last_id))}
            for source, end in ends.items():
                if source not in current:
                    conn.execute(insert(m).values(source=source, last_id=end, updated_at=now))
                elif end > current[source]:
                    conn.execute(
                        update(m).where(m.c.source == source).values(last_id=end, updated_at=now)
                    )
            unique = {(f.kind, f.source_ref): f for f in found}
            keys = list(unique)
            have: set[tuple[str, str]] = set()
            for i in range(0, len(keys), _IN):
                have.update(
                    (k, s)
                    for k, s in conn.execute(
                        select(v.c.kind, v.c.source_ref).where(
                            tuple_(v.c.kind, v.c.source_ref).in_(keys[i : i + _IN])
                        )
                    )
                )
            fresh = [
                {
                    "kind": f.kind,
                    "claim_id": f.claim_id,
                    "organisation": f.organisation,
                    "detail": f.detail,
                    "source_ref": f.source_ref,
                    "occurred_at": f.occurred_at,
                    "detected_at": now,
                }
                for key, f in unique.items()
                if key not in have
            ]
            if not fresh:
                return []
            first = int(conn.execute(select(func.coalesce(func.max(v.c.id), 0))).scalar() or 0)
            conn.execute(insert(v), fresh)
            rows = conn.execute(select(v).where(v.c.id > first).order_by(v.c.id)).mappings().all()
        for r in rows:
            log.warning(
                "violation %s: %s (claim %s, %s)",
                r["kind"],
                r["source_ref"],
                r["claim_id"],
                r["organisation"],
            )
        return [violation_public(r) for r in rows]

    # ------------------------------------------------------------------ sources

    def _refused(self, start: int, end: int) -> list[Found]:
        t = refused_attempts_table.c
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(refused_attempts_table).where(t.id > start, t.id <= end).order_by(t.id)
            ).all()
        return [
            Found(
                "refused-attempt",
                f"refused:{r.id}",
                f"{r.channel} {r.kind} contact refused by the contract: {r.rule}",
                r.claim_id,
                r.org,
                float(r.attempted_at),
            )
            for r in rows
        ]

    def _contacts(self, start: int, end: int) -> list[Found]:
        it = evidence_items_table.c
        with self.rt.engine.connect() as conn:
            items = (
                conn.execute(
                    select(it.id)
                    .where(it.id > start, it.id <= end, it.kind == "contact")
                    .order_by(it.id)
                )
                .scalars()
                .all()
            )
        evidence = EvidenceService(self.rt)
        records: list[tuple[int, dict[str, Any]]] = []
        for item in items:
            try:
                record = json.loads(evidence.content_path(int(item)).read_bytes())
            except (NotFound, ValueError):
                continue
            if isinstance(record, dict) and record.get("type") == CONTACT_RECORD:
                records.append((int(item), record))
        if not records:
            return []
        claims = {str(r["claim_id"]) for _, r in records}
        with self.rt.engine.connect() as conn:
            timelines = mandate_timelines(conn, self.times, claims)
            authorised = self._authorised(conn, claims)
        policy = POLICY in self.rt.deployment.addresses
        out: list[Found] = []
        for item, r in records:
            claim, requester, role = (
                str(r["claim_id"]),
                str(r["requester"]),
                r.get("requester_role"),
            )
            ref = f"evidence:{item}"
            auth = r.get("authorization")
            event_at = authorised.get((claim, int(auth))) if isinstance(auth, int) else None
            at = float(event_at) if event_at is not None else _timestamp(r.get("at"))
            address = self._address(requester)
            state = (
                mandate_state(timelines.get(claim, []), address, at) if role == "AGENCY" else "live"
            )
            if policy:
                unauthorised = event_at is None
                why = (
                    "no ContactAuthorized event matches it"
                    if auth is not None
                    else "it names no on-chain authorisation"
                )
            else:
                unauthorised = state != "live"
                why = "the agency held no live mandate for the claim then"
            if unauthorised:
                out.append(
                    Found(
                        "unauthorised-contact",
                        ref,
                        f"{r.get('channel')} contact {r.get('contact_id')} recorded, but {why}",
                        claim,
                        requester,
                        at,
                    )
                )
            if state == "expired":
                out.append(
                    Found(
                        "mandate-expired",
                        ref,
                        f"{r.get('channel')} contact {r.get('contact_id')} after the agency's "
                        "mandate expired",
                        claim,
                        requester,
                        at,
                    )
                )
        return out

    def _authorised(self, conn: Connection, claims: Iterable[str]) -> dict[tuple[str, int], int]:
        """(claim, contact id) → time of its ContactAuthorized event."""
        ev = collection_events_table.c
        ids = sorted(set(claims))
        out: dict[tuple[str, int], int] = {}
        for i in range(0, len(ids), _IN):
            for key, args in conn.execute(
                select(ev.key, ev.args).where(
                    ev.key.in_(ids[i : i + _IN]), ev.name == "ContactAuthorized"
                )
            ):
                out[(str(key), int(args["contact_id"]))] = int(args["at"])
        return out

    def _pii(self, start: int, end: int) -> list[Found]:
        p = pii_access_table.c
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(pii_access_table)
                .where(p.id > start, p.id <= end, p.actor_role == "AGENCY")
                .order_by(p.id)
            ).all()
            claims = {_hex(r.claim_id) for r in rows if r.claim_id is not None}
            timelines = mandate_timelines(conn, self.times, [c for c in claims if c])
        out = []
        for r in rows:
            claim = _hex(r.claim_id)
            state = (
                "none"
                if claim is None
                else mandate_state(
                    timelines.get(claim, []), self._address(r.actor_org), r.accessed_at
                )
            )
            if state == "live":
                continue
            kind = "mandate-expired" if state == "expired" else "pii-outside-mandate"
            why = (
                "after the agency's mandate for the claim expired"
                if state == "expired"
                else "naming no claim"
                if claim is None
                else "with no live mandate for the claim"
            )
            out.append(
                Found(
                    kind,
                    f"pii:{r.id}",
                    f"personal field '{r.field}' read for '{r.purpose}' {why}",
                    claim,
                    r.actor_org,
                    float(r.accessed_at),
                )
            )
        return out

    def _disputes(self, start: int, end: int) -> list[Found]:
        ev = claim_events_table.c
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(ev.id, ev.claim_id, ev.args, ev.block_number, ev.log_index)
                .where(ev.id > start, ev.id <= end, ev.name == "ClaimDisputed")
                .order_by(ev.id)
            ).all()
        at = self.times.of(int(r.block_number) for r in rows)
        return [
            Found(
                "dispute",
                f"event:{r.block_number}:{r.log_index}",
                "the claim was disputed",
                r.claim_id,
                self._name(str(r.args["disputed_by"])),
                float(at[int(r.block_number)]),
            )
            for r in rows
        ]

    def _complaints(self, start: int, end: int) -> list[Found]:
        c = complaints_table.c
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(c.id, c.claim_id, c.category, c.agency, c.creditor, c.filed_at)
                .where(c.id > start, c.id <= end)
                .order_by(c.id)
            ).all()
        return [
            Found(
                "complaint",
                f"complaint:{r.id}",
                f"complaint {r.id} filed ({r.category})",
                r.claim_id,
                self._name(r.agency or r.creditor),
                float(r.filed_at),
            )
            for r in rows
        ]

    def _erasures(self) -> list[Found]:
        e = erasures_table.c
        now = time.time()
        late = self.erasure_deadline_s
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(e.debtor, e.requested_by, e.requested_at, e.erased_at).where(
                    or_(
                        (e.erased_at.is_(None)) & (e.requested_at < now - late),
                        e.erased_at - e.requested_at > late,
                    )
                )
            ).all()
        return [
            Found(
                "erasure-late",
                f"erasure:0x{bytes(r.debtor).hex()}",
                f"erasure asked by {r.requested_by} "
                + (
                    "not done"
                    if r.erased_at is None
                    else f"done after {(r.erased_at - r.requested_at) / 3600:.1f} h"
                )
                + f" (deadline {late / 3600:.0f} h)",
                None,
                r.requested_by,
                float(r.requested_at),
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ names

    def _address(self, org: str | None) -> str | None:
        """An organisation's address: from its key here, else the organisations hosted."""
        if org is None:
            return None
        if org not in self._addresses:
            try:
                self._addresses[org] = OrgService(self.rt).address(org)
            except DebtLedgerError:
                with self.rt.engine.connect() as conn:
                    self._addresses[org] = conn.execute(
                        select(organisations_table.c.address).where(
                            organisations_table.c.name == org
                        )
                    ).scalar()
        return self._addresses[org]

    def _name(self, address: str | None) -> str | None:
        if address is None:
            return None
        return OrgService(self.rt).name_of(address)


def _timestamp(value: object) -> float:
    """A record's ISO 8601 time as unix seconds (now when it has none)."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return time.time()
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.timestamp()
    return time.time()
