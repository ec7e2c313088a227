"""Claim records with selective disclosure (in the manner of SD-JWT): every field is salted
and hashed on its own, and the record hash on chain commits to all of those digests.

A holder of the full record can hand out any subset of fields (an agency gets the
non-personal ones, a court all of them) and the receiver checks them against the on-chain
record hash, learning nothing about the fields left out but their number. The creditor
signs (EIP-191) the record hash with its chain key, so an agency can check the record came
from the claim's on-chain owner.

Encodings (all integers big-endian):
  field digest = SHA-256(FIELD_TAG || claim_id[32] || u16 len(name) || name
                         || salt[16] || u32 len(value) || value)      name ASCII, value UTF-8
  record hash  = SHA-256(RECORD_TAG || claim_id[32] || u32 count || digests sorted bytewise)

Known limit (as for SD-JWT): a creditor who commits two digests for the same field name
can later open either; a verifier of a partial disclosure cannot see that. A disclosure of
every field (the court's) refuses duplicated names, so the equivocation is caught there.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_defunct
from eth_utils import to_checksum_address

from debtledger.errors import InvalidInput, InvalidProof

FIELD_TAG = b"debtledger/record-field/v1\x00"
RECORD_TAG = b"debtledger/record-hash/v1\x00"
SIGNATURE_TAG = b"debtledger/record-signature/v1\x00"
FORMAT = "debtledger-disclosure/1"
SEALED_FORMAT = "debtledger-sealed-record/1"

SALT_SIZE = 16
HASH_SIZE = 32
MAX_FIELDS = 256
MAX_VALUE_BYTES = 16_384

# Fields that identify or reach a person: never shown to an agency.
PERSONAL_FIELDS = frozenset({"debtor_name", "national_id", "phone", "email", "address"})
# Fields known to carry no personal data. A field in neither set counts as personal:
# an unknown field is withheld rather than leaked.
NON_PERSONAL_FIELDS = frozenset(
    {
        "contract_no",
        "principal_fen",
        "outstanding_fen",
        "currency",
        "due_date",
        "contract_doc_hash",
    }
)

_NAME = re.compile(r"^[a-z0-9_]{1,64}$")
_HEX = re.compile(r"^[0-9a-f]*$")
_INVALID = "disclosure does not verify"


def is_personal(name: str) -> bool:
    """True unless `name` is a known non-personal field (unknown fields count as personal)."""
    return name not in NON_PERSONAL_FIELDS


# ------------------------------------------------------------------ validation


def check_claim_id(claim_id: bytes) -> bytes:
    if not isinstance(claim_id, bytes) or len(claim_id) != HASH_SIZE:
        raise InvalidInput("claim id must be 32 bytes", field="claim_id")
    return claim_id


def check_field_name(name: str) -> str:
    """A field name: 1-64 of a-z, 0-9 and '_'."""
    if not isinstance(name, str) or not _NAME.match(name):
        # Not echoed: a value passed as a name by mistake may be personal data.
        raise InvalidInput("a field name must be 1-64 of a-z, 0-9 and '_'", field="fields")
    return name


def check_value(name: str, value: str) -> bytes:
    """The value's UTF-8 bytes; refuses control characters and oversized values, naming
    the field but never echoing the value."""
    if not isinstance(value, str):
        raise InvalidInput("value must be text", field=name)
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
        raise InvalidInput("value contains a control character", field=name)
    data = value.encode("utf-8")
    if len(data) > MAX_VALUE_BYTES:
        raise InvalidInput(f"value is longer than {MAX_VALUE_BYTES} bytes", field=name)
    return data


# ------------------------------------------------------------------ hashing


def field_digest(claim_id: bytes, name: str, salt: bytes, value: str) -> bytes:
    """The digest of one salted field (see the module docstring for the encoding)."""
    check_claim_id(claim_id)
    check_field_name(name)
    data = check_value(name, value)
    if not isinstance(salt, bytes) or len(salt) != SALT_SIZE:
        raise InvalidInput(f"salt must be {SALT_SIZE} bytes", field=name)
    return _digest(claim_id, name, salt, data)


def _digest(claim_id: bytes, name: str, salt: bytes, data: bytes) -> bytes:
    raw_name = name.encode("ascii")
    return hashlib.sha256(
        b"".join(
            (
                FIELD_TAG,
                claim_id,
                len(raw_name).to_bytes(2, "big"),
                raw_name,
                salt,
                len(data).to_bytes(4, "big"),
                data,
            )
        )
    ).digest()


def combine_digests(claim_id: bytes, digests: Iterable[bytes]) -> bytes:
    """The record hash over a claim's field digests (their order does not matter)."""
    ordered = sorted(digests)
    return hashlib.sha256(
        RECORD_TAG + claim_id + len(ordered).to_bytes(4, "big") + b"".join(ordered)
    ).digest()


