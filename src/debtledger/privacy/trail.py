"""The access trail of personal data: one record per decryption (who, in which role, for
what purpose, which debtor's which field, for which claim), kept in the store.

The vault writes a record in the same transaction as the read it records, so nothing is
decrypted unrecorded. Each record has a canonical JSON form (`leaf_bytes`) that the
evidence batcher hashes and anchors on chain. Records hold pseudonyms, never personal data.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from debtledger.errors import InvalidInput
from debtledger.privacy.records import check_field_name
from debtledger.store.models import pii_access_table

RECORD_TYPE = "debtledger-pii-access/1"
MAX_LIST = 1000
# Column sizes of pii_access.
_LIMITS = {"actor_org": 63, "actor_role": 20, "purpose": 200}


def check_debtor(debtor: bytes) -> bytes:
    """A debtor pseudonym: 32 bytes."""
    if not isinstance(debtor, bytes) or len(debtor) != 32:
        raise InvalidInput("debtor pseudonym must be 32 bytes", field="debtor")
    return debtor


def _check_text(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("must not be empty", field=field)
    if len(value) > _LIMITS[field]:
        raise InvalidInput(f"must be at most {_LIMITS[field]} characters", field=field)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput("contains a control character", field=field)
    return value


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Accessor:
    """Who reads personal data and why: the organisation, its role, the purpose (free text
    without personal data, e.g. "sms-reminder") and the claim it is for, if any."""

    org: str
    role: str
    purpose: str
    claim_id: bytes | None = None

    def check(self) -> Accessor:
        _check_text(self.org, "actor_org")
        _check_text(self.role, "actor_role")
        _check_text(self.purpose, "purpose")
        if self.claim_id is not None and (
            not isinstance(self.claim_id, bytes) or len(self.claim_id) != 32
        ):
            raise InvalidInput("claim id must be 32 bytes", field="claim_id")
        return self


@dataclass(frozen=True)
class AccessRecord:
    """One recorded decryption."""

    id: int
    accessed_at: float  # unix seconds
    actor_org: str
    actor_role: str
    debtor: bytes
    field: str
    purpose: str
    claim_id: bytes | None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.accessed_at, UTC)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": RECORD_TYPE,
            "id": self.id,
            "accessed_at": _iso(self.accessed_at),
            "actor_org": self.actor_org,
            "actor_role": self.actor_role,
            "debtor": "0x" + self.debtor.hex(),
            "field": self.field,
            "purpose": self.purpose,
            "claim_id": None if self.claim_id is None else "0x" + self.claim_id.hex(),
        }

    def leaf_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no spaces, UTF-8): the bytes to hash and anchor."""
        return json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")


class AccessTrail:
    """The pii_access table: write records (alone, or inside a caller's transaction) and
    list them in id order."""

    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock

    def record(
        self,
        actor_org: str,
        actor_role: str,
        debtor: bytes,
        field: str,
        purpose: str,
        claim_id: bytes | None = None,
    ) -> AccessRecord:
        """Record one access in its own transaction."""
        accessor = Accessor(actor_org, actor_role, purpose, claim_id)
        with self.engine.begin() as conn:
            return self.record_in(conn, accessor, debtor, field)

    def record_in(
        self, conn: Connection, accessor: Accessor, debtor: bytes, field: str
    ) -> AccessRecord:
        """Record one access inside the caller's transaction `conn` (it commits or rolls
        back with whatever the caller reads there)."""
        accessor.check()
        check_debtor(debtor)
        check_field_name(field)
        at = self.clock()
        result = conn.execute(
            insert(pii_access_table).values(
                accessed_at=at,
                actor_org=accessor.org,
                actor_role=accessor.role,
                debtor=debtor,
                field=field,
                purpose=accessor.purpose,
                claim_id=accessor.claim_id,
            )
        )
        key = result.inserted_primary_key
        assert key is not None and key[0] is not None
        return AccessRecord(
            id=int(key[0]),
            accessed_at=at,
            actor_org=accessor.org,
            actor_role=accessor.role,
            debtor=debtor,
            field=field,
            purpose=accessor.purpose,
            claim_id=accessor.claim_id,
        )

    def list(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        debtor: bytes | None = None,
        limit: int = 100,
        after: int | None = None,
    ) -> list[AccessRecord]:
        """Records in id order: at or after `since`, before `until`, of `debtor`, with an
        id above `after` (the last id of the previous page), at most `limit` (1-1000)."""
        if not 1 <= limit <= MAX_LIST:
            raise InvalidInput(f"must be 1-{MAX_LIST}", field="limit")
        t = pii_access_table
        query = select(t).order_by(t.c.id).limit(limit)
        if since is not None:
            query = query.where(t.c.accessed_at >= _timestamp(since, "since"))
        if until is not None:
            query = query.where(t.c.accessed_at < _timestamp(until, "until"))
        if debtor is not None:
            query = query.where(t.c.debtor == check_debtor(debtor))
        if after is not None:
            query = query.where(t.c.id > after)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            AccessRecord(
                id=int(r["id"]),
                accessed_at=float(r["accessed_at"]),
                actor_org=r["actor_org"],
                actor_role=r["actor_role"],
                debtor=bytes(r["debtor"]),
                field=r["field"],
                purpose=r["purpose"],
                claim_id=None if r["claim_id"] is None else bytes(r["claim_id"]),
            )
            for r in rows
        ]


def _timestamp(when: datetime, field: str) -> float:
    if when.tzinfo is None:
        raise InvalidInput("must be timezone-aware", field=field)
    return when.timestamp()
