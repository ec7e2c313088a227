"""The keeper: finds the claims whose collection state must change, has the contracts change
it, and sends the first overdue day's reminder.

CollectionPolicy and RepaymentPlan events are indexed as a stream of their own into the
collection read model, and every enrolled claim gets the times at which something can next
happen to it in `collection_schedule`: its days past due reach the next stage ("stage"), its
plan's next instalment is past its grace days ("plan"), or it entered stage 1 and its
reminder is to be sent ("reminder"). The keeper reads only the rows due by then, in pages
by `next_check_at` (an index range, never a scan of the claims), calls `advance` (up to 200
claims a transaction) and `check_missed`, and reschedules from the events that result.

The contracts decide from the block time, never from the keeper's clock: a keeper whose
clock runs ahead changes nothing early, and the rows it looked at keep their times. Two
keepers at once do no harm: a claim already in its stage is skipped, a plan already broken
is not broken twice, and a reminder is taken by one keeper only (a lease on its row).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    delete,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)

from debtledger.access.service import AccessService
from debtledger.chain.abi import Event
from debtledger.chain.events import LOG_SPAN, EventReader
from debtledger.chain.writer import Write
from debtledger.collection.engine import (
    PLANS,
    POLICY,
    ChainContract,
    chain_now,
    channel_of,
    rule_name,
)
from debtledger.collection.gateway import CONTACT_FIELDS, ContactService
from debtledger.domain.policies import PRESETS, Kind
from debtledger.errors import (
    ChainError,
    ConfigError,
    ContractRefused,
    DebtLedgerError,
    DeliveryFailed,
    NodeUnavailable,
    NotFound,
    PolicyRefused,
)
from debtledger.orgs.service import OrgService, role_id
from debtledger.runtime import Runtime
from debtledger.store.db import save_rows
from debtledger.store.indexer import Indexer
from debtledger.store.models import (
    collection_blocks_table,
    collection_claims_table,
    collection_events_table,
    collection_policies_table,
    collection_schedule_table,
)

log = logging.getLogger(__name__)

STREAM = "Collection"
DAY = 86_400
STAGE, PLAN, REMINDER = "stage", "plan", "reminder"
LAST_STAGE = 4
PLAN_ACTIVE = 2
MAX_ADVANCE = 200  # CollectionPolicy.MAX_ADVANCE
PAGE_SIZE = 1_000
# Gas floor per advance: what changing every claim of the batch costs, with room; the
# estimate alone can be too low when a claim's stage falls due between estimate and block.
ADVANCE_GAS_BASE = 60_000
ADVANCE_GAS_PER_CLAIM = 16_000
CHECK_MISSED_GAS = 200_000
REMINDER_TEMPLATE = "reminder-1"
REMINDER_CHANNELS = ("sms", "email")
REMINDER_LEASE_S = 600
REMINDER_RETRY_S = 3_600
REMINDER_ATTEMPTS = 3
POLL_S = 5.0
_IN = 500

Row = dict[str, Any]
_policies, _claims, _events = (
    collection_policies_table,
    collection_claims_table,
    collection_events_table,
)
_schedule = collection_schedule_table


# ---------------------------------------------------------------- the read model


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def apply_collection_event(row: Row | None, name: str, args: Mapping[str, Any]) -> Row | None:
    """A claim's collection row after one of its events (args as stored: bytes as 0x-hex;
    ClaimEnrolled with the claim's `due_date`). None: not enrolled (no row)."""
    if name == "ClaimEnrolled":
        base = row or {
            "claim_id": args["claim_id"],
            "due_at": int(args["due_date"]),
            "stage": 0,
            "paused_since": 0,
            "paused_seconds": 0,
            "plan_state": 0,
            "plan_next": 0,
            "plan_grace_days": 0,
            "plan_dues": [],
        }
        return {
            **base,
            "policy_id": args["policy_id"],
            "debtor": args["debtor"],
            "tz_offset_minutes": int(args["tz_offset_minutes"]),
        }
    if row is None:
        return None
    row = dict(row)
    if name == "StageChanged":
        row["stage"] = int(args["to_stage"])
    elif name == "CollectionPaused":
        row["paused_since"] = int(args["since"])
    elif name == "CollectionResumed":
        row.update(paused_since=0, paused_seconds=int(args["paused_seconds"]))
    elif name in ("PlanProposed", "PlanReaged"):
        dues = [int(w) >> 128 for w in args["instalments"]]
        row.update(plan_state=1 if name == "PlanProposed" else PLAN_ACTIVE, plan_next=0)
        row["plan_dues"] = dues
        if name == "PlanProposed":
            row["plan_grace_days"] = int(args["grace_days"])
    elif name == "PlanConsented":
        row["plan_state"] = PLAN_ACTIVE
    elif name == "PlanPaymentCredited":
        row["plan_next"] = int(args["next_instalment"])
    elif name == "PlanBroken":
        row["plan_state"] = 3
    elif name == "PlanCompleted":
        row["plan_state"] = 4
    return row


