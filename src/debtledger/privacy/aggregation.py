"""Secure aggregation of one debtor's exposure across creditors with Paillier encryption
(python-paillier, with gmpy2): each creditor learns its share of the total without learning
any other creditor's amount.

Three roles, kept apart:
  CoordinationKeyHolder  makes the keypair, publishes the public key, and decrypts only an
                         aggregate (a sum) handed to it: it never gets individual ciphertexts.
  creditor               `encrypt_exposure(public_key, amount)` -> a serialised ciphertext.
  Aggregator             multiplies the ciphertexts (adds the amounts) with the public key
                         only: it sees ciphertexts, never an amount.
The total comes back to every creditor, which computes `share(own, total)`. What each party
learns, and the collusions that break it, are in docs/PRIVACY.md.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from phe import paillier
from phe.util import mulmod

from debtledger.errors import InvalidInput

DEFAULT_KEY_BITS = 3072
MIN_KEY_BITS = 1024  # for tests only; production uses DEFAULT_KEY_BITS
MAX_KEY_BITS = 8192
MAX_AMOUNT = 2**128 - 1
MAX_CONTRIBUTIONS = 100_000
# Fewer contributions than this and the total gives an amount away (with two creditors,
# each learns the other's amount from its own and the total).
MIN_CONTRIBUTIONS = 3
BASIS_POINTS = 10_000

KEY_FORMAT = "debtledger-paillier-public-key/1"
CIPHERTEXT_FORMAT = "debtledger-paillier-ciphertext/1"
AGGREGATE_FORMAT = "debtledger-paillier-aggregate/1"
_HEX = re.compile(r"^[0-9a-f]+$")


# ------------------------------------------------------------------ public key


@dataclass(frozen=True, eq=False)
class PublicKey:
    """A Paillier public key (g = n + 1) and its fingerprint (SHA-256 of n, hex)."""

    key: paillier.PaillierPublicKey

    @property
    def n(self) -> int:
        return int(self.key.n)

    @property
    def bits(self) -> int:
        return self.n.bit_length()

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.n.to_bytes((self.bits + 7) // 8, "big")).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other.n == self.n

    def __hash__(self) -> int:
        return hash(self.n)

    def to_json(self) -> dict[str, Any]:
        return {"format": KEY_FORMAT, "n": format(self.n, "x")}

    def to_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_n(cls, n: int) -> PublicKey:
        """Check `n` looks like a Paillier modulus of an acceptable size."""
        if not isinstance(n, int) or isinstance(n, bool):
            raise InvalidInput("modulus must be an integer", field="public_key")
        if not MIN_KEY_BITS <= n.bit_length() <= MAX_KEY_BITS or n % 2 == 0:
            raise InvalidInput(
                f"modulus must be an odd number of {MIN_KEY_BITS}-{MAX_KEY_BITS} bits",
                field="public_key",
            )
        return cls(paillier.PaillierPublicKey(n))

    @classmethod
    def from_json(cls, data: object) -> PublicKey:
        if (
            not isinstance(data, dict)
            or data.get("format") != KEY_FORMAT
            or set(data)
            != {
                "format",
                "n",
            }
        ):
            raise InvalidInput(f"not a public key (format {KEY_FORMAT})", field="public_key")
        return cls.from_n(_unhex_int(data["n"], "public_key", MAX_KEY_BITS))

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        return cls.from_json(_loads(text, "public_key"))

    def check_ciphertext(self, c: int, field: str = "ciphertext") -> int:
        """Refuse a value that is no ciphertext under this key: outside 1..n²-1 or sharing
        a factor with n."""
        n2 = self.key.nsquare
        if not 0 < c < n2 or math.gcd(c, self.n) != 1:
            raise InvalidInput("not a ciphertext under this public key", field=field)
        return c


# ------------------------------------------------------------------ creditor


def encrypt_exposure(public_key: PublicKey, amount_fen: int) -> str:
    """A creditor's exposure to the debtor (a whole number of fen), encrypted under the key
    holder's public key: compact JSON naming the key by fingerprint."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidInput("amount must be a whole number of fen", field="amount_fen")
    if not 0 <= amount_fen <= MAX_AMOUNT:
        raise InvalidInput("amount must be 0 to 2^128-1 fen", field="amount_fen")
    c = int(public_key.key.raw_encrypt(amount_fen))
    return json.dumps(
        {"format": CIPHERTEXT_FORMAT, "key": public_key.fingerprint, "c": format(c, "x")},
        sort_keys=True,
        separators=(",", ":"),
    )


