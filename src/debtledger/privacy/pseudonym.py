"""Debtor pseudonyms: a keyed PRF (HMAC-SHA-256) of the normalised PRC resident identity
number, so every creditor gets the same pseudonym for the same debtor and nobody without
the linkage key can reverse it.

Valid ids are few (about 10^10 once region, birth date and check digit are fixed), so an
unkeyed hash would be reversed by enumeration in hours: the key is what protects them.
Error messages here never contain the id.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from debtledger.errors import ConfigError, InvalidInput

PSEUDONYM_TAG = b"debtledger/debtor-pseudonym/v1\x00"
KEY_SIZE = 32
PSEUDONYM_SIZE = 32

# GB 11643-1999: weights of the first 17 digits, and the check character by sum mod 11.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
EARLIEST_BIRTH_YEAR = 1800

_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_FIELD = "national_id"


def check_digit(first17: str) -> str:
    """The GB 11643-1999 check character ('0'-'9' or 'X') of 17 ASCII digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidInput("the first 17 characters must be digits", field=_FIELD)
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def normalise_national_id(text: str, *, today: date | None = None) -> str:
    """The canonical form of an 18-character resident identity number: full-width
    characters folded (NFKC), spaces removed, a trailing 'x' upper-cased; then checked for
    shape, a real birth date (not after `today`) and the check digit.

    Raises InvalidInput(field="national_id") without repeating the id.
    """
    if not isinstance(text, str):
        raise InvalidInput("must be text", field=_FIELD)
    canonical = "".join(unicodedata.normalize("NFKC", text).split()).upper()
    if not _SHAPE.match(canonical):
        raise InvalidInput(
            "must be 18 characters: 17 digits and a check digit (0-9 or X)", field=_FIELD
        )
    try:
        born = date(int(canonical[6:10]), int(canonical[10:12]), int(canonical[12:14]))
    except ValueError:
        raise InvalidInput("the birth date digits are not a real date", field=_FIELD) from None
    if born.year < EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        raise InvalidInput("the birth date is out of range", field=_FIELD)
    if check_digit(canonical[:17]) != canonical[17]:
        raise InvalidInput("the check digit does not match", field=_FIELD)
    return canonical


def is_valid_national_id(text: str) -> bool:
    """True when `normalise_national_id` accepts `text`."""
    try:
        normalise_national_id(text)
    except InvalidInput:
        return False
    return True


class LinkageService:
    """The consortium's linkage service in local mode: holds the PRF key and turns a
    national id into the debtor's pseudonym. It sees the ids it is asked about (see
    PRIVACY.md for the oblivious-PRF path that removes that)."""

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) != KEY_SIZE:
            raise ConfigError(f"the linkage key must be {KEY_SIZE} bytes")
        self._key = key

    def __repr__(self) -> str:
        return "LinkageService(key=<hidden>)"

    def pseudonym(self, national_id: str) -> bytes:
        """The debtor's 32-byte pseudonym: HMAC-SHA-256(key, tag || normalised id)."""
        canonical = normalise_national_id(national_id)
        return hmac.new(self._key, PSEUDONYM_TAG + canonical.encode(), hashlib.sha256).digest()

    def pseudonym_hex(self, national_id: str) -> str:
        """The pseudonym as the ledger writes it: 0x followed by 64 hex digits."""
        return "0x" + self.pseudonym(national_id).hex()