def planned_checks(row: Row, stage_days: Sequence[int] | None) -> dict[str, int]:
    """When the keeper must next look at an enrolled claim, by reason, from its state alone:
    the moment its days past due reach the next stage's first day (not while a plan pauses
    it; never past stage 4), and the moment its plan's next instalment is past its grace
    days (the contract breaks a plan only strictly after due + grace)."""
    out: dict[str, int] = {}
    stage = int(row["stage"])
    if stage_days and not row["paused_since"] and stage < LAST_STAGE:
        out[STAGE] = int(row["due_at"]) + int(row["paused_seconds"]) + stage_days[stage] * DAY
    dues = row["plan_dues"]
    nxt = int(row["plan_next"])
    if row["plan_state"] == PLAN_ACTIVE and nxt < len(dues):
        out[PLAN] = int(dues[nxt]) + int(row["plan_grace_days"]) * DAY + 1
    return out


def next_window(now: int, tz_offset_minutes: int, start_minute: int) -> int:
    """The next moment after `now` at which the debtor's local clock shows `start_minute`
    (minutes after local midnight): when a contact refused for the hours may be tried."""
    local = now + tz_offset_minutes * 60
    opens = local - local % DAY + start_minute * 60
    if opens <= local:
        opens += DAY
    return opens - tz_offset_minutes * 60