def parse_ciphertext(public_key: PublicKey, text: str) -> int:
    """The ciphertext integer of `encrypt_exposure`'s output, checked against `public_key`
    (another key's ciphertext, or a value out of range, is refused)."""
    data = _loads(text, "ciphertext")
    if not isinstance(data, dict) or set(data) != {"format", "key", "c"}:
        raise InvalidInput(f"not a ciphertext (format {CIPHERTEXT_FORMAT})", field="ciphertext")
    if data["format"] != CIPHERTEXT_FORMAT:
        raise InvalidInput(f"not a ciphertext (format {CIPHERTEXT_FORMAT})", field="ciphertext")
    if data["key"] != public_key.fingerprint:
        raise InvalidInput("ciphertext is under another public key", field="ciphertext")
    c = _unhex_int(data["c"], "ciphertext", 2 * public_key.bits)
    return public_key.check_ciphertext(c)


# ------------------------------------------------------------------ aggregator


@dataclass(frozen=True)
class Aggregate:
    """The encrypted sum of `count` contributions under the key with `key` fingerprint."""

    key: str
    ciphertext: int
    count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "format": AGGREGATE_FORMAT,
            "key": self.key,
            "c": format(self.ciphertext, "x"),
            "count": self.count,
        }

    def to_text(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, data: object) -> Aggregate:
        if (
            not isinstance(data, dict)
            or set(data) != {"format", "key", "c", "count"}
            or data["format"] != AGGREGATE_FORMAT
        ):
            raise InvalidInput(f"not an aggregate (format {AGGREGATE_FORMAT})", field="aggregate")
        count, key = data["count"], data["key"]
        if isinstance(count, bool) or not isinstance(count, int):
            raise InvalidInput("count must be a whole number", field="aggregate")
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
            raise InvalidInput("key must be a fingerprint (64 hex digits)", field="aggregate")
        return cls(key, _unhex_int(data["c"], "aggregate", 2 * MAX_KEY_BITS), count)

    @classmethod
    def from_text(cls, text: str) -> Aggregate:
        return cls.from_json(_loads(text, "aggregate"))


class Aggregator:
    """Adds encrypted exposures with the public key alone."""

    def __init__(self, public_key: PublicKey) -> None:
        self.public_key = public_key

    def add(self, ciphertexts: Iterable[str]) -> Aggregate:
        """The encrypted sum of the creditors' ciphertexts (each checked first)."""
        n2 = self.public_key.key.nsquare
        total, count = 1, 0
        for i, text in enumerate(ciphertexts):
            try:
                c = parse_ciphertext(self.public_key, text)
            except InvalidInput as exc:
                raise InvalidInput(exc.reason, field="ciphertext", row=i) from None
            total = int(mulmod(total, c, n2))
            count += 1
            if count > MAX_CONTRIBUTIONS:
                raise InvalidInput(
                    f"more than {MAX_CONTRIBUTIONS} contributions", field="ciphertexts"
                )
        if count == 0:
            raise InvalidInput("no contributions to add", field="ciphertexts")
        return Aggregate(self.public_key.fingerprint, total, count)


# ------------------------------------------------------------------ key holder