# ------------------------------------------------------------------ data


@dataclass(frozen=True, repr=False)
class Opening:
    """One disclosed field: its name, value and salt (enough to recompute its digest)."""

    name: str
    value: str
    salt: bytes

    def __repr__(self) -> str:  # never the value: it may be personal data
        return f"Opening(name={self.name!r}, value=<hidden>)"

    def digest(self, claim_id: bytes) -> bytes:
        return field_digest(claim_id, self.name, self.salt, self.value)

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "value": self.value, "salt": self.salt.hex()}

    @classmethod
    def from_json(cls, data: object) -> Opening:
        if not isinstance(data, dict) or set(data) != {"name", "value", "salt"}:
            raise InvalidInput("an opening is {name, value, salt}", field="disclosed")
        name, value, salt = data["name"], data["value"], data["salt"]
        if not isinstance(name, str) or not isinstance(value, str):
            raise InvalidInput("name and value must be text", field="disclosed")
        return cls(name, value, _unhex(salt, SALT_SIZE, "salt"))

    def to_text(self) -> str:
        """Compact JSON, e.g. to keep a personal field with its salt in the vault."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_text(cls, text: str) -> Opening:
        return cls.from_json(_loads(text))


@dataclass(frozen=True)
class Disclosure:
    """Some fields of a claim's record, opened, and the digests of the others."""

    claim_id: bytes
    disclosed: tuple[Opening, ...]
    undisclosed: tuple[bytes, ...]

    @property
    def names(self) -> list[str]:
        return [o.name for o in self.disclosed]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "claim_id": "0x" + self.claim_id.hex(),
            "disclosed": [o.to_json() for o in sorted(self.disclosed, key=lambda o: o.name)],
            "undisclosed": sorted(d.hex() for d in self.undisclosed),
        }

    def to_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: object) -> Disclosure:
        """Parse the JSON form; refuses malformed input with InvalidInput (whether it
        verifies is `verify_disclosure`'s business)."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput(f"not a disclosure (format {FORMAT})", field="format")
        if set(data) != {"format", "claim_id", "disclosed", "undisclosed"}:
            raise InvalidInput("unexpected or missing keys", field="disclosure")
        disclosed, undisclosed = data["disclosed"], data["undisclosed"]
        if not isinstance(disclosed, list) or not isinstance(undisclosed, list):
            raise InvalidInput("must be lists", field="disclosed")
        if len(disclosed) + len(undisclosed) > MAX_FIELDS:
            raise InvalidInput(f"more than {MAX_FIELDS} fields", field="disclosure")
        return cls(
            claim_id=_unhex0x(data["claim_id"], "claim_id"),
            disclosed=tuple(Opening.from_json(o) for o in disclosed),
            undisclosed=tuple(_unhex(d, HASH_SIZE, "undisclosed") for d in undisclosed),
        )

    @classmethod
    def from_text(cls, text: str) -> Disclosure:
        return cls.from_json(_loads(text))


@dataclass(frozen=True, repr=False)
class SealedRecord:
    """A claim's full record as its creditor keeps it: values, salts, digests and the
    record hash. It holds personal data: keep it (or its personal openings) in the vault."""

    claim_id: bytes
    fields: Mapping[str, str]
    salts: Mapping[str, bytes]
    digests: Mapping[str, bytes]
    record_hash: bytes

    def __repr__(self) -> str:
        return (
            f"SealedRecord(claim_id=0x{self.claim_id.hex()}, fields={sorted(self.fields)}, "
            f"record_hash=0x{self.record_hash.hex()})"
        )

    def opening(self, name: str) -> Opening:
        if name not in self.fields:
            raise InvalidInput("the record has no such field", field=name)
        return Opening(name, self.fields[name], self.salts[name])

    def disclose(self, names: Iterable[str]) -> Disclosure:
        """Open the fields `names`; every other field is given as its digest only."""
        chosen = set(names)
        opened = tuple(self.opening(n) for n in sorted(chosen))
        hidden = tuple(d for n, d in sorted(self.digests.items()) if n not in chosen)
        return Disclosure(self.claim_id, opened, hidden)

    def disclose_non_personal(self) -> Disclosure:
        """What an agency gets: the known non-personal fields, digests of the rest."""
        return self.disclose(n for n in self.fields if not is_personal(n))

    def disclose_all(self) -> Disclosure:
        return self.disclose(self.fields)

    def personal_openings(self) -> dict[str, Opening]:
        """The personal fields with their salts, e.g. for the vault: a personal field's salt
        is as sensitive as its value (with it, a low-entropy value can be guessed)."""
        return {n: self.opening(n) for n in sorted(self.fields) if is_personal(n)}

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SEALED_FORMAT,
            "claim_id": "0x" + self.claim_id.hex(),
            "fields": {
                n: {"value": v, "salt": self.salts[n].hex()} for n, v in self.fields.items()
            },
            "record_hash": "0x" + self.record_hash.hex(),
        }

    def to_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: object) -> SealedRecord:
        """Parse and re-check: the digests are recomputed and must give the stored record
        hash (InvalidProof otherwise)."""
        if not isinstance(data, dict) or data.get("format") != SEALED_FORMAT:
            raise InvalidInput(f"not a sealed record (format {SEALED_FORMAT})", field="format")
        raw = data.get("fields")
        if not isinstance(raw, dict):
            raise InvalidInput("must be an object", field="fields")
        claim_id = _unhex0x(data.get("claim_id"), "claim_id")
        fields: dict[str, str] = {}
        salts: dict[str, bytes] = {}
        for name, item in raw.items():
            check_field_name(name)
            if not isinstance(item, dict) or set(item) != {"value", "salt"}:
                raise InvalidInput("a field is {value, salt}", field=name)
            if not isinstance(item["value"], str):
                raise InvalidInput("value must be text", field=name)
            fields[name] = item["value"]
            salts[name] = _unhex(item["salt"], SALT_SIZE, "salt")
        record = _seal(claim_id, fields, salts)
        if not hmac.compare_digest(
            record.record_hash, _unhex0x(data.get("record_hash"), "record_hash")
        ):
            raise InvalidProof("sealed record does not match its record hash")
        return record

    @classmethod
    def from_text(cls, text: str) -> SealedRecord:
        return cls.from_json(_loads(text))


# ------------------------------------------------------------------ seal and verify


def seal_record(claim_id: bytes, fields: Mapping[str, str]) -> SealedRecord:
    """Salt (16 random bytes each) and hash every field of a claim's record."""
    return _seal(claim_id, dict(fields), {n: os.urandom(SALT_SIZE) for n in fields})