class CollectionIndexer(Indexer):
    """Indexes CollectionPolicy and RepaymentPlan events (one stream, in chain order) into
    the collection read model and keeps the keeper's schedule in step with it."""

    stream = STREAM
    blocks = collection_blocks_table

    def __init__(self, rt: Runtime, **kwargs: Any) -> None:
        policy, plans = ChainContract(rt, POLICY).address, ChainContract(rt, PLANS).address
        reader = EventReader(rt.writer.rpc, {policy: rt.abi(POLICY), plans: rt.abi(PLANS)})
        super().__init__(
            rt.writer.rpc,
            reader,
            rt.engine,
            contract=policy,
            chain_id=rt.chain_id,
            start_block=rt.deployment.block,
            **kwargs,
        )
        self.rt = rt
        self._addresses = [policy, plans]
        self._abis = {policy.lower(): rt.abi(POLICY), plans.lower(): rt.abi(PLANS)}

    def _read(self, first: int, end: int) -> list[Event]:
        """Both contracts' events in blocks first..end, in chain order. Events with an array
        among their data (the plans' schedules) are decoded in full here: the shared
        decoder's word-by-word path takes a `uint256[]` for one word."""
        out = []
        start = first
        while start <= end:
            stop = min(start + LOG_SPAN - 1, end)
            logs = self.rpc.call(
                "eth_getLogs",
                [{"fromBlock": hex(start), "toBlock": hex(stop), "address": self._addresses}],
            )
            for raw in logs:
                abi = self._abis.get(raw["address"].lower())
                event = abi.decode_log(raw) if abi is not None else None
                if event is None:
                    continue
                out.append(event)
            start = stop + 1
        return out

    # ------------------------------------------------------------------ storing

    def _due_dates(self, claim_ids: Sequence[str]) -> dict[str, int]:
        """Each claim's due date from the registry (it never changes once registered)."""
        registry = ChainContract(self.rt, "ClaimRegistry")
        out: dict[str, int] = {}
        for i in range(0, len(claim_ids), _IN):
            part = claim_ids[i : i + _IN]
            claims = registry.calls([("claims", (bytes.fromhex(c[2:]),)) for c in part], "latest")
            out.update({cid: int(claim[2]) for cid, claim in zip(part, claims, strict=True)})
        return out

    def _store_events(self, conn: Connection, events: Sequence[Event]) -> int:
        if not events:
            return 0
        ev = _events.c
        lo, hi = events[0].block_number, events[-1].block_number
        seen = {
            (int(b), int(i))
            for b, i in conn.execute(
                select(ev.block_number, ev.log_index).where(ev.block_number.between(lo, hi))
            )
        }
        fresh: list[Row] = []
        for e in events:
            if (e.block_number, e.log_index) in seen:
                continue
            key = e.args.get("claim_id", e.args.get("policy_id"))
            if key is None:
                continue  # PlansSet: nothing of a claim or a policy
            fresh.append(
                {
                    "block_number": e.block_number,
                    "block_hash": e.block_hash,
                    "tx_hash": e.tx_hash,
                    "log_index": e.log_index,
                    "name": e.name,
                    "key": "0x" + bytes(key).hex(),
                    "args": {k: _jsonable(v) for k, v in e.args.items()},
                }
            )
        if not fresh:
            return 0
        enrolled = sorted({f["key"] for f in fresh if f["name"] == "ClaimEnrolled"})
        if enrolled:
            due = self._due_dates(enrolled)
            for f in fresh:
                if f["name"] == "ClaimEnrolled":
                    f["args"]["due_date"] = due[f["key"]]
        conn.execute(insert(_events), fresh)
        changed_policies = self._apply_policies(
            conn, [f for f in fresh if f["name"] == "PolicySet"]
        )
        claim_events = [f for f in fresh if f["name"] != "PolicySet"]
        ids = sorted({f["key"] for f in claim_events})
        rows = self._rows(conn, ids)
        existed = set(rows)
        for f in claim_events:
            rows[f["key"]] = apply_collection_event(rows.get(f["key"]), f["name"], f["args"])
            if rows[f["key"]] is not None:
                rows[f["key"]]["updated_block"] = f["block_number"]  # type: ignore[index]
        self._save_rows(conn, rows, existed)
        self._reschedule(conn, [r for r in rows.values() if r is not None])
        self._schedule_reminders(conn, claim_events, rows)
        for pid in changed_policies:
            _check_policy_claims_now(conn, pid)
        return len(fresh)

    def _apply_policies(self, conn: Connection, sets: Sequence[Row]) -> list[str]:
        """Upsert PolicySet events; returns the policies whose stage days changed (their
        claims' stages are checked at once)."""
        changed = []
        for f in sets:
            pid, a = f["key"], f["args"]
            owner = None if int(a["owner"], 16) == 0 else a["owner"]
            found = conn.execute(
                select(_policies.c.params, _policies.c.updated_block).where(
                    _policies.c.policy_id == pid
                )
            ).first()
            preset = next(
                (p.name for p in PRESETS.values() if "0x" + p.policy_id.hex() == pid), None
            )
            values = {"owner": owner, "params": a["params"], "updated_block": f["block_number"]}
            if found is None:
                conn.execute(insert(_policies).values(policy_id=pid, name=preset, **values))
                continue
            if found.updated_block >= 0 and list(found.params[0]) != list(a["params"][0]):
                changed.append(pid)
            conn.execute(update(_policies).where(_policies.c.policy_id == pid).values(**values))
        return changed

    def _rows(self, conn: Connection, ids: Sequence[str]) -> dict[str, Row | None]:
        rows: dict[str, Row | None] = {}
        for i in range(0, len(ids), _IN):
            q = select(_claims).where(_claims.c.claim_id.in_(ids[i : i + _IN]))
            rows.update({r.claim_id: dict(r._mapping) for r in conn.execute(q)})
        return rows

    def _save_rows(
        self, conn: Connection, rows: Mapping[str, Row | None], existed: set[str]
    ) -> None:
        save_rows(conn, _claims, "claim_id", dict(rows), existed)

    def _reschedule(self, conn: Connection, rows: Sequence[Row]) -> None:
        reschedule(conn, rows, _stage_days(conn, {r["policy_id"] for r in rows}))

    def _schedule_reminders(
        self, conn: Connection, events: Sequence[Row], rows: Mapping[str, Row | None]
    ) -> None:
        """A claim that entered stage 1 from current gets its first overdue day's reminder,
        once per entry (the event's transaction names it)."""
        due = {
            f["key"]: f["tx_hash"]
            for f in events
            if f["name"] == "StageChanged"
            and int(f["args"]["from_stage"]) == 0
            and int(f["args"]["to_stage"]) == 1
            and rows.get(f["key"]) is not None
        }
        for cid, tx in due.items():
            conn.execute(
                delete(_schedule).where(_schedule.c.claim_id == cid, _schedule.c.reason == REMINDER)
            )
            conn.execute(
                insert(_schedule).values(
                    claim_id=cid, reason=REMINDER, next_check_at=0, note=tx, attempts=0
                )
            )

    # ------------------------------------------------------------------ forks

    def _rewind_rows(self, conn: Connection, fork_block: int) -> None:
        ev = _events.c
        affected = list(
            conn.execute(select(ev.key).where(ev.block_number > fork_block).distinct()).scalars()
        )
        conn.execute(delete(_events).where(ev.block_number > fork_block))
        for i in range(0, len(affected), _IN):
            part = affected[i : i + _IN]
            replay = conn.execute(
                select(ev.key, ev.name, ev.args, ev.block_number)
                .where(ev.key.in_(part))
                .order_by(ev.block_number, ev.log_index)
            ).all()
            policies: dict[str, Row] = {}
            rows: dict[str, Row | None] = {}
            for key, name, args, block in replay:
                if name == "PolicySet":
                    owner = None if int(args["owner"], 16) == 0 else args["owner"]
                    policies[key] = {
                        "owner": owner,
                        "params": args["params"],
                        "updated_block": block,
                    }
                else:
                    rows[key] = apply_collection_event(rows.get(key), name, args)
                    if rows[key] is not None:
                        rows[key]["updated_block"] = block  # type: ignore[index]
            for pid in part:
                if pid in policies:
                    conn.execute(
                        update(_policies)
                        .where(_policies.c.policy_id == pid)
                        .values(**policies[pid])
                    )
            unset = [p for p in part if p not in policies]  # no PolicySet left
            conn.execute(
                delete(_policies).where(
                    _policies.c.policy_id.in_(unset), _policies.c.name.is_(None)
                )
            )
            conn.execute(  # a name kept here stays, as not seen on chain
                update(_policies).where(_policies.c.policy_id.in_(unset)).values(updated_block=-1)
            )
            gone = [k for k in part if k not in rows and k not in policies]
            conn.execute(delete(_claims).where(_claims.c.claim_id.in_(part)))
            conn.execute(delete(_schedule).where(_schedule.c.claim_id.in_(gone)))
            self._save_rows(conn, rows, set())
            self._reschedule(conn, [r for r in rows.values() if r is not None])


