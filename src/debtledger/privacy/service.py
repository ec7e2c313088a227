"""The privacy service: claim records whose personal fields live only in the vault, shown to
each role as much as it may see, erased on request, with every read of personal data
anchored as evidence and exposure compared across creditors under Paillier encryption.

What goes where when a creditor registers a record:
  vault (by debtor pseudonym)   the personal fields as plain values (the contact gateway
                                reads "phone" and "email" there) and, per record, each
                                personal field's opening (value and salt)
  claim_records                 the non-personal disclosure (values and salts of the
                                non-personal fields, digests of the personal ones) and the
                                creditor's EIP-191 signature of the record hash
  chain                         the claim with the pseudonym and the record hash only
Nothing here logs or raises a personal value; logs name claims and pseudonyms.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from debtledger.access.service import Principal
from debtledger.chain.writer import Write
from debtledger.claims.service import ClaimService
from debtledger.collection.channels import check_email, check_phone
from debtledger.domain.claims import NewClaim, check_ref, parse_claim
from debtledger.domain.claims import claim_id as claim_id_of
from debtledger.errors import (
    ClaimNotFound,
    Conflict,
    ContractRefused,
    Erased,
    Forbidden,
    InvalidInput,
    NotFound,
    TooFewParties,
)
from debtledger.evidence.service import Batch, EvidenceService, NewItem
from debtledger.orgs.service import OrgService
from debtledger.privacy.aggregation import (
    DEFAULT_KEY_BITS,
    MIN_CONTRIBUTIONS,
    CoordinationKeyHolder,
    exposure_shares,
)
from debtledger.privacy.pseudonym import normalise_national_id
from debtledger.privacy.records import (
    NON_PERSONAL_FIELDS,
    PERSONAL_FIELDS,
    Disclosure,
    Opening,
    add_openings,
    check_value,
    seal_record,
    sign_record,
    verify_disclosure,
    verify_signer,
)
from debtledger.privacy.trail import MAX_LIST, Accessor, AccessRecord, check_debtor
from debtledger.privacy.vault import ErasureRecord
from debtledger.runtime import Runtime
from debtledger.store.db import take_turns
from debtledger.store.models import (
    claim_records_table,
    claims_table,
    erasures_table,
    evidence_batches_table,
    evidence_items_table,
    legal_requests_table,
    pii_access_evidence_table,
    pii_access_table,
    vault_keys_table,
)

log = logging.getLogger(__name__)

# The fields of a claim record; every one is either personal or known non-personal.
REQUIRED_FIELDS = (
    "debtor_name",
    "national_id",
    "phone",
    "address",
    "contract_no",
    "principal_fen",
    "due_date",
)
OPTIONAL_FIELDS = ("email", "outstanding_fen", "currency", "contract_doc_hash")
RECORD_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
assert RECORD_FIELDS == PERSONAL_FIELDS | NON_PERSONAL_FIELDS

FULL = "full"
NON_PERSONAL = "non-personal"
OWNER_PURPOSE = "owner-disclosure"
LEGAL_PURPOSE = "legal-request:"
LEGAL_REQUEST_TYPE = "debtledger-legal-request/1"
MAX_IDEM_KEY = 190  # the chain write's key adds a prefix; the outbox keeps 200
MAX_CASE_REF = 100
MAX_REASON = 2000
ANCHOR_CHUNK = 1000
ANCHORING_ROLES = ("CREDITOR", "AGENCY", "GATEWAY", "COURT")  # EvidenceAnchor's writers
_TEXT_LIMITS = {"debtor_name": 200, "address": 500, "contract_no": 64}
_AMOUNT = re.compile(r"^[0-9]{1,39}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_DOC_HASH = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_CN_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


# ------------------------------------------------------------------ record fields


def opening_field(record_hash: bytes, name: str) -> str:
    """The vault field holding one record's opening (value and salt) of personal field
    `name`: tied to the record hash, so a second record of the same debtor never replaces
    the openings of the first."""
    return f"o{record_hash[:16].hex()}_{name}"


def _text(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("must be text", field=name)
    text = unicodedata.normalize("NFC", value.strip())
    check_value(name, text)
    if not text:
        raise InvalidInput("value is missing", field=name)
    limit = _TEXT_LIMITS.get(name)
    if limit is not None and len(text) > limit:
        raise InvalidInput(f"must be at most {limit} characters", field=name)
    return text


def _amount(value: object, name: str, *, positive: bool = False) -> int:
    """A whole number of fen; the message never repeats the value (a field mix-up could put
    personal data here)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput("must be a whole number of fen", field=name)
    text = str(value).strip()
    if not _AMOUNT.match(text) or int(text) >= 2**128:
        raise InvalidInput("must be a whole number of fen, 0 to 2^128-1", field=name)
    if positive and int(text) == 0:
        raise InvalidInput("must be positive", field=name)
    return int(text)


def _phone(value: object) -> str:
    """E.164; a bare Chinese mobile number (11 digits from 1) gets +86."""
    if not isinstance(value, str):
        raise InvalidInput("must be text", field="phone")
    number = _PHONE_SEPARATORS.sub("", value)
    if number.startswith("0086"):
        number = "+86" + number[4:]
    elif _CN_MOBILE.match(number):
        number = "+86" + number
    return check_phone(number)