class CoordinationKeyHolder:
    """Holds the Paillier private key. Its one operation decrypts an aggregate of at least
    `min_contributions` contributions; there is no way to hand it a single ciphertext."""

    def __init__(
        self, key_bits: int = DEFAULT_KEY_BITS, *, min_contributions: int = MIN_CONTRIBUTIONS
    ) -> None:
        if not MIN_KEY_BITS <= key_bits <= MAX_KEY_BITS:
            raise InvalidInput(f"key size must be {MIN_KEY_BITS}-{MAX_KEY_BITS}", field="key_bits")
        if min_contributions < 1:
            raise InvalidInput("must be at least 1", field="min_contributions")
        public, self._private = paillier.generate_paillier_keypair(n_length=key_bits)
        self.public_key = PublicKey(public)
        self.min_contributions = min_contributions

    def __repr__(self) -> str:
        return f"CoordinationKeyHolder(bits={self.public_key.bits}, private_key=<hidden>)"

    def decrypt_aggregate(self, aggregate: Aggregate) -> int:
        """The plaintext total of an aggregate made under this holder's key."""
        if aggregate.key != self.public_key.fingerprint:
            raise InvalidInput("aggregate is under another public key", field="aggregate")
        if not self.min_contributions <= aggregate.count <= MAX_CONTRIBUTIONS:
            raise InvalidInput(
                f"an aggregate needs {self.min_contributions}-{MAX_CONTRIBUTIONS} "
                "contributions: fewer would give an amount away",
                field="aggregate",
            )
        c = self.public_key.check_ciphertext(aggregate.ciphertext, "aggregate")
        total = int(self._private.raw_decrypt(c))
        if total > aggregate.count * MAX_AMOUNT:
            # Not a sum of `count` valid amounts: refuse rather than return garbage.
            raise InvalidInput("aggregate does not decrypt to a valid total", field="aggregate")
        return total


# ------------------------------------------------------------------ shares


@dataclass(frozen=True)
class Share:
    """A creditor's part of the debtor's total exposure: exact, and in basis points (1/100
    of a percent, rounded half up)."""

    own_fen: int
    total_fen: int
    fraction: Fraction
    basis_points: int


def share(own_fen: int, total_fen: int) -> Share:
    """`own / total` (0 when the total is 0)."""
    if isinstance(own_fen, bool) or isinstance(total_fen, bool):
        raise InvalidInput("amounts must be whole numbers of fen", field="amount_fen")
    if not 0 <= own_fen <= total_fen:
        raise InvalidInput("own amount must be between 0 and the total", field="amount_fen")
    if total_fen == 0:
        return Share(own_fen, total_fen, Fraction(0), 0)
    fraction = Fraction(own_fen, total_fen)
    bps = (2 * own_fen * BASIS_POINTS + total_fen) // (2 * total_fen)
    return Share(own_fen, total_fen, fraction, bps)


def exposure_shares(amounts: Mapping[str, int], holder: CoordinationKeyHolder) -> dict[str, Share]:
    """One whole round in one process (local mode, tests, benchmarks): every creditor
    encrypts, the aggregator adds, the holder decrypts the sum, each creditor takes its
    share. In a consortium each step runs at its own party."""
    public_key = holder.public_key
    ciphertexts = [encrypt_exposure(public_key, a) for a in amounts.values()]
    total = holder.decrypt_aggregate(Aggregator(public_key).add(ciphertexts))
    return {name: share(a, total) for name, a in amounts.items()}


# ------------------------------------------------------------------ parsing


def _loads(text: str, field: str) -> object:
    try:
        return json.loads(text)
    except (ValueError, TypeError):
        raise InvalidInput("not valid JSON", field=field) from None


def _unhex_int(value: object, field: str, max_bits: int) -> int:
    if not isinstance(value, str) or not _HEX.match(value) or len(value) > (max_bits + 3) // 4:
        raise InvalidInput("must be lower-case hex of a bounded size", field=field)
    return int(value, 16)