def _stage_days(conn: Connection, policy_ids: set[str]) -> dict[str, list[int]]:
    ids = sorted(policy_ids)
    out: dict[str, list[int]] = {}
    for i in range(0, len(ids), _IN):
        q = select(_policies.c.policy_id, _policies.c.params).where(
            _policies.c.policy_id.in_(ids[i : i + _IN])
        )
        out.update({pid: [int(d) for d in params[0]] for pid, params in conn.execute(q)})
    return out


def reschedule(conn: Connection, rows: Sequence[Row], stage_days: Mapping[str, list[int]]) -> None:
    """Set the "stage" and "plan" rows of these claims from their state (reminders are left
    as they are)."""
    if not rows:
        return
    ids = [r["claim_id"] for r in rows]
    for i in range(0, len(ids), _IN):
        conn.execute(
            delete(_schedule).where(
                _schedule.c.claim_id.in_(ids[i : i + _IN]), _schedule.c.reason.in_((STAGE, PLAN))
            )
        )
    fresh = [
        {
            "claim_id": r["claim_id"],
            "reason": reason,
            "next_check_at": at,
            "note": None,
            "attempts": 0,
        }
        for r in rows
        for reason, at in planned_checks(r, stage_days.get(r["policy_id"])).items()
    ]
    if fresh:
        conn.execute(insert(_schedule), fresh)