def _due_date(value: object) -> str:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput("must be a date as YYYY-MM-DD", field="due_date") from None
    if day.year < 1971:
        raise InvalidInput("due date is before 1971", field="due_date")
    return day.isoformat()


def normalise_record(fields: Mapping[str, object]) -> dict[str, str]:
    """Check a claim record's fields and give each its canonical text (what is salted,
    hashed and stored). Errors name the field and never repeat a value."""
    if not isinstance(fields, Mapping):
        raise InvalidInput("a record is an object of fields", field="fields")
    if set(fields) - RECORD_FIELDS:
        # The unknown names are not echoed: a value passed as a name may be personal data.
        raise InvalidInput(
            f"unknown field; a record holds {', '.join(sorted(RECORD_FIELDS))}", field="fields"
        )
    given = {k: v for k, v in fields.items() if v is not None and v != ""}
    for name in REQUIRED_FIELDS:
        if name not in given:
            raise InvalidInput("value is missing", field=name)
    nid = given["national_id"]
    if not isinstance(nid, str):
        raise InvalidInput("must be text", field="national_id")
    out = {
        "debtor_name": _text(given["debtor_name"], "debtor_name"),
        "national_id": normalise_national_id(nid),
        "phone": _phone(given["phone"]),
        "address": _text(given["address"], "address"),
        "contract_no": _text(given["contract_no"], "contract_no"),
        "due_date": _due_date(given["due_date"]),
    }
    if "email" in given:
        email = given["email"]
        out["email"] = check_email(email if isinstance(email, str) else "")
    principal = _amount(given["principal_fen"], "principal_fen", positive=True)
    outstanding = _amount(given.get("outstanding_fen", principal), "outstanding_fen")
    if outstanding > principal:
        raise InvalidInput("outstanding exceeds principal", field="outstanding_fen")
    out["principal_fen"] = str(principal)
    out["outstanding_fen"] = str(outstanding)
    currency = given.get("currency", "CNY")
    if not isinstance(currency, str) or not _CURRENCY.match(currency.strip()):
        raise InvalidInput("must be a three-letter ISO 4217 code such as CNY", field="currency")
    out["currency"] = currency.strip()
    if "contract_doc_hash" in given:
        doc = given["contract_doc_hash"]
        if not isinstance(doc, str) or not _DOC_HASH.match(doc.strip()):
            raise InvalidInput(
                "must be the document's SHA-256: 64 hex digits", field="contract_doc_hash"
            )
        out["contract_doc_hash"] = "0x" + doc.strip().removeprefix("0x").lower()
    return dict(sorted(out.items()))


def _new_claim(ref: str, debtor: bytes, fields: Mapping[str, str], record_hash: bytes) -> NewClaim:
    claim = parse_claim(
        {
            "claim_ref": ref,
            "debtor_pseudonym": "0x" + debtor.hex(),
            "principal_fen": fields["principal_fen"],
            "outstanding_fen": fields["outstanding_fen"],
            "currency": fields["currency"],
            "due_date": fields["due_date"],
        }
    )
    return replace(claim, record_hash=record_hash)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


def _check_text(value: object, field: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"must be at most {limit} characters", field=field)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput("contains a control character", field=field)
    return value.strip()


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class RegisteredRecord:
    """A stored record and the chain write that registers its claim."""

    claim_id: bytes
    claim_ref: str
    debtor: bytes
    record_hash: bytes
    signature: bytes
    creditor: str
    operation_id: int
    tx_hash: str
    status: str
    block: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "claim_id": _hex(self.claim_id),
            "claim_ref": self.claim_ref,
            "debtor": _hex(self.debtor),
            "record_hash": _hex(self.record_hash),
            "signature": _hex(self.signature),
            "creditor": self.creditor,
            "operation": {
                "id": self.operation_id,
                "tx_hash": self.tx_hash,
                "status": self.status,
                "block": self.block,
            },
        }


@dataclass(frozen=True, repr=False)
class RecordView:
    """A claim's record as one principal may see it: `view` is "full" (every field, opened
    from the vault) or "non-personal"."""

    claim_id: bytes
    claim_ref: str
    debtor: bytes
    record_hash: bytes
    creditor: str
    creditor_address: str
    signature: bytes
    view: str
    disclosure: Disclosure

    def __repr__(self) -> str:  # never the values: a full view holds personal data
        return f"RecordView(claim_id=0x{self.claim_id.hex()}, view={self.view!r})"

    @property
    def fields(self) -> dict[str, str]:
        return {o.name: o.value for o in sorted(self.disclosure.disclosed, key=lambda o: o.name)}

    def to_json(self) -> dict[str, Any]:
        return {
            "claim_id": _hex(self.claim_id),
            "claim_ref": self.claim_ref,
            "debtor": _hex(self.debtor),
            "record_hash": _hex(self.record_hash),
            "creditor": self.creditor,
            "creditor_address": self.creditor_address,
            "signature": _hex(self.signature),
            "view": self.view,
            "fields": self.fields,
            "disclosure": self.disclosure.to_json(),
        }


