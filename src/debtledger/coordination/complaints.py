"""Debtors' complaints: filed through the gateway (which acts for the debtor) or by a
regulator, against a claim or one of its contacts; kept, anchored as evidence, shown to the
claim's owner, regulators, courts and the gateway, and resolved by the owner or a regulator.

While a complaint is open the claim's contacts pause: the gateway asks
`check_no_open_complaint` before it authorises one. The debtor's own words (`details`) are
kept here and in the evidence item for those who may read them, and never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from debtledger.access.service import Principal
from debtledger.errors import (
    ClaimNotFound,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PolicyRefused,
)
from debtledger.evidence.service import EvidenceService, NewItem
from debtledger.orgs.service import OrgService
from debtledger.runtime import Runtime
from debtledger.store.db import take_turns
from debtledger.store.models import claims_table, complaints_table

log = logging.getLogger(__name__)

RECORD_TYPE = "debtledger-complaint/1"
# The gateway's contact records (collection.gateway.RECORD_TYPE); named here, not imported,
# so that the gateway can import this module for its pause check.
CONTACT_RECORD = "debtledger-contact/1"
RESOLUTION_TYPE = "debtledger-complaint-resolution/1"
OPEN, RESOLVED = "open", "resolved"
STATUSES = (OPEN, RESOLVED)
CATEGORIES = (
    "harassment",
    "contact-hours",
    "too-many-contacts",
    "third-party",
    "wrong-amount",
    "not-my-debt",
    "privacy",
    "other",
)
REFUSAL_RULE = "policy: complaint-open"
FILERS = ("GATEWAY", "REGULATOR")
READERS = ("REGULATOR", "COURT", "GATEWAY")
# Organisations that may anchor evidence (EvidenceAnchor's writers); a regulator's filings
# are anchored by the gateway organisation, which receives complaints.
ANCHORING_ROLES = ("CREDITOR", "AGENCY", "GATEWAY", "COURT")
MAX_DETAILS = 2_000
MAX_LIST = 500
ZERO_ADDRESS = "0x" + "00" * 20
_CONTACT_ID = re.compile(r"^ct_[0-9a-f]{32}$")


def _hex(claim_id: bytes) -> str:
    return "0x" + claim_id.hex()


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def _canonical(data: Mapping[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def check_text(value: object, field: str, *, required: bool) -> str:
    """Free text of at most MAX_DETAILS characters (never echoed in the error)."""
    if not isinstance(value, str):
        raise InvalidInput("must be text", field=field)
    text = value.strip()
    if required and not text:
        raise InvalidInput("must not be empty", field=field)
    if len(text) > MAX_DETAILS:
        raise InvalidInput(f"must be at most {MAX_DETAILS} characters", field=field)
    return text


def check_category(value: object) -> str:
    if not isinstance(value, str) or value not in CATEGORIES:
        raise InvalidInput(f"must be one of {', '.join(CATEGORIES)}", field="category")
    return value


def complaint_public(row: RowMapping) -> dict[str, Any]:
    """A complaint as its readers see it."""
    return {
        "id": int(row["id"]),
        "claim_id": row["claim_id"],
        "contact_id": row["contact_id"],
        "contact_item_id": row["contact_item_id"],
        "creditor": row["creditor"],
        "agency": row["agency"],
        "category": row["category"],
        "details": row["details"],
        "status": row["status"],
        "filed_by": row["filed_by"],
        "filed_role": row["filed_role"],
        "filed_at": _iso(row["filed_at"]),
        "resolved_by": row["resolved_by"],
        "resolved_at": _iso(row["resolved_at"]),
        "resolution": row["resolution"],
        "evidence_item_id": row["evidence_item_id"],
        "resolution_item_id": row["resolution_item_id"],
    }


class Complaints:
    """Filing, resolving and reading complaints; the gateway's pause check."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.orgs = OrgService(rt)

    # ------------------------------------------------------------------ the gateway's check

    def open_complaints(self, claim_id: bytes) -> list[int]:
        """Ids of the claim's open complaints, oldest first."""
        c = complaints_table.c
        with self.rt.engine.connect() as conn:
            return [
                int(i)
                for i in conn.execute(
                    select(c.id)
                    .where(c.claim_id == _hex(claim_id), c.status == OPEN)
                    .order_by(c.id)
                ).scalars()
            ]

    def check_no_open_complaint(self, claim_id: bytes) -> None:
        """Raises PolicyRefused("policy: complaint-open") while the claim has an open
        complaint: its contacts pause until the complaint is resolved."""
        if self.open_complaints(claim_id):
            raise PolicyRefused(REFUSAL_RULE)

    # ------------------------------------------------------------------ filing

    def file(
        self,
        principal: Principal,
        claim_id: bytes,
        *,
        category: str,
        details: str = "",
        contact_id: str | None = None,
        idem_key: str | None = None,
    ) -> dict[str, Any]:
        """File a debtor's complaint about a claim (and, with `contact_id`, one of its
        contacts through the gateway), as the gateway acting for the debtor or as a
        regulator. It is anchored as evidence (kind "message", application/json) and pauses
        the claim's contacts until resolved. The same `idem_key` from the same organisation
        files once. Raises Forbidden for other roles, ClaimNotFound, NotFound for a contact
        that is not the claim's."""
        if principal.role not in FILERS:
            raise Forbidden("a complaint is filed by the gateway for the debtor, or a regulator")
        category = check_category(category)
        details = check_text(details, "details", required=False)
        if contact_id is not None and not _CONTACT_ID.match(contact_id):
            raise InvalidInput("a contact id is ct_ followed by 32 hex digits", field="contact_id")
        idem = None
        if idem_key is not None:
            if not 1 <= len(idem_key) <= 200:
                raise InvalidInput("must be 1-200 characters", field="idempotency_key")
            idem = hashlib.sha256(f"{principal.org}\x1f{idem_key}".encode()).hexdigest()
            done = self._by_idem(idem)
            if done is not None:
                if done["claim_id"] != _hex(claim_id):
                    raise Conflict("the idempotency key was used for another complaint")
                return complaint_public(done)
        owner, mandated = self._claim(claim_id)
        agency, contact_item = mandated, None
        if contact_id is not None:
            contact_item, requester = self._contact(claim_id, contact_id)
            agency = self._address(requester)
            if agency is not None and agency.lower() == owner.lower():
                agency = None  # the owner's own contact: no agency to name
        now = time.time()
        c = complaints_table
        try:
            with self.rt.engine.begin() as conn:
                result = conn.execute(
                    insert(c).values(
                        claim_id=_hex(claim_id),
                        contact_id=contact_id,
                        contact_item_id=contact_item,
                        creditor=owner,
                        agency=agency,
                        category=category,
                        details=details,
                        filed_by=principal.org,
                        filed_role=principal.role,
                        filed_at=now,
                        idem_key=idem,
                        status=OPEN,
                    )
                )
                key = result.inserted_primary_key
                assert key is not None
                complaint_id = int(key[0])
        except IntegrityError:
            assert idem is not None  # the only unique column a filing can collide on
            done = self._by_idem(idem)
            if done is None:  # pragma: no cover - the row that collided is there
                raise
            return complaint_public(done)
        record = {
            "type": RECORD_TYPE,
            "complaint_id": complaint_id,
            "claim_id": _hex(claim_id),
            "contact_id": contact_id,
            "contact_item_id": contact_item,
            "category": category,
            "details_sha256": hashlib.sha256(details.encode()).hexdigest(),
            "filed_by": principal.org,
            "filed_role": principal.role,
            "filed_at": _iso(now),
        }
        item = self._evidence(principal, claim_id, record)
        with self.rt.engine.begin() as conn:
            conn.execute(update(c).where(c.c.id == complaint_id).values(evidence_item_id=item))
        log.info(
            "complaint %d filed about claim %s by %s (%s)",
            complaint_id,
            _hex(claim_id),
            principal.org,
            category,
        )
        return self._row(complaint_id)

    # ------------------------------------------------------------------ resolving

    def resolve(
        self, principal: Principal, complaint_id: int, *, resolution: str
    ) -> dict[str, Any]:
        """Resolve an open complaint, as the claim's owner or a regulator; the claim's
        contacts resume once none of its complaints is open. The resolution is anchored as
        evidence. Raises Conflict when it is resolved already."""
        resolution = check_text(resolution, "resolution", required=True)
        row = self._visible(principal, complaint_id)
        if principal.role == "CREDITOR":
            owner, _ = self._claim(bytes.fromhex(row["claim_id"][2:]))
            if owner.lower() != principal.address.lower():
                raise Forbidden("only the claim's owner or a regulator resolves a complaint")
        elif principal.role != "REGULATOR":
            raise Forbidden("only the claim's owner or a regulator resolves a complaint")
        if row["status"] != OPEN:
            raise Conflict(f"complaint {complaint_id} is resolved already")
        now = time.time()
        c = complaints_table
        with self.rt.engine.begin() as conn:
            take_turns(conn, f"complaint:{complaint_id}")
            done = conn.execute(
                update(c)
                .where(c.c.id == complaint_id, c.c.status == OPEN)
                .values(
                    status=RESOLVED,
                    resolved_by=principal.org,
                    resolved_role=principal.role,
                    resolved_at=now,
                    resolution=resolution,
                )
            )
            if done.rowcount != 1:
                raise Conflict(f"complaint {complaint_id} is resolved already")
        record = {
            "type": RESOLUTION_TYPE,
            "complaint_id": complaint_id,
            "claim_id": row["claim_id"],
            "resolution_sha256": hashlib.sha256(resolution.encode()).hexdigest(),
            "resolved_by": principal.org,
            "resolved_role": principal.role,
            "resolved_at": _iso(now),
        }
        item = self._evidence(principal, bytes.fromhex(row["claim_id"][2:]), record)
        with self.rt.engine.begin() as conn:
            conn.execute(update(c).where(c.c.id == complaint_id).values(resolution_item_id=item))
        log.info("complaint %d resolved by %s", complaint_id, principal.org)
        return self._row(complaint_id)

    # ------------------------------------------------------------------ reading

    def get(self, principal: Principal, complaint_id: int) -> dict[str, Any]:
        """One complaint, for its readers; NotFound for anyone else."""
        return complaint_public(self._visible(principal, complaint_id))

    def list(
        self,
        principal: Principal,
        *,
        claim_id: bytes | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """The complaints `principal` may read, newest first: a creditor those about the
        claims it owns (or owned when the complaint was filed); regulators, courts and the
        gateway all."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"must be one of {', '.join(STATUSES)}", field="status")
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"must be 1-{MAX_LIST}", field="limit")
        c = complaints_table.c
        q = select(complaints_table).where(self._readable(principal))
        if claim_id is not None:
            q = q.where(c.claim_id == _hex(claim_id))
        if status is not None:
            q = q.where(c.status == status)
        with self.rt.engine.connect() as conn:
            rows = conn.execute(q.order_by(c.id.desc()).limit(limit)).mappings().all()
        return [complaint_public(r) for r in rows]

    # ------------------------------------------------------------------ internals

    def _readable(self, principal: Principal) -> Any:
        c = complaints_table.c
        if principal.role in READERS:
            return c.id.is_not(None)
        if principal.role == "CREDITOR":
            owned = select(claims_table.c.claim_id).where(claims_table.c.owner == principal.address)
            return or_(c.creditor == principal.address, c.claim_id.in_(owned))
        return c.id.is_(None)

    def _visible(self, principal: Principal, complaint_id: int) -> RowMapping:
        c = complaints_table
        with self.rt.engine.connect() as conn:
            row = (
                conn.execute(select(c).where(c.c.id == complaint_id, self._readable(principal)))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"no complaint {complaint_id} visible to {principal.org}")
        return row

    def _row(self, complaint_id: int) -> dict[str, Any]:
        c = complaints_table
        with self.rt.engine.connect() as conn:
            row = conn.execute(select(c).where(c.c.id == complaint_id)).mappings().one()
        return complaint_public(row)

    def _by_idem(self, idem: str) -> RowMapping | None:
        c = complaints_table
        with self.rt.engine.connect() as conn:
            return conn.execute(select(c).where(c.c.idem_key == idem)).mappings().first()

    def _claim(self, claim_id: bytes) -> tuple[str, str | None]:
        """The claim's owner and its live mandate's agency (None: none), from the chain."""
        abi, at = self.rt.abi("ClaimRegistry"), self.rt.address("ClaimRegistry")
        owner = str(self.rt.writer.call(abi, at, "claims", claim_id)[0])
        if owner == ZERO_ADDRESS:  # pragma: no cover - the registry reverts for these
            raise ClaimNotFound(f"registry: unknown claim {_hex(claim_id)}")
        agency, _expiry = self.rt.writer.call(abi, at, "mandate_of", claim_id)
        live = agency != ZERO_ADDRESS and self.rt.writer.call(
            abi, at, "is_mandated", claim_id, agency
        )
        return owner, (str(agency) if live else None)

    def _contact(self, claim_id: bytes, contact_id: str) -> tuple[int, str]:
        """The evidence item and requester of the gateway's contact `contact_id` of the
        claim; NotFound when the claim has no such contact."""
        evidence = EvidenceService(self.rt)
        for item in evidence.items_of_claim(claim_id):
            if item["kind"] != "contact":
                continue
            try:
                record = json.loads(evidence.content_path(item["id"]).read_bytes())
            except (NotFound, ValueError):
                continue
            if (
                isinstance(record, dict)
                and record.get("type") == CONTACT_RECORD
                and record.get("contact_id") == contact_id
            ):
                return int(item["id"]), str(record["requester"])
        raise NotFound(f"claim {_hex(claim_id)} has no contact {contact_id}")

    def _address(self, org: str) -> str | None:
        try:
            return self.orgs.address(org)
        except NotFound:
            return None

    def _evidence(self, principal: Principal, claim_id: bytes, record: Mapping[str, Any]) -> int:
        """Anchor `record` as a "message" item of the acting organisation where it may
        anchor evidence, else of the gateway organisation."""
        org = principal.org
        if principal.role not in ANCHORING_ROLES:
            from debtledger.collection.gateway import ContactService  # it imports us: late

            org = ContactService(self.rt).gateway
        item = EvidenceService(self.rt).add(
            org, NewItem(_canonical(record), "message", "application/json", claim_id)
        )
        return int(item["id"])