def _check_policy_claims_now(conn: Connection, policy_id: str) -> None:
    """A policy's stage days changed: each of its claims' stages is checked on the keeper's
    next run (indexed by policy; a rare event)."""
    enrolled = select(_claims.c.claim_id).where(_claims.c.policy_id == policy_id)
    conn.execute(
        update(_schedule)
        .where(_schedule.c.reason == STAGE, _schedule.c.claim_id.in_(enrolled))
        .values(next_check_at=0)
    )
    missing = select(
        _claims.c.claim_id, literal(STAGE), literal(0), literal(None), literal(0)
    ).where(
        _claims.c.policy_id == policy_id,
        ~exists().where(_schedule.c.claim_id == _claims.c.claim_id, _schedule.c.reason == STAGE),
    )
    conn.execute(
        insert(_schedule).from_select(
            ["claim_id", "reason", "next_check_at", "note", "attempts"], missing
        )
    )


# ---------------------------------------------------------------- the keeper


@dataclass(frozen=True)
class Due:
    """One schedule row found due."""

    claim_id: str
    reason: str
    next_check_at: int
    note: str | None = None
    attempts: int = 0


@dataclass
class Work:
    """What one page of due rows asks for: stage batches, plans to check, reminders."""

    advance: list[list[bytes]] = field(default_factory=list)
    check_missed: list[bytes] = field(default_factory=list)
    reminders: list[Due] = field(default_factory=list)

    @property
    def claims(self) -> list[str]:
        ids = {"0x" + c.hex() for batch in self.advance for c in batch}
        ids |= {"0x" + c.hex() for c in self.check_missed}
        return sorted(ids)


@dataclass
class KeeperReport:
    """What one run did."""

    now: int
    due: int = 0
    pages: int = 0
    transactions: int = 0
    advanced: int = 0
    plans_checked: int = 0
    plans_broken: int = 0
    reminders_sent: int = 0
    reminders_deferred: int = 0
    reminders_dropped: int = 0


