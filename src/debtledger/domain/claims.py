"""Claims as the ledger sees them: validated input, ids, statuses and the record hash.

Pure rules, no I/O. Amounts are integer counts of the currency's minor unit (fen for
CNY); a date is a calendar date, stored on chain as the unix time of its UTC midnight.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import IntEnum

from Crypto.Hash import keccak

from debtledger.errors import InvalidInput

MAX_AMOUNT = 2**128 - 1
_HEX32 = re.compile(r"^0x[0-9a-fA-F]{64}$")
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_INT = re.compile(r"^[0-9]+$")

CSV_COLUMNS = (
    "claim_ref",
    "debtor_pseudonym",
    "principal_fen",
    "outstanding_fen",
    "currency",
    "due_date",
)


class ClaimStatus(IntEnum):
    ACTIVE = 1
    SETTLED = 2
    WRITTEN_OFF = 3
    DISPUTED = 4

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")


@dataclass(frozen=True)
class NewClaim:
    """A claim ready to register: what goes on chain plus its reference."""

    ref: str
    claim_id: bytes
    debtor: bytes
    principal: int
    outstanding: int
    currency: str
    due_date: date
    record_hash: bytes
    row: int | None = None  # where it came from in an import file

    def as_tuple(self) -> tuple[bytes, bytes, int, int, bytes]:
        """The contract's ClaimInput struct."""
        return pack_claim(
            self.claim_id,
            self.debtor,
            self.principal,
            self.outstanding,
            self.currency.encode(),
            due_timestamp(self.due_date),
            self.record_hash,
        )


def pack_claim(
    claim_id: bytes,
    debtor: bytes,
    principal: int,
    outstanding: int,
    currency: bytes,
    due_date: int,
    record_hash: bytes,
) -> tuple[bytes, bytes, int, int, bytes]:
    """The registry's packed ClaimInput: (id, debtor, principal<<128 | outstanding,
    currency<<64 | due date, record hash). Values out of their field's range are refused
    here, as the ABI would refuse them unpacked."""
    if not (0 <= principal < 1 << 128 and 0 <= outstanding < 1 << 128):
        raise ValueError("amounts must fit in 128 bits")
    if not 0 <= due_date < 1 << 64 or len(currency) != 3:
        raise ValueError("due date must fit in 64 bits and currency be three bytes")
    terms = (int.from_bytes(currency, "big") << 64) | due_date
    return (claim_id, debtor, (principal << 128) | outstanding, terms, record_hash)


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def claim_id(ref: str) -> bytes:
    """The on-chain id of a claim reference (keccak-256 of the reference text)."""
    return keccak256(ref.encode())


def parse_claim_id(text: str) -> bytes:
    """A claim given as 0x-hex id or as its reference."""
    if _HEX32.match(text):
        return bytes.fromhex(text[2:])
    return claim_id(check_ref(text))


def check_ref(ref: str, row: int | None = None) -> str:
    if not _REF.match(ref):
        raise InvalidInput(
            "claim reference must be 1-128 letters, digits or . _ : / - (no spaces)",
            field="claim_ref",
            row=row,
        )
    return ref


def parse_amount(
    value: object, field: str, row: int | None = None, *, positive: bool = False
) -> int:
    """An amount in minor units: a non-negative whole number, never a float or a fraction."""
    if isinstance(value, bool | float):
        raise InvalidInput("amount must be a whole number of fen", field=field, row=row)
    text = str(value).strip()
    if text.startswith("-"):
        raise InvalidInput(f"amount must not be negative (got {text})", field=field, row=row)
    if not _INT.match(text):
        raise InvalidInput(
            f"amount must be a whole number of fen (got {text!r})", field=field, row=row
        )
    amount = int(text)
    if amount > MAX_AMOUNT:
        raise InvalidInput("amount is too large", field=field, row=row)
    if positive and amount == 0:
        raise InvalidInput("amount must be positive", field=field, row=row)
    return amount


def parse_bytes32(value: str, field: str, row: int | None = None) -> bytes:
    if not _HEX32.match(value.strip()):
        raise InvalidInput("must be 0x followed by 64 hex digits", field=field, row=row)
    raw = bytes.fromhex(value.strip()[2:])
    if raw == bytes(32):
        raise InvalidInput("must not be zero", field=field, row=row)
    return raw


def parse_date(value: str, field: str, row: int | None = None) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"must be a date as YYYY-MM-DD (got {value!r})", field=field, row=row
        ) from None


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def due_timestamp(day: date) -> int:
    """Unix time of the day's UTC midnight."""
    return (day.toordinal() - _EPOCH_ORDINAL) * 86_400


def from_timestamp(ts: int) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def record_hash(record: dict[str, str]) -> bytes:
    """Commitment to the full off-chain record: SHA-256 over its fields in a fixed order,
    each as `name=value` separated by the unit separator (which a field cannot contain)."""
    canonical = "\x1f".join(f"{k}={record[k]}" for k in sorted(record))
    return hashlib.sha256(canonical.encode()).digest()


def parse_claim(fields: dict[str, str | None], row: int | None = None) -> NewClaim:
    """Validate one claim (a CSV row or a command's options); names the bad field and row."""
    record = {c: (fields.get(c) or "").strip() for c in CSV_COLUMNS}
    for column, value in record.items():
        if not value:
            raise InvalidInput("value is missing", field=column, row=row)
        if "\x1f" in value:
            raise InvalidInput("contains a control character", field=column, row=row)
    ref = check_ref(record["claim_ref"], row)
    principal = parse_amount(fields["principal_fen"], "principal_fen", row, positive=True)
    outstanding = parse_amount(fields["outstanding_fen"], "outstanding_fen", row)
    if outstanding > principal:
        raise InvalidInput("outstanding exceeds principal", field="outstanding_fen", row=row)
    currency = str(fields["currency"]).strip()
    if not _CURRENCY.match(currency):
        raise InvalidInput(
            "must be a three-letter ISO 4217 code such as CNY", field="currency", row=row
        )
    debtor = parse_bytes32(str(fields["debtor_pseudonym"]), "debtor_pseudonym", row)
    due = parse_date(str(fields["due_date"]), "due_date", row)
    if due.year < 1971:
        raise InvalidInput("due date is before 1971", field="due_date", row=row)
    return NewClaim(
        ref=ref,
        claim_id=claim_id(ref),
        debtor=debtor,
        principal=principal,
        outstanding=outstanding,
        currency=currency,
        due_date=due,
        record_hash=record_hash(record),
        row=row,
    )
