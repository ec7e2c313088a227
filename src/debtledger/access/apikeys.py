"""API keys: shown once, stored hashed, each bound to one organisation and one role.

A key reads `dl_<id>_<secret>`: the id finds the stored row, the secret is compared with its
SHA-256 in constant time. Secrets are 256 random bits, so a fast hash is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from debtledger.errors import Unauthorized

_KEY = re.compile(r"^dl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    """A freshly made key: `key` is shown to its holder once and never stored."""

    key: str
    key_id: str
    secret_hash: str


def new_api_key() -> NewKey:
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewKey(f"dl_{key_id}_{secret}", key_id, hash_secret(secret))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str]:
    """(key id, secret) of a presented key; Unauthorized when it is not one of ours."""
    m = _KEY.match(key.strip())
    if not m:
        raise Unauthorized("the API key is malformed")
    return m.group(1), m.group(2)


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
