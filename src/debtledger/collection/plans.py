"""Repayment plans: the owner proposes an instalment schedule, the gateway records the
debtor's consent, payments are credited in order, a missed instalment breaks the plan after
its grace days, and a plan can be re-aged.

RepaymentPlan holds the rules; this service builds the schedules (domain/schedule.py) and
packs them as the contract takes them. An instalment falls due at the end of its day in the
debtor's local time (the last second of it), so a payment made on the due date is on time
wherever the debtor lives. Every payment becomes evidence, as a direct repayment does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from debtledger.chain.writer import Write
from debtledger.claims.service import record_repayment_evidence
from debtledger.collection.engine import PLANS, POLICY, ChainContract, local_time
from debtledger.collection.gateway import ContactService
from debtledger.domain._checks import check_day, check_int
from debtledger.domain.schedule import (
    Schedule,
    custom_schedule,
    equal_instalments,
    seasonal,
)
from debtledger.errors import Conflict, InvalidInput
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.outbox import Entry

MAX_INSTALMENTS = 60  # RepaymentPlan.MAX_INSTALMENTS
MAX_AMOUNT = 2**88 - 1  # an instalment's amount field
DUE_SHIFT = 128
DAY = 86_400
DEFAULT_GRACE_DAYS = 5
STATES = ("none", "proposed", "active", "broken", "completed")
SCHEDULE_KINDS = ("equal", "custom", "seasonal")
CONSENT_TYPE = "debtledger-plan-consent/1"


def due_instant(day: date, tz_offset_minutes: int) -> int:
    """The unix time an instalment due on `day` falls due: the last second of that day in
    the debtor's local time."""
    check_day(day, "due")
    midnight_utc = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    return midnight_utc + DAY - 1 - tz_offset_minutes * 60


def pack_schedule(schedule: Schedule, tz_offset_minutes: int) -> list[int]:
    """The schedule as RepaymentPlan takes it: due time (bits 128+) | amount in fen."""
    if len(schedule) > MAX_INSTALMENTS:
        raise InvalidInput(f"a plan has at most {MAX_INSTALMENTS} instalments", field="count")
    words = []
    for item in schedule:
        if item.amount > MAX_AMOUNT:
            raise InvalidInput("instalment amount is too large", field="amount", row=item.seq)
        words.append(due_instant(item.due, tz_offset_minutes) << DUE_SHIFT | item.amount)
    return words


def unpack_schedule(words: Sequence[int]) -> list[tuple[int, int]]:
    """(due time, amount) of each packed instalment."""
    return [(w >> DUE_SHIFT, w & ((1 << DUE_SHIFT) - 1)) for w in words]


def schedule_hash(words: Sequence[int]) -> bytes:
    """What RepaymentPlan logs as the schedule hash: keccak-256 of the ABI uint256[]."""
    return keccak(encode(["uint256[]"], [list(words)]))


def build_schedule(
    kind: str,
    *,
    total: int | None = None,
    count: int | None = None,
    first: date | None = None,
    every_months: int = 1,
    months: Collection[int] = (),
    items: Sequence[tuple[date, int]] = (),
) -> Schedule:
    """A schedule of one of the domain's kinds: "equal" (total in `count` instalments from
    `first`, every `every_months` months), "custom" (the dated `items`, summing to `total`
    when given) or "seasonal" (total in `count` instalments in the given `months` from
    `first`)."""
    if kind == "custom":
        if not items:
            raise InvalidInput("give the instalments", field="instalments")
        return custom_schedule(sum(a for _, a in items) if total is None else total, items)
    if kind not in SCHEDULE_KINDS:
        raise InvalidInput(f"must be one of {', '.join(SCHEDULE_KINDS)}", field="kind")
    if total is None:
        raise InvalidInput("give the total in fen", field="total_fen")
    if count is None:
        raise InvalidInput("give the number of instalments", field="count")
    if first is None:
        raise InvalidInput("give the first due date", field="first_due")
    if kind == "equal":
        return equal_instalments(total, count, first, every_months=every_months)
    return seasonal(total, first, months=months, count=count)