def _seal(claim_id: bytes, fields: dict[str, str], salts: dict[str, bytes]) -> SealedRecord:
    check_claim_id(claim_id)
    if not fields:
        raise InvalidInput("a record needs at least one field", field="fields")
    if len(fields) > MAX_FIELDS:
        raise InvalidInput(f"a record has at most {MAX_FIELDS} fields", field="fields")
    digests = {n: field_digest(claim_id, n, salts[n], v) for n, v in sorted(fields.items())}
    return SealedRecord(
        claim_id=claim_id,
        fields=dict(sorted(fields.items())),
        salts=dict(sorted(salts.items())),
        digests=digests,
        record_hash=combine_digests(claim_id, digests.values()),
    )


def verify_disclosure(
    disclosure: Disclosure, record_hash: bytes, claim_id: bytes
) -> dict[str, str]:
    """Check `disclosure` against the on-chain `record_hash` of claim `claim_id` and return
    the disclosed fields by name.

    Raises InvalidProof on any mismatch (tampered value or salt, a field of another claim,
    a disclosure replayed for another claim, duplicated names or digests, malformed parts),
    never saying which part failed.
    """
    if (
        not isinstance(claim_id, bytes)
        or not isinstance(record_hash, bytes)
        or not isinstance(disclosure.claim_id, bytes)
        or len(claim_id) != HASH_SIZE
        or not hmac.compare_digest(disclosure.claim_id, claim_id)
        or len(record_hash) != HASH_SIZE
        or len(disclosure.disclosed) + len(disclosure.undisclosed) > MAX_FIELDS
    ):
        raise InvalidProof(_INVALID)
    values: dict[str, str] = {}
    digests: list[bytes] = []
    for opening in disclosure.disclosed:
        if opening.name in values:
            raise InvalidProof(_INVALID)
        try:
            digests.append(opening.digest(claim_id))
        except InvalidInput:
            raise InvalidProof(_INVALID) from None
        values[opening.name] = opening.value
    for d in disclosure.undisclosed:
        if not isinstance(d, bytes) or len(d) != HASH_SIZE:
            raise InvalidProof(_INVALID)
        digests.append(d)
    if not digests or len(set(digests)) != len(digests):
        raise InvalidProof(_INVALID)
    if not hmac.compare_digest(combine_digests(claim_id, digests), record_hash):
        raise InvalidProof(_INVALID)
    return values