@dataclass(frozen=True)
class LegalRequest:
    """A court's recorded request for a claim's personal fields."""

    id: int
    claim_id: bytes
    court: str
    case_ref: str
    reason: str
    requested_at: float
    evidence_item: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "claim_id": _hex(self.claim_id),
            "court": self.court,
            "case_ref": self.case_ref,
            "reason": self.reason,
            "requested_at": _iso(self.requested_at),
            "evidence_item": self.evidence_item,
        }

    def content(self) -> bytes:
        """The evidence item's bytes: canonical JSON of the request."""
        body = {"type": LEGAL_REQUEST_TYPE, **self.to_json()}
        body.pop("evidence_item")
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Erasure:
    """A debtor's personal data erased: the anchored statement and where it is."""

    record: ErasureRecord
    requested_by: str
    evidence_item: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.record.to_json(),
            "digest": "0x" + self.record.digest.hex(),
            "requested_by": self.requested_by,
            "evidence_item": self.evidence_item,
        }


@dataclass(frozen=True)
class Exposure:
    """What a creditor learns from an exposure round: its own amount, its share of the
    debtor's total in basis points, and how many creditors took part; nothing of theirs."""

    debtor: bytes
    currency: str
    own_fen: int
    share_bps: int
    creditors: int
    key_bits: int

    def to_json(self) -> dict[str, Any]:
        return {
            "debtor": _hex(self.debtor),
            "currency": self.currency,
            "own_fen": self.own_fen,
            "share_bps": self.share_bps,
            "creditors": self.creditors,
            "key_bits": self.key_bits,
        }


@dataclass(frozen=True)
class TrailAnchoring:
    """What one anchoring of the access trail did."""

    anchored: int  # access records handed to the evidence store this time
    waiting: int  # records of organisations whose key this service does not hold
    batches: list[Batch]

    def to_json(self) -> dict[str, Any]:
        return {
            "anchored": self.anchored,
            "waiting": self.waiting,
            "batches": [
                {"id": b.id, "count": b.count, "tx_hash": b.tx_hash, "block": b.block_number}
                for b in self.batches
            ],
        }


@dataclass(frozen=True)
class _Registration:
    record_hash: bytes
    registrant: str  # checksummed address


# ------------------------------------------------------------------ the service