class PlanService:
    """Repayment plan operations (`wait` as in ClaimService)."""

    def __init__(self, rt: Runtime, *, wait: bool = True) -> None:
        self.rt = rt
        self.wait = wait
        self.orgs = OrgService(rt)
        self.plans = ChainContract(rt, PLANS)
        self.policy = ChainContract(rt, POLICY)

    def _do(self, org: str, write: Write) -> Entry:
        signer = self.orgs.account(org)
        if self.wait:
            (entry,) = self.rt.writer.execute(signer, [write])
        else:
            (entry,) = self.rt.writer.submit(signer, [write])
            self.rt.committer.wake()
        return entry

    def tz_of(self, claim_id: bytes) -> int:
        """The debtor's UTC offset the claim is enrolled with (Conflict: not enrolled)."""
        if not self.policy.call("is_enrolled", claim_id):
            raise Conflict("plan: claim not enrolled")
        return int(self.policy.call("enrolment", claim_id)[2])

    def packed(self, claim_id: bytes, schedule: Schedule) -> list[int]:
        return pack_schedule(schedule, self.tz_of(claim_id))

    # ------------------------------------------------------------------ writes

    def propose(
        self,
        claim_id: bytes,
        owner: str,
        schedule: Schedule,
        *,
        grace_days: int = DEFAULT_GRACE_DAYS,
        idem_key: str,
    ) -> Entry:
        """The owner offers the debtor `schedule`; an instalment counts as missed
        `grace_days` after its due date."""
        grace = check_int(grace_days, "grace_days", minimum=0, maximum=365)
        words = self.packed(claim_id, schedule)
        return self._do(owner, self.plans.write("propose", (claim_id, words, grace), idem_key))

    def consent(
        self,
        claim_id: bytes,
        *,
        schedule_hash: bytes,
        statement: str,
        gateway: str | None = None,
        idem_key: str,
    ) -> Entry:
        """The gateway records the debtor's consent to the proposed plan whose schedule hash
        the debtor was shown: collection pauses and the claim is current. `statement` (what
        the debtor agreed to, as received) is kept only as its SHA-256 in an evidence item
        of kind "promise-to-pay"; the chain gets the hash of that record."""
        if not statement:
            raise InvalidInput("give the debtor's consent statement", field="statement")
        state, _n, _next, _grace, _paid, current = self.plans.call("plan_of", claim_id)
        if STATES[state] != "proposed":
            raise Conflict("plan: no proposed plan")
        if bytes(current) != schedule_hash:
            raise InvalidInput(
                "the debtor consented to another schedule than the one proposed",
                field="schedule_hash",
            )
        org = gateway or self._gateway()
        record = {
            "type": CONSENT_TYPE,
            "claim_id": "0x" + claim_id.hex(),
            "schedule_hash": "0x" + schedule_hash.hex(),
            "statement_sha256": hashlib.sha256(statement.encode()).hexdigest(),
            "recorded_by": self.orgs.address(org),
            "idempotency": hashlib.sha256(idem_key.encode()).hexdigest(),
        }
        content = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
        consent_hash = hashlib.sha256(content).digest()
        entry = self._do(
            org, self.plans.write("record_consent", (claim_id, consent_hash), idem_key)
        )
        EvidenceService(self.rt).add(
            org, NewItem(content, "promise-to-pay", "application/json", claim_id)
        )
        return entry

    def pay(
        self, claim_id: bytes, by: str, amount_fen: int, receipt: str, *, idem_key: str
    ) -> Entry:
        """Record a payment under the active plan (the gateway or the owner): the registry's
        outstanding amount falls and the instalments are credited in order. The payment
        becomes evidence of kind "repayment" by `by`."""
        amount = check_int(amount_fen, "amount_fen", minimum=1, maximum=2**128 - 1)
        receipt_hash = hashlib.sha256(receipt.encode()).digest()
        entry = self._do(by, self.plans.write("pay", (claim_id, amount, receipt_hash), idem_key))
        record_repayment_evidence(
            self.rt, by, claim_id, amount, receipt_hash, entry, via="repayment-plan"
        )
        return entry

    def check_missed(self, claim_id: bytes, by: str, *, idem_key: str) -> Entry:
        """Break the plan if its next instalment is unpaid past the grace days (anyone may
        ask; nothing happens otherwise)."""
        return self._do(by, self.plans.write("check_missed", (claim_id,), idem_key, gas=200_000))

    def reage(
        self,
        claim_id: bytes,
        owner: str,
        schedule: Schedule,
        *,
        consent_statement: str,
        idem_key: str,
    ) -> Entry:
        """Replace an active or broken plan's schedule with one the debtor agreed to; a
        broken plan is active again."""
        if not consent_statement:
            raise InvalidInput("give the debtor's consent statement", field="statement")
        words = self.packed(claim_id, schedule)
        consent = hashlib.sha256(
            b"\x1f".join([schedule_hash(words), consent_statement.encode()])
        ).digest()
        return self._do(owner, self.plans.write("reage", (claim_id, words, consent), idem_key))

    def _gateway(self) -> str:
        return ContactService(self.rt).gateway

    # ------------------------------------------------------------------ reads

    def show(self, claim_id: bytes) -> dict[str, Any]:
        """The claim's plan: state, instalments (due time, local date, amount, paid), the
        next unpaid one and what was paid into it."""
        (plan, words) = self.plans.calls(
            [("plan_of", (claim_id,)), ("instalments_of", (claim_id,))]
        )
        state, count, nxt, grace, paid_into, digest = plan
        tz = self.tz_of(claim_id) if state else 0
        instalments = []
        for i, (due, amount) in enumerate(unpack_schedule(words)):
            instalments.append(
                {
                    "seq": i + 1,
                    "due_date": local_time(due, tz).date().isoformat(),
                    "due_at": due,
                    "missed_after": datetime.fromtimestamp(due + grace * DAY, UTC).isoformat(),
                    "amount_fen": amount,
                    "paid": i < nxt,
                }
            )
        return {
            "claim_id": "0x" + claim_id.hex(),
            "state": STATES[state],
            "instalments": instalments,
            "count": count,
            "next_instalment": nxt + 1 if nxt < count else None,
            "paid_into_next_fen": paid_into,
            "grace_days": grace,
            "schedule_hash": "0x" + bytes(digest).hex(),
            "tz_offset_minutes": tz,
        }


def first_due_after(now: int, tz_offset_minutes: int, days: int = 30) -> date:
    """A first due date `days` days after the chain time `now`, in the debtor's calendar."""
    return (local_time(now, tz_offset_minutes) + timedelta(days=days)).date()
