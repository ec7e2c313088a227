"""What an evidence item says about itself, and the submitter's signature over it.

A statement names the content (SHA-256, size, media type), the claim it belongs to, its
kind, who submitted it and when. Its canonical form (JSON, sorted keys, no spaces, UTF-8)
is the Merkle leaf's data, and the submitting organisation signs exactly those bytes with
its chain key as an EIP-191 personal message, so anyone can recover the signer's address.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from coincurve import PrivateKey, PublicKey
from eth_utils import keccak, to_checksum_address

from debtledger.errors import InvalidInput, InvalidProof
from debtledger.evidence.merkle import leaf_hash

STATEMENT_VERSION = 1
KINDS = (
    "call-recording",
    "message",
    "receipt",
    "promise-to-pay",
    "legal-notice",
    "contact",
    "repayment",
    "access-record",
    "erasure",
    "other",
)
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
_HEX32 = re.compile(r"^[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_ORGANISATION = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # as organisation names are


@dataclass(frozen=True)
class Statement:
    """The signed metadata of one evidence item."""

    content_sha256: str  # 64 lower-case hex digits
    size: int
    media_type: str
    claim_id: str | None  # 0x + 64 hex, or None for items of no claim
    kind: str
    organisation: str
    submitter: str  # the organisation's checksummed chain address
    submitted_at: int  # unix seconds
    v: int = STATEMENT_VERSION

    def __post_init__(self) -> None:
        if not _HEX32.match(self.content_sha256):
            raise InvalidInput("must be 64 lower-case hex digits", field="content_sha256")
        if self.kind not in KINDS:
            raise InvalidInput(f"unknown kind; one of {', '.join(KINDS)}", field="kind")
        if not _MEDIA_TYPE.match(self.media_type):
            raise InvalidInput("must be a media type such as audio/mpeg", field="media_type")
        if self.claim_id is not None and not (
            self.claim_id.startswith("0x") and _HEX32.match(self.claim_id[2:])
        ):
            raise InvalidInput("must be 0x followed by 64 lower-case hex digits", field="claim")
        if not _ORGANISATION.match(self.organisation):
            raise InvalidInput("must be an organisation name", field="organisation")
        if not _ADDRESS.match(self.submitter):
            raise InvalidInput("must be a 0x address", field="submitter")
        if (
            type(self.size) is not int
            or type(self.submitted_at) is not int
            or self.size < 0
            or self.submitted_at < 0
            or self.v != STATEMENT_VERSION
        ):
            raise InvalidInput("size, time and version must be valid", field="statement")

    def canonical(self) -> bytes:
        """The exact bytes that are signed and hashed into the tree: `canonical_json` of
        the fields. Every field is validated to need no JSON escaping (hex digits, names,
        media types, integers), so they are written directly, in sorted key order."""
        claim = f'"{self.claim_id}"' if self.claim_id is not None else "null"
        return (
            f'{{"claim_id":{claim},"content_sha256":"{self.content_sha256}",'
            f'"kind":"{self.kind}","media_type":"{self.media_type}",'
            f'"organisation":"{self.organisation}","size":{self.size},'
            f'"submitted_at":{self.submitted_at},"submitter":"{self.submitter}","v":{self.v}}}'
        ).encode()

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Statement:
        names = {f for f in cls.__dataclass_fields__}
        if set(data) != names:
            raise InvalidInput(
                f"a statement has exactly the fields {sorted(names)}", field="statement"
            )
        return cls(**data)


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _personal_hash(message: bytes) -> bytes:
    """EIP-191 version 0x45: keccak256("\\x19Ethereum Signed Message:\\n" + len + message)."""
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def sign(message: bytes, private_key: bytes) -> bytes:
    """The 65-byte (r, s, v=27/28) EIP-191 signature of `message`, as eth_account makes it."""
    sig = PrivateKey(private_key).sign_recoverable(_personal_hash(message), hasher=None)
    return sig[:64] + bytes([sig[64] + 27])


def recover(message: bytes, signature: bytes) -> str:
    """The checksummed address that signed `message`; InvalidProof for a malformed signature."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        raise InvalidProof("signature must be 65 bytes with v 27 or 28")
    try:
        pub = PublicKey.from_signature_and_message(
            signature[:64] + bytes([signature[64] - 27]), _personal_hash(message), hasher=None
        )
    except Exception as exc:  # coincurve raises plain exceptions for invalid points
        raise InvalidProof("signature does not recover to a key") from exc
    return to_checksum_address(keccak(pub.format(compressed=False)[1:])[-20:])