def add_openings(disclosure: Disclosure, openings: Iterable[Opening]) -> Disclosure:
    """The same disclosure with more fields opened (e.g. personal fields from the vault for
    a court): each opening must match one of the undisclosed digests (InvalidProof if not)."""
    hidden = list(disclosure.undisclosed)
    opened = list(disclosure.disclosed)
    for o in openings:
        try:
            d = o.digest(disclosure.claim_id)
        except InvalidInput:
            raise InvalidProof(_INVALID) from None
        if d not in hidden:
            raise InvalidProof(_INVALID)
        hidden.remove(d)
        opened.append(o)
    return Disclosure(disclosure.claim_id, tuple(opened), tuple(hidden))


# ------------------------------------------------------------------ creditor signature


def _record_message(record_hash: bytes, claim_id: bytes) -> SignableMessage:
    check_claim_id(claim_id)
    if not isinstance(record_hash, bytes) or len(record_hash) != HASH_SIZE:
        raise InvalidInput("record hash must be 32 bytes", field="record_hash")
    return encode_defunct(primitive=SIGNATURE_TAG + claim_id + record_hash)


def sign_record(record_hash: bytes, claim_id: bytes, private_key: bytes | str) -> bytes:
    """The creditor's EIP-191 (personal_sign) signature of (claim id, record hash): 65 bytes."""
    signed = Account.sign_message(_record_message(record_hash, claim_id), private_key)
    return bytes(signed.signature)


def recover_signer(record_hash: bytes, claim_id: bytes, signature: bytes) -> str:
    """The checksummed address that signed (claim id, record hash); InvalidProof when the
    signature is malformed."""
    message = _record_message(record_hash, claim_id)
    if not isinstance(signature, bytes) or len(signature) != 65:
        raise InvalidProof("record signature is malformed")
    try:
        return str(to_checksum_address(Account.recover_message(message, signature=signature)))
    except Exception:  # noqa: BLE001 - eth_keys raises several types for a bad signature
        raise InvalidProof("record signature is malformed") from None


def verify_signer(record_hash: bytes, claim_id: bytes, signature: bytes, owner: str) -> None:
    """Check that `owner` (the claim's on-chain owner) signed the record; raises
    InvalidProof otherwise."""
    signer = recover_signer(record_hash, claim_id, signature)
    if signer.lower() != owner.lower():
        raise InvalidProof("record is not signed by the claim's owner")


# ------------------------------------------------------------------ parsing


def _loads(text: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise InvalidInput("not valid JSON", field="json") from None


def _unhex(value: object, size: int, field: str) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size or not _HEX.match(value):
        raise InvalidInput(f"must be {2 * size} lower-case hex digits", field=field)
    return bytes.fromhex(value)


def _unhex0x(value: object, field: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InvalidInput("must be 0x followed by 64 lower-case hex digits", field=field)
    return _unhex(value[2:], HASH_SIZE, field)