class PrivacyService:
    """Claim records, disclosures, legal requests, erasure, the anchored access trail and
    exposure shares. With `wait=False` a registration returns once its chain write is in
    the outbox; `key_bits` sets the Paillier key size of exposure rounds."""

    def __init__(self, rt: Runtime, *, wait: bool = True, key_bits: int = DEFAULT_KEY_BITS) -> None:
        self.rt = rt
        self.wait = wait
        self.key_bits = key_bits
        self.orgs = OrgService(rt)
        self.claims = ClaimService(rt, wait=wait)

    # -------------------------------------------------------------- intake

    def register_record(
        self,
        creditor_org: str,
        claim_ref: str,
        record_fields: Mapping[str, object],
        *,
        idem_key: str,
    ) -> RegisteredRecord:
        """Validate a claim record, put its personal fields in the vault under the debtor's
        pseudonym, keep its non-personal part and the creditor's signature, and register the
        claim on chain with the record hash. The same `idem_key` again is the same record:
        nothing is stored or sent twice (the first request's fields win)."""
        ref = check_ref(claim_ref)
        if not isinstance(idem_key, str) or not 1 <= len(idem_key) <= MAX_IDEM_KEY:
            raise InvalidInput(f"must be 1-{MAX_IDEM_KEY} characters", field="idem_key")
        cid = claim_id_of(ref)
        known = self._record_by_key(idem_key)
        if known is not None:
            return self._finish(known, creditor_org, cid)
        fields = normalise_record(record_fields)
        debtor = self.rt.linkage.pseudonym(fields["national_id"])
        account = self.orgs.account(creditor_org)
        if self._record(cid) is not None:
            raise Conflict("registry: claim already registered")
        sealed = seal_record(cid, fields)
        claim = _new_claim(ref, debtor, fields, sealed.record_hash)
        # The contract's refusal (not a creditor, already registered, bad values) before
        # anything is stored.
        self.rt.writer.estimate(account.address, self._register_write(claim, idem_key))
        openings = sealed.personal_openings()
        vault_fields = {n: fields[n] for n in openings}
        vault_fields.update(
            {opening_field(sealed.record_hash, n): o.to_text() for n, o in openings.items()}
        )
        self.rt.vault.put(debtor, vault_fields)
        row = {
            "claim_id": cid,
            "claim_ref": ref,
            "idem_key": idem_key,
            "creditor": creditor_org,
            "creditor_address": account.address,
            "debtor": debtor,
            "record_hash": sealed.record_hash,
            "disclosure": sealed.disclose_non_personal().to_text(),
            "signature": sign_record(sealed.record_hash, cid, bytes(account.key)),
            "operation_id": None,
            "created_at": time.time(),
        }
        try:
            with self.rt.engine.begin() as conn:
                conn.execute(insert(claim_records_table).values(**row))
        except IntegrityError:
            again = self._record_by_key(idem_key)
            if again is not None:  # the same request, sent twice at once
                return self._finish(again, creditor_org, cid)
            raise Conflict("registry: claim already registered") from None
        log.info("claim record stored: claim=0x%s debtor=0x%s", cid.hex(), debtor.hex())
        stored = self._record(cid)
        assert stored is not None
        return self._finish(stored, creditor_org, cid)

    def _register_write(self, claim: NewClaim, idem_key: str) -> Write:
        return Write(
            self.rt.abi("ClaimRegistry"),
            self.rt.address("ClaimRegistry"),
            "register",
            (claim.as_tuple(),),
            _chain_key(idem_key),
        )

    def _finish(self, row: RowMapping, creditor_org: str, cid: bytes) -> RegisteredRecord:
        """Send (or find) the chain write of a stored record."""
        if row["claim_id"] != cid or row["creditor"] != creditor_org:
            raise InvalidInput("this idempotency key was used for another record", field="idem_key")
        fields = Disclosure.from_text(row["disclosure"])
        claim = _new_claim(
            row["claim_ref"],
            bytes(row["debtor"]),
            {o.name: o.value for o in fields.disclosed},
            bytes(row["record_hash"]),
        )
        try:
            entry = self.claims.register(creditor_org, claim, idem_key=_chain_key(row["idem_key"]))
        except ContractRefused:
            if row["operation_id"] is None:
                # Refused before it was stored (e.g. registered meanwhile by another): the
                # record never became the claim's.
                self._drop(cid, row["idem_key"])
            raise
        if row["operation_id"] is None:
            with self.rt.engine.begin() as conn:
                conn.execute(
                    update(claim_records_table)
                    .where(claim_records_table.c.claim_id == cid)
                    .values(operation_id=entry.id)
                )
        return RegisteredRecord(
            claim_id=cid,
            claim_ref=row["claim_ref"],
            debtor=bytes(row["debtor"]),
            record_hash=bytes(row["record_hash"]),
            signature=bytes(row["signature"]),
            creditor=creditor_org,
            operation_id=entry.id,
            tx_hash=entry.tx_hash,
            status=entry.status.value,
            block=entry.block_number,
        )

    def _drop(self, cid: bytes, idem_key: str) -> None:
        with self.rt.engine.begin() as conn:
            conn.execute(
                claim_records_table.delete().where(
                    claim_records_table.c.claim_id == cid,
                    claim_records_table.c.idem_key == idem_key,
                )
            )

    # -------------------------------------------------------------- reads of the store

    def _record(self, cid: bytes) -> RowMapping | None:
        with self.rt.engine.connect() as conn:
            return (
                conn.execute(
                    select(claim_records_table).where(claim_records_table.c.claim_id == cid)
                )
                .mappings()
                .first()
            )

    def _record_by_key(self, idem_key: str) -> RowMapping | None:
        with self.rt.engine.connect() as conn:
            return (
                conn.execute(
                    select(claim_records_table).where(claim_records_table.c.idem_key == idem_key)
                )
                .mappings()
                .first()
            )

    def records(
        self, principal: Principal, *, limit: int = 50, after: bytes | None = None
    ) -> list[dict[str, Any]]:
        """Records the principal may know of, in claim-id order, without any field value: a
        creditor those it registered or owns, an agency those of its mandated claims (owners
        and mandates as the read model has them), a court and a regulator all."""
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"must be 1-{MAX_LIST}", field="limit")
        q = select(
            claim_records_table.c.claim_id,
            claim_records_table.c.claim_ref,
            claim_records_table.c.debtor,
            claim_records_table.c.record_hash,
            claim_records_table.c.creditor,
            claim_records_table.c.creditor_address,
            claim_records_table.c.created_at,
        )
        if principal.role in ("CREDITOR", "AGENCY"):
            column = (
                claims_table.c.owner
                if principal.role == "CREDITOR"
                else claims_table.c.mandate_agency
            )
            with self.rt.engine.connect() as conn:
                found = conn.execute(
                    select(claims_table.c.claim_id).where(column == principal.address)
                ).scalars()
                ids = [bytes.fromhex(c[2:]) for c in found]
            mine: ColumnElement[bool] = claim_records_table.c.claim_id.in_(ids)
            if principal.role == "CREDITOR":  # bought ones, and its own not yet indexed
                mine = or_(mine, claim_records_table.c.creditor_address == principal.address)
            q = q.where(mine)
        elif principal.role not in ("COURT", "REGULATOR"):
            return []
        if after is not None:
            q = q.where(claim_records_table.c.claim_id > after)
        with self.rt.engine.connect() as conn:
            rows = (
                conn.execute(q.order_by(claim_records_table.c.claim_id).limit(limit))
                .mappings()
                .all()
            )
        return [
            {
                "claim_id": _hex(bytes(r["claim_id"])),
                "claim_ref": r["claim_ref"],
                "debtor": _hex(bytes(r["debtor"])),
                "record_hash": _hex(bytes(r["record_hash"])),
                "creditor": r["creditor"],
                "creditor_address": r["creditor_address"],
                "created_at": _iso(r["created_at"]),
            }
            for r in rows
        ]

    # -------------------------------------------------------------- the chain's view

    def _registration(self, cid: bytes) -> _Registration | None:
        """The record hash and registrant of the claim, from its ClaimRegistered event."""
        for ev in self.rt.events.events(
            self.rt.deployment.block, claim_ids=[cid], names=["ClaimRegistered"]
        ):
            return _Registration(bytes(ev.args["record_hash"]), str(ev.args["creditor"]))
        return None

    def _owner(self, cid: bytes) -> str | None:
        try:
            owner, *_ = self.rt.writer.call(
                self.rt.abi("ClaimRegistry"), self.rt.address("ClaimRegistry"), "claims", cid
            )
        except ClaimNotFound:
            return None
        return str(owner)

    def _is_mandated(self, cid: bytes, agency: str) -> bool:
        return bool(
            self.rt.writer.call(
                self.rt.abi("ClaimRegistry"),
                self.rt.address("ClaimRegistry"),
                "is_mandated",
                cid,
                agency,
            )
        )

    # -------------------------------------------------------------- disclosure

    def disclosure(
        self,
        principal: Principal,
        claim_id: bytes,
        *,
        personal: bool = True,
        case_ref: str | None = None,
    ) -> RecordView:
        """The claim's record as `principal` may see it:
          the owning creditor   every field (each personal one read from the vault, recorded
                                in the access trail); `personal=False` for the rest only
          an agency             the non-personal fields, while its mandate is live on chain
          a court               every field, on a recorded legal request (`case_ref`, or its
                                latest for the claim); without one, or with
                                `personal=False`, the non-personal fields
          a regulator           the non-personal fields
        Every view carries the creditor's signature and the digests of what it leaves out,
        so the receiver checks it against the chain. A claim the caller may not see is not
        found; an erased debtor's personal fields are Erased (HTTP 410)."""
        row = self._record(claim_id)
        missing = NotFound(f"no record of claim 0x{claim_id.hex()} visible to {principal.org}")
        if row is None:
            raise missing
        registration = self._registration(claim_id)
        if registration is None or registration.record_hash != bytes(row["record_hash"]):
            raise missing  # not (yet) on chain, or the chain holds another record
        base = Disclosure.from_text(row["disclosure"])
        disclosure, view = base, NON_PERSONAL
        role = principal.role
        if role == "CREDITOR":
            if self._owner(claim_id) != principal.address:
                raise missing
            if personal:
                accessor = Accessor(principal.org, role, OWNER_PURPOSE, claim_id)
                disclosure, view = self._open(row, base, accessor), FULL
        elif role == "AGENCY":
            if not self._is_mandated(claim_id, principal.address):
                raise missing
        elif role == "COURT":
            if personal:
                request = self._legal_request(claim_id, principal.org, case_ref)
                purpose = LEGAL_PURPOSE + request.case_ref
                accessor = Accessor(principal.org, role, purpose, claim_id)
                disclosure, view = self._open(row, base, accessor), FULL
        elif role != "REGULATOR":
            raise missing
        log.info(
            "record disclosed: claim=0x%s to=%s role=%s view=%s",
            claim_id.hex(),
            principal.org,
            role,
            view,
        )
        return RecordView(
            claim_id=claim_id,
            claim_ref=row["claim_ref"],
            debtor=bytes(row["debtor"]),
            record_hash=bytes(row["record_hash"]),
            creditor=row["creditor"],
            creditor_address=row["creditor_address"],
            signature=bytes(row["signature"]),
            view=view,
            disclosure=disclosure,
        )

    def _open(self, row: RowMapping, base: Disclosure, accessor: Accessor) -> Disclosure:
        """`base` with the record's personal fields opened from the vault (each read
        recorded under `accessor`)."""
        debtor, record_hash = bytes(row["debtor"]), bytes(row["record_hash"])
        prefix = opening_field(record_hash, "")
        names = [n for n in self.rt.vault.fields(debtor) if n.startswith(prefix)]
        if not names:
            raise NotFound("the vault holds no personal fields of this record")
        texts = self.rt.vault.get_many(debtor, names, accessor=accessor)
        full = add_openings(base, (Opening.from_text(texts[n]) for n in sorted(texts)))
        verify_disclosure(full, record_hash, bytes(row["claim_id"]))
        return full

    def verify(self, disclosure: Disclosure, signature: bytes | None = None) -> dict[str, Any]:
        """Check a disclosure against the chain: the record hash of the claim's
        ClaimRegistered event, and (when given) the signature against its registrant.
        Raises InvalidProof when either does not hold; returns the disclosed fields."""
        registration = self._registration(disclosure.claim_id)
        if registration is None:
            raise NotFound(f"no claim 0x{disclosure.claim_id.hex()} on chain")
        values = verify_disclosure(disclosure, registration.record_hash, disclosure.claim_id)
        if signature is not None:
            verify_signer(
                registration.record_hash, disclosure.claim_id, signature, registration.registrant
            )
        return {
            "claim_id": _hex(disclosure.claim_id),
            "record_hash": _hex(registration.record_hash),
            "creditor_address": registration.registrant,
            "fields": dict(sorted(values.items())),
            "undisclosed": len(disclosure.undisclosed),
            "signature_verified": signature is not None,
        }

    # -------------------------------------------------------------- courts

    def legal_request(
        self, court: Principal, claim_id: bytes, case_ref: str, reason: str
    ) -> LegalRequest:
        """Record a court's request for the claim's personal fields and anchor it as
        evidence ("legal-notice"); the same case again is the same request."""
        if court.role != "COURT":
            raise Forbidden("only a court may make a legal request")
        case_ref = _check_text(case_ref, "case_ref", MAX_CASE_REF)
        reason = _check_text(reason, "reason", MAX_REASON)
        if self._record(claim_id) is None:
            raise NotFound(f"no record of claim 0x{claim_id.hex()}")
        t = legal_requests_table
        where = (t.c.court == court.org, t.c.claim_id == claim_id, t.c.case_ref == case_ref)
        with self.rt.engine.begin() as conn:
            take_turns(conn, f"legal-request:{claim_id.hex()}")
            row = conn.execute(select(t).where(*where)).mappings().first()
            if row is None:
                conn.execute(
                    insert(t).values(
                        claim_id=claim_id,
                        court=court.org,
                        case_ref=case_ref,
                        reason=reason,
                        requested_at=time.time(),
                    )
                )
                row = conn.execute(select(t).where(*where)).mappings().one()
        request = _legal(row)
        if request.evidence_item is None:
            item = self._evidence_once(court.org, request.content(), "legal-notice", claim_id)
            with self.rt.engine.begin() as conn:
                conn.execute(update(t).where(t.c.id == request.id).values(evidence_item_id=item))
            request = replace(request, evidence_item=item)
            log.info("legal request %d recorded: claim=0x%s", request.id, claim_id.hex())
        EvidenceService(self.rt).run(court.org)
        return request

    def legal_requests(self, court: Principal, claim_id: bytes) -> list[LegalRequest]:
        """A court's requests about one claim, oldest first."""
        if court.role != "COURT":
            raise Forbidden("only a court has legal requests")
        t = legal_requests_table
        with self.rt.engine.connect() as conn:
            rows = conn.execute(
                select(t).where(t.c.court == court.org, t.c.claim_id == claim_id).order_by(t.c.id)
            ).mappings()
            return [_legal(r) for r in rows]

    def _legal_request(self, claim_id: bytes, court: str, case_ref: str | None) -> LegalRequest:
        t = legal_requests_table
        q = select(t).where(t.c.court == court, t.c.claim_id == claim_id)
        if case_ref is not None:
            q = q.where(t.c.case_ref == case_ref)
        with self.rt.engine.connect() as conn:
            row = conn.execute(q.order_by(t.c.id.desc())).mappings().first()
        if row is None or row["evidence_item_id"] is None:
            raise Forbidden(
                "a court sees personal fields only on a recorded legal request: make one first"
            )
        return _legal(row)

    # -------------------------------------------------------------- erasure

    def erase(self, creditor: Principal, debtor: bytes) -> Erasure:
        """Erase the debtor's personal data (PIPL right to deletion) for a creditor that owns
        one of its claims, and anchor the ErasureRecord as evidence ("erasure"). Asking
        again returns the same erasure."""
        check_debtor(debtor)
        if creditor.role != "CREDITOR" or not self._owns_claim_of(creditor.address, debtor):
            raise Forbidden("only a creditor owning a claim of this debtor may erase its data")
        return self._erase(debtor, creditor.org, creditor.org)

    def erase_as_admin(self, debtor: bytes, *, anchor_as: str) -> Erasure:
        """The consortium admin's erasure (needs the admin key here); organisation
        `anchor_as` signs and anchors the evidence."""
        check_debtor(debtor)
        self.orgs.admin()
        # Checked before anything is destroyed: the evidence must be signable and anchorable.
        roles = self.orgs.roles_of(self.orgs.account(anchor_as).address)
        if not set(roles) & set(ANCHORING_ROLES):
            raise InvalidInput(
                f"{anchor_as} may not anchor evidence (needs one of {', '.join(ANCHORING_ROLES)})",
                field="anchor_as",
            )
        return self._erase(debtor, "admin", anchor_as)

    def _owns_claim_of(self, address: str, debtor: bytes) -> bool:
        with self.rt.engine.connect() as conn:
            indexed = conn.execute(
                select(claims_table.c.claim_id).where(
                    claims_table.c.debtor == "0x" + debtor.hex(), claims_table.c.owner == address
                )
            ).first()
            if indexed is not None:
                return True
            ids = list(
                conn.execute(
                    select(claim_records_table.c.claim_id).where(
                        claim_records_table.c.debtor == debtor
                    )
                ).scalars()
            )
        # The read model may lag: ask the chain about the records stored here.
        return any(self._owner(bytes(c)) == address for c in ids)

    def _erase(self, debtor: bytes, by: str, anchor_org: str) -> Erasure:
        e = erasures_table
        with self.rt.engine.connect() as conn:
            row = conn.execute(select(e).where(e.c.debtor == debtor)).mappings().first()
        if row is None:
            try:
                count = len(self.rt.vault.fields(debtor))
            except Erased:  # erased outside this service: its count is not known here
                count = 0
            try:
                with self.rt.engine.begin() as conn:
                    conn.execute(
                        insert(e).values(
                            debtor=debtor, requested_by=by, requested_at=time.time(), fields=count
                        )
                    )
            except IntegrityError:
                pass  # asked twice at once: the first request stands
            with self.rt.engine.connect() as conn:
                row = conn.execute(select(e).where(e.c.debtor == debtor)).mappings().one()
        if row["erased_at"] is None:
            try:
                record = self.rt.vault.erase(debtor)
            except Erased:  # erased, then interrupted before it was noted here
                record = ErasureRecord(debtor, self._erased_at(debtor), int(row["fields"]))
            with self.rt.engine.begin() as conn:
                conn.execute(
                    update(e)
                    .where(e.c.debtor == debtor)
                    .values(erased_at=record.erased_at, fields=record.fields)
                )
            log.info("personal data erased: debtor=0x%s fields=%d", debtor.hex(), record.fields)
        else:
            record = ErasureRecord(debtor, float(row["erased_at"]), int(row["fields"]))
        item = row["evidence_item_id"]
        if item is None:
            item = self._evidence_once(anchor_org, record.leaf_bytes(), "erasure", None)
            with self.rt.engine.begin() as conn:
                conn.execute(update(e).where(e.c.debtor == debtor).values(evidence_item_id=item))
        EvidenceService(self.rt).run(anchor_org)  # also what an interrupted erasure left
        return Erasure(record, row["requested_by"], int(item))

    def _erased_at(self, debtor: bytes) -> float:
        k = vault_keys_table
        with self.rt.engine.connect() as conn:
            at = conn.execute(select(k.c.erased_at).where(k.c.debtor == debtor)).scalar()
        return float(at) if at is not None else time.time()

    # -------------------------------------------------------------- evidence

    def _evidence_once(self, org: str, content: bytes, kind: str, claim_id: bytes | None) -> int:
        """The evidence item holding `content` (found by its hash, so an interrupted
        attempt that got as far as the evidence store is not added twice)."""
        digest = hashlib.sha256(content).digest()
        with self.rt.engine.connect() as conn:
            found = conn.execute(
                select(evidence_items_table.c.id)
                .where(
                    evidence_items_table.c.content_hash == digest,
                    evidence_items_table.c.kind == kind,
                    evidence_items_table.c.organisation == org,
                )
                .order_by(evidence_items_table.c.id)
            ).first()
        if found is not None:
            return int(found[0])
        added = EvidenceService(self.rt).add(
            org, NewItem(content, kind, "application/json", claim_id)
        )
        return int(added["id"])

    # -------------------------------------------------------------- the access trail

    def anchor_access_trail(self, *, chunk: int = ANCHOR_CHUNK) -> TrailAnchoring:
        """Hand every access record not yet anchored to the evidence store (kind
        "access-record", content its canonical JSON, signed by the organisation that read)
        and anchor the batches. Each record is anchored once: which item holds it is kept,
        and an interrupted run finds the items it had added by their content. Records of
        organisations whose key is not held here wait."""
        evidence = EvidenceService(self.rt)
        done, waiting, last = 0, 0, 0
        touched: set[str] = set()
        usable: dict[str, bool] = {}
        while True:
            with self.rt.engine.connect() as conn:
                rows = (
                    conn.execute(
                        select(pii_access_table)
                        .outerjoin(
                            pii_access_evidence_table,
                            pii_access_evidence_table.c.access_id == pii_access_table.c.id,
                        )
                        .where(
                            pii_access_evidence_table.c.access_id.is_(None),
                            pii_access_table.c.id > last,
                        )
                        .order_by(pii_access_table.c.id)
                        .limit(chunk)
                    )
                    .mappings()
                    .all()
                )
            if not rows:
                break
            last = int(rows[-1]["id"])
            by_org: dict[str, list[AccessRecord]] = {}
            for r in rows:
                by_org.setdefault(r["actor_org"], []).append(_access_record(r))
            for org, recs in by_org.items():
                if org not in usable:
                    usable[org] = self._holds_key(org)
                if not usable[org]:
                    waiting += len(recs)
                    continue
                done += self._anchor_records(evidence, org, recs)
                touched.add(org)
        made = [b for org in sorted(touched) for b in evidence.run(org)]
        if done or waiting:
            log.info("access trail: %d records anchored, %d waiting", done, waiting)
        return TrailAnchoring(done, waiting, made)

    def _holds_key(self, org: str) -> bool:
        try:
            self.orgs.account(org)
        except (NotFound, InvalidInput):
            return False
        return True

    def _anchor_records(self, evidence: EvidenceService, org: str, recs: list[AccessRecord]) -> int:
        contents = {r.id: r.leaf_bytes() for r in recs}
        digests = {hashlib.sha256(c).digest(): i for i, c in contents.items()}
        with self.rt.engine.connect() as conn:
            found = {
                bytes(h): int(i)
                for h, i in conn.execute(
                    select(evidence_items_table.c.content_hash, evidence_items_table.c.id).where(
                        evidence_items_table.c.kind == "access-record",
                        evidence_items_table.c.organisation == org,
                        evidence_items_table.c.content_hash.in_(list(digests)),
                    )
                )
            }
        item_of = {digests[h]: i for h, i in found.items()}
        fresh = [r for r in recs if r.id not in item_of]
        if fresh:
            added = evidence.add_many(
                org,
                [
                    NewItem(contents[r.id], "access-record", "application/json", r.claim_id)
                    for r in fresh
                ],
            )
            item_of.update({r.id: int(a["id"]) for r, a in zip(fresh, added, strict=True)})
        now = time.time()
        stored = 0
        with self.rt.engine.begin() as conn:
            take_turns(conn, "pii-access-evidence")
            have = set(
                conn.execute(
                    select(pii_access_evidence_table.c.access_id).where(
                        pii_access_evidence_table.c.access_id.in_(list(item_of))
                    )
                ).scalars()
            )
            new_rows = [
                {"access_id": a, "evidence_item_id": i, "anchored_at": now}
                for a, i in sorted(item_of.items())
                if a not in have
            ]
            if new_rows:
                conn.execute(insert(pii_access_evidence_table), new_rows)
                stored = len(new_rows)
        return stored

    def access_log(
        self,
        principal: Principal,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        debtor: bytes | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """The access trail as the regulator reads it (see `access_records`)."""
        if principal.role != "REGULATOR":
            raise Forbidden("the access trail is the regulator's to read")
        return self.access_records(
            since=since, until=until, debtor=debtor, limit=limit, after=after
        )

    def access_records(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        debtor: bytes | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """Access records in id order (filters as `AccessTrail.list`), each with where it is
        anchored: its evidence item, the item's batch and the batch's transaction (None
        until each exists)."""
        recs = self.rt.vault.trail.list(since, until, debtor, limit, after)
        where: dict[int, RowMapping] = {}
        if recs:
            q = (
                select(
                    pii_access_evidence_table.c.access_id,
                    pii_access_evidence_table.c.evidence_item_id,
                    evidence_items_table.c.batch_id,
                    evidence_batches_table.c.tx_hash,
                    evidence_batches_table.c.block_number,
                )
                .join(
                    evidence_items_table,
                    evidence_items_table.c.id == pii_access_evidence_table.c.evidence_item_id,
                )
                .outerjoin(
                    evidence_batches_table,
                    evidence_batches_table.c.id == evidence_items_table.c.batch_id,
                )
                .where(pii_access_evidence_table.c.access_id.in_([r.id for r in recs]))
            )
            with self.rt.engine.connect() as conn:
                where = {int(r["access_id"]): r for r in conn.execute(q).mappings()}
        out = []
        for rec in recs:
            at = where.get(rec.id)
            out.append(
                {
                    **rec.to_json(),
                    "evidence_item": None if at is None else int(at["evidence_item_id"]),
                    "batch": None if at is None else at["batch_id"],
                    "tx_hash": None if at is None else at["tx_hash"],
                    "block": None if at is None else at["block_number"],
                    "anchored": at is not None and at["block_number"] is not None,
                }
            )
        return out

    # -------------------------------------------------------------- exposure

    def exposure(self, creditor: Principal, debtor: bytes, *, currency: str = "CNY") -> Exposure:
        """One Paillier round over the outstanding amounts of the debtor's active claims in
        `currency`, summed per owning creditor (from the read model). The caller gets its
        own amount, its share and the number of creditors. Refused with TooFewParties (HTTP
        409) under three creditors: the total would give the others' amounts away."""
        check_debtor(debtor)
        if creditor.role != "CREDITOR":
            raise Forbidden("only a creditor takes part in an exposure round")
        if not isinstance(currency, str) or not _CURRENCY.match(currency):
            raise InvalidInput("must be a three-letter ISO 4217 code such as CNY", field="currency")
        amounts = self._exposures(debtor, currency)
        if creditor.address not in amounts:
            raise NotFound(f"{creditor.org} owns no active {currency} claim of this debtor")
        if len(amounts) < MIN_CONTRIBUTIONS:
            raise TooFewParties(
                f"privacy: an exposure round needs at least {MIN_CONTRIBUTIONS} creditors "
                "with active claims of the debtor, so that no amount can be worked out"
            )
        holder = CoordinationKeyHolder(self.key_bits)
        mine = exposure_shares(amounts, holder)[creditor.address]
        log.info("exposure round: debtor=0x%s creditors=%d", debtor.hex(), len(amounts))
        return Exposure(
            debtor=debtor,
            currency=currency,
            own_fen=mine.own_fen,
            share_bps=mine.basis_points,
            creditors=len(amounts),
            key_bits=holder.public_key.bits,
        )

    def _exposures(self, debtor: bytes, currency: str) -> dict[str, int]:
        q = select(claims_table.c.owner, claims_table.c.outstanding).where(
            claims_table.c.debtor == "0x" + debtor.hex(),
            claims_table.c.status == "active",
            claims_table.c.currency == currency,
        )
        amounts: dict[str, int] = {}
        with self.rt.engine.connect() as conn:
            for owner, outstanding in conn.execute(q):
                amounts[owner] = amounts.get(owner, 0) + int(outstanding)
        return amounts


# ------------------------------------------------------------------ helpers


def _chain_key(idem_key: str) -> str:
    return f"record:{idem_key}"


def _legal(row: RowMapping) -> LegalRequest:
    item = row["evidence_item_id"]
    return LegalRequest(
        id=int(row["id"]),
        claim_id=bytes(row["claim_id"]),
        court=row["court"],
        case_ref=row["case_ref"],
        reason=row["reason"],
        requested_at=float(row["requested_at"]),
        evidence_item=None if item is None else int(item),
    )


def _access_record(r: RowMapping) -> AccessRecord:
    return AccessRecord(
        id=int(r["id"]),
        accessed_at=float(r["accessed_at"]),
        actor_org=r["actor_org"],
        actor_role=r["actor_role"],
        debtor=bytes(r["debtor"]),
        field=r["field"],
        purpose=r["purpose"],
        claim_id=None if r["claim_id"] is None else bytes(r["claim_id"]),
    )


def parse_pseudonym(text: str, field: str = "debtor") -> bytes:
    """A debtor pseudonym given as 0x + 64 hex digits."""
    if not isinstance(text, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", text.strip()):
        raise InvalidInput("must be a pseudonym: 0x followed by 64 hex digits", field=field)
    return bytes.fromhex(text.strip()[2:])