class Keeper:
    """Finds due collection work in the schedule and does it as the keeper organisation."""

    def __init__(
        self,
        rt: Runtime,
        *,
        org: str | None = None,
        page_size: int = PAGE_SIZE,
        batch_size: int = MAX_ADVANCE,
    ) -> None:
        if not 1 <= batch_size <= MAX_ADVANCE:
            raise ValueError(f"batch_size must be 1-{MAX_ADVANCE}")
        if page_size < 1:
            raise ValueError("page_size must be positive")
        self.rt = rt
        self.page_size = page_size
        self.batch_size = batch_size
        self._org = org
        self.policy = ChainContract(rt, POLICY)
        self.plans = ChainContract(rt, PLANS)

    @cached_property
    def index(self) -> CollectionIndexer:
        return CollectionIndexer(self.rt)

    @cached_property
    def org(self) -> str:
        """The organisation that signs: the one named, else the one hosted here holding
        KEEPER, else the one this service holds a key of that holds it on chain."""
        if self._org is not None:
            return self._org
        found = [
            str(o["name"])
            for o in AccessService(self.rt).orgs()
            if "KEEPER" in o["roles"]  # type: ignore[operator]
        ]
        if not found:
            consortium = ChainContract(self.rt, "Consortium")
            found = [
                name
                for name in self.rt.keys.names()
                if name != "admin"
                and consortium.call("has_role", self.rt.keys.address_of(name), role_id("KEEPER"))
            ]
        if len(found) != 1:
            which = ", ".join(sorted(found)) if found else "none"
            raise ConfigError(
                f"the keeper organisation is ambiguous or missing (KEEPER holders here: "
                f"{which}); name it explicitly"
            )
        return found[0]

    # ------------------------------------------------------------------ finding work

    def pages(self, now: int) -> Iterator[list[Due]]:
        """The schedule rows due at `now`, in pages of `page_size` in (next_check_at,
        claim_id, reason) order: each page one range read of the schedule's index, the next
        page starting after the last row of this one (rows moved meanwhile are not read
        twice in one pass)."""
        s = _schedule.c
        after: tuple[int, str, str] | None = None
        while True:
            q = select(s.claim_id, s.reason, s.next_check_at, s.note, s.attempts).where(
                s.next_check_at <= now
            )
            if after is not None:
                at, cid, reason = after
                # The plain lower bound makes the page one index range from the last row on
                # (without it the OR below would be read from the start of the range).
                q = q.where(
                    s.next_check_at >= at,
                    or_(
                        s.next_check_at > at,
                        s.claim_id > cid,
                        and_(s.claim_id == cid, s.reason > reason),
                    ),
                )
            q = q.order_by(s.next_check_at, s.claim_id, s.reason).limit(self.page_size)
            with self.rt.engine.connect() as conn:
                page = [Due(r[0], r[1], int(r[2]), r[3], int(r[4] or 0)) for r in conn.execute(q)]
            if not page:
                return
            yield page
            if len(page) < self.page_size:
                return
            last = page[-1]
            after = (last.next_check_at, last.claim_id, last.reason)

    def work(self, page: Sequence[Due]) -> Work:
        """Group a page: stage checks into `advance` batches, plans, reminders."""
        out = Work()
        stage = [bytes.fromhex(d.claim_id[2:]) for d in page if d.reason == STAGE]
        out.advance = [
            stage[i : i + self.batch_size] for i in range(0, len(stage), self.batch_size)
        ]
        out.check_missed = [bytes.fromhex(d.claim_id[2:]) for d in page if d.reason == PLAN]
        out.reminders = [d for d in page if d.reason == REMINDER]
        return out

    def writes(self, work: Work, run: str, *, estimate: bool = True) -> list[Write]:
        """The transactions a page's work takes. Their idempotency keys name the run (`run`,
        unique per pass) and the claims: every pass asks the contract afresh, since only the
        block time says whether anything is due (the contract makes a repeat harmless)."""
        out = []
        for batch in work.advance:
            key = f"keeper:advance:{run}:{_digest(batch)}"
            gas = ADVANCE_GAS_BASE + ADVANCE_GAS_PER_CLAIM * len(batch)
            write = self.policy.write("advance", (batch,), key, gas=gas)
            if estimate:
                signer = self.rt.keys.address_of(self.org)
                gas = max(gas, self.rt.writer.estimate(signer, write))
                write = self.policy.write("advance", (batch,), key, gas=gas)
            out.append(write)
        for claim in work.check_missed:
            key = f"keeper:check-missed:{run}:0x{claim.hex()}"
            out.append(self.plans.write("check_missed", (claim,), key, gas=CHECK_MISSED_GAS))
        return out

    # ------------------------------------------------------------------ a run

    def run_once(self, now: int | None = None) -> KeeperReport:
        """One pass: index, then for every due row (as of `now`, default the chain's time)
        advance stages, check plans and send reminders, indexing what that changed. The
        contracts check every change against the block time."""
        self.index.run_once()
        now = chain_now(self.rt) if now is None else now
        report = KeeperReport(now=now)
        run = uuid.uuid4().hex
        for page in self.pages(now):
            report.pages += 1
            report.due += len(page)
            work = self.work(page)
            writes = self.writes(work, run)
            if writes:
                entries = self.rt.writer.execute(self.rt.keys.load(self.org), writes)
                report.transactions += len(entries)
                for entry, write in zip(entries, writes, strict=True):
                    if write.fn == "advance":
                        report.advanced += len(self.policy.events_of(entry.tx_hash, "StageChanged"))
                    else:
                        report.plans_checked += 1
                        report.plans_broken += len(
                            self.plans.events_of(entry.tx_hash, "PlanBroken")
                        )
                self.index.run_once()
            self._restore(work)
            reminders = {d.claim_id: d for d in work.reminders}
            for d in self._new_reminders(work.claims, now):
                reminders.setdefault(d.claim_id, d)
            for d in reminders.values():
                self._remind(d, now, report)
        return report

    def follow(self, stop: threading.Event, poll_s: float = POLL_S) -> int:
        """Run until `stop` is set, a pass every `poll_s` seconds; returns the passes made.
        A node that does not answer, or a service with no keeper organisation or no
        collection contracts, is waited for and said once, not fatal."""
        passes = 0
        said: str | None = None
        while not stop.is_set():
            try:
                self.run_once()
                passes += 1
                said = None
            except (ConfigError, NotFound, NodeUnavailable) as exc:
                if str(exc) != said:
                    log.warning("keeper: %s; waiting", exc)
                    said = str(exc)
            except DebtLedgerError as exc:
                log.warning("keeper: %s; trying again in %.1f s", exc, poll_s)
            stop.wait(poll_s)
        return passes

    def _restore(self, work: Work) -> None:
        """Set the page's stage and plan rows from the claims' state again: a row its
        transaction changed nothing for (a keeper ahead of the chain, or another keeper was
        first) keeps the time its state gives, and a row set for a check now gets its own."""
        ids = work.claims
        if not ids:
            return
        with self.rt.engine.begin() as conn:
            rows: list[Row] = []
            for i in range(0, len(ids), _IN):
                q = select(_claims).where(_claims.c.claim_id.in_(ids[i : i + _IN]))
                rows += [dict(r._mapping) for r in conn.execute(q)]
            reschedule(conn, rows, _stage_days(conn, {r["policy_id"] for r in rows}))

    def _new_reminders(self, claims: Sequence[str], now: int) -> list[Due]:
        """Reminder rows this page's transactions made due (claims that entered stage 1)."""
        if not claims:
            return []
        s = _schedule.c
        out = []
        with self.rt.engine.connect() as conn:
            for i in range(0, len(claims), _IN):
                q = select(s.claim_id, s.reason, s.next_check_at, s.note, s.attempts).where(
                    s.claim_id.in_(claims[i : i + _IN]),
                    s.reason == REMINDER,
                    s.next_check_at <= now,
                )
                out += [Due(r[0], r[1], int(r[2]), r[3], int(r[4] or 0)) for r in conn.execute(q)]
        return out

    # ------------------------------------------------------------------ reminders

    def _lease(self, due: Due, until: int) -> bool:
        """Take a reminder row for this keeper until `until`: only one keeper gets it."""
        s = _schedule.c
        with self.rt.engine.begin() as conn:
            taken = conn.execute(
                update(_schedule)
                .where(
                    s.claim_id == due.claim_id,
                    s.reason == REMINDER,
                    s.next_check_at == due.next_check_at,
                )
                .values(next_check_at=until)
            )
            return taken.rowcount == 1

    def _settle_reminder(self, due: Due, next_at: int | None, *, failed: bool = False) -> None:
        """Done (None), or due again at `next_at`; `failed` counts a failed delivery."""
        s = _schedule.c
        with self.rt.engine.begin() as conn:
            where = (s.claim_id == due.claim_id, s.reason == REMINDER)
            if next_at is None:
                conn.execute(delete(_schedule).where(*where))
            else:
                attempts = due.attempts + 1 if failed else due.attempts
                conn.execute(
                    update(_schedule).where(*where).values(next_check_at=next_at, attempts=attempts)
                )

    def _remind(self, due: Due, now: int, report: KeeperReport) -> None:
        """Send the first overdue day's reminder for the claim's owner through the gateway:
        by SMS, else e-mail, whichever the policy allows and the debtor has on file. Refused
        for the hours: tried again when the debtor's window opens."""
        if not self._lease(due, now + REMINDER_LEASE_S):
            return  # another keeper has it
        claim_id = bytes.fromhex(due.claim_id[2:])
        outcome = "dropped"
        next_at: int | None = None
        failed = False
        try:
            outcome, next_at = self._send_reminder(claim_id, due, now)
        except DeliveryFailed as exc:
            log.warning("keeper: reminder for claim %s not delivered: %s", due.claim_id, exc)
            failed = True
            if due.attempts + 1 < REMINDER_ATTEMPTS:
                outcome, next_at = "deferred", now + REMINDER_RETRY_S
        except (NotFound, ConfigError, ContractRefused) as exc:
            log.info("keeper: no reminder for claim %s: %s", due.claim_id, exc)
        except ChainError as exc:  # the node, not the rules: the next pass tries again
            log.warning("keeper: reminder for claim %s waits: %s", due.claim_id, exc)
            outcome, next_at = "deferred", now
        self._settle_reminder(due, next_at, failed=failed)
        if outcome == "sent":
            report.reminders_sent += 1
        elif outcome == "deferred":
            report.reminders_deferred += 1
        else:
            report.reminders_dropped += 1

    def _send_reminder(self, claim_id: bytes, due: Due, now: int) -> tuple[str, int | None]:
        with self.rt.engine.connect() as conn:
            state = conn.execute(
                select(_claims.c.debtor, _claims.c.tz_offset_minutes, _policies.c.params)
                .join(_policies, _policies.c.policy_id == _claims.c.policy_id)
                .where(_claims.c.claim_id == due.claim_id)
            ).first()
        if state is None:
            return "dropped", None
        debtor, tz, params = bytes.fromhex(state[0][2:]), int(state[1]), state[2]
        owner = str(ChainContract(self.rt, "ClaimRegistry").call("claims", claim_id)[0])
        orgs = OrgService(self.rt)
        owner_org = orgs.name_of(owner)
        if owner_org == owner:
            return "dropped", None  # the owner is not hosted here: its own keeper reminds
        try:
            on_file = set(self.rt.vault.fields(debtor))
        except NotFound:
            on_file = set()
        channels = [c for c in REMINDER_CHANNELS if CONTACT_FIELDS[c] in on_file]
        verdicts = self.policy.calls(
            [
                ("check_contact", (claim_id, int(channel_of(c)), int(Kind.REMINDER), owner))
                for c in channels
            ]
        )
        hours = False
        for channel, verdict in zip(channels, verdicts, strict=True):
            if verdict == "contact-hours":
                hours = True
            if verdict != "":
                continue
            try:
                ContactService(self.rt).contact(
                    (owner_org, "CREDITOR"),
                    claim_id,
                    channel,
                    REMINDER_TEMPLATE,
                    idem_key=f"keeper-reminder:{due.claim_id}:{due.note}",
                )
            except PolicyRefused as exc:
                if rule_name(exc) == "contact-hours":
                    hours = True
                    continue
                raise
            return "sent", None
        if hours:
            return "deferred", next_window(now, tz, int(params[3]))
        return "dropped", None


def _digest(ids: Sequence[bytes]) -> str:
    return hashlib.sha256(b"".join(ids)).hexdigest()[:32]
